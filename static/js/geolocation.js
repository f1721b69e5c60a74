// Check-in with location: only when the member ticks the box, and only if the browser allows it.
// While the browser looks for the position the button says so ("Getting your location…", from
// <body data-locating-text>) and is disabled: a second tap does not check in twice.
(function () {
  "use strict";
  document.querySelectorAll("form.geo-check-in").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var box = form.querySelector("input[name=share_location]");
      if (!box || !box.checked || !navigator.geolocation || form.dataset.located) {
        return;
      }
      event.preventDefault();
      var button = event.submitter || form.querySelector("button[type=submit]");
      var busy = window.portalBusy;
      if (busy) {
        busy.mark(form, button, document.body.dataset.locatingText || "…");
      }
      var send = function () {
        form.dataset.located = "1";
        if (busy) {
          busy.mark(form, button, busy.working());
        }
        form.submit();
      };
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("input[name=latitude]").value = pos.coords.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = pos.coords.longitude.toFixed(6);
        send();
      }, send, { timeout: 8000, maximumAge: 60000 });
    });
  });
})();
