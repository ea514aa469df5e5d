/* The map page: station markers, filters, "find the nearest station", search, tap-to-set.
 *
 * Data arrive as JSON in <script type="application/json" id="yz-data"> (config, UI strings,
 * vocabulary labels, stations). Station fields are only ever put into the page with
 * textContent / setAttribute / DOM properties, never as HTML. Positions sent to the API are
 * WGS-84; positions drawn on the map are in config.crs ("gcj02" on AMap tiles).
 *
 * Two ways to get the stations: small data sets come inline (DATA.stations); above the server's
 * MAP_INLINE_MAX the page gets none and config.remote says where to ask for the visible area
 * (GET /api/map/markers?bbox=..., from zoom config.remote.minZoom on): the same records, with the
 * hours in words and "open now", so popups and the filters work alike.
 *
 * "Find the nearest" asks for config.rank (open_first: the stations open now first, the others
 * after them with when they open) and, by default, config.serves (passing_worker: rest stations and
 * the cultural palaces with drinking water; the other kinds are a filter away: the markers still show
 * every site, a kind chosen in the filters narrows both). Where the server has
 * a walking router (config.routeUrl) the first config.routed results get the routed distance and
 * time; otherwise, and when it has none, the straight line, labelled as such. A search that matches
 * no station asks config.placesUrl for the place (the geocoder is the server's) and lists the
 * stations nearest to it. Without a network (offline, or /api/nearest unreachable) the answer comes from
 * the data the service worker kept (config.offline.url, ranked by static/js/offline.js as the server ranks),
 * and the page says that it is offline and how old its data is; back online it asks the server again.
 * The same page serves /embed
 * (config.embed) and ?county= (config.county: fit the map to it and draw its outline).
 * config.controls lists the buttons shown (nearest, search, filters, legend, zoom, fullscreen); an
 * embed zooms with ctrl + wheel or two fingers (leaflet-gesture-handling, config.gesture: its words).
 * config.localNearest: the page holds every station it may answer with (an embed of one county or
 * some kinds, the static export), and "find the nearest" searches them here (great-circle distance;
 * config.serving lists the members of each serves-set); no API is asked. A null URL (stationUrl,
 * placesUrl, routeUrl) is a service the page does not have.
 * config.outlines (GeoJSON, drawing CRS) are every county's outline. The inline map script from
 * folium holds only the map's skeleton (options, tiles, first fit): no data ever go through it.
 */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("yz-data").textContent);
  var C = DATA.config;
  var REMOTE = C.remote || null;  // {url, minZoom, limit}: markers come from the API, area by area, page by page
  var S = DATA.strings;
  var LABELS = DATA.labels;
  // Workers' reports: where a station's report form is, and the date of each station's newest open
  // report (only staff see the reports; the public sees "reported on <date>").
  var REPORTS = (function () {
    var block = document.getElementById("yz-reports");
    try { return block ? JSON.parse(block.textContent) : null; } catch (e) { return null; }
  })() || { url: null, reported: {} };
  var map = window[C.mapVar];
  var $ = function (id) { return document.getElementById(id); };
  var shows = function (control) { return !C.controls || C.controls.indexOf(control) >= 0; };
  var statusEl = $("status");
  if (!map || !window.L) {
    statusEl.textContent = S.api_error;
    return;
  }

  // ---- coordinates: WGS-84 <-> GCJ-02 (the formula of stations/coords.py) ---------------
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var PI = Math.PI;

  function outOfChina(lon, lat) {
    return !(lon > 73.66 && lon < 135.05 && lat > 3.86 && lat < 53.55);
  }

  function gcjDelta(lon, lat) {
    var x = lon - 105.0;
    var y = lat - 35.0;
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += common;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += common;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * PI;
    var magic = 1.0 - EE * Math.sin(radlat) * Math.sin(radlat);
    var sqrtmagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (A / sqrtmagic * Math.cos(radlat) * PI);
    return outOfChina(lon, lat) ? [0, 0] : [dlon, dlat];
  }

  function wgsToGcj(lon, lat) {
    var d = gcjDelta(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function gcjToWgs(lon, lat) {  // fixed-point inverse, as in stations/coords.py
    var w = [lon, lat];
    for (var i = 0; i < 30; i++) {
      var d = gcjDelta(w[0], w[1]);
      var next = [lon - d[0], lat - d[1]];
      var step = Math.max(Math.abs(next[0] - w[0]), Math.abs(next[1] - w[1]));
      w = next;
      if (step < 1e-12) break;
    }
    return w;
  }

  /** WGS-84 (lat, lon) -> an L.LatLng in the drawing CRS. */
  function toMap(lat, lon) {
    if (C.crs === "gcj02") {
      var g = wgsToGcj(lon, lat);
      return L.latLng(g[1], g[0]);
    }
    return L.latLng(lat, lon);
  }

  /** An L.LatLng in the drawing CRS -> WGS-84 {lat, lon}. */
  function fromMap(latlng) {
    if (C.crs === "gcj02") {
      var w = gcjToWgs(latlng.lng, latlng.lat);
      return { lat: w[1], lon: w[0] };
    }
    return { lat: latlng.lat, lon: latlng.lng };
  }

  // ---- small helpers ----------------------------------------------------------------------
  function fmt(key, values) {
    return String(S[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return values && values[name] !== undefined ? values[name] : "";
    });
  }

  /** "4 米", "990 米", "1.0 公里": the sums of web.pages.format_distance (whole metres under 10 m,
   *  tens under 1 km, then tenths of a km; halves up; the unit is chosen after rounding). */
  function formatDistance(m) {
    var metres = Math.floor(m + 0.5);
    if (metres < 10) return fmt("meters", { n: metres });
    var tens = Math.floor(m / 10 + 0.5) * 10;
    if (tens < 1000) return fmt("meters", { n: tens });
    var tenthsKm = Math.floor(m / 100 + 0.5);
    return fmt("kilometers", { n: Math.floor(tenthsKm / 10) + "." + (tenthsKm % 10) });
  }

  /** [main number, extension or null] of "0537-2345678转123", as stations.model.phone_parts. */
  function phoneParts(phone) {
    var at = phone.indexOf("\u8f6c");  // 转
    if (at < 0) return [phone.trim(), null];
    return [phone.slice(0, at).trim(), phone.slice(at + 1).trim() || null];
  }

  function telUri(phone) {  // the main number only: an extension is shown, not dialled
    return "tel:" + phoneParts(phone)[0].replace(/[^0-9+-]/g, "");
  }

  function phoneText(phone) {  // "0537-2345678 转 123" / "0537-2345678 ext. 123"
    var parts = phoneParts(phone);
    return parts[1] ? fmt("phone_extension", { main: parts[0], ext: parts[1] }) : parts[0];
  }

  function walkMinutes(m) {
    return Math.max(1, Math.ceil(m / (C.walkSpeedKmh * 1000 / 60)));
  }

  function distanceText(m) {  // "直线 1.2 公里 · 步行约 16 分钟"
    var walk = walkText(m);
    return S.straight_line + " " + formatDistance(m) + (walk ? " · " + walk : "");
  }

  function walkText(m) {  // "步行约 N 分钟", or hours and minutes from one hour on; none when too far
    if (m > C.maxWalkM) return "";
    var minutes = walkMinutes(m);
    if (minutes < 60) return fmt("walk_minutes", { n: minutes });
    var h = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return rest ? fmt("walk_hours", { h: h, m: rest }) : fmt("walk_hours_even", { h: h });
  }

  /** Create an element; text is set with textContent, attributes with setAttribute. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function token(value) {  // a safe CSS class fragment from a vocabulary key
    return String(value).replace(/[^a-z0-9_-]/gi, "");
  }

  function setStatus(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (kind ? " " + kind : "");
  }

  // ---- stations and markers ---------------------------------------------------------------
  var GLYPHS = { rest_station: "驿", cultural_palace: "宫", convalescence_base: "疗" };
  var byId = {};
  DATA.stations.forEach(function (rec) { byId[rec.id] = rec; });

  function is247(hours) {  // the server knows every way of writing it; the API's raw text, only this one
    return /^\s*24\/7\s*$/.test(hours || "");
  }

  /** A page record (the shape of DATA.stations) from /api/nearest's fields; lon/lat are WGS-84. */
  function recordFrom(p, lon, lat) {
    var ll = toMap(lat, lon);
    var rec = {
      id: p.id, name: p.name || p.id, kind: p.kind, status: p.status || "open",
      lat: ll.lat, lon: ll.lng, county: "", address: p.address || "",
      hours: p.hours_text || p.opening_hours || "", open: p.open_now === undefined ? null : p.open_now,
      h24: is247(p.opening_hours), amenities: p.amenities || []
    };
    if (C.crs !== "wgs84") { rec.wlat = lat; rec.wlon = lon; }
    if (p.phone) rec.phone = p.phone;
    if (p.sample) rec.sample = true;
    return rec;
  }

  var PIN_TARGET = 44;  // px: what a finger can hit; the pin drawn inside it is 30 px (40 px when active)

  function pinIcon(rec, active) {
    var cls = "yz-pin k-" + token(rec.kind) + " s-" + token(rec.status) + (active ? " active" : "");
    return L.divIcon({
      className: cls,
      html: "<span>" + (GLYPHS[rec.kind] || "•") + "</span>",  // a constant glyph, no station data
      iconSize: [PIN_TARGET, PIN_TARGET],
      iconAnchor: [PIN_TARGET / 2, PIN_TARGET / 2],
      popupAnchor: [0, active ? -18 : -14]
    });
  }

  function stationUrl(rec) {
    if (!C.stationUrl) return null;
    var url = C.stationUrl.replace("__ID__", encodeURIComponent(rec.id));
    if (position) url += "?lat=" + position.lat.toFixed(6) + "&lon=" + position.lon.toFixed(6);
    return url;
  }

  function amapUrl(rec) {  // AMap's navigation URI takes GCJ-02
    var g = C.crs === "gcj02" ? [rec.lon, rec.lat] : wgsToGcj(rec.lon, rec.lat);
    return "https://uri.amap.com/navigation?to=" + g[0].toFixed(6) + "," + g[1].toFixed(6) + "," +
      encodeURIComponent(rec.name) + "&mode=walk&src=yizhan&callnative=1";
  }

  function openBadge(rec) {
    if (rec.status !== "open") {
      return el("span", { className: "badge status-" + token(rec.status), text: LABELS.status[rec.status] || rec.status });
    }
    if (rec.open === true) return el("span", { className: "badge open", text: S.open_now });
    if (rec.open === false) return el("span", { className: "badge closed", text: S.closed_now });
    return null;
  }

  /** [y, m, d, "HH:MM"] of an ISO date-time as the server writes it (Asia/Shanghai, "2026-11-25T07:00+08:00"). */
  function isoParts(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(iso || "");
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4]] : null;
  }

  /** "07:00 开放" / "明天 07:00 开放" / "周一 07:00 开放" / "3月2日 07:00 开放" when closed now, "18:00 停止营业"
   *  when open (today only): the words of stations.hours.change_text, from the answer's now and next_change. */
  function changeText(open, nextIso, nowIso) {
    var c = isoParts(nextIso);
    var n = isoParts(nowIso);
    if (open === null || open === undefined || !c || !n) return "";
    var days = Math.round((Date.UTC(c[0], c[1] - 1, c[2]) - Date.UTC(n[0], n[1] - 1, n[2])) / 86400000);
    if (open) return days === 0 ? fmt("closes_at", { time: c[3] }) : "";
    if (days <= 0) return fmt("opens_at", { time: c[3] });
    if (days === 1) return fmt("opens_tomorrow", { time: c[3] });
    if (days < 7) {
      var weekday = (new Date(Date.UTC(c[0], c[1] - 1, c[2])).getUTCDay() + 6) % 7;  // 0 = Monday
      return fmt("opens_on_day", { day: LABELS.days[weekday], time: c[3] });
    }
    return fmt("opens_on_date", { date: fmt("date_md", { mon: LABELS.months[c[1] - 1], day: c[2] }), time: c[3] });
  }

  /** Whether one can go there now: anything but "open" (temporarily closed, planned...) gets no navigation. */
  function usable(rec) {
    return rec.status === "open";
  }

  /** The distance line: the walking route where one was found, else the straight line (so labelled). */
  function walkLine(rec, distanceM) {
    var r = routes[rec.id];
    if (r && r.source === "route") {
      return fmt("route_text", { distance: formatDistance(r.distance_m), n: Math.max(1, Math.round(r.duration_s / 60)) });
    }
    return distanceText(distanceM);
  }

  var SVG_NS = "http://www.w3.org/2000/svg";

  /** A pictogram from the page's sprite (<symbol id="i-NAME">). */
  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "ico");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var use = document.createElementNS(SVG_NS, "use");
    use.setAttribute("href", "#i-" + token(name));
    svg.appendChild(use);
    return svg;
  }

  function amenityIcons(rec) {
    var list = el("span", { className: "amen", role: "list", "aria-label": S.amenities });
    rec.amenities.forEach(function (key) {
      var lab = LABELS.amenity[key];
      if (!lab) return;
      // the pictogram's words: a tooltip, and text for screen readers (the legend says them on screen)
      list.appendChild(el("span", { className: "amen-icon", title: lab, role: "listitem", "data-amenity": key },
        [icon(key), el("span", { className: "vh", text: lab })]));
    });
    if (rec.h24) {
      list.appendChild(el("span", { className: "amen-icon h24", title: S.open_24h, role: "listitem" },
        [el("span", { "aria-hidden": "true", text: "24h" }), el("span", { className: "vh", text: S.open_24h })]));
    }
    return list;
  }

  function popupContent(rec, distanceM) {
    var body = el("div", { className: "yz-popup" }, [
      el("h3", { text: rec.name, tabindex: "-1" }),
      el("p", { className: "meta" }, [
        el("span", { className: "kind", text: LABELS.kind[rec.kind] || rec.kind }), " ", openBadge(rec),
        rec.change ? el("span", { className: "change", text: rec.change }) : null,
        rec.sample ? el("span", { className: "badge sample", text: S.sample_data }) : null,
        REPORTS.reported[rec.id] ? el("span", { className: "badge reported", text: fmt("reported_on", { date: REPORTS.reported[rec.id] }) }) : null
      ]),
      distanceM !== undefined && distanceM !== null ? el("p", {
        className: "distance",
        text: walkLine(rec, distanceM)
      }) : null,
      rec.address ? el("p", { className: "addr", text: rec.address + (rec.county ? "（" + rec.county + "）" : "") }) : null,
      el("p", { className: "hours", text: rec.hours || S.hours_unknown }),
      usable(rec) ? null : el("p", { className: "status-note", text: (LABELS.statusMeaning[rec.status] || "") + " " + S.no_navigation }),
      amenityIcons(rec),
      el("p", { className: "links" }, [
        usable(rec) ? el("a", { href: amapUrl(rec), className: "btn-nav amap", rel: "noopener", text: S.navigate_amap }) : null,
        rec.phone ? el("a", { href: telUri(rec.phone), className: "tel", "aria-label": S.phone + " " + phoneText(rec.phone), text: "☎ " + phoneText(rec.phone) }) : null,
        C.stationUrl ? el("a", { href: stationUrl(rec), className: "more", text: S.details }) : null,
        REPORTS.url ? el("a", { href: REPORTS.url.replace("__ID__", encodeURIComponent(rec.id)), className: "report", rel: "nofollow", text: S.report_problem }) : null
      ])
    ]);
    return body;
  }

  var markers = {};
  var selectedId = null;  // the station whose popup is open (in the URL)

  function makeMarker(rec) {
    var marker = L.marker(L.latLng(rec.lat, rec.lon), {
      icon: pinIcon(rec, false), title: rec.name, alt: rec.name, riseOnHover: true
    });
    // autoPan off: keepInside (on popupopen, below) also keeps clear of /embed's link
    marker.bindPopup(function () { return popupContent(byId[rec.id] || rec, distances[rec.id]); },
      { maxWidth: 280, autoPan: false });
    marker.on("click", function () {
      selectResult(rec.id);
      selectedId = rec.id;
      writeUrl();
    });
    marker.yzId = rec.id;
    return marker;
  }
  DATA.stations.forEach(function (rec) { markers[rec.id] = makeMarker(rec); });
  var shownRecords = DATA.stations;  // remote: the stations of the last area loaded

  if (map.options.maxZoom === undefined) map.setMaxZoom(19);  // no tile layer (BASEMAP=none) sets none
  var cluster = L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 45, disableClusteringAtZoom: 16, chunkedLoading: true,
    iconCreateFunction: function (group) {  // markercluster's own bubble, PIN_TARGET wide (its default is 40 px)
      var n = group.getChildCount();
      var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
      return L.divIcon({
        html: "<div><span>" + n + "</span></div>", className: "marker-cluster marker-cluster-" + size + " yz-cluster",
        iconSize: L.point(PIN_TARGET, PIN_TARGET)
      });
    }
  });
  map.addLayer(cluster);
  L.control.scale({ imperial: false }).addTo(map);  // metres and kilometres only
  // Leaflet names the popup's close button in English: in the page's language, and focus moves into the popup
  map.on("popupopen", function (e) {
    var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) {
      close.setAttribute("aria-label", S.close);
      close.setAttribute("title", S.close);
    }
    keepInside(e.popup);
    var title = e.popup.getElement() && e.popup.getElement().querySelector(".yz-popup h3");
    if (title) title.focus({ preventScroll: true });  // the keyboard goes on to its buttons from here
  });

  // ---- filters ------------------------------------------------------------------------------
  var filtersForm = $("filters");

  function currentFilters() {
    var form = new FormData(filtersForm);
    var kind = form.get("kind") || "";
    var serves = "";
    if (kind.indexOf("serves:") === 0) {  // a set of kinds (passing_worker), the map's default
      serves = kind.slice(7);
      kind = "";
    }
    return {
      kind: kind,
      serves: serves,
      amenities: form.getAll("amenity"),
      h24: form.get("h24") === "1",
      openNow: form.get("open_now") === "1"
    };
  }

  function matches(rec, f) {
    // f.serves (the default "serves a passing worker") chooses the answers, not the markers: the map
    // shows every site; a kind chosen in the filters applies to both.
    if (f.kind && rec.kind !== f.kind) return false;
    for (var i = 0; i < f.amenities.length; i++) {
      if (rec.amenities.indexOf(f.amenities[i]) < 0) return false;
    }
    if (f.h24 && !rec.h24) return false;
    // Inline records and the API's markers both say whether they are open now (rec.open).
    if (f.openNow && !(rec.open === true && rec.status === "open")) return false;
    return true;
  }

  function applyFilters() {
    var f = currentFilters();
    var shown = shownRecords.filter(function (rec) { return matches(rec, f); });
    cluster.clearLayers();
    cluster.addLayers(shown.map(function (rec) { return markers[rec.id]; }));
    var n = (f.kind ? 1 : 0) + f.amenities.length + (f.h24 ? 1 : 0) + (f.openNow ? 1 : 0);
    var badge = $("filter-count");
    badge.hidden = n === 0;
    badge.textContent = n ? String(n) : "";
    return shown.length;
  }

  $("toggle-filters").addEventListener("click", function () {
    filtersForm.hidden = !filtersForm.hidden;
    this.setAttribute("aria-expanded", String(!filtersForm.hidden));
  });

  filtersForm.addEventListener("change", function () {
    applyFilters();
    writeUrl();
    if (REMOTE) loadVisible();  // kind and amenities are asked of the API
    if (searchInput.value.trim()) runSearch();
    else if (position) findNearest();
  });

  // ---- the user's position -----------------------------------------------------------------
  var position = null;       // WGS-84 {lat, lon}
  var placeName = null;      // the place searched for, when the position is one (not the phone's)
  var distances = {};        // station id -> metres, from the last nearest answer
  var routes = {};           // station id -> /api/route's answer (walking route or straight line)
  var youPane = map.createPane("yz-you");  // above the station pins: "you are here" is never hidden
  youPane.style.zIndex = 640;
  var youLayer = L.layerGroup().addTo(map);
  var highlight = null;
  var picking = false;
  var pickButton = $("pick");
  var findButton = $("find-nearest");

  /** Where the answers start from: the phone's position, a tap, or a place searched for (``place``: its name). */
  function setPosition(lat, lon, accuracyM, place) {
    position = { lat: lat, lon: lon };
    placeName = place || null;
    routes = {};
    youLayer.clearLayers();
    var ll = toMap(lat, lon);
    if (accuracyM && accuracyM > 30) {
      L.circle(ll, { radius: accuracyM, className: "yz-accuracy", interactive: false }).addTo(youLayer);
    }
    L.circleMarker(ll, { radius: 9, className: placeName ? "yz-you yz-place" : "yz-you", interactive: true, pane: "yz-you" })
      .bindTooltip(el("span", { text: placeName ? S.place_marker + " · " + placeName : S.you_are_here }))  // text: a string would be HTML
      .addTo(youLayer);
  }

  function setPicking(on) {
    picking = on;
    pickButton.setAttribute("aria-pressed", String(on));
    map.getContainer().classList.toggle("picking", on);
  }

  function geoFailed(key) {
    setStatus(S[key] + " " + S.geo_fallback, "error");
    setPicking(true);
    searchInput.classList.add("attention");
  }

  function locate() {
    if (!navigator.geolocation || !window.isSecureContext) {
      geoFailed("geo_unsupported");
      return;
    }
    setStatus(S.locating, "busy");
    findButton.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      findButton.disabled = false;
      setPicking(false);
      setPosition(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
      findNearest();
    }, function (err) {
      findButton.disabled = false;
      geoFailed({ 1: "geo_denied", 2: "geo_unavailable", 3: "geo_timeout" }[err.code] || "geo_unavailable");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }

  findButton.addEventListener("click", function () {
    if (searchInput.value) searchInput.value = "";  // the answer replaces any search results
    locate();
  });
  pickButton.addEventListener("click", function () {
    setPicking(!picking);
    if (picking) setStatus(S.pick_hint, "info");
  });

  map.on("click", function (e) {
    if (!picking) return;
    var w = fromMap(e.latlng);
    setPicking(false);
    searchInput.classList.remove("attention");
    setPosition(w.lat, w.lon, null);
    findNearest();
  });

  // ---- nearest ------------------------------------------------------------------------------
  var resultsEl = $("results");
  var resultsTitle = $("results-title");
  var lastHits = null;
  var requestSeq = 0;

  var resultsNote = $("results-note");
  var routeSeq = 0;

  // geodesic distances on the WGS-84 ellipsoid, as the server's (offline.js, loaded before this file)
  var geodesicM = window.YizhanOffline.distanceM;  // and its ranking: YizhanOffline.order

  /** The page's own stations nearest to the position: what /api/nearest answers, without asking it. */
  function localNearest(f) {
    var members = null;
    if (f.serves && C.serving && C.serving[f.serves]) {
      members = {};
      C.serving[f.serves].forEach(function (id) { members[id] = true; });
    }
    var hits = DATA.stations.filter(function (rec) {
      return rec.status === "open" && matches(rec, f) && (!members || members[rec.id]);
    }).map(function (rec) {
      var lat = rec.wlat !== undefined ? rec.wlat : rec.lat;  // WGS-84
      var lon = rec.wlon !== undefined ? rec.wlon : rec.lon;
      return { id: rec.id, status: rec.status, open_now: rec.open, change: rec.change || "",
               distance_m: geodesicM(position.lon, position.lat, lon, lat) };
    });
    return window.YizhanOffline.order(hits, C.k, C.rank === "open_first");  // the server's ranking
  }

  function findNearest() {
    if (!position) return;
    var f = currentFilters();
    if (C.localNearest) {
      ++requestSeq;  // any answer still on its way is dropped
      var hits = localNearest(f);
      distances = {};
      hits.forEach(function (hit) { distances[hit.id] = hit.distance_m; });
      lastHits = hits;
      setStatus("");
      renderNearest(hits, f);
      return;
    }
    var params = new URLSearchParams();
    params.set("lat", position.lat.toFixed(6));
    params.set("lon", position.lon.toFixed(6));
    params.set("k", String(C.k));
    if (C.rank) params.set("rank", C.rank);  // open now first; each result says when it opens
    if (f.serves) params.set("serves", f.serves);
    if (f.kind) params.set("kind", f.kind);
    if (f.amenities.length) params.set("amenity", f.amenities.join(","));
    if (f.openNow) params.set("open_now", "1");
    if (f.h24) params.set("open_24_7", "1");  // the server knows every way of writing 24/7
    params.set("include", "open_state,hours_text");
    if (C.lang) params.set("lang", C.lang);
    var seq = ++requestSeq;
    setStatus(S.searching, "busy");
    if (navigator.onLine === false) {  // no network at all: the kept data answer at once
      nearestOffline(f, seq);
      return;
    }
    var httpError = false;
    fetch(C.nearestUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          httpError = true;
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (payload) {
        if (seq !== requestSeq) return;
        unreachable = false;
        showOfflineNote();
        showNearest(payload.results || [], payload.now, f, seq);
      })
      .catch(function () {
        if (seq !== requestSeq) return;
        if (!httpError && C.offline) {  // the network failed (a signal but no way through): the kept data answer
          unreachable = true;
          nearestOffline(f, seq);
        } else setStatus(S.api_error, "error");
      });
  }

  /** Show an answer (the server's, or the offline ranking's in the same shape); ``nowIso``: its moment. */
  function showNearest(hits, nowIso, f, seq) {
    distances = {};
    hits.forEach(function (hit) {
      distances[hit.id] = hit.distance_m;
      hit.change = changeText(hit.open_now, hit.next_change, nowIso);
    });
    lastHits = hits;
    setStatus("");
    renderNearest(hits, f);
    fetchRoutes(hits, seq);
  }

  // ---- offline: the data the service worker kept, ranked here (static/js/offline.js) ----------
  var offlineNote = $("offline-note");
  var offlineData = null;  // {data, fetchedAt (ms)}: the last offline data this page got

  /** "2026-11-25T05:46+08:00" of a moment (ms since 1970), in Asia/Shanghai time as the server writes it. */
  function shanghaiIso(ms) {
    var d = new Date(ms + 8 * 3600000);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + "+08:00";
  }

  /** "11月25日 05:46" / "Nov 25 05:46" (Asia/Shanghai time). */
  function shanghaiText(ms) {
    var p = isoParts(shanghaiIso(ms));
    return fmt("date_md", { mon: LABELS.months[p[1] - 1], day: p[2] }) + " " + p[3];
  }

  /** Fetch the offline data: from the network when there is one (the service worker keeps a copy), else
   *  the copy. Resolves to offlineData, or null when there is none. */
  function loadOffline() {
    if (!C.offline) return Promise.resolve(null);
    return fetch(C.offline.url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var stamp = Number(response.headers.get("X-Yizhan-Fetched-At"));  // the worker's copy: when it was fetched
        return response.json().then(function (data) {
          offlineData = { data: data, fetchedAt: stamp > 0 ? stamp : Date.now() };
          return offlineData;
        });
      })
      .catch(function () { return offlineData; });  // keep what this page already has
  }

  var unreachable = false;  // the last answer was the kept data's because the server could not be reached

  /** The note "离线：数据更新于 …" while the browser is offline or the last answer had to come from the kept data. */
  function showOfflineNote() {
    if (navigator.onLine !== false && !unreachable) {
      offlineNote.hidden = true;
      return;
    }
    offlineNote.hidden = false;
    if (!C.offline) {
      offlineNote.textContent = S.offline_remote;
      return;
    }
    offlineNote.textContent = offlineData ? fmt("offline_banner", { time: shanghaiText(offlineData.fetchedAt) })
      : S.offline_no_data;
  }

  function nearestOffline(f, seq) {
    if (!C.offline) {
      setStatus(S.offline_remote, "error");
      return;
    }
    loadOffline().then(function (kept) {
      if (seq !== requestSeq) return;
      showOfflineNote();
      if (!kept || !window.YizhanOffline) {
        setStatus(S.offline_no_data, "error");
        return;
      }
      var now = Date.now();
      var hits = window.YizhanOffline.rank(kept.data, position.lon, position.lat, now, {
        k: C.k, kind: f.kind, amenities: f.amenities, serves: f.serves, h24: f.h24, openNow: f.openNow
      });
      hits.forEach(function (hit) {
        hit.next_change = hit.next_change === null ? null : shanghaiIso(hit.next_change * 60000);
      });
      showNearest(hits, shanghaiIso(now), f, seq);
      setStatus(S.offline_answer, "info");
    });
  }

  window.addEventListener("offline", showOfflineNote);
  window.addEventListener("online", function () {  // back online: fresh data, and the server's answer again
    showOfflineNote();
    loadOffline();
    if (position) findNearest();
  });

  /** The walking route of the first results (config.routed of them), where the server has a router. */
  function fetchRoutes(hits, seq) {
    if (!C.routeUrl || !position) return;
    var ids = hits.filter(function (hit) { return hit.status === "open"; }).slice(0, C.routed)
      .map(function (hit) { return hit.id; });
    if (!ids.length) return;
    var params = new URLSearchParams();
    params.set("lat", position.lat.toFixed(6));
    params.set("lon", position.lon.toFixed(6));
    params.set("station", ids.join(","));
    var mine = ++routeSeq;
    fetch(C.routeUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (payload) {
        if (mine !== routeSeq || seq !== requestSeq) return;
        (payload.routes || []).forEach(function (r) {
          routes[r.station] = r;
          var line = resultsEl.querySelector("li[data-id='" + token(r.station) + "'] .distance");
          var rec = byId[r.station];
          if (!line || !rec) return;
          line.textContent = walkLine(rec, distances[r.station]);
          line.classList.toggle("routed", r.source === "route");
        });
      })
      .catch(function () { /* the straight line stays: it is labelled as such */ });
  }

  function resultItem(rec, rank, distanceM) {
    var button = el("button", {
      type: "button", className: "result", "data-id": rec.id,
      "data-distance-m": distanceM !== undefined && distanceM !== null ? distanceM : null
    }, [
      el("span", { className: "rank", "aria-hidden": "true", text: String(rank) }),
      el("span", { className: "pin-mini k-" + token(rec.kind) + " s-" + token(rec.status), "aria-hidden": "true", text: GLYPHS[rec.kind] || "•" }),
      el("span", { className: "body" }, [
        el("span", { className: "name", text: rec.name }),
        el("span", { className: "meta" }, [
          el("span", { className: "kind", text: LABELS.kind[rec.kind] || rec.kind }), " ", openBadge(rec),
          rec.change ? el("span", { className: "change", text: rec.change }) : null
        ]),
        distanceM !== undefined && distanceM !== null ? el("span", {
          className: "distance",
          text: walkLine(rec, distanceM)
        }) : el("span", { className: "addr", text: rec.address || rec.county || "" }),
        amenityIcons(rec)
      ])
    ]);
    button.addEventListener("click", function () { showStation(rec.id, true); });
    var later = !usable(rec) || rec.open === false;  // closed now, or cannot be used: after the open ones
    return el("li", { "data-id": rec.id, className: later ? "later" : null }, [button]);
  }

  /** What the list holds ("营业中的优先；含户外劳动者驿站和提供饮水的工人文化宫"), from the filters asked with. */
  function noteFor(f) {
    if (f.kind) return C.notes.kind[f.kind] || "";
    return f.serves ? C.notes.serves : C.notes.all;
  }

  var SHOWN_WHOLE = 3;  // on a phone the first three answers are whole in sight (in the embed: the first)

  /** A short panel (a phone's bottom sheet, an iframe): scroll the panel (only the panel) to the answers, the
   *  first SHOWN_WHOLE of them whole in sight, the title (and what the list holds) above them if there is room. */
  function revealResults() {
    var panel = $("panel");
    if (!C.embed && window.matchMedia("(min-width: 800px)").matches) return;  // a wide screen's side panel
    if (panel.scrollHeight <= panel.clientHeight) return;  // all in sight
    var top = resultsTitle.offsetTop - 6;
    var items = resultsEl.children;
    var last = items[Math.min(C.embed ? 1 : SHOWN_WHOLE, items.length) - 1];
    if (last) top = Math.max(top, last.offsetTop + last.offsetHeight + 6 - panel.clientHeight);
    if (items[0]) top = Math.min(top, items[0].offsetTop - 6);  // never past the first answer
    panel.scrollTop = Math.max(0, top);
  }

  function renderNearest(hits, f) {
    resultsEl.textContent = "";
    resultsTitle.hidden = false;
    resultsTitle.textContent = placeName ? fmt("place_nearest_title", { place: placeName }) : S.nearest_title;
    resultsNote.textContent = C.rank === "open_first" ? noteFor(f || currentFilters()) : "";
    resultsNote.hidden = !resultsNote.textContent;
    if (!hits.length) {
      setStatus(S.no_results, "info");
      return;
    }
    var bounds = L.latLngBounds([toMap(position.lat, position.lon)]);
    hits.forEach(function (hit, i) {
      var rec = byId[hit.id];
      if (!rec) {  // not inline and not loaded yet: what /api/nearest says (WGS-84) will do
        rec = byId[hit.id] = recordFrom(hit, hit.lon, hit.lat);
      }
      if (hit.open_now !== undefined) rec.open = hit.open_now;  // the answer's moment is the freshest
      rec.change = hit.change || "";
      resultsEl.appendChild(resultItem(rec, i + 1, hit.distance_m));
      bounds.extend(L.latLng(rec.lat, rec.lon));
    });
    revealResults();
    map.invalidateSize({ pan: false });  // the panel just grew: measure the map again first
    map.fitBounds(bounds, { padding: [36, 36], maxZoom: 16, animate: false });
  }

  // ---- select / highlight -------------------------------------------------------------------
  function selectResult(id) {
    Array.prototype.forEach.call(resultsEl.querySelectorAll("li"), function (li) {
      var on = li.getAttribute("data-id") === id;
      li.classList.toggle("selected", on);
      var b = li.querySelector("button");
      if (b) b.setAttribute("aria-current", on ? "true" : "false");
    });
  }

  var routeLayer = L.layerGroup().addTo(map);

  /** The walking route to a station, where the router gave one (WGS-84 [lon, lat] pairs). */
  function drawRoute(id) {
    routeLayer.clearLayers();
    var r = routes[id];
    if (!r || r.source !== "route" || !r.path || r.path.length < 2) return;
    L.polyline(r.path.map(function (p) { return toMap(p[1], p[0]); }),
      { className: "yz-route", interactive: false }).addTo(routeLayer);
  }

  /** Select a station and open its popup: ``fit`` frames it with the position, ``keepView`` leaves the view
   *  as it is (a shared link's view); otherwise the map centres on it. */
  function showStation(id, fit, keepView) {
    var rec = byId[id];
    if (!rec) return;
    selectResult(id);
    drawRoute(id);
    if (highlight) map.removeLayer(highlight);
    var ll = L.latLng(rec.lat, rec.lon);
    highlight = L.marker(ll, { icon: pinIcon(rec, true), zIndexOffset: 1000, title: rec.name, alt: rec.name, keyboard: false });
    highlight.yzId = rec.id;
    highlight.bindPopup(popupContent(rec, distances[id]), { maxWidth: 280, autoPan: false });
    map.invalidateSize({ pan: false });
    highlight.addTo(map);
    highlight.openPopup();
    selectedId = id;
    var popupEl = highlight.getPopup().getElement();
    var popupH = popupEl ? popupEl.offsetHeight + 30 : 220;  // + the tip and the pin
    var size = map.getSize();
    if (keepView) {
      // as the link had it
    } else if (position && fit) {
      var you = toMap(position.lat, position.lon);
      map.fitBounds(L.latLngBounds([you, ll]), {
        paddingTopLeft: [28, Math.min(popupH, size.y * 0.7)], paddingBottomRight: [28, 28],
        maxZoom: 17, animate: false
      });
    } else {
      map.setView(ll, Math.max(map.getZoom(), 15), { animate: false });
    }
    keepInside(highlight.getPopup());
    writeUrl();
  }

  var POPUP_MARGIN = 8;  // px between a popup and the map's edges or its controls

  /** Pan the map (at once) so that the whole of an open popup is on it, clear of the map's controls (zoom,
   *  legend, scale, credits) and of /embed's "open the full map" link: name and buttons never cut off. */
  function keepInside(popup) {
    var node = popup && popup.getElement();
    if (!node) return;
    var frame = map.getContainer().getBoundingClientRect();
    var r = node.getBoundingClientRect();
    var dx = 0;
    if (r.left < frame.left + POPUP_MARGIN) dx = r.left - frame.left - POPUP_MARGIN;
    else if (r.right > frame.right - POPUP_MARGIN) {
      dx = Math.min(r.right - frame.right + POPUP_MARGIN, r.left - frame.left - POPUP_MARGIN);
    }
    var left = r.left - dx;
    var right = r.right - dx;
    var top = frame.top + POPUP_MARGIN;
    var bottom = frame.bottom - POPUP_MARGIN;
    var blockers = document.querySelectorAll(
      ".embed-open, .leaflet-top .leaflet-control, .leaflet-bottom .leaflet-control");
    Array.prototype.forEach.call(blockers, function (b) {
      var box = b.getBoundingClientRect();
      if (!box.width || box.right <= left || box.left >= right) return;  // not above or below the popup
      if (b.closest(".leaflet-bottom")) bottom = Math.min(bottom, box.top - POPUP_MARGIN / 2);
      else top = Math.max(top, box.bottom + POPUP_MARGIN / 2);
    });
    var dy = 0;
    if (r.top < top) dy = r.top - top;
    else if (r.bottom > bottom) dy = Math.min(r.bottom - bottom, r.top - top);  // too tall: its title stays in sight
    if (dx || dy) map.panBy([Math.round(dx), Math.round(dy)], { animate: false });
  }

  // ---- search -------------------------------------------------------------------------------
  var searchInput = $("q");
  var searchTimer = null;

  function haystack(rec) {
    return [rec.name, rec.address, rec.county, LABELS.kind[rec.kind], rec.id].join(" ").toLowerCase();
  }

  /** The directory's server-side search, with the map's filters (and the position, to sort by distance). */
  function listSearchUrl(q) {
    var f = currentFilters();
    var params = new URLSearchParams();
    params.set("q", q);
    if (f.kind) params.set("kind", f.kind);
    if (f.amenities.length) params.set("amenity", f.amenities.join(","));
    if (f.openNow) params.set("open_now", "1");
    if (f.h24) params.set("h24", "1");
    if (position) {
      params.set("lat", position.lat.toFixed(6));
      params.set("lon", position.lon.toFixed(6));
    }
    if (C.lang) params.set("lang", C.lang);
    return C.listUrl + "?" + params.toString();
  }

  function runSearch() {
    var q = searchInput.value.trim();
    if (REMOTE) {  // the page holds only the visible area: Enter searches everything in the list
      if (q) setStatus(S.search_enter, "info");
      else if (statusEl.textContent === S.search_enter) setStatus("");
      return;
    }
    if (!q) {
      if (lastHits) { setStatus(""); renderNearest(lastHits); }
      else { resultsEl.textContent = ""; resultsTitle.hidden = true; }
      return;
    }
    var terms = q.toLowerCase().split(/\s+/);
    var f = currentFilters();  // a name finds its station whatever set it is in; a chosen kind applies
    var found = DATA.stations.filter(function (rec) {
      if (!matches(rec, f)) return false;
      var hay = haystack(rec);
      return terms.every(function (t) { return hay.indexOf(t) >= 0; });
    });
    var qLow = q.toLowerCase();
    found.sort(function (a, b) {
      var an = a.name.toLowerCase().indexOf(qLow) >= 0 ? 0 : 1;
      var bn = b.name.toLowerCase().indexOf(qLow) >= 0 ? 0 : 1;
      return an - bn || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    resultsEl.textContent = "";
    resultsTitle.hidden = false;
    resultsTitle.textContent = S.search_results + " · " + fmt("results_for", { n: found.length });
    resultsNote.hidden = true;
    if (!found.length) {
      setStatus(fmt("no_match", { q: q }), "info");
      return 0;
    }
    setStatus("");
    found.slice(0, 20).forEach(function (rec, i) {
      resultsEl.appendChild(resultItem(rec, i + 1, distances[rec.id]));
    });
    revealResults();
    return found.length;
  }

  var PLACE_MESSAGES = {
    not_found: "place_not_found", outside_area: "place_outside", unavailable: "place_unavailable",
    rate_limited: "place_rate_limited", not_configured: "no_match"
  };

  /** No station is called that: ask the server's geocoder where it is, and list the stations nearest to it. */
  function searchPlace(q) {
    var seq = ++requestSeq;
    var params = new URLSearchParams();
    params.set("q", q);
    if (C.lang) params.set("lang", C.lang);
    setStatus(fmt("place_searching", { q: q }), "busy");
    fetch(C.placesUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 429) return { place: null, reason: "rate_limited" };
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (payload) {
        if (seq !== requestSeq) return;
        if (payload.place) {
          setPicking(false);
          searchInput.classList.remove("attention");
          setPosition(payload.place.lat, payload.place.lon, null, q);  // WGS-84
          findNearest();
          return;
        }
        setStatus(fmt(PLACE_MESSAGES[payload.reason] || "place_not_found", { q: q }), "info");
      })
      .catch(function () {
        if (seq !== requestSeq) return;
        setStatus(S.api_error, "error");
      });
  }

  searchInput.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 150);
  });
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(searchTimer);
    var q = searchInput.value.trim();
    if (REMOTE && q) {
      if (C.embed) window.open(listSearchUrl(q), "_blank", "noopener");
      else window.location.assign(listSearchUrl(q));
      return;
    }
    var found = runSearch();
    if (q && found === 0 && C.placesUrl && !C.localNearest) searchPlace(q);
    searchInput.blur();
  });

  // ---- legend -------------------------------------------------------------------------------
  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var box = el("details", { className: "yz-legend leaflet-bar" }, [el("summary", { text: S.legend })]);
    var list = el("ul");
    Object.keys(LABELS.kind).forEach(function (kind) {
      list.appendChild(el("li", null, [
        el("span", { className: "pin-mini k-" + token(kind) + " s-open", "aria-hidden": "true", text: GLYPHS[kind] || "•" }),
        " " + LABELS.kind[kind]
      ]));
    });
    list.appendChild(el("li", null, [
      el("span", { className: "pin-mini k-rest_station s-planned", "aria-hidden": "true", text: GLYPHS.rest_station }),
      " " + (LABELS.status.under_construction || "") + " / " + (LABELS.status.planned || "")
    ]));
    box.appendChild(list);
    // the amenities' pictograms in words (the list and the popups show the pictograms alone)
    box.appendChild(el("p", { className: "yz-legend-title", text: S.amenities }));
    var amenities = el("ul", { className: "yz-legend-amenities" });
    Object.keys(LABELS.amenity).forEach(function (key) {
      amenities.appendChild(el("li", { "data-amenity": key }, [
        el("span", { className: "amen-icon" }, [icon(key)]), " " + LABELS.amenity[key]
      ]));
    });
    amenities.appendChild(el("li", null, [
      el("span", { className: "amen-icon h24", "aria-hidden": "true", text: "24h" }), " " + S.open_24h
    ]));
    box.appendChild(amenities);
    box.addEventListener("toggle", function () {  // open, it stays within the map (a phone's map is short)
      box.style.maxHeight = box.open ? Math.max(120, map.getSize().y - 80) + "px" : "";
    });
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  if (shows("legend")) legend.addTo(map);

  // ---- an embed's buttons, and its gestures -------------------------------------------------
  if (!shows("zoom") && map.zoomControl) map.removeControl(map.zoomControl);
  var root = document.documentElement;
  if (C.embed && shows("fullscreen") && (root.requestFullscreen || root.webkitRequestFullscreen)) {
    var full = L.control({ position: "topright" });
    full.onAdd = function () {
      var bar = el("div", { className: "leaflet-bar yz-fullscreen" });
      var button = el("button", { type: "button", className: "yz-fullscreen-btn", title: S.fullscreen,
                                  "aria-label": S.fullscreen, "aria-pressed": "false" });
      var svg = document.createElementNS(SVG_NS, "svg");  // four corners: a constant drawing, no data
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("class", "ico");
      svg.setAttribute("aria-hidden", "true");
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5");
      svg.appendChild(path);
      button.appendChild(svg);
      button.addEventListener("click", function () {
        var isFull = document.fullscreenElement || document.webkitFullscreenElement;
        if (isFull) (document.exitFullscreen || document.webkitExitFullscreen).call(document);
        else (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
      });
      document.addEventListener("fullscreenchange", function () {
        button.setAttribute("aria-pressed", String(!!document.fullscreenElement));
      });
      bar.appendChild(button);
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    };
    full.addTo(map);
  }
  if (C.gesture && map.gestureHandling) {  // leaflet-gesture-handling: the host page keeps its scrolling
    map.options.gestureHandlingOptions = { text: C.gesture, duration: 1500 };
    map.gestureHandling.enable();
  }

  // ---- remote: the stations of the visible area, from the API ------------------------------
  var REMOTE_DEBOUNCE_MS = 250;
  var REMOTE_MAX_PAGES = 50;  // a bound on one area's requests (50 pages of REMOTE.limit stations)
  var REMOTE_PAD = 0.25;      // ask for a quarter more on every side: small pans need no request
  var remoteMinZoom = REMOTE ? REMOTE.minZoom : 0;
  var remoteSeq = 0;
  var remoteTimer = null;
  var remoteLoaded = null;    // {bounds (drawing CRS), key (filters)} of the last answer shown
  var zoomHint = null;
  var pendingStation = null;  // a station asked for by the URL, not loaded yet

  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  function remoteKey(f) { return f.kind + "|" + f.amenities.join(","); }

  function showRecords(recs) {
    var next = {};
    recs.forEach(function (rec) {
      byId[rec.id] = rec;
      next[rec.id] = markers[rec.id] || makeMarker(rec);
    });
    markers = next;  // only the loaded area's markers are kept
    shownRecords = recs;
    applyFilters();
    if (pendingStation && byId[pendingStation]) {  // a shared link's station, now loaded
      var id = pendingStation;
      pendingStation = null;
      showStation(id, false, true);
    }
  }

  function loadVisible() {
    var f = currentFilters();
    var tooFar = map.getZoom() < remoteMinZoom;
    zoomHint.hidden = !tooFar;
    if (tooFar) {
      remoteSeq++;  // drop any answer still on its way
      remoteLoaded = null;
      if (shownRecords.length) showRecords([]);
      return;
    }
    var view = map.getBounds();
    var key = remoteKey(f);
    if (remoteLoaded && remoteLoaded.key === key && remoteLoaded.bounds.contains(view)) return;
    var want = view.pad(REMOTE_PAD);
    var sw = fromMap(want.getSouthWest());
    var ne = fromMap(want.getNorthEast());
    var bbox = [clamp(sw.lon, -180, 180), clamp(sw.lat, -90, 90), clamp(ne.lon, -180, 180), clamp(ne.lat, -90, 90)];
    var params = new URLSearchParams();
    params.set("bbox", bbox.map(function (v) { return v.toFixed(5); }).join(","));  // WGS-84, lon first
    if (f.kind) params.set("kind", f.kind);
    if (f.amenities.length) params.set("amenity", f.amenities.join(","));
    if (C.lang) params.set("lang", C.lang);
    if (REMOTE.limit) params.set("limit", String(REMOTE.limit));
    var seq = ++remoteSeq;
    var recs = [];
    var pages = 0;
    // The markers come a page at a time, as the page's own records (drawing CRS, hours in words, open
    // now): follow `next_offset` until the area is complete. "Open now" and 24 h filter them here.
    function loadPage(offset) {
      params.set("offset", String(offset));
      return fetch(REMOTE.url + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (answer) {
          if (seq !== remoteSeq) return null;
          (answer.markers || []).forEach(function (rec) {
            if (rec.id && rec.status !== "closed") recs.push(rec);
          });
          pages++;
          if (answer.next_offset !== null && answer.next_offset !== undefined && pages < REMOTE_MAX_PAGES) {
            return loadPage(answer.next_offset);
          }
          return recs;
        });
    }
    loadPage(0)
      .then(function (all) {
        if (all === null || seq !== remoteSeq) return;
        remoteLoaded = { bounds: want, key: key };
        showRecords(all);
      })
      .catch(function () {
        if (seq !== remoteSeq) return;
        setStatus(S.api_error, "error");
      });
  }

  // ---- start --------------------------------------------------------------------------------
  if (C.outlines) {  // every county's outline, for orientation (drawing CRS; no text is shown)
    L.geoJSON(C.outlines, {
      interactive: false,
      style: { color: "#5b6b7a", weight: 1.5, opacity: 0.7, fill: false, dashArray: "4 3", className: "yz-outline" }
    }).addTo(map);
  }
  if (C.county) {  // ?county=: its outline, and the map fitted to it (both in the drawing CRS)
    L.geoJSON(C.county.outline, {
      interactive: false,
      style: { color: "#0b6e4f", weight: 3, opacity: 0.9, fill: true, fillColor: "#0b6e4f", fillOpacity: 0.04 }
    }).addTo(map);
    map.invalidateSize({ pan: false });
    map.fitBounds(C.county.bounds, { padding: [8, 8], animate: false });
    if (REMOTE) {  // a county embed shows its stations at once, unless the county is vast
      remoteMinZoom = Math.min(REMOTE.minZoom, Math.max(map.getZoom(), REMOTE.minZoom - 3));
    }
  }
  applyFilters();
  if (navigator.onLine === false) loadOffline().then(showOfflineNote);  // opened offline, from the worker's copy
  else if (C.offline) {  // online: fetch the offline data once the page is idle (the worker keeps the copy)
    (window.requestIdleCallback || function (fn) { setTimeout(fn, 1500); })(function () { loadOffline(); });
  }
  showOfflineNote();
  if (REMOTE) {
    zoomHint = el("div", { className: "yz-zoom-hint", role: "status", text: S.zoom_in_hint });
    zoomHint.hidden = true;
    map.getContainer().appendChild(zoomHint);
    map.on("moveend", function () {
      clearTimeout(remoteTimer);
      remoteTimer = setTimeout(loadVisible, REMOTE_DEBOUNCE_MS);
    });
    loadVisible();
  }
  if (window.ResizeObserver) {
    new ResizeObserver(function () { map.invalidateSize({ pan: false }); }).observe(map.getContainer());
  }

  // ---- the view in the URL ---------------------------------------------------------------------
  // The fragment holds the centre (WGS-84) and zoom, the station whose popup is open and the filters
  // (#map=15/35.41200/116.58800&station=JN-RS-0001&amenity=toilet&open_now=1), kept up to date with
  // history.replaceState: a link shared shows the same view. #nearest (the 404 page's link) finds the nearest.
  var urlReady = false;
  var DEFAULT_KIND = (filtersForm.querySelector("input[name=kind]:checked") || { value: "" }).value;

  function writeUrl() {
    if (!urlReady || !window.history || !history.replaceState) return;
    var c = fromMap(map.getCenter());
    var parts = ["map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lon.toFixed(5)];
    if (selectedId) parts.push("station=" + encodeURIComponent(selectedId));
    var form = new FormData(filtersForm);
    var kind = form.get("kind") || "";
    if (kind !== DEFAULT_KIND) parts.push("kind=" + encodeURIComponent(kind || "all"));
    var amenities = form.getAll("amenity");
    if (amenities.length) parts.push("amenity=" + amenities.map(encodeURIComponent).join(","));
    if (form.get("open_now")) parts.push("open_now=1");
    if (form.get("h24")) parts.push("h24=1");
    history.replaceState(history.state, "", location.pathname + location.search + "#" + parts.join("&"));
  }

  /** What the fragment asks for; a part that does not parse is ignored. */
  function readUrl() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    var out = { nearest: p.has("nearest"), station: p.get("station") || null, view: null, filters: null };
    var m = /^(\d{1,2})\/(-?\d{1,2}(?:\.\d+)?)\/(-?\d{1,3}(?:\.\d+)?)$/.exec(p.get("map") || "");
    if (m && Math.abs(+m[2]) <= 90 && Math.abs(+m[3]) <= 180) out.view = { zoom: +m[1], lat: +m[2], lon: +m[3] };
    if (p.has("kind") || p.has("amenity") || p.has("open_now") || p.has("h24")) {
      out.filters = {
        kind: p.has("kind") ? (p.get("kind") === "all" ? "" : p.get("kind")) : null,
        amenities: (p.get("amenity") || "").split(",").filter(Boolean),
        openNow: p.get("open_now") === "1", h24: p.get("h24") === "1"
      };
    }
    return out;
  }

  function setFilters(f) {
    Array.prototype.forEach.call(filtersForm.elements, function (input) {
      if (input.name === "kind" && f.kind !== null) input.checked = input.value === f.kind;
      else if (input.name === "amenity") input.checked = f.amenities.indexOf(input.value) >= 0;
      else if (input.name === "open_now") input.checked = f.openNow;
      else if (input.name === "h24") input.checked = f.h24;
    });
  }

  var asked = readUrl();
  if (asked.filters) {
    setFilters(asked.filters);
    applyFilters();
    if (REMOTE) loadVisible();
  }
  if (asked.view) {
    var zoom = Math.min(map.getMaxZoom(), Math.max(map.getMinZoom(), asked.view.zoom));
    map.setView(toMap(asked.view.lat, asked.view.lon), zoom, { animate: false });
  }
  if (asked.station && byId[asked.station]) showStation(asked.station, false, !!asked.view);
  else if (asked.station && REMOTE) pendingStation = asked.station;  // opened once its area's markers are in
  urlReady = true;
  map.on("moveend", writeUrl);
  map.on("popupclose", function () {  // another popup opening sets it again
    selectedId = null;
    writeUrl();
  });
  if (asked.nearest) locate();

  // A small handle for the browser tests and for debugging in the console.
  window.yizhan = {
    map: map, cluster: cluster, stations: byId,
    get markers() { return markers; },
    remote: function () { return REMOTE ? { minZoom: remoteMinZoom, loaded: !!remoteLoaded } : null; },
    position: function () { return position; },
    highlighted: function () { return highlight ? highlight.yzId : null; },
    wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs,
    formatDistance: formatDistance, phoneParts: phoneParts, telUri: telUri, phoneText: phoneText,
    offlineData: function () { return offlineData; }
  };
  document.documentElement.setAttribute("data-map-ready", "1");
}());
