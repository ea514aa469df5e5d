"""Security headers on every response, a per-request CSP nonce, and CORS for the read-only API.

CORS is flask-cors's, configured from ``CORS_ORIGINS`` (default ``*``) for the public read-only API
(``/api/...``) and the OGC API (``/ogc/...``): GET and HEAD, their preflight, ``ETag``, ``Link``,
``Content-Crs`` and ``Content-Disposition`` readable by the page's script, no credentials. Nothing
that writes is shared across sites: flask-cors answers a preflight for another method without
``Access-Control-Allow-Methods``/``-Headers``, but still sends ``Access-Control-Allow-Origin`` on it
and on the answer of any method; :func:`_reads_only` takes every CORS header off those answers
(a POST, PATCH or DELETE, and a preflight asking for one), so the browser refuses them.

Settings read here (declared and checked in ``web.settings``): ``TILE_HOSTS`` (origins of the
basemap tiles for ``img-src``; default derived from ``TILE_URL``, else from ``BASEMAP``),
``EMBED_ALLOWED_ORIGINS`` (who may frame the embeddable pages: ``frame-ancestors``; ``["*"]`` by default
because county and union websites embed the map, ``[]`` only the site itself) and ``CSP_EXTRA``
(directive -> sources appended to the policy, e.g. a report-uri).

Framing: only the views marked :func:`embeddable` (``/embed``) follow ``EMBED_ALLOWED_ORIGINS``; every
other answer (the map ``/``, the staff pages, the API, errors of other pages) may be framed by the site
itself only: ``frame-ancestors 'self'`` and ``X-Frame-Options: SAMEORIGIN`` (for browsers without CSP
level 2), so that no other site can lay a signed-in page under a decoy (clickjacking). A view that draws
another basemap than the site's (``/embed?basemap=``) sets :func:`use_tiles_of` so that ``img-src``
allows that basemap's tiles.

Templates put ``nonce="{{ csp_nonce() }}"`` on any inline ``<script>`` they must keep
(folium's map script); ``script-src`` has no ``'unsafe-inline'``.
"""
from __future__ import annotations

import secrets
from typing import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

from .errors import API_PREFIX

# Tile origins per basemap when neither TILE_HOSTS nor TILE_URL is configured.
BASEMAP_TILE_HOSTS: dict[str, tuple[str, ...]] = {
    "osm": ("https://tile.openstreetmap.org", "https://*.tile.openstreetmap.org"),
    "tianditu": ("https://*.tianditu.gov.cn",),
    "amap": ("https://*.is.autonavi.com",),
    "none": (),
}


def csp_nonce() -> str:
    """This request's nonce for inline scripts (a Jinja global too: ``{{ csp_nonce() }}``)."""
    nonce = getattr(g, "csp_nonce", None)
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def origin_of(url_template: str) -> str | None:
    """The CSP source for a tile URL template; ``{s}``-style subdomains become ``*``.

    Relative URLs (tiles served by the app itself) give ``None``: ``'self'`` covers them.
    """
    parts = urlsplit(url_template)
    if not parts.scheme or not parts.netloc:
        return None
    host, sep, port = parts.netloc.rpartition(":") if parts.netloc.count(":") == 1 else (parts.netloc, "", "")
    labels = host.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        return f"{parts.scheme}:"  # a template deeper in the host: only the scheme can express it
    return f"{parts.scheme}://{'.'.join(labels)}{sep}{port}"


def tile_sources(config) -> list[str]:
    """Sources for ``img-src`` beyond 'self': configured hosts, else the TILE_URL's, else the basemap's."""
    hosts = config.get("TILE_HOSTS")
    if hosts:
        return hosts
    url = config.get("TILE_URL")
    if url:
        origin = origin_of(str(url))
        return [origin] if origin else []
    return list(BASEMAP_TILE_HOSTS[config["BASEMAP"]])


#: the attribute that marks a view whose pages other sites may frame (``EMBED_ALLOWED_ORIGINS``)
EMBEDDABLE_ATTRIBUTE = "yizhan_embeddable"


def embeddable(view):
    """Mark a view as embeddable: its answers may be framed by ``EMBED_ALLOWED_ORIGINS``."""
    setattr(view, EMBEDDABLE_ATTRIBUTE, True)
    return view


def is_embeddable(view) -> bool:
    """Whether ``view`` (or a function it wraps) was marked :func:`embeddable`."""
    while view is not None:
        if getattr(view, EMBEDDABLE_ATTRIBUTE, False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def use_tiles_of(config) -> None:
    """This answer draws the basemap of ``config`` (a copy of the app's with another ``BASEMAP``)."""
    g.csp_tiles_config = config


def frame_ancestors(config, embed_page: bool) -> list[str]:
    """``frame-ancestors`` sources: ``EMBED_ALLOWED_ORIGINS`` for an embeddable page, else the site itself."""
    if not embed_page:
        return ["'self'"]
    embed = config["EMBED_ALLOWED_ORIGINS"]
    return ["'self'", *embed] if embed != ["*"] else ["*"]


def content_security_policy(config, nonce: str | None, embed_page: bool = False, tiles_config=None) -> str:
    """The policy of an answer; ``tiles_config`` (default ``config``) says which basemap's tiles it draws."""
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"] + ([f"'nonce-{nonce}'"] if nonce else []),
        # Leaflet positions markers and tiles with inline style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *tile_sources(tiles_config or config)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": frame_ancestors(config, embed_page),
    }
    for key, sources in config["CSP_EXTRA"].items():
        directives.setdefault(key, []).extend(sources)
    return "; ".join(f"{k} {' '.join(_dedupe(v))}" for k, v in directives.items())


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_NONCE_MARK = "\x00nonce\x00"


_CSP_KEYS = ("TILE_HOSTS", "TILE_URL", "BASEMAP", "EMBED_ALLOWED_ORIGINS", "CSP_EXTRA")


def _policy_template(app: Flask, embed_page: bool, tiles_config=None) -> str:
    """The policy with a placeholder for the nonce, built once per configuration and kind of page (hot path)."""
    config = app.config
    tiles = tiles_config or config
    own = tuple(repr(config.get(k)) for k in _CSP_KEYS)
    key = (embed_page, own, own if tiles is config else tuple(repr(tiles.get(k)) for k in _CSP_KEYS))
    cache = app.extensions.setdefault("yizhan_csp", {})
    policy = cache.get(key)
    if policy is None:
        if len(cache) > 64:  # settings changed under a test's feet many times: start again
            cache.clear()
        policy = cache[key] = content_security_policy(config, _NONCE_MARK, embed_page, tiles)
    return policy


def _embed_page() -> bool:
    return request.endpoint is not None and is_embeddable(current_app.view_functions.get(request.endpoint))


def _set_headers(response: Response) -> Response:
    headers = response.headers
    # A nonce for every response: pages that need one have already asked for it via csp_nonce().
    embed_page = _embed_page()
    policy = _policy_template(current_app, embed_page, getattr(g, "csp_tiles_config", None))
    headers["Content-Security-Policy"] = policy.replace(_NONCE_MARK, csp_nonce())
    if not embed_page:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=(), payment=()"
    if request.is_secure:  # direct TLS, or an HTTPS proxy trusted by PROXY_COUNT (web.hosts.trust_proxies)
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


#: the methods another site's script may use: reading only
CORS_METHODS = ("GET", "HEAD", "OPTIONS")
#: the public read-only paths that answer cross-origin reads (flask-cors resources: regular expressions)
CORS_PATHS = (rf"{API_PREFIX}/.*", r"/ogc/.*", r"/ogc")
CORS_EXPOSE = ("ETag", "Link", "Content-Crs", "Content-Disposition")
CORS_REQUEST_HEADERS = ("Accept", "Accept-Language", "If-None-Match")
CORS_MAX_AGE_S = 86400


def _reads_only(response: Response) -> Response:
    """Take flask-cors's headers off every answer that is not a read or a preflight for one."""
    method = request.method
    asked = request.headers.get("Access-Control-Request-Method", "").upper()
    if method not in CORS_METHODS or (method == "OPTIONS" and asked not in ("GET", "HEAD")):
        for name in [k for k in response.headers.keys() if k.lower().startswith("access-control-")]:
            del response.headers[name]
    varies = response.headers.getlist("Vary")
    if len(varies) > 1:  # flask-cors adds its own Vary line: one line, so that response.vary keeps it
        response.headers["Vary"] = ", ".join(dict.fromkeys(v.strip() for line in varies for v in line.split(",")))
    return response


def register_cors(app: Flask) -> None:
    """flask-cors on the read-only public paths, from ``CORS_ORIGINS``; reads only (see the module doc)."""
    from flask_cors import CORS

    origins = app.config["CORS_ORIGINS"]
    app.after_request(_reads_only)  # registered first, so it runs after flask-cors's own hook
    if not origins:
        return
    anyone = origins == ["*"]
    CORS(app, resources={path: {} for path in CORS_PATHS}, origins=origins, methods=list(CORS_METHODS),
         expose_headers=list(CORS_EXPOSE), allow_headers=list(CORS_REQUEST_HEADERS), max_age=CORS_MAX_AGE_S,
         supports_credentials=False, send_wildcard=anyone, always_send=anyone, vary_header=True)


def register(app: Flask) -> None:
    """Install the header hook, CORS and the ``csp_nonce()`` Jinja global on ``app``."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_set_headers)
    register_cors(app)
