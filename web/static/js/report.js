/* The report form (/stations/<id>/report): "附上我的位置 / Attach my position".
 *
 * The checkbox is shown only where the browser can locate; ticking it asks for one position
 * (navigator.geolocation, WGS-84) and puts it, rounded to 6 decimals (about 0.1 m), in the hidden
 * lon/lat fields; unticking clears them. Nothing is sent until the form is. The texts come from the
 * checkbox's data attributes (the catalogue's, in the page's language).
 */
(function () {
  "use strict";

  var box = document.getElementById("report-position-box");
  var check = document.getElementById("report-position");
  var status = document.getElementById("report-position-status");
  var lon = document.getElementById("report-lon");
  var lat = document.getElementById("report-lat");
  var submit = document.getElementById("report-submit");
  if (!box || !check || !navigator.geolocation) return;
  box.hidden = false;
  var asking = 0;

  function clear() {
    lon.value = "";
    lat.value = "";
  }

  check.addEventListener("change", function () {
    var seq = ++asking;
    if (!check.checked) {
      clear();
      status.textContent = "";
      submit.disabled = false;
      return;
    }
    status.textContent = check.getAttribute("data-locating");
    submit.disabled = true;  // not sent without the position the worker asked to attach
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (seq !== asking || !check.checked) return;
      lon.value = pos.coords.longitude.toFixed(6);  // WGS-84, as the browser gives it
      lat.value = pos.coords.latitude.toFixed(6);
      status.textContent = check.getAttribute("data-attached").replace("{m}", String(Math.round(pos.coords.accuracy || 0)));
      submit.disabled = false;
    }, function () {
      if (seq !== asking) return;
      check.checked = false;
      clear();
      status.textContent = check.getAttribute("data-failed");
      submit.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
