/* The embed builder (/embed/builder): as the options change, the preview's address and size, the
 * <iframe> code, the plain link and the address are rewritten here, the same text the server writes
 * (web.embeds.frame_code: attribute values escaped as Jinja does); "copy" puts one on the clipboard.
 * Everything comes from the page's JSON block (yz-builder); no text is spliced into script source. */
(function () {
  "use strict";

  var B = JSON.parse(document.getElementById("yz-builder").textContent);
  var form = document.getElementById("builder");
  var preview = document.getElementById("preview");
  var code = document.getElementById("code");
  var link = document.getElementById("link");
  var address = document.getElementById("address");
  var status = document.getElementById("copy-status");
  var WIDTH_RE = /^(100%|[0-9]{3,4})$/;

  function escapeAttr(text) {  // what Jinja's autoescape writes (markupsafe)
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&#34;").replace(/'/g, "&#39;");
  }

  function param(name, value) {
    return name + "=" + encodeURIComponent(value).replace(/%2C/g, ",");
  }

  function values(name) {  // the ticked boxes (or the chosen radio) of one name, in the page's order
    return Array.prototype.filter.call(form.querySelectorAll("input[name='" + name + "']"),
      function (input) { return input.checked; }).map(function (input) { return input.value; });
  }

  /** The embed's address for the form's options: the order and defaults of web.embeds.embed_parameters. */
  function embedUrl() {
    var parts = [];
    var county = form.elements.county.value;
    var kinds = values("kind");
    var lang = values("embed_lang")[0] || "zh";
    var basemap = form.elements.basemap.value;
    var controls = values("controls");
    if (county) parts.push(param("county", county));
    if (kinds.length) parts.push(param("kind", kinds.join(",")));
    parts.push(param("lang", lang));
    if (basemap && basemap !== B.siteBasemap) parts.push(param("basemap", basemap));
    if (controls.length === 0) parts.push(param("controls", "none"));
    else if (controls.length < B.controls.length) parts.push(param("controls", controls.join(",")));
    return { url: B.base + (parts.length ? "?" + parts.join("&") : ""), lang: lang, county: county };
  }

  function size() {
    var width = form.elements.width.value.trim();
    var height = parseInt(form.elements.height.value, 10);
    var widthOk = WIDTH_RE.test(width) && (width === "100%" || (+width >= 200 && +width <= 2000));
    form.elements.width.setAttribute("aria-invalid", String(!widthOk));
    if (!widthOk) width = "100%";
    if (!(height >= 200 && height <= 2000)) height = 480;
    return { width: width, height: height };
  }

  function update() {
    var e = embedUrl();
    var s = size();
    var title = e.county && B.titles[e.county] ? B.titles[e.county][e.lang] : B.titleAll[e.lang];
    code.value = '<iframe src="' + escapeAttr(e.url) + '" title="' + escapeAttr(title) + '" width="' +
      escapeAttr(s.width) + '" height="' + escapeAttr(s.height) + '" style="border:0;max-width:100%" ' +
      'loading="lazy" allow="' + escapeAttr(B.allow) + '" referrerpolicy="' + escapeAttr(B.referrerPolicy) +
      '"></iframe>';
    link.value = '<a href="' + escapeAttr(e.url) + '" target="_blank" rel="noopener">' +
      escapeAttr(B.linkText[e.lang]) + "</a>";
    address.value = e.url;
    if (preview.getAttribute("src") !== e.url) preview.setAttribute("src", e.url);
    preview.setAttribute("width", s.width);
    preview.setAttribute("height", String(s.height));
  }

  function copy(target) {
    var box = document.getElementById(target);
    function done(ok) {
      status.textContent = ok ? B.strings["embed.copied"] : B.strings["embed.copy_failed"];
      status.className = "status " + (ok ? "info" : "error");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(function () { done(true); }, function () {
        box.select();
        done(false);
      });
    } else {  // http:// and older browsers: select it, the browser's own copy may work
      box.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      done(ok);
    }
  }

  var timer = null;
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
  form.addEventListener("change", update);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); update(); });
  document.getElementById("copy-code").addEventListener("click", function () { copy("code"); });
  document.getElementById("copy-link").addEventListener("click", function () { copy("link"); });
  update();
  document.documentElement.setAttribute("data-builder-ready", "1");
}());
