// Busy buttons: a posted form's button is disabled and says "Working…" until the next page, so a
// second tap cannot send the step again; the back button (pageshow) gives the page back as it was.
// The words come translated from the page: <body data-busy-text="…">.
(function () {
  "use strict";
  var RESTORE_AFTER_MS = 15000; // a form answered by a download never leaves the page

  function label(text) {
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-1";
    spinner.setAttribute("aria-hidden", "true");
    var words = document.createElement("span");
    words.textContent = text;
    return [spinner, words];
  }

  function restore(button) {
    if (!button.dataset.busy) {
      return;
    }
    if (button.tagName === "INPUT") {
      button.value = button.dataset.busyWas;
    } else {
      button.innerHTML = button.dataset.busyWas;
    }
    button.disabled = false;
    button.style.minWidth = button.style.minHeight = "";
    delete button.dataset.busy;
    delete button.dataset.busyWas;
    var form = button.form;
    if (form) {
      form.removeAttribute("aria-busy");
    }
  }

  // Mark ``button`` of ``form`` busy with ``text`` (geolocation.js uses it too).
  function mark(form, button, text) {
    if (form) {
      form.setAttribute("aria-busy", "true");
    }
    if (!button) {
      return;
    }
    if (!button.dataset.busy) {
      button.dataset.busy = "1";
      button.dataset.busyWas = button.tagName === "INPUT" ? button.value : button.innerHTML;
      // "Working…" is often shorter than the step's words: a shrinking button would slide its
      // neighbour ("Cancel") under the finger, and the second tap of a double tap would follow
      // that link instead of the step. The button keeps at least the room it had.
      var box = button.getBoundingClientRect();
      button.style.minWidth = box.width + "px";
      button.style.minHeight = box.height + "px";
    }
    button.disabled = true;
    if (button.tagName === "INPUT") {
      button.value = text;
    } else {
      button.replaceChildren.apply(button, label(text));
    }
    window.setTimeout(function () { restore(button); }, RESTORE_AFTER_MS);
  }

  function working() {
    return document.body.dataset.busyText || "…";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A script that took the submission over (geolocation.js) marks the button itself.
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    var button = event.submitter || form.querySelector("button[type=submit], input[type=submit]");
    // After this event the browser reads the form, the pressed button's name and value with it:
    // a button disabled now would be left out.
    window.setTimeout(function () { mark(form, button, working()); }, 0);
  });

  // Once a step is sent, a link of its form (its "Cancel") cancels nothing: the portal carries
  // the step out all the same. Taken while the form is busy, it would only leave the page before
  // the answer comes, so it waits with the button (portal.css dims it; keys are held here).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("form[aria-busy=true] a");
    if (link) {
      event.preventDefault();
    }
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-busy]").forEach(restore);
  });

  window.portalBusy = { mark: mark, restore: restore, working: working };
})();
