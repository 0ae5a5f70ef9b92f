// weaklink's progressive enhancement. Every page works without this file;
// with it, clocks count down live. Other enhancements register below.
"use strict";
(function () {
  // <time data-countdown="RFC3339"> shows the time left (or overdue).
  function fmt(ms) {
    const neg = ms < 0; ms = Math.abs(ms);
    const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24,
      m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    const parts = d > 0 ? [d + "d", h + "h", m + "m"] : h > 0 ? [h + "h", m + "m", s + "s"] : [m + "m", s + "s"];
    return neg ? parts.join(" ") + " overdue" : parts.join(" ") + " left";
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const t = Date.parse(el.getAttribute("data-countdown"));
      if (!isNaN(t)) el.textContent = fmt(t - Date.now());
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-countdown]")) { tick(); setInterval(tick, 1000); }
    // Selects marked data-autosubmit submit their form on change.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { if (el.form) el.form.requestSubmit(); });
    });
  });
})();
