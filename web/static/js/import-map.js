/* The import's dry run on a small map (/manage/import/<token>): the stations the import would add,
 * change, leave unchanged and remove, one coloured circle each, with a popup naming the station, its
 * result, id and row.
 *
 * Data arrive as JSON in <script type="application/json" id="yz-import-data">: points (id, name,
 * action, row, lon, lat, already in the basemap's system), tiles (the basemap's layers: url,
 * attribution, subdomains, max_zoom), bounds (the counties, [[south, west], [north, east]]) when
 * there are no points, labels (action -> words) and row (the words for "row {row}"). Station
 * fields go into the page with textContent only. When drawn, #import-map gets data-ready="1".
 */
(function () {
  "use strict";

  var box = document.getElementById("import-map");
  var source = document.getElementById("yz-import-data");
  if (!box || !source || !window.L) {
    return;
  }
  var DATA = JSON.parse(source.textContent);
  var COLOURS = {add: "#0b6e4f", change: "#d97706", unchanged: "#6b7280", remove: "#b83227"};

  var map = L.map(box, {scrollWheelZoom: false, zoomControl: true});
  (DATA.tiles || []).forEach(function (layer) {
    L.tileLayer(layer.url, {
      attribution: layer.attribution || "",
      subdomains: layer.subdomains || "abc",
      maxZoom: layer.max_zoom || 18
    }).addTo(map);
  });

  function popup(point) {
    var content = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = point.name;
    content.appendChild(name);
    content.appendChild(document.createElement("br"));
    var line = (DATA.labels[point.action] || point.action) + " · " + point.id;
    if (point.row) {
      line += " · " + DATA.row.replace("{row}", String(point.row));
    }
    content.appendChild(document.createTextNode(line));
    return content;
  }

  var corners = [];
  (DATA.points || []).forEach(function (point) {
    var marker = L.circleMarker([point.lat, point.lon], {
      radius: 7, weight: 2, color: "#ffffff", fillColor: COLOURS[point.action] || "#333333", fillOpacity: 0.9,
      className: "import-point a-" + point.action
    });
    marker.bindPopup(popup(point));
    marker.addTo(map);
    corners.push([point.lat, point.lon]);
  });
  if (corners.length) {
    map.fitBounds(corners, {padding: [24, 24], maxZoom: 15});
  } else {
    map.fitBounds(DATA.bounds);
  }
  box.setAttribute("data-ready", "1");
  box.setAttribute("data-points", String(corners.length));
})();
