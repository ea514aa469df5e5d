/* /planning: the map's layers (county choropleth, hatched gaps, stations, worst cases, suggested sites).
 *
 * The layers arrive as JSON in <script type="application/json" id="yz-planning-data">; positions are
 * in the drawing CRS (data.crs, converted by the server) and every text is plain text, put into the
 * page only as DOM text nodes (textContent), never as HTML. The inline map script from folium holds
 * only the map's skeleton (options, tiles, the fit to the city or county).
 */
(function () {
  "use strict";

  var source = document.getElementById("yz-planning-data");
  if (!source || !window.L) return;
  var DATA = JSON.parse(source.textContent);
  var map = window[DATA.mapVar];
  if (!map) return;
  var STYLE = DATA.style;
  L.control.scale({ imperial: false }).addTo(map);  // metres and kilometres only

  function token(value) {  // a safe CSS class fragment from an adcode or a vocabulary key
    return String(value).replace(/[^a-z0-9_-]/gi, "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function textTip(text, lines) {  // a tooltip whose content is a DOM node: Leaflet does not parse it as HTML
    var node = el("span", null, text);
    (lines || []).forEach(function (line) {
      node.appendChild(el("span", "yz-tip-line", line));
    });
    return node;
  }

  function icon(className, text, size) {
    return L.divIcon({
      html: el("span", null, text), className: className,
      iconSize: [size, size], iconAnchor: [size / 2, size / 2]
    });
  }

  // ---- counties: fill by covered share, a table tooltip, outline on hover ------------------------
  function countyTip(p) {
    var table = el("table");
    [["", p.name], [DATA.labels.share, p.share], [DATA.labels.worst, p.worst], [DATA.labels.rest, p.rest]]
      .forEach(function (row) {
        var tr = document.createElement("tr");
        tr.appendChild(el("th", null, row[0]));
        tr.appendChild(el("td", null, row[1]));
        table.appendChild(tr);
      });
    return table;
  }

  var counties = L.geoJSON(DATA.counties, {
    style: function (f) {
      return {
        fillColor: f.properties.fill, fillOpacity: 0.85, color: "#33414d", weight: 1.2, opacity: 0.9,
        className: "yz-county c-" + token(f.properties.adcode)
      };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(countyTip(f.properties), { sticky: true });
      layer.on("mouseover", function () { layer.setStyle({ weight: 3, color: "#111" }); });
      layer.on("mouseout", function () { counties.resetStyle(layer); });
    }
  }).addTo(map);

  // ---- county names: at a point inside each county; hidden when zoomed out too far to read them --
  var labels = L.layerGroup();
  (DATA.countyLabels || []).forEach(function (c) {
    L.marker([c.lat, c.lon], {
      icon: L.divIcon({ html: el("span", null, c.name), className: "yz-county-label c-" + token(c.adcode),
                        iconSize: null }),
      interactive: false, keyboard: false
    }).addTo(labels);
  });
  function showLabels() {
    var crowded = map.getZoom() < (DATA.labelMinZoom || 0);
    if (crowded && map.hasLayer(labels)) map.removeLayer(labels);
    if (!crowded && !map.hasLayer(labels)) labels.addTo(map);
  }
  map.on("zoomend", showLabels);

  // ---- gaps: hatched with the SVG pattern of planning.html -------------------------------------
  L.geoJSON(DATA.gaps, {
    interactive: false,
    style: { fillColor: STYLE.gapFill, fillOpacity: 1, color: "#26323c", weight: 0.8, opacity: 0.7, className: "yz-gap" }
  }).addTo(map);

  // ---- stations: those counting towards coverage black, others white; dashed when not open ---------
  DATA.stations.forEach(function (s) {
    var rest = s.covering;
    L.circleMarker([s.lat, s.lon], {
      radius: rest ? 4 : 3.5, fillColor: rest ? "#111111" : "#ffffff", fillOpacity: 1,
      color: rest ? "#ffffff" : "#1d2730", weight: 1.5, dashArray: s.status === "open" ? null : "2 2",
      className: "yz-station k-" + token(s.kind)
    }).bindTooltip(textTip(s.name)).addTo(map);
  });

  // ---- each county's farthest point --------------------------------------------------------------
  DATA.worst.forEach(function (w) {
    L.marker([w.lat, w.lon], { icon: icon("yz-worst", "✕", 20) }).bindTooltip(textTip(w.tip)).addTo(map);
  });

  // ---- suggested sites: the rank, and the reach of a station there -------------------------------
  DATA.suggestions.forEach(function (s) {
    L.circle([s.lat, s.lon], {
      radius: s.radius_m, color: STYLE.suggestion, weight: 1.5, dashArray: "4 3", fill: false,
      className: "yz-suggestion-reach"
    }).addTo(map);
    L.marker([s.lat, s.lon], { icon: icon("yz-suggestion", s.rank, 22) }).bindTooltip(textTip(s.tip, s.lines)).addTo(map);
  });

  showLabels();  // last: the names stay above the other markers

  document.documentElement.setAttribute("data-planning-map-ready", "1");
}());
