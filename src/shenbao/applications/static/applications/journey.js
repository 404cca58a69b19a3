/* One click submits once: a form marked data-once disables its buttons when sent (the server refuses a
 * second submission anyway). Local, no dependencies. */
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (form.dataset.sent === "1") { ev.preventDefault(); return; }
        form.dataset.sent = "1";
        var clicked = ev.submitter;
        setTimeout(function () {
          form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
            b.disabled = true;
            if (b === clicked && b.dataset.busy) { b.textContent = b.dataset.busy; }
          });
        }, 0);
      });
    });
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (ev) { if (!window.confirm(el.dataset.confirm)) { ev.preventDefault(); } });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
