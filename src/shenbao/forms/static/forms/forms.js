/* Application forms (shenbao.forms.rendering): character counters, follow-up fields, repeating tables with
 * live totals and caps, and autosave. Local, no dependencies; the form works without it.
 *
 * Autosave: a <form data-sb-autosave="URL"> around render_form's HTML is POSTed (as FormData, files left
 * out, plus autosave=1 and the header X-Shenbao-Autosave: 1) two seconds after the last change. The
 * server answers JSON {ok, message?, version?}; `version` updates <input name="version">, a non-2xx
 * answer's `message` (e.g. a version conflict, 409) is shown in [data-sb-autosave-status].
 */
(function () {
  "use strict";

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function chars(text) { return Array.from(String(text).replace(/\r\n?/g, "\n").trim()).length; }
  function toYuan(text, unit) {
    var t = String(text).replace(/[\s,，]/g, "").replace(unit === "wan" ? /(万元|万)$/ : /元$/, "").replace(/^\+/, "");
    if (!/^\d+(\.\d+)?$/.test(t)) { return NaN; }
    return unit === "wan" ? Math.round(parseFloat(t) * 10000) : Math.round(parseFloat(t));
  }
  function shown(yuan, unit) {
    return unit === "wan" ? String(Number((yuan / 10000).toFixed(4))) : String(yuan);
  }

  function initCounters(root) {
    root.querySelectorAll("textarea[data-sb-max]").forEach(function (ta) {
      var out = root.querySelector('[data-sb-counter-for="' + ta.id + '"]');
      if (!out) { return; }
      var max = parseInt(ta.dataset.sbMax, 10);
      function update() {
        var n = chars(ta.value);
        var text = fmt(root.dataset.msgCount, { n: n, max: max });
        if (n > max) { text += "，" + fmt(root.dataset.msgOver, { over: n - max }); }
        out.textContent = text;
        out.classList.toggle("sb-over", n > max);
      }
      ta.addEventListener("input", update);
      update();
    });
  }

  function initFollowUps(root) {
    root.querySelectorAll("[data-follow-up-of]").forEach(function (el) {
      var inputs = root.querySelectorAll('input[name="' + el.dataset.followUpOf + '"]');
      function update() {
        var on = Array.prototype.some.call(inputs, function (i) { return i.checked && i.value === el.dataset.when; });
        el.toggleAttribute("data-off", !on);
      }
      inputs.forEach(function (i) { i.addEventListener("change", update); });
      update();
    });
  }

  function currentTrack(root) {
    var field = root.querySelector("[data-sb-track-field]");
    var ticked = field ? field.querySelectorAll("input:checked") : [];
    return ticked.length === 1 ? ticked[0].value : "";
  }

  function initTable(root, fs) {
    var tbody = fs.querySelector("[data-sb-rows]");
    var tpl = fs.querySelector("template[data-sb-row-template]");
    var add = fs.querySelector("[data-sb-add-row]");
    var max = parseInt(fs.dataset.maxRows || "0", 10);
    var next = parseInt(fs.dataset.nextIndex || "0", 10);
    var labels = JSON.parse(fs.dataset.rowLabels || "[]");
    function rows() { return tbody.querySelectorAll("tr[data-sb-row]"); }
    function renumber() {
      rows().forEach(function (tr, i) {
        var th = tr.querySelector("[data-sb-rownum]"), seq = tr.querySelector("[data-sb-rownum-input]");
        if (th) { th.textContent = labels[i] || String(i + 1); }
        if (seq) { seq.placeholder = labels[i] || String(i + 1); }
      });
      if (add) { add.disabled = max > 0 && rows().length >= max; }
    }
    function totals() {
      fs.querySelectorAll("[data-sb-total]").forEach(function (td) {
        var col = td.dataset.sbTotal, kind = td.dataset.kind, unit = td.dataset.unit;
        var sum = 0;
        tbody.querySelectorAll('[data-col="' + col + '"]').forEach(function (input) {
          var v = input.value.trim();
          if (!v) { return; }
          var n = kind === "money" ? toYuan(v, unit) : parseFloat(v.replace(/[\s,，]/g, ""));
          if (!isNaN(n)) { sum += n; }
        });
        var out = td.querySelector("output");
        if (out) { out.textContent = kind === "money" ? shown(sum, unit) : String(Number(sum.toFixed(4))); }
        var cap = td.dataset.cap === "" ? null : parseFloat(td.dataset.cap);
        if (td.dataset.capFrom === "cap" && root.dataset.sbCaps) {
          var caps = JSON.parse(root.dataset.sbCaps), track = currentTrack(root);
          var fromCap = track in caps ? caps[track] : caps[""];
          var fixed = td.dataset.fixedCap === "" ? null : parseFloat(td.dataset.fixedCap);
          cap = fromCap === null || fromCap === undefined ? fixed : (fixed === null ? fromCap : Math.min(fixed, fromCap));
        }
        var capText = td.querySelector("[data-sb-cap-text]");
        if (capText) {
          capText.parentNode.hidden = cap === null;
          if (cap !== null) {
            capText.textContent = fmt(root.dataset.msgCap, {
              cap: kind === "money" ? shown(cap, "wan") + root.dataset.msgWan : String(cap) });
          }
        }
        td.classList.toggle("sb-over", cap !== null && sum > cap);
      });
    }
    if (add && tpl) {
      add.addEventListener("click", function () {
        if (max > 0 && rows().length >= max) { return; }
        tbody.insertAdjacentHTML("beforeend", tpl.innerHTML.split("__ROW__").join(String(next++)));
        renumber();
        var first = tbody.lastElementChild.querySelector("input, textarea");
        if (first) { first.focus(); }
        fs.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    tbody.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-sb-remove-row]");
      if (!btn) { return; }
      var tr = btn.closest("tr");
      if (rows().length > 1) { tr.remove(); } else {
        tr.querySelectorAll("input, textarea").forEach(function (i) { i.value = ""; });
      }
      renumber();
      totals();
      fs.dispatchEvent(new Event("input", { bubbles: true }));
    });
    tbody.addEventListener("input", totals);
    root.addEventListener("change", function (ev) {
      if (ev.target.closest("[data-sb-track-field]")) { totals(); }
    });
    renumber();
    totals();
  }

  function initAutosave(form) {
    var root = form.querySelector("[data-sb-form]") || form;
    var url = form.dataset.sbAutosave;
    var status = form.querySelector("[data-sb-autosave-status]");
    var timer = null, busy = false, dirty = false, again = false;
    function say(text, bad) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("sb-error", !!bad);
    }
    function save() {
      if (busy) { again = true; return; }
      busy = true; again = false; dirty = false;
      var data = new FormData(form);
      Array.from(data.keys()).forEach(function (k) {
        if (data.getAll(k).some(function (v) { return typeof File !== "undefined" && v instanceof File; })) { data.delete(k); }
      });
      data.set("autosave", "1");
      say(root.dataset.msgSaving);
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "X-Requested-With": "XMLHttpRequest", "X-Shenbao-Autosave": "1" } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, j: j }; });
        })
        .then(function (res) {
          if (res.ok) {
            var v = form.querySelector('input[name="version"]');
            if (v && res.j.version !== undefined && res.j.version !== null) { v.value = res.j.version; }
            var now = new Date();
            var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
            say(res.j.message || fmt(root.dataset.msgSaved, { time: time }));
          } else {
            dirty = true;
            say(res.j.message || root.dataset.msgFailed, true);
          }
        })
        .catch(function () { dirty = true; say(root.dataset.msgFailed, true); })
        .finally(function () { busy = false; if (again) { schedule(); } });
    }
    function schedule() {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(save, 2000);
    }
    form.addEventListener("input", function (ev) { if (ev.target.type !== "file") { schedule(); } });
    form.addEventListener("change", function (ev) { if (ev.target.type !== "file") { schedule(); } });
    form.addEventListener("submit", function () { clearTimeout(timer); dirty = false; });
    window.addEventListener("beforeunload", function (ev) {
      if (dirty) { ev.preventDefault(); ev.returnValue = root.dataset.msgLeave || ""; }
    });
  }

  function init() {
    document.querySelectorAll("[data-sb-form]").forEach(function (root) {
      root.classList.add("sb-js");
      initCounters(root);
      initFollowUps(root);
      root.querySelectorAll("[data-sb-table]").forEach(function (fs) { initTable(root, fs); });
    });
    document.querySelectorAll("form[data-sb-autosave]").forEach(initAutosave);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
