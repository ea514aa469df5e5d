/* The site's service worker, served as /sw.js (web/offline.py puts its settings first: self.YIZHAN_SW).
 *
 * What it keeps, in one cache per version ("yizhan-<version>"; the version is a hash of the shell's files,
 * so a deployment installs a new worker and the old cache is deleted when it takes over):
 * - on install: the app shell (the map page, its JS and CSS, the vendored Leaflet files, the icons) and the
 *   offline data (/offline/stations.json, what "find the nearest" ranks offline);
 * - static files (/static/...?v=...): cache first (a new file has a new ?v=);
 * - the public pages (the map, the list, a station's page) and the offline data: network first, the
 *   cached copy when the network fails; a copy is stamped with the time it was fetched
 *   (X-Yizhan-Fetched-At, ms since 1970) so that the page can say how old its data is.
 *
 * What it never touches (the browser asks the network as if there were no worker): any request but GET,
 * other origins (map tiles), everything under settings.never (/manage, /login, /logout, /api, ...) and any
 * path not listed above. An answer marked Cache-Control: no-store (every staff page, a signed-in answer),
 * a redirect, or anything but a 200 is never stored.
 */
/* global self, caches, fetch, Response, URL */
(function () {
  "use strict";

  var SW = self.YIZHAN_SW;
  var CACHE = "yizhan-" + SW.version;
  var FETCHED_AT = "X-Yizhan-Fetched-At";
  var scope = new URL(SW.scope, self.location.href).pathname;  // "/" (or the site's prefix)

  /** /manage, /manage/..., /api/...: the staff's pages, sign-in and the API are never answered from here. */
  function never(path) {
    return SW.never.some(function (prefix) {
      var p = prefix.replace(/\/$/, "");
      return path === p || path.indexOf(p + "/") === 0;
    });
  }

  /** Which strategy a same-origin GET gets: "static", "page", "data" or null (left to the network). */
  function strategy(url) {
    var path = url.pathname;
    if (never(path)) return null;
    if (path.indexOf(SW.staticPrefix) === 0) return "static";
    if (SW.data && path === new URL(SW.data, self.location.href).pathname) return "data";
    var rest = path.slice(scope.length);
    if (rest === "" || rest === "list" || rest === "manifest.webmanifest" || rest === "favicon.ico") return "page";
    if (/^stations\/[^/]+$/.test(rest)) return "page";  // a station's page (not its report form or QR)
    return null;
  }

  /** Whether an answer may be kept: a plain 200 of this origin, not redirected, not marked no-store. */
  function storable(response) {
    if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) return false;
    var control = (response.headers.get("Cache-Control") || "").toLowerCase();
    return control.indexOf("no-store") < 0 && control.indexOf("private") < 0;
  }

  /** A copy stamped with the time it came from the network. */
  function stamped(response) {
    return response.clone().blob().then(function (body) {
      var headers = new Headers(response.headers);
      headers.set(FETCHED_AT, String(Date.now()));
      return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
    });
  }

  /** Keep a copy when allowed; a failure to keep (storage full) never costs the page its answer. */
  function keep(cache, request, response) {
    if (!storable(response)) return Promise.resolve();
    return stamped(response).then(function (copy) { return cache.put(request, copy); })
      .catch(function () { /* not kept */ });
  }

  self.addEventListener("install", function (event) {
    var urls = SW.shell.concat(SW.pages, SW.data ? [SW.data] : []);
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin", cache: "no-cache" })
          .then(function (response) { return keep(cache, url, response); })
          .catch(function () { /* kept at the next visit online */ });
      }));
    }).then(function () { return self.skipWaiting(); }));
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("yizhan-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }));
  });

  function cacheFirst(request) {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        if (hit) return hit;
        return fetch(request).then(function (response) {
          return keep(cache, request, response).then(function () { return response; });
        });
      });
    });
  }

  /** The network's answer (kept), else the cached copy; a map URL with other parameters falls back on the map. */
  function networkFirst(request, url) {
    return caches.open(CACHE).then(function (cache) {
      return fetch(request).then(function (response) {
        return keep(cache, request, response).then(function () { return response; });
      }).catch(function (error) {
        return cache.match(request, { ignoreVary: true }).then(function (hit) {
          if (hit) return hit;
          if (url.pathname !== scope) throw error;
          return cache.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (map) {
            if (map) return map;
            throw error;
          });
        });
      });
    });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method !== "GET") return;
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) return;  // map tiles and the like: the network's
    var how = strategy(url);
    if (how === "static") event.respondWith(cacheFirst(request));
    else if (how === "page" || how === "data") event.respondWith(networkFirst(request, url));
  });
}());
