// The patrol app (/app): my shifts with check-in and check-out, a contribution form and my
// certificate, usable offline. Every action goes to the outbox (outbox.js) first and is sent from
// there, in order, when the phone is online: with its Idempotency-Key, a fresh CSRF token and the
// page's language. A refusal (the shift was cancelled meanwhile...) is shown under "Needs your
// attention" with the portal's own words until the person dismisses it; a network failure or a
// server error keeps the action for the next try. A check-in or check-out tapped offline (or
// whose sending failed) carries the moment of the tap as ``tapped_at``.
(function () {
  "use strict";
  var root = document.getElementById("pwa");
  if (!root || !window.pwaOutbox) {
    return;
  }
  var outbox = window.pwaOutbox;
  var S = JSON.parse(root.dataset.strings);
  var LANG = root.dataset.lang;
  var ZONE = root.dataset.timezone;
  var USER = Number(root.dataset.user);
  var API = root.dataset.api;
  var EARLY_MS = Number(root.dataset.early) * 60000;
  var LATE_MS = Number(root.dataset.late) * 60000;
  var CONFIRM_MS = Number(root.dataset.confirm) * 60000; // a check-out this soon asks first
  var RETRY_MS = 30000;
  var ACTION = /\/me\/signups\/(\d+)\/check-(in|out)$/;
  var state = { shifts: null, kinds: null, memberships: null, certificate: null };
  var confirming = {}; // signup id -> true while "Check out already?" is asked

  function $(id) { return document.getElementById(id); }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function formatter(options) {
    try {
      return new Intl.DateTimeFormat(LANG, Object.assign({ timeZone: ZONE }, options));
    } catch (e) {
      return new Intl.DateTimeFormat(undefined, options);
    }
  }
  var dateTime = formatter({ day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
  var timeOnly = formatter({ hour: "2-digit", minute: "2-digit" });
  var dateOnly = formatter({ year: "numeric", month: "2-digit", day: "2-digit" });

  function when(iso) { return iso ? dateTime.format(new Date(iso)) : ""; }

  // A calendar date (YYYY-MM-DD) as the page's language writes it.
  function day(iso) {
    return iso ? dateOnly.format(new Date(iso + "T12:00:00Z")) : "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function headers(extra) {
    return Object.assign({ Accept: "application/json", "Accept-Language": LANG }, extra || {});
  }

  // GET through the service worker (network first, the kept answer offline); null if neither.
  function read(path) {
    return fetch(API + path, { headers: headers(), credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) {
          signedOut();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .catch(function () { return null; });
  }

  // ---- the network badge ------------------------------------------------------------------

  function showNetwork() {
    var online = navigator.onLine;
    var badge = $("pwa-network");
    badge.textContent = online ? S.online : S.offlineShort;
    badge.className = "badge pwa-network " + (online ? "text-bg-success" : "text-bg-secondary");
    var note = $("pwa-offline-note");
    note.textContent = S.offline;
    note.hidden = online;
  }

  function signedOut() {
    $("pwa-signin-text").textContent = S.signInAgain;
    $("pwa-signin").hidden = false;
  }

  // ---- the outbox lists -----------------------------------------------------------------------

  function pendingBySignup(items) {
    var found = {};
    items.forEach(function (item) {
      var match = ACTION.exec(item.url);
      if (match) {
        found[match[1]] = found[match[1]] || {};
        found[match[1]][match[2]] = item;
      }
    });
    return found;
  }

  function renderQueues() {
    return Promise.all([outbox.pending(USER), outbox.attention(USER)]).then(function (lists) {
      var pending = lists[0];
      var refused = lists[1];
      var waiting = $("pwa-waiting-list");
      waiting.replaceChildren.apply(waiting, pending.map(function (item) {
        var row = el("li", "list-group-item d-flex flex-wrap gap-1 justify-content-between");
        row.append(el("span", "pwa-label", item.label), el("span", "small text-muted", S.waiting));
        return row;
      }));
      $("pwa-waiting").hidden = pending.length === 0;
      var list = $("pwa-attention-list");
      // Re-drawn only when it changed: each refusal is announced once (role=alert).
      var shownIds = refused.map(function (item) { return item.id; }).join(",");
      if (list.dataset.ids !== shownIds) {
        list.dataset.ids = shownIds;
        list.replaceChildren.apply(list, refused.map(attentionItem));
      }
      $("pwa-attention").hidden = refused.length === 0;
      renderShifts(pendingBySignup(pending));
      return pending;
    });
  }

  function attentionItem(item) {
    var entry = el("li");
    var row = el("div", "alert alert-danger pwa-problem");
    row.setAttribute("role", "alert");
    entry.append(row);
    row.append(el("p", "fw-semibold mb-1", item.label), el("p", "mb-2 pwa-detail", item.detail));
    (item.errors || []).forEach(function (error) {
      if (error.detail && error.detail !== item.detail) {
        row.append(el("p", "small mb-2", error.detail));
      }
    });
    var dismiss = el("button", "btn btn-danger btn-sm", S.dismiss);
    dismiss.type = "button";
    dismiss.addEventListener("click", function () {
      outbox.dismiss(item.id).then(renderQueues);
    });
    row.append(dismiss);
    return entry;
  }

  // ---- my shifts ------------------------------------------------------------------------------

  function shiftItems() {
    var data = state.shifts;
    if (!data) {
      return null;
    }
    return Array.isArray(data) ? data : data.items || [];
  }

  function renderShifts(pending) {
    var box = $("pwa-shifts");
    var items = shiftItems();
    if (items === null) {
      box.replaceChildren(el("p", "text-muted", S.notLoaded));
      return;
    }
    var now = Date.now();
    var shown = items
      .filter(function (s) {
        return pending[s.id] || new Date(s.ends_at).getTime() + LATE_MS > now;
      })
      .sort(function (a, b) { return new Date(a.starts_at) - new Date(b.starts_at); });
    if (!shown.length) {
      box.replaceChildren(el("p", "", S.noShifts));
      return;
    }
    box.replaceChildren.apply(box, shown.map(function (s) {
      return shiftCard(s, pending[s.id] || {}, now);
    }));
  }

  function shiftCard(s, queued, now) {
    var card = el("article", "card mb-3 shift-card pwa-shift");
    card.dataset.signup = s.id;
    var body = el("div", "card-body");
    card.append(body);
    var starts = new Date(s.starts_at).getTime();
    var ends = new Date(s.ends_at).getTime();
    body.append(
      el("h3", "h6 mb-1", when(s.starts_at) + " – " + timeOnly.format(new Date(s.ends_at))),
      el("p", "mb-1", s.place || "")
    );
    var status = el("p", "mb-2 small");
    status.append(document.createTextNode((S.status || "") + ": "));
    status.append(el("strong", "", S.statuses[s.status] || s.status));
    body.append(status);
    if (s.checked_in_at) {
      body.append(el("p", "mb-1 small", fill(S.checkedInAt, { time: when(s.checked_in_at) }) +
        (s.checked_in_offline ? " · " + S.recordedOffline : "")));
    }
    if (s.checked_out_at) {
      body.append(el("p", "mb-1 small", fill(S.checkedOutAt, { time: when(s.checked_out_at) }) +
        (s.checked_out_offline ? " · " + S.recordedOffline : "")));
    }
    ["in", "out"].forEach(function (which) {
      if (queued[which]) {
        var note = el("p", "mb-2 small pwa-waiting-note");
        note.append(el("span", "badge text-bg-warning me-1", S.waiting));
        note.append(document.createTextNode(fill(which === "in" ? S.checkedInAt : S.checkedOutAt,
          { time: when(queued[which].tapped || queued[which].created) })));
        body.append(note);
      }
    });
    var onShift = (s.status === "checked_in" || (s.status === "signed_up" && queued.in)) &&
      !queued.out;
    var actions = el("div", "d-grid gap-2");
    if (s.status === "signed_up" && !queued.in && starts - EARLY_MS <= now && now <= ends) {
      var checkIn = el("button", "btn btn-success btn-lg w-100 pwa-check-in", S.checkIn);
      checkIn.type = "button";
      checkIn.addEventListener("click", function () { tap(s, "in", checkIn); });
      actions.append(checkIn);
    } else if (onShift && now <= ends + LATE_MS) {
      if (confirming[s.id]) {
        actions.append(el("p", "mb-1 small fw-semibold", S.checkOutAlready));
        var yes = el("button", "btn btn-danger pwa-check-out-yes", S.yesCheckOut);
        yes.type = "button";
        yes.addEventListener("click", function () {
          delete confirming[s.id];
          tap(s, "out", yes, { confirmed: true });
        });
        actions.append(yes);
      } else {
        var checkOut = el("button", "btn btn-outline-danger pwa-check-out", S.checkOut);
        checkOut.type = "button";
        checkOut.addEventListener("click", function () {
          var since = queued.in ? queued.in.tapped : s.checked_in_at;
          if (since && Date.now() - new Date(since).getTime() < CONFIRM_MS) {
            confirming[s.id] = true;
            renderQueues();
          } else {
            tap(s, "out", checkOut);
          }
        });
        actions.append(checkOut);
      }
    }
    if (actions.childNodes.length) {
      body.append(actions);
    }
    return card;
  }

  function tap(signup, which, button, extra) {
    button.disabled = true;
    var tapped = new Date().toISOString();
    var path = "/me/signups/" + signup.id + "/check-" + which;
    outbox.add({
      url: API + path,
      body: Object.assign(navigator.onLine ? {} : { tapped_at: tapped }, extra || {}),
      tapped: tapped,
      user: USER,
      label: fill(which === "in" ? S.checkInLabel : S.checkOutLabel,
        { place: signup.place || "", time: when(tapped) }),
    }).then(renderQueues).then(flush);
  }

  // ---- sending ------------------------------------------------------------------------------

  var flushing = null;
  var again = false; // an action was added while sending: send once more right after
  var retryTimer = null;

  function problemOf(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return {
        status: response.status,
        detail: body.detail || body.title || S.problem,
        errors: Array.isArray(body.errors) ? body.errors : [],
      };
    });
  }

  // Is this refusal about the request's timing rather than the action (a twin being answered)?
  function transient(response, problem) {
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      return true;
    }
    return response.status === 409 && problem.errors.some(function (e) {
      return e.parameter === "Idempotency-Key";
    });
  }

  // Not sent: a tap keeps its moment from now on (the portal records it as taken offline). The
  // content changes, so it gets a new key: the old one may already be kept for the old content.
  function notSent(item) {
    if (item.tapped && !item.body.tapped_at) {
      item.body = Object.assign({}, item.body, { tapped_at: item.tapped });
      item.key = outbox.uuid();
      return outbox.update(item);
    }
    return Promise.resolve();
  }

  // Send ``items`` in order; resolve with whether the portal answered any of them.
  function sendAll(items) {
    var sent = 0;
    return fetch(API + "/session", { headers: headers(), credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          signedOut();
          return null;
        }
        return response.ok ? response.json() : null;
      }, function () { return null; })
      .then(function (session) {
        if (!session) {
          return Promise.all(items.map(notSent)).then(function () { return false; });
        }
        $("pwa-signin").hidden = true;
        var token = session.csrf_token;
        var stop = false;
        return items.reduce(function (chain, item) {
          return chain.then(function () {
            if (stop) {
              return notSent(item);
            }
            return fetch(item.url, {
              method: "POST",
              credentials: "same-origin",
              headers: headers({
                "Content-Type": "application/json",
                "Idempotency-Key": item.key,
                "X-CSRFToken": token || "",
              }),
              body: JSON.stringify(item.body),
            }).then(function (response) {
              if (response.ok) {
                sent += 1;
                return outbox.remove(item.id);
              }
              if (response.status === 401) {
                stop = true;
                signedOut();
                return notSent(item);
              }
              return problemOf(response).then(function (problem) {
                if (transient(response, problem)) {
                  stop = true; // in order: what follows may depend on this one
                  return notSent(item);
                }
                sent += 1; // answered: the shift's state is worth reading again
                return outbox.refuse(item, problem);
              });
            }, function () {
              stop = true;
              return notSent(item);
            });
          });
        }, Promise.resolve()).then(function () { return sent > 0; });
      });
  }

  function flush() {
    if (flushing) {
      again = true;
      return flushing;
    }
    again = false;
    var work = function () {
      return outbox.pending(USER).then(function (items) {
        if (!items.length) {
          return false;
        }
        return sendAll(items);
      });
    };
    // One sender across the tabs of this phone when the browser can say so.
    var run = navigator.locks ? navigator.locks.request("portal-pwa-outbox", work) : work();
    flushing = run
      .then(function (sent) {
        return sent ? load() : renderQueues();
      })
      .catch(function () { return renderQueues(); })
      .then(function () {
        flushing = null;
        return outbox.pending(USER);
      })
      .then(function (left) {
        root.dataset.outbox = String(left.length);
        window.clearTimeout(retryTimer);
        if (again && left.length && navigator.onLine) {
          flush();
        } else if (left.length) {
          retryTimer = window.setTimeout(flush, RETRY_MS);
        }
      });
    return flushing;
  }

  // ---- contributions ------------------------------------------------------------------------

  function kindList() {
    var data = state.kinds;
    return data ? (Array.isArray(data) ? data : data.items || []) : [];
  }

  function kindNamed(code) {
    return kindList().filter(function (k) { return k.code === code; })[0];
  }

  function renderKinds() {
    var select = $("pwa-kind");
    var chosen = select.value;
    var options = [el("option", "", "—")];
    options[0].value = "";
    kindList().forEach(function (kind) {
      var option = el("option", "", kind.name);
      option.value = kind.code;
      options.push(option);
    });
    select.replaceChildren.apply(select, options);
    select.value = chosen && kindNamed(chosen) ? chosen : "";
    showKindFields();
  }

  function memberList() {
    var data = state.memberships;
    return data ? (Array.isArray(data) ? data : data.items || []) : [];
  }

  function renderMembers() {
    var members = memberList();
    var select = $("pwa-member");
    select.replaceChildren.apply(select, members.map(function (m) {
      var option = el("option", "", [m.certificate_no, m.unit_name].filter(Boolean).join(" · "));
      option.value = m.id;
      return option;
    }));
    $("pwa-member-field").hidden = members.length < 2;
    // Without a membership there is nothing to log yet: the form says so instead.
    var none = state.memberships !== null && members.length === 0;
    var form = $("pwa-contribution");
    Array.prototype.forEach.call(form.elements, function (field) { field.disabled = none; });
    var status = $("pwa-contribution-status");
    if (none || status.textContent === S.noMember) {
      status.textContent = none ? S.noMember : "";
    }
  }

  function showKindFields() {
    var kind = kindNamed($("pwa-kind").value);
    $("pwa-hours-field").hidden = !(kind && kind.measure === "hours");
  }

  function localToday() {
    // The portal's calendar day, in its time zone (the date field's default).
    var parts = {};
    formatter({ year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date())
      .forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function contributionProblem(form, kind) {
    if (!kind) {
      return [form.kind, S.chooseKind];
    }
    if (!form.description.value.trim()) {
      return [form.description, S.describe];
    }
    if (kind.measure === "hours" && !(Number(form.hours.value) > 0)) {
      return [form.hours, S.enterHours];
    }
    if (kind.needs_reference && !form.reference.value.trim()) {
      return [form.reference, S.needsReference];
    }
    return null;
  }

  function onContribution(event) {
    event.preventDefault();
    var form = event.target;
    var kind = kindNamed(form.kind.value);
    var error = $("pwa-contribution-error");
    form.querySelectorAll("[aria-invalid]").forEach(function (f) {
      f.removeAttribute("aria-invalid");
      f.classList.remove("is-invalid");
    });
    var wrong = contributionProblem(form, kind);
    if (wrong) {
      error.textContent = wrong[1];
      wrong[0].classList.add("is-invalid");
      wrong[0].setAttribute("aria-invalid", "true");
      wrong[0].focus();
      return;
    }
    error.textContent = "";
    var body = {
      kind: kind.code,
      occurred_on: form.occurred_on.value || localToday(),
      description: form.description.value.trim(),
      reference: form.reference.value.trim() || null,
    };
    if (kind.measure === "hours") {
      body.minutes = Math.round(Number(form.hours.value) * 60);
    }
    var members = memberList();
    if (members.length > 1) {
      body.member_id = Number(form.member_id.value);
    } else if (members.length === 1) {
      body.member_id = members[0].id;
    }
    outbox.add({
      url: API + "/me/contributions",
      body: body,
      user: USER,
      label: fill(S.contributionLabel, {
        kind: kind.name,
        date: day(body.occurred_on),
      }),
    }).then(function () {
      form.reset();
      form.occurred_on.value = localToday();
      showKindFields();
      $("pwa-contribution-status").textContent = S.contributionKept;
      return renderQueues();
    }).then(flush);
  }

  // ---- my certificate ---------------------------------------------------------------------

  function renderCertificate() {
    var box = $("pwa-certificate");
    var c = state.certificate;
    if (!c) {
      box.replaceChildren(el("p", "text-muted", memberList().length || !state.memberships
        ? S.notLoaded : S.noCertificate));
      return;
    }
    var card = el("div", "card card-body pwa-certificate");
    card.append(
      el("p", "h6 mb-1", fill(S.certificateNo, { number: c.certificate_no })),
      el("p", "mb-1", c.full_name),
      el("p", "mb-1 small", [S.kinds[c.kind] || c.kind, c.unit_name].filter(Boolean).join(" · ")),
      el("p", "mb-1 small", fill(S.validUntil, { date: day(c.expires_on) }))
    );
    if (!c.valid) {
      card.append(el("p", "mb-0 small text-danger fw-semibold", c.not_valid_reason || S.notValid));
    }
    box.replaceChildren(card);
  }

  // ---- loading ------------------------------------------------------------------------------

  function load() {
    return Promise.all([
      read("/me/shifts?limit=100"),
      read("/me/contribution-kinds"),
      read("/me/memberships"),
      read("/me/certificate"),
    ]).then(function (answers) {
      state.shifts = answers[0] || state.shifts;
      state.kinds = answers[1] || state.kinds;
      state.memberships = answers[2] || state.memberships;
      state.certificate = answers[3] || state.certificate;
      renderKinds();
      renderMembers();
      renderCertificate();
      return renderQueues();
    });
  }

  function register() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    var worker = root.dataset.worker;
    navigator.serviceWorker
      .register(worker, { scope: worker.replace(/sw\.js$/, "") })
      .catch(function () { /* the app still works online without it */ });
  }

  // Signing out forgets the kept answers (the next account on this phone must not see them);
  // the outbox stays: its actions are sent when their own account signs in again.
  function forgetOnSignOut() {
    document.querySelectorAll("form[action='" + root.dataset.logout + "']").forEach(function (form) {
      form.addEventListener("submit", function () {
        var controller = navigator.serviceWorker && navigator.serviceWorker.controller;
        if (controller) {
          controller.postMessage({ type: "forget" });
        }
      });
    });
  }

  $("pwa-contribution").addEventListener("submit", onContribution);
  $("pwa-kind").addEventListener("change", showKindFields);
  $("pwa-date").value = localToday();
  $("pwa-date").max = localToday();
  window.addEventListener("online", function () {
    showNetwork();
    flush();
  });
  window.addEventListener("offline", showNetwork);
  showNetwork();
  register();
  forgetOnSignOut();
  load().then(flush);
})();
