/* Application forms (shenbao.forms.rendering): character counters, follow-up fields, repeating tables with
 * live totals and caps, and autosave. Local, no dependencies; the form works without it.
 *
 * Autosave: a <form data-sb-autosave="URL"> around render_form's HTML is POSTed (as FormData, files left
 * out, plus autosave=1 and the header X-Shenbao-Autosave: 1) two seconds after the last change. The
 * server answers JSON {ok, message?, version?}; `version` updates <input name="version">, a non-2xx
 * answer's `message` (e.g. a version conflict, 409) is shown in [data-sb-autosave-status]; a 401 (login
 * expired) opens the login dialog (see initAutosave). Anything but JSON is never taken for a save.
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

  /* Autosave that never loses typed text.
   * - What the server holds is remembered (`saved`, the form serialised); the leave-page warning fires only
   *   when the page differs from it.
   * - With <form data-sb-store="KEY">, every change is also kept in localStorage under
   *   "shenbao:draft:KEY:v<version>" until the server has it; a page loaded with the same version and a
   *   different kept copy puts the kept text back (e.g. after the login page) and saves it.
   * - A 401 answer (the session expired) says so, keeps the text and opens the <dialog> named by
   *   data-sb-login-dialog: its form logs in by fetch (GET for a fresh CSRF token, then POST, JSON) without
   *   leaving the page; the new CSRF token replaces the page's, and the save is sent again. */
  function initAutosave(form) {
    var root = form.querySelector("[data-sb-form]") || form;
    var url = form.dataset.sbAutosave;
    var status = form.querySelector("[data-sb-autosave-status]");
    var dialog = form.dataset.sbLoginDialog ? document.getElementById(form.dataset.sbLoginDialog) : null;
    var store = form.dataset.sbStore || "";
    var timer = null, busy = false, again = false, expired = false, leaving = false;
    var SKIP = { csrfmiddlewaretoken: 1, version: 1, autosave: 1, action: 1 };
    var KEEP_DAYS = 14;  // unsaved copies in this browser are dropped after two weeks

    function say(text, bad) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("sb-error", !!bad);
    }
    function pairs() {
      var out = [];
      new FormData(form).forEach(function (v, k) {
        if (SKIP[k] || (typeof File !== "undefined" && v instanceof File)) { return; }
        out.push([k, String(v)]);
      });
      return out;
    }
    function serialize() { return JSON.stringify(pairs()); }
    function version() { var v = form.querySelector('input[name="version"]'); return v ? v.value : ""; }
    function keyFor(v) { return "shenbao:draft:" + store + ":v" + v; }
    function storage() { try { return window.localStorage; } catch (e) { return null; } }
    var saved = serialize();

    function stash() {
      var ls = storage();
      if (!store || !ls) { return; }
      var now = serialize();
      try {
        if (now === saved) { ls.removeItem(keyFor(version())); }
        else { ls.setItem(keyFor(version()), JSON.stringify({ at: new Date().toISOString(), pairs: now })); }
      } catch (e) { /* storage full or refused: the page still holds the text */ }
    }
    function setValues(list) {
      var byName = {};
      list.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
      Object.keys(byName).forEach(function (name) {
        var sel = '[name="' + name.replace(/["\\]/g, "\\$&") + '"]';
        var row = /^f-([a-z0-9_]+)-(\d+)-[a-z0-9_]+$/.exec(name);
        var tries = 0;
        while (row && !form.querySelector(sel) && tries++ < 50) {
          var add = form.querySelector('[data-key="' + row[1] + '"] [data-sb-add-row]');
          if (!add || add.disabled) { break; }
          add.click();
        }
        var els = form.querySelectorAll(sel), values = byName[name], i = 0;
        els.forEach(function (el) {
          if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) >= 0; }
          else if (i < values.length) { el.value = values[i++]; }
          el.dispatchEvent(new Event("input", { bubbles: true }));
          el.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
    }
    function restore() {
      var ls = storage();
      if (!store || !ls) { return false; }
      var prefix = "shenbao:draft:" + store + ":v", mine = null, old = Date.now() - KEEP_DAYS * 864e5;
      for (var i = ls.length - 1; i >= 0; i--) {
        var k = ls.key(i);
        if (!k || k.indexOf("shenbao:draft:") !== 0) { continue; }
        if (k.indexOf(prefix) !== 0) {  // another application's copy: dropped once it is old
          try { if (Date.parse(JSON.parse(ls.getItem(k)).at) < old) { ls.removeItem(k); } } catch (e) { ls.removeItem(k); }
          continue;
        }
        if (k === keyFor(version())) { mine = k; } else if (parseInt(k.slice(prefix.length), 10) < parseInt(version(), 10)) { ls.removeItem(k); }
      }
      if (!mine) { return false; }
      var kept;
      try { kept = JSON.parse(ls.getItem(mine)); } catch (e) { kept = null; }
      if (!kept || !kept.pairs || kept.pairs === saved) { ls.removeItem(mine); return false; }
      setValues(JSON.parse(kept.pairs));
      return serialize() !== saved;
    }

    function openLogin() {
      if (!dialog) { return; }
      if (!dialog.open) {
        if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
      }
      var pw = dialog.querySelector('input[type="password"]');
      if (pw) { pw.focus(); }
    }
    function setCsrf(token) {
      document.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach(function (i) { i.value = token; });
      var h = document.body.getAttribute("hx-headers");
      if (h) {
        try { var o = JSON.parse(h); o["X-CSRFToken"] = token; document.body.setAttribute("hx-headers", JSON.stringify(o)); } catch (e) { /* keep */ }
      }
    }
    function initDialog() {
      if (!dialog) { return; }
      var lf = dialog.querySelector("form"), err = dialog.querySelector("[data-sb-login-error]");
      var loginUrl = dialog.dataset.sbLogin;
      dialog.querySelectorAll("[data-sb-login-cancel]").forEach(function (b) {
        b.addEventListener("click", function () { dialog.close(); });
      });
      lf.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (err) { err.textContent = ""; }
        var btn = lf.querySelector('button[type="submit"]');
        if (btn) { btn.disabled = true; }
        var body = new FormData(lf);
        fetch(loginUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (j) {
            return fetch(loginUrl, { method: "POST", body: body, credentials: "same-origin",
                                     headers: { "Accept": "application/json", "X-CSRFToken": j.csrf,
                                                "X-Requested-With": "XMLHttpRequest" } });
          })
          .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, j: j }; }); })
          .then(function (res) {
            if (res.ok && res.j.ok) {
              if (res.j.csrf) { setCsrf(res.j.csrf); }
              expired = false;
              lf.reset();
              dialog.close();
              say(res.j.message || "");
              save();
            } else {
              var pw = lf.querySelector('input[type="password"]');
              if (pw) { pw.value = ""; pw.focus(); }
              if (err) {
                err.textContent = (res.j.message || root.dataset.msgFailed) +
                  (res.j.attempts_left ? " " + fmt(dialog.dataset.msgAttempts, { n: res.j.attempts_left }) : "");
              }
            }
          })
          .catch(function () { if (err) { err.textContent = dialog.dataset.msgOffline || root.dataset.msgFailed; } })
          .finally(function () { if (btn) { btn.disabled = false; } });
      });
    }

    function save() {
      if (expired) { stash(); say(root.dataset.msgExpired || root.dataset.msgFailed, true); openLogin(); return; }
      if (busy) { again = true; return; }
      busy = true; again = false;
      var sent = serialize(), fromVersion = version();
      var data = new FormData(form);
      Array.from(data.keys()).forEach(function (k) {
        if (data.getAll(k).some(function (v) { return typeof File !== "undefined" && v instanceof File; })) { data.delete(k); }
      });
      data.set("autosave", "1");
      say(root.dataset.msgSaving);
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "X-Requested-With": "XMLHttpRequest", "X-Shenbao-Autosave": "1", "Accept": "application/json" } })
        .then(function (r) {
          var json = (r.headers.get("Content-Type") || "").indexOf("json") >= 0;
          return (json ? r.json() : Promise.resolve(null)).catch(function () { return null; })
            .then(function (j) { return { ok: r.ok && j !== null && j.ok !== false, status: r.status, j: j || {}, redirected: r.redirected }; });
        })
        .then(function (res) {
          if (res.ok) {
            var v = form.querySelector('input[name="version"]');
            if (v && res.j.version !== undefined && res.j.version !== null) { v.value = res.j.version; }
            saved = sent;
            var ls = storage();
            if (ls && store && String(fromVersion) !== version()) { try { ls.removeItem(keyFor(fromVersion)); } catch (e) { /* ignore */ } }
            stash();
            var now = new Date();
            var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
            say(res.j.message || fmt(root.dataset.msgSaved, { time: time }));
          } else if (res.status === 401 || res.j.login || res.redirected) {
            expired = true;
            stash();
            say(res.j.message || root.dataset.msgExpired || root.dataset.msgFailed, true);
            openLogin();
          } else {
            stash();
            say(res.j.message || root.dataset.msgFailed, true);
          }
        })
        .catch(function () { stash(); say(root.dataset.msgFailed, true); })
        .finally(function () { busy = false; if (again) { schedule(); } });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(save, 2000);
    }
    function changed(ev) {
      if (ev.target.type === "file") { return; }
      stash();
      if (expired) { say(root.dataset.msgExpired || root.dataset.msgFailed, true); return; }
      schedule();
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function (ev) {
      clearTimeout(timer);
      if (expired && dialog) {  // the post would land on the login page: log in here first
        ev.preventDefault();
        stash();
        openLogin();
        return;
      }
      stash();
      leaving = true;
    });
    window.addEventListener("beforeunload", function (ev) {
      if (leaving || serialize() === saved) { return; }
      ev.preventDefault();
      ev.returnValue = root.dataset.msgLeave || "";
    });
    window.addEventListener("pageshow", function (ev) { if (ev.persisted) { leaving = false; } });
    initDialog();
    if (restore()) {
      say(root.dataset.msgRestored || "");
      save();
    }
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
