// The patrol app's outbox: actions taken on the phone, kept in IndexedDB until the portal has
// them. A record is {id, key, url, body, created, label, user, tapped}: ``key`` is the request's
// Idempotency-Key (a retry is never recorded twice), ``label`` what the person sees in the list,
// ``user`` the account that took it (another account signed in on the same phone never sends
// it), ``tapped`` the moment of a check-in or check-out tap. A refused action moves to the
// "attention" store with the portal's explanation and stays there until the person dismisses it.
(function () {
  "use strict";
  var NAME = "portal-pwa";
  var VERSION = 1;
  var opened = null;

  function open() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open(NAME, VERSION);
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains("outbox")) {
            db.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
          }
          if (!db.objectStoreNames.contains("attention")) {
            db.createObjectStore("attention", { keyPath: "id", autoIncrement: true });
          }
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { opened = null; reject(request.error); };
      });
    }
    return opened;
  }

  // Run ``work(store)`` in a transaction; resolve with what its last request gave once committed.
  function run(storeName, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result;
        var request = work(tx.objectStore(storeName), tx);
        if (request) {
          request.onsuccess = function () { result = request.result; };
        }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function all(storeName, user) {
    return run(storeName, "readonly", function (store) { return store.getAll(); }).then(
      function (rows) {
        return (rows || [])
          .filter(function (row) { return user === undefined || row.user === user; })
          .sort(function (a, b) { return a.id - b.id; });
      }
    );
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  window.pwaOutbox = {
    uuid: uuid,
    // Keep an action; resolves with its id. The key is made here unless given.
    add: function (action) {
      var record = Object.assign({ key: uuid(), created: new Date().toISOString() }, action);
      delete record.id;
      return run("outbox", "readwrite", function (store) { return store.add(record); });
    },
    pending: function (user) { return all("outbox", user); },
    update: function (record) {
      return run("outbox", "readwrite", function (store) { return store.put(record); });
    },
    remove: function (id) {
      return run("outbox", "readwrite", function (store) { return store.delete(id); });
    },
    // Move a refused action to the attention list, in one transaction (never lost in between).
    refuse: function (record, problem) {
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(["outbox", "attention"], "readwrite");
          tx.objectStore("outbox").delete(record.id);
          tx.objectStore("attention").add({
            label: record.label,
            url: record.url,
            user: record.user,
            created: record.created,
            refused: new Date().toISOString(),
            status: problem.status,
            detail: problem.detail,
            errors: problem.errors || [],
          });
          tx.oncomplete = function () { resolve(); };
          tx.onerror = function () { reject(tx.error); };
          tx.onabort = function () { reject(tx.error); };
        });
      });
    },
    attention: function (user) { return all("attention", user); },
    dismiss: function (id) {
      return run("attention", "readwrite", function (store) { return store.delete(id); });
    },
  };
})();
