/* /list: "sort by distance from me" asks the browser for a position and reloads with ?lat=&lon=.
   Without JavaScript (or without a position) the list stays grouped by county. */
(function () {
  "use strict";
  var button = document.getElementById("use-position");
  var status = document.getElementById("list-status");
  if (!button || !navigator.geolocation || !window.isSecureContext) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = button.getAttribute("data-locating") || "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      var params = new URLSearchParams(window.location.search);
      params.set("lat", pos.coords.latitude.toFixed(6));
      params.set("lon", pos.coords.longitude.toFixed(6));
      window.location.search = params.toString();
    }, function (err) {
      button.disabled = false;
      status.textContent = button.getAttribute("data-error-" + err.code) || err.message;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}());
