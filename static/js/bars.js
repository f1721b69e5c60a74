// Size the budget execution bars from their data-width (inline styles are refused by the CSP).
(function () {
  "use strict";
  document.querySelectorAll(".progress[data-width]").forEach(function (el) {
    var width = Math.max(0, Math.min(100, parseInt(el.getAttribute("data-width"), 10) || 0));
    el.style.width = width + "%";
  });
})();
