// weaklink's progressive enhancement. Every page works without this file;
// with it, clocks count down live and drastic actions ask first.
"use strict";
(function () {
  // <time data-countdown="RFC3339"> shows the time left (or overdue).
  function fmt(ms) {
    const neg = ms < 0; ms = Math.abs(ms);
    const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24,
      m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    // As the server writes it (timeLeft in svg.go), with seconds in the last hour.
    const parts = d > 0 ? [d + "d", h + "h"] : h > 0 ? [h + "h", m + "m"] : [m + "m", s + "s"];
    return neg ? parts.join(" ") + " overdue" : parts.join(" ") + " left";
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const t = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(t)) return;
      el.textContent = fmt(t - Date.now());
      // The styling that marks a deadline as passed follows the text.
      const box = el.closest(".left, .clock");
      if (box) box.classList.toggle("overdue", t < Date.now());
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-countdown]")) { tick(); setInterval(tick, 1000); }
    // Forms marked data-confirm="question" ask before they submit (the
    // kill switch, closing an incident); without script they just submit.
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  });
})();
