"""The installable, offline-capable worker map: the web app manifest, the service worker, the offline data.

- ``/manifest.webmanifest`` (``?lang=zh|en``): name 驿站地图 / Rest Station Map, ``start_url`` and ``scope``
  the site's root, ``display: standalone``, the theme colour, PNG icons (``scripts/make_icons.py``).
- ``/sw.js``: the service worker (``static/js/service-worker.js``, with its settings put first as
  ``self.YIZHAN_SW``), served from the root so that its scope is the whole site (``Service-Worker-Allowed: /``).
  Its version is a hash of the app shell's files and of its own source: a new deployment changes the
  script, the browser installs it and the old caches go. What it keeps and what it never touches: see
  that file's header (never ``/manage``, ``/login``, ``/logout``, ``/api``, anything but GET, any
  answer marked ``no-store``).
- ``/offline/stations.json``: what the map needs to answer "find the nearest" offline
  (``stations.offline``), built once per store version and day. Only for stores the map carries
  whole (``MAP_INLINE_MAX``); a larger store answers 404 and the map says that it needs the network.
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, request, url_for

from stations.offline import OFFLINE_DAYS, offline_document

from . import assets, i18n, pages
from .caching import conditional, etag_of
from .requests import pages as page_routes
from .state import state

bp = Blueprint("offline", __name__)

THEME_COLOUR = "#0b6e4f"  # base.html's theme-color and the icons' green
BACKGROUND_COLOUR = "#ffffff"
ICONS = (  # (file under static/img, size, purpose)
    ("img/icon-192.png", 192, "any"),
    ("img/icon-512.png", 512, "any"),
    ("img/icon-maskable-192.png", 192, "maskable"),
    ("img/icon-maskable-512.png", 512, "maskable"),
)
#: our own files of the map page, precached with the vendored ones (``assets.page_assets``)
SHELL_FILES = ("css/site.css", "js/map.js", "js/offline.js", "js/sw-register.js", "img/icon.svg",
               *(rel for rel, _, _ in ICONS))
WORKER_SOURCE = assets.STATIC_DIR / "js" / "service-worker.js"
#: path prefixes the service worker never answers for (staff pages, sign-in, the API and its writes)
NEVER_CACHED = ("/manage", "/login", "/logout", "/api/", "/ogc", "/planning", "/embed")
MANIFEST_TYPE = "application/manifest+json"

_hashes: dict[str, tuple[tuple[int, int], str]] = {}
_hashes_lock = threading.Lock()


def _content_hash(path: Path) -> str:
    """sha1 of a file's bytes (kept per mtime and size): the same on every server of a deployment."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    key = (st.st_mtime_ns, st.st_size)
    with _hashes_lock:
        hit = _hashes.get(str(path))
        if hit and hit[0] == key:
            return hit[1]
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    with _hashes_lock:
        _hashes[str(path)] = (key, digest)
    return digest


def _static_url() -> str:
    return current_app.static_url_path or "/static"


def shell_urls() -> list[str]:
    """Every file the map page needs, as the page links them (``?v=`` versions): precached on install."""
    static_url = _static_url()
    page = assets.page_assets(static_url)
    own = [assets.static_path(rel, static_url) for rel in SHELL_FILES]
    return list(dict.fromkeys([*page["css"], *page["js"], *own]))


def worker_version(urls: list[str]) -> str:
    """A hash of the shell's files' contents and the worker's source: changes with any of them."""
    static_url = _static_url().rstrip("/") + "/"
    parts = [_content_hash(WORKER_SOURCE)]
    for url in urls:
        rel = url[len(static_url):].split("?", 1)[0] if url.startswith(static_url) else url
        parts.append(rel + ":" + _content_hash(assets.STATIC_DIR / rel))
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def offline_available() -> bool:
    """Whether the store is small enough for the offline data (the map carries it whole)."""
    inline_max, _ = pages.map_limits(current_app.config)
    return len(state().store.all()) <= inline_max


def manifest_link(lang: str) -> str:
    return url_for("offline.manifest", lang=lang)


@bp.get("/manifest.webmanifest")
@page_routes.route()
def manifest() -> Response:
    """The web app manifest, in ``?lang=`` (zh by default: browsers fetch it without cookies)."""
    lang = request.args.get("lang", "")
    lang = lang if lang in i18n.LANGS else current_app.config.get("DEFAULT_LANG", "zh")
    city = current_app.config.get("CITY_NAME", "")
    static_url = _static_url()
    root = url_for("pages.index")
    body: dict[str, Any] = {
        "id": root,
        "name": i18n.translate("site_title", lang),
        "short_name": i18n.translate("app_short_name", lang),
        "description": i18n.translate("site_tagline", lang, city=city),
        "lang": i18n.HTML_LANG[lang],
        "dir": "ltr",
        "start_url": root,
        "scope": root,
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["navigation", "utilities"],
        "icons": [{"src": assets.static_path(rel, static_url), "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": purpose} for rel, size, purpose in ICONS],
    }
    text = json.dumps(body, ensure_ascii=False, indent=1)
    response = conditional(etag_of("manifest", text), lambda: Response(text, mimetype=MANIFEST_TYPE))
    return response


@bp.get("/sw.js")
@page_routes.route()
def service_worker() -> Response:
    """The service worker, its settings first; always revalidated (``no-cache``), scope the site's root."""
    urls = shell_urls()
    version = worker_version(urls)
    root = url_for("pages.index")
    settings = {
        "version": version,
        "scope": root,
        "shell": urls,
        "pages": [root],  # precached too: the map opens offline
        "data": url_for("offline.stations") if offline_available() else None,
        "never": [root.rstrip("/") + prefix for prefix in NEVER_CACHED],
        "staticPrefix": _static_url().rstrip("/") + "/",
    }

    def build() -> Response:
        source = WORKER_SOURCE.read_text(encoding="utf-8")
        text = f"self.YIZHAN_SW = {json.dumps(settings, ensure_ascii=False)};\n{source}"
        return Response(text, mimetype="text/javascript")

    response = conditional(etag_of("sw", version, json.dumps(settings)), build)
    response.headers["Service-Worker-Allowed"] = root
    return response


@bp.get("/offline/stations.json")
@page_routes.route()
def stations() -> Response:
    """The offline ranking's data (``stations.offline``) for today and the next days; 404 for a large store."""
    if not offline_available():
        abort(404, "the store is larger than MAP_INLINE_MAX: no offline data")
    st = state()
    at = pages.now_shanghai()
    day = at.date().isoformat()
    text = st.cached(("offline.stations", day), lambda: json.dumps(
        {**offline_document(st.store.all(), at), "days": OFFLINE_DAYS}, ensure_ascii=False, separators=(",", ":")))
    etag = etag_of("offline", st.store.version, day)
    return conditional(etag, lambda: assets.gzip_response(Response(text, mimetype="application/json")))
