// Poll a job run's status and move its progress bar until the job is done.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-bar");
  var progress = document.getElementById("job-progress");
  function show(percent) {
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    progress.setAttribute("aria-valuenow", String(percent));
  }
  show(parseInt(bar.getAttribute("data-progress"), 10) || 0);
  if (box.getAttribute("data-done") === "true") { return; }
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        show(s.progress);
        document.getElementById("job-status").textContent = s.status_label;
        document.getElementById("job-message").textContent = s.message;
        if (s.done) {
          // The result (counts, download link) is rendered by the server: show the finished page.
          if (s.status === "succeeded") { window.location.reload(); return; }
          if (s.status === "failed") {
            var err = document.getElementById("job-error");
            err.textContent = s.error;
            err.classList.remove("d-none");
          }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
