// The patrol app's service worker, served as /sw.js: the portal puts its settings in front of
// this file (self.PWA_CONFIG: version, precache, shell, api), so that a new release of any
// precached file gives a new worker with a new cache.
//
// * The shell (/app, its scripts and styles, the manifest, the icons) is precached at install.
// * /app and the volunteer's data (CACHED_API in portal/pwa_views.py) are read network-first;
//   offline (or after SLOW_MS without an answer), the last answer kept is given. A request
//   made with {cache: "no-store"} (the app's fresh CSRF token) goes to the network only.
// * Anything but GET (check-ins, contributions) is never touched: the page's outbox sends it.
/* global self, caches, fetch, Response, URL, setTimeout */
"use strict";

var CONFIG = self.PWA_CONFIG;
var PREFIX = "portal-pwa-";
var SHELL_CACHE = PREFIX + "shell-" + CONFIG.version;
var DATA_CACHE = PREFIX + "data";
var SLOW_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(CONFIG.precache); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf(PREFIX) === 0 && name !== SHELL_CACHE && name !== DATA_CACHE;
            })
            .map(function (name) { return caches.delete(name); })
        );
      })
      .then(function () { return self.clients.claim(); })
  );
});

// The network's answer, kept for later; after SLOW_MS without one (a weak signal), the kept
// answer if there is one; without a network, the kept answer or a network error.
function networkFirst(request, cacheName, fallbackUrl) {
  if (request.cache === "no-store") {
    return fetch(request);
  }
  function kept() {
    return caches.open(cacheName).then(function (cache) {
      return cache.match(fallbackUrl || request, { ignoreVary: true, ignoreSearch: !!fallbackUrl });
    });
  }
  var network = fetch(request).then(function (response) {
    if (!response.ok || response.type !== "basic") {
      return response;
    }
    var copy = response.clone();
    return caches.open(cacheName)
      .then(function (cache) { return cache.put(request, copy); })
      .then(function () { return response; }, function () { return response; });
  });
  var slow = new Promise(function (resolve) { setTimeout(resolve, SLOW_MS); }).then(function () {
    return kept().then(function (hit) { return hit || network; });
  });
  return Promise.race([network, slow]).catch(function () {
    return kept().then(function (hit) { return hit || Response.error(); });
  });
}

function cacheFirst(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (cached) {
      return cached || fetch(request);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname === CONFIG.shell) {
    event.respondWith(networkFirst(request, SHELL_CACHE, CONFIG.shell));
  } else if (CONFIG.api.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(request, DATA_CACHE));
  } else if (CONFIG.precache.indexOf(url.pathname + url.search) !== -1) {
    // A static file's address names its content (?v=, portal/static_files.py): a release
    // brings new addresses and a new worker. The manifest follows the language.
    var isStatic = url.pathname.indexOf(CONFIG.static) === 0;
    event.respondWith(isStatic ? cacheFirst(request) : networkFirst(request, SHELL_CACHE));
  }
});

// The page asks to forget the kept data (its account signed out or another one signed in).
self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "forget") {
    event.waitUntil(caches.delete(DATA_CACHE));
  }
});
