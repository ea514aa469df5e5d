/* Registers the site's service worker (/sw.js, web/offline.py) on the public pages: the map then opens
 * and answers "find the nearest" without a network. Its URL and scope come from this tag's data-sw and
 * data-scope attributes. Nothing happens where service workers are unavailable (plain http but
 * localhost, old browsers): the site works as before, online only. */
(function () {
  "use strict";
  var tag = document.currentScript;
  if (!tag || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  var url = tag.getAttribute("data-sw");
  var scope = tag.getAttribute("data-scope") || "/";
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: scope }).catch(function () { /* online only */ });
  });
}());
