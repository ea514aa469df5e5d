"""Local copies of Leaflet & co, wired into folium, and a static handler that serves gzip.

folium links its JS/CSS from public CDNs (``default_js``/``default_css`` class attributes),
which are unreliable in China and unreachable offline. ``use_local_assets`` replaces those
lists, once per process, on the folium classes this site renders, with files installed by
``make assets`` (npm ``leaflet`` and ``leaflet.markercluster``, copied into
``web/static/vendor/`` by ``scripts/vendor_assets.py``). jQuery, Bootstrap and
awesome-markers are dropped: our markers are DivIcons styled by ``static/css/map.css``.

``init_app`` also swaps Flask's static view for one that answers ``Accept-Encoding: gzip``
with the precompressed ``.gz`` twin of a file (or a gzip made once and kept in memory),
so that the first load of ``/`` stays small on a phone's mobile connection.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import logging
import mimetypes
import os
import threading
from pathlib import Path

from .folium_import import folium  # imported without pandas: see there
from flask import Flask, Response, abort, request, send_file, send_from_directory
from werkzeug.security import safe_join

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# (name folium knows the link by, path under /static/)
LEAFLET_JS = [("leaflet", "vendor/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "vendor/leaflet/leaflet.css")]
MARKERCLUSTER_JS = [("markerclusterjs", "vendor/leaflet.markercluster/leaflet.markercluster.js")]
MARKERCLUSTER_CSS = [
    ("markerclustercss", "vendor/leaflet.markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", "vendor/leaflet.markercluster/MarkerCluster.Default.css"),
]
# Zoom with ctrl + wheel or two fingers (embedded maps): npm ``leaflet-gesture-handling``.
GESTURE_JS = [("gesturehandlingjs", "vendor/leaflet-gesture-handling/leaflet-gesture-handling.js")]
GESTURE_CSS = [("gesturehandlingcss", "vendor/leaflet-gesture-handling/leaflet-gesture-handling.css")]
# Our own files, served from web/static (committed).
SITE_CSS = [("yizhan_map_css", "css/map.css")]

#: vendored for the browser tests only (npm devDependencies, see scripts/vendor_assets.py): never served
TEST_ONLY = ("vendor/axe-core/",)
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".html")
IMMUTABLE_MAX_AGE_S = 365 * 24 * 3600  # for ?v=... URLs, which change whenever the file does
MIN_GZIP_BYTES = 1024

_configured_for: str | None = None
_configure_lock = threading.Lock()


def file_version(rel: str) -> str:
    """A short token that changes when the static file changes ("0" if it is missing)."""
    try:
        st = (STATIC_DIR / rel).stat()
    except OSError:
        return "0"
    return hashlib.sha1(f"{st.st_mtime_ns}:{st.st_size}".encode()).hexdigest()[:10]


def static_path(rel: str, static_url_path: str = "/static") -> str:
    """``/static/<rel>?v=<version>``: browsers may keep a versioned file for a year."""
    return f"{static_url_path.rstrip('/')}/{rel}?v={file_version(rel)}"


def use_local_assets(static_url_path: str = "/static") -> None:
    """Point folium's Map and MarkerCluster at the local files (class-level, idempotent)."""
    global _configured_for
    with _configure_lock:
        if _configured_for == static_url_path:
            return
        url = lambda pairs: [(name, static_path(rel, static_url_path)) for name, rel in pairs]  # noqa: E731
        folium.Map.default_js = url(LEAFLET_JS)
        folium.Map.default_css = url(LEAFLET_CSS + SITE_CSS)
        folium.plugins.MarkerCluster.default_js = url(MARKERCLUSTER_JS)
        folium.plugins.MarkerCluster.default_css = url(MARKERCLUSTER_CSS)
        _configured_for = static_url_path


def vendor_missing() -> list[str]:
    """The vendored files that are not there (run ``make assets``)."""
    wanted = LEAFLET_JS + LEAFLET_CSS + MARKERCLUSTER_JS + MARKERCLUSTER_CSS + GESTURE_JS + GESTURE_CSS
    return [rel for _, rel in wanted if not (STATIC_DIR / rel).is_file()]


def page_assets(static_url_path: str = "/static", gestures: bool = False) -> dict[str, list[str]]:
    """URLs of the JS and CSS that the map page loads, in order; ``gestures``: with leaflet-gesture-handling
    (after Leaflet, before the map is made: it hooks into every new map)."""
    use_local_assets(static_url_path)
    prefix = static_url_path.rstrip("/") + "/"

    def fresh(url: str) -> str:  # the version as of now (a file edited while the server runs)
        return static_path(url[len(prefix):].split("?", 1)[0], static_url_path) if url.startswith(prefix) else url

    js = [fresh(u) for _, u in folium.Map.default_js + folium.plugins.MarkerCluster.default_js]
    css = [fresh(u) for _, u in folium.Map.default_css[:1] + folium.plugins.MarkerCluster.default_css
           + folium.Map.default_css[1:]]
    if gestures:
        js += [static_path(rel, static_url_path) for _, rel in GESTURE_JS]
        css[-1:-1] = [static_path(rel, static_url_path) for _, rel in GESTURE_CSS]  # before our own map.css
    return {"js": js, "css": css}


class _GzipCache:
    """gzip bodies of static files, keyed on (path, mtime, size), made once per file version."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[tuple[int, int], bytes]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> bytes:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._data.get(path)
            if hit and hit[0] == key:
                return hit[1]
        with open(path, "rb") as fh:
            body = gzip.compress(fh.read(), 6, mtime=0)
        with self._lock:
            self._data[path] = (key, body)
        return body


def _accepts_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def make_static_view(app: Flask):
    """A replacement for Flask's ``static`` view that serves gzip when the browser accepts it."""
    cache = _GzipCache()
    folder = app.static_folder

    def static(filename: str):
        if filename.replace("\\", "/").lstrip("/").startswith(TEST_ONLY):
            abort(404)
        versioned = bool(request.args.get("v"))
        max_age = IMMUTABLE_MAX_AGE_S if versioned else app.get_send_file_max_age(filename)
        path = safe_join(folder, filename)
        if (path is None or not os.path.isfile(path) or not filename.endswith(COMPRESSIBLE) or not _accepts_gzip()
                or os.path.getsize(path) < MIN_GZIP_BYTES):
            response = send_from_directory(folder, filename, max_age=max_age)
            if filename.endswith(COMPRESSIBLE):
                response.vary.add("Accept-Encoding")
            return response
        twin = path + ".gz"
        if os.path.isfile(twin) and os.path.getmtime(twin) >= os.path.getmtime(path):
            with open(twin, "rb") as fh:
                body = fh.read()
        else:
            body = cache.get(path)
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response: Response = send_file(
            io.BytesIO(body), mimetype=mimetype, conditional=True,
            etag=f"{os.stat(path).st_mtime_ns:x}-{os.path.getsize(path):x}-gz",
            last_modified=os.path.getmtime(path), max_age=max_age,
        )
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response

    return static


def init_app(app: Flask) -> None:
    """Local folium assets, and gzip for static files. Called once when ``pages.bp`` registers."""
    use_local_assets(app.static_url_path or "/static")
    missing = vendor_missing()
    if missing:
        log.warning("vendored JS/CSS missing (%s): run `make assets`", ", ".join(missing))
    if "static" in app.view_functions:
        app.view_functions["static"] = make_static_view(app)


def gzip_response(response: Response) -> Response:
    """Compress a dynamic HTML/JSON response for browsers that accept gzip (used by pages)."""
    if (
        response.status_code != 200
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(("text/html", "application/json", "image/svg"))
        or not _accepts_gzip()
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_GZIP_BYTES:
        return response
    response.set_data(gzip.compress(body, 6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


__all__ = ["init_app", "use_local_assets", "page_assets", "vendor_missing", "gzip_response"]
