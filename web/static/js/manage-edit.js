/* Yizhan: the staff's station form (/manage/stations/<id>, /manage/stations/new).
 *
 * - The position: a marker on a Leaflet map (the basemap as the public map has it), dragged or set
 *   by a click, and the longitude/latitude fields, typed in WGS-84, GCJ-02 or BD-09. Every position is
 *   sent to /api/counties/locate, which answers it in WGS-84 (and GCJ-02, the drawing system on AMap
 *   tiles) with its county: the county is shown live, and the marker follows what is typed. A drag or
 *   a click fills the fields in WGS-84. No coordinate arithmetic here: stations/coords.py does it all.
 * - The opening hours: /api/hours/preview reads the text as the site does, live; an error shows
 *   where, with the faulty part marked.
 * - Fields that belong to some kinds (palace class, floor area, beds) and some statuses (reason,
 *   reopening date) are shown only then.
 * Data come from <script type="application/json" id="edit-data">; text is set with textContent only.
 * When done, <html data-edit-ready="1"> (the browser tests wait for it).
 */
(function () {
  "use strict";

  var C = JSON.parse(document.getElementById("edit-data").textContent);
  var S = C.strings;
  var $ = function (id) { return document.getElementById(id); };
  var lonEl = $("f-lon"), latEl = $("f-lat"), crsEl = $("f-crs");
  var countyEl = $("county-live"), wgsEl = $("wgs84-live");

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : String(values[k]); });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function getJSON(url, params) {
    var q = Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
    return fetch(url + "?" + q, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  function number(text) {
    var t = String(text || "").trim().replace("，", ",");
    return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseFloat(t) : NaN;
  }

  function coordText(x) {
    return x.toFixed(7).replace(/0+$/, "").replace(/\.$/, ".0");
  }

  // ---- fields shown by kind and status ---------------------------------------------------------
  function showFor() {
    var kind = $("f-kind").value, status = $("f-status").value;
    document.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(kind) < 0 && !el.classList.contains("has-problem");
    });
    document.querySelectorAll("[data-show-unless-status]").forEach(function (el) {
      el.hidden = status === el.getAttribute("data-show-unless-status") && !el.classList.contains("has-problem");
    });
    document.querySelectorAll("[data-show-if-status]").forEach(function (el) {
      el.hidden = status !== el.getAttribute("data-show-if-status") && !el.classList.contains("has-problem");
    });
  }
  $("f-kind").addEventListener("change", showFor);
  $("f-status").addEventListener("change", showFor);
  showFor();

  // ---- the opening hours, read live --------------------------------------------------------------
  var hoursEl = $("f-opening_hours"), previewEl = $("hours-preview");
  var hoursAsked = 0;

  function showHours(answer) {
    previewEl.textContent = "";
    previewEl.classList.toggle("bad", answer.valid === false);
    if (answer.valid === true) {
      var state = answer.is_24_7 ? S.open_24h : (answer.open_now ? S.open_now : S.closed_now);
      previewEl.textContent = answer.description + " · " + state;
    } else if (answer.valid === false) {
      var e = answer.error;
      var where = e.token ? fmt(S["manage.hours.error_at"], { column: e.column, token: e.token })
                          : fmt(S["manage.hours.error_end"], { column: e.column });
      previewEl.appendChild(document.createTextNode(where + " " + e.reason));
      var code = document.createElement("code");  // the text, its faulty part marked
      code.className = "hours-marked";
      var start = e.column - 1, text = answer.text;
      code.appendChild(document.createTextNode(text.slice(0, start)));
      var mark = document.createElement("mark");
      mark.textContent = e.length ? text.slice(start, start + e.length) : "\u2026";
      code.appendChild(mark);
      code.appendChild(document.createTextNode(text.slice(start + e.length)));
      previewEl.appendChild(document.createElement("br"));
      previewEl.appendChild(code);
    }
  }

  var askHours = debounce(function () {
    var text = hoursEl.value.trim();
    var asked = ++hoursAsked;
    if (!text) { previewEl.textContent = ""; previewEl.classList.remove("bad"); return; }
    getJSON(C.hoursUrl, { text: text, lang: C.lang }).then(function (answer) {
      if (asked === hoursAsked) showHours(answer);
    }).catch(function () {});
  }, 250);
  hoursEl.addEventListener("input", askHours);

  // ---- the map and the position -----------------------------------------------------------------
  var map = L.map("edit-map", { zoomControl: true, attributionControl: true });
  C.tiles.forEach(function (t) {
    L.tileLayer(t.url, { attribution: t.attribution || "", subdomains: t.subdomains || "abc",
                         maxZoom: t.max_zoom || 18 }).addTo(map);
  });
  if (map.options.maxZoom === undefined) map.setMaxZoom(19);
  if (C.outlines) {
    L.geoJSON(C.outlines, { interactive: false,
                            style: { color: "#0b6e4f", weight: 1.5, opacity: 0.7, fill: false, dashArray: "4 4" } })
      .addTo(map);
  }
  var marker = null;
  var located = 0;

  function drawAt(answer) {  // answer: /api/counties/locate's
    var p = C.crs === "gcj02" ? answer.gcj02 : answer;
    var ll = L.latLng(p.lat, p.lon);
    if (!marker) {
      marker = L.marker(ll, { draggable: !!C.editable, keyboard: true, autoPan: true, title: S["manage.county_checking"] });
      marker.addTo(map);
      marker.on("dragend", function () { placed(marker.getLatLng()); });
    } else {
      marker.setLatLng(ll);
    }
    var el = marker.getElement && marker.getElement();
    if (el) {
      el.setAttribute("data-lon", answer.lon);
      el.setAttribute("data-lat", answer.lat);
    }
    return ll;
  }

  function showCounty(answer) {
    countyEl.textContent = answer.county ? fmt(S["manage.county_live"], answer.county) : S["manage.county_none"];
    countyEl.setAttribute("data-county", answer.county ? answer.county.code : "");
  }

  /** Ask where a position is (in `crs`); draw it, show its county; `then(answer)` when current. */
  function locate(lon, lat, crs, then) {
    var asked = ++located;
    countyEl.textContent = S["manage.county_checking"];
    return getJSON(C.locateUrl, { lon: lon, lat: lat, crs: crs }).then(function (answer) {
      if (asked !== located) return;
      drawAt(answer);
      showCounty(answer);
      wgsEl.textContent = crs === "wgs84" ? "" : fmt(S["manage.position.wgs84"], { lon: coordText(answer.lon), lat: coordText(answer.lat) });
      if (then) then(answer);
      document.documentElement.setAttribute("data-located", String(asked));
    }).catch(function () { if (asked === located) countyEl.textContent = ""; });
  }

  /** The marker was dragged or the map clicked: the fields get the position in WGS-84. */
  function placed(latlng) {
    locate(latlng.lng, latlng.lat, C.crs, function (answer) {
      crsEl.value = "wgs84";
      lonEl.value = coordText(answer.lon);
      latEl.value = coordText(answer.lat);
      wgsEl.textContent = S["manage.position.moved"];
    });
  }

  function typed() {
    var lon = number(lonEl.value), lat = number(latEl.value);
    if (isNaN(lat) && /[,，]/.test(lonEl.value)) {  // "116.59,35.41" pasted from AMap: longitude first
      var parts = lonEl.value.replace("，", ",").split(",");
      lon = number(parts[0]); lat = number(parts[1]);
    }
    if (isNaN(lon) || isNaN(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return false;
    locate(lon, lat, crsEl.value, function (answer) {
      map.panTo(drawAt(answer));
    });
    return true;
  }

  var typedSoon = debounce(typed, 400);
  [lonEl, latEl].forEach(function (el) { el.addEventListener("input", typedSoon); });
  crsEl.addEventListener("change", typed);
  if (C.editable) {
    map.on("click", function (e) {
      if (!marker) drawAt({ lon: e.latlng.lng, lat: e.latlng.lat, gcj02: { lon: e.latlng.lng, lat: e.latlng.lat } });
      marker.setLatLng(e.latlng);
      placed(e.latlng);
    });
  }

  if (C.bounds) map.fitBounds(C.bounds);
  else map.setView([35.41, 116.59], 10);
  var lon0 = number(lonEl.value), lat0 = number(latEl.value);
  if (!isNaN(lon0) && !isNaN(lat0) && Math.abs(lon0) <= 180 && Math.abs(lat0) <= 90) {
    locate(lon0, lat0, crsEl.value, function (answer) {
      map.setView(drawAt(answer), Math.max(map.getZoom(), 15));
    }).then(function () { document.documentElement.setAttribute("data-edit-ready", "1"); });
  } else {
    document.documentElement.setAttribute("data-edit-ready", "1");
  }
})();
