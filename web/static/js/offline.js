/* "Find the nearest" without a network: the server's ranking, from the data the service worker kept.
 *
 * The data are /offline/stations.json (stations/offline.py): the stations with status "open", WGS-84
 * positions, the server's own flags (open around the clock, the `serves` sets they belong to) and, for
 * each distinct opening-hours text, its open spans over the next days in minutes since 1970 (UTC). The
 * ranking is that of stations.nearest.NearestIndex.query_open_first for the map's question: the stations
 * open at the moment first, nearest first, then the others (closed then, or hours unknown), nearest
 * first; ties by id; k of them. Distances are geodesic metres on the WGS-84 ellipsoid (Vincenty's
 * inverse formula: within a millimetre of the server's GeographicLib at these distances).
 *
 * window.YizhanOffline = {distanceM, state, rank, order}; no DOM, no network.
 */
(function (root) {
  "use strict";

  var A = 6378137.0;              // WGS-84 semi-major axis, metres
  var F = 1 / 298.257223563;      // flattening
  var B = A * (1 - F);
  var RAD = Math.PI / 180;

  /** Geodesic distance in metres between two WGS-84 points (degrees; lon first, as GeoJSON). */
  function distanceM(lon1, lat1, lon2, lat2) {
    if (lon1 === lon2 && lat1 === lat2) return 0;
    var L = (lon2 - lon1) * RAD;
    var U1 = Math.atan((1 - F) * Math.tan(lat1 * RAD));
    var U2 = Math.atan((1 - F) * Math.tan(lat2 * RAD));
    var sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
    var lambda = L, lambdaP, iterations = 0;
    var sinSigma, cosSigma, sigma, cosSqAlpha, cos2SigmaM;
    do {
      var sinLambda = Math.sin(lambda), cosLambda = Math.cos(lambda);
      var t1 = cosU2 * sinLambda, t2 = cosU1 * sinU2 - sinU1 * cosU2 * cosLambda;
      sinSigma = Math.sqrt(t1 * t1 + t2 * t2);
      if (sinSigma === 0) return 0;  // the same point
      cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
      sigma = Math.atan2(sinSigma, cosSigma);
      var sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma;
      cosSqAlpha = 1 - sinAlpha * sinAlpha;
      cos2SigmaM = cosSqAlpha !== 0 ? cosSigma - 2 * sinU1 * sinU2 / cosSqAlpha : 0;  // 0 on the equator
      var C = F / 16 * cosSqAlpha * (4 + F * (4 - 3 * cosSqAlpha));
      lambdaP = lambda;
      lambda = L + (1 - C) * F * sinAlpha *
        (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    } while (Math.abs(lambda - lambdaP) > 1e-12 && ++iterations < 200);
    var uSq = cosSqAlpha * (A * A - B * B) / (B * B);
    var bigA = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var bigB = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var deltaSigma = bigB * sinSigma * (cos2SigmaM + bigB / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
      bigB / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    return B * bigA * (sigma - deltaSigma);
  }

  /** {open: true|false|null, next: minute of the next change or null} of a station at ``minute``
   *  (minutes since 1970, UTC). null: no readable hours, or the moment is outside the data's window. */
  function state(data, station, minute) {
    if (station.schedule === null || station.schedule === undefined) return { open: null, next: null };
    var win = data.window;
    if (!(minute >= win[0] && minute < win[1])) return { open: null, next: null };
    var spans = data.schedules[station.schedule];
    for (var i = 0; i < spans.length; i++) {
      if (minute < spans[i][0]) return { open: false, next: spans[i][0] };
      if (minute < spans[i][1]) return { open: true, next: spans[i][1] < win[1] ? spans[i][1] : null };
    }
    return { open: false, next: null };
  }

  function byDistanceThenId(a, b) {
    if (a.distance_m !== b.distance_m) return a.distance_m - b.distance_m;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /** The k best stations for someone at (lon, lat) (WGS-84) at ``timeMs`` (ms since 1970), as the server's
   *  /api/nearest?rank=open_first answers: options {k, kind, amenities, serves, h24, openNow}. Each hit
   *  is the station's record with distance_m, open_now and next_change (a minute, or null). */
  function rank(data, lon, lat, timeMs, options) {
    var o = options || {};
    var k = o.k || 5;
    var amenities = o.amenities || [];
    var minute = timeMs / 60000;
    var hits = [];
    data.stations.forEach(function (st) {
      if (o.kind && st.kind !== o.kind) return;
      for (var i = 0; i < amenities.length; i++) {
        if (st.amenities.indexOf(amenities[i]) < 0) return;
      }
      if (o.h24 && !st.h24) return;
      if (o.serves && st.serves.indexOf(o.serves) < 0) return;
      var now = state(data, st, minute);
      var hit = {};
      Object.keys(st).forEach(function (key) { hit[key] = st[key]; });
      hit.status = "open";
      hit.distance_m = distanceM(lon, lat, st.lon, st.lat);
      hit.open_now = now.open;
      hit.next_change = now.next;
      hits.push(hit);
    });
    if (o.openNow) hits = hits.filter(function (h) { return h.open_now === true; });
    return order(hits, k, true);
  }

  /** The k first of ``hits`` (each with id, distance_m and open_now): nearest first, ties by id; with
   *  ``openFirst``, those open now (open_now === true) before the others, as the server's open_first
   *  ranking. Shared with map.js's in-page answer (an embed of one county, the static export). */
  function order(hits, k, openFirst) {
    hits.sort(byDistanceThenId);
    if (!openFirst) return hits.slice(0, k);
    var open = hits.filter(function (h) { return h.open_now === true; });
    if (open.length >= k) return open.slice(0, k);
    var others = hits.filter(function (h) { return h.open_now !== true; });
    return open.concat(others.slice(0, k - open.length));
  }

  root.YizhanOffline = { distanceM: distanceM, state: state, rank: rank, order: order };
}(window));
