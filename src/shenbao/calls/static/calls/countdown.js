/* Live countdown to a call's deadline. Each [data-countdown] element carries the deadline (and the opening
   time, if any) as ISO 8601 with its offset (+08:00), i.e. an absolute instant: the remaining time is the
   same whatever zone the browser is in. The server renders the first text; this keeps it current. */
(function () {
  "use strict";
  function span(ms, el) {
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    var u = el.dataset;
    if (d > 0) return d + " " + u.day + " " + h + " " + u.hour + " " + m + " " + u.minute;
    return h + " " + u.hour + " " + m + " " + u.minute + " " + s + " " + u.second;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.deadline);
      var opens = el.dataset.opens ? Date.parse(el.dataset.opens) : NaN;
      if (isNaN(deadline)) return;
      var text;
      if (!isNaN(opens) && now < opens) text = el.dataset.beforeOpen + " " + span(opens - now, el);
      else if (now < deadline) text = el.dataset.beforeDeadline + " " + span(deadline - now, el);
      else text = el.dataset.closed;
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("closed", now >= deadline);
    });
  }
  function start() { tick(); window.setInterval(tick, 1000); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
