/* Score page: the weighted total and the 汉字 count of the comment while typing; a confirmation before
   submitting; one submit per click. The server checks everything again (review/scoring.py). */
(function () {
  "use strict";
  var HAN = /[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]|[\u{20000}-\u{2EBEF}\u{30000}-\u{3134F}]/gu;

  function hanzi(text) { var m = (text || "").match(HAN); return m ? m.length : 0; }

  function total(form) {
    var sum = 0, complete = true;
    form.querySelectorAll(".criterion").forEach(function (li) {
      var input = li.querySelector("input"), w = parseFloat(li.getAttribute("data-weight") || "1");
      var v = parseFloat((input.value || "").replace("，", "."));
      var min = parseFloat(input.getAttribute("data-min")), max = parseFloat(input.getAttribute("data-max"));
      if (isNaN(v) || v < min || v > max) { complete = false; return; }
      sum += v * w;
    });
    return complete ? (Math.round(sum * 100) / 100).toFixed(2) : "—";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("score-form");
    if (!form) { return; }
    var out = document.getElementById("score-total");
    var comment = document.getElementById("comment");
    var count = document.getElementById("hanzi-count");
    var need = parseInt(comment ? comment.getAttribute("data-min-hanzi") : "0", 10) || 0;
    function refresh() {
      if (out) { out.textContent = total(form); }
      if (comment && count) {
        var n = hanzi(comment.value);
        count.textContent = need ? "已写 " + n + " 个汉字，至少 " + need + " 个" : "已写 " + n + " 个汉字";
        count.classList.toggle("warn-text", n < need);
      }
    }
    form.addEventListener("input", refresh);
    refresh();
    var sending = false;
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      var ask = button && button.getAttribute("data-confirm");
      if (sending || (ask && !window.confirm(ask))) { e.preventDefault(); return; }
      sending = true;
      if (button) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = button.name; keep.value = button.value;
        form.appendChild(keep);
      }
      setTimeout(function () { form.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });
}());
