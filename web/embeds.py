"""Embeds for other sites: the embed's options, the builder (``/embed/builder``) and oEmbed (``/oembed``).

``/embed`` itself is a map page (``web.pages.embed``); this module says what its options mean:

- ``basemap``: one of :func:`available_basemaps` (the site's own ``BASEMAP`` first; ``TILE_URL`` tiles
  belong to it alone). Another basemap than the site's is drawn from a copy of the settings
  (:func:`basemap_config`), and the answer's CSP allows that basemap's tiles (``web.security``).
- ``county`` and ``kind``: the page carries only those stations and "find the nearest" searches them
  in the browser (``config.localNearest`` of ``static/js/map.js``).
- ``controls``: the buttons shown (``web.requests.queries.CONTROLS``).

The builder writes the ``<iframe>`` code and a plain link for CMSs that strip iframes; oEmbed answers the
same iframe as a ``rich`` oEmbed 1.0 response (https://oembed.com/, section 2.3.4). Both render the code
from ``templates/_embed_code.html`` (autoescaped: the URL is escaped inside the attribute).
"""
from __future__ import annotations

import logging
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from stations.errors import quote_value
from stations.model import KINDS

from . import i18n, templating
from .errors import json_response
from .requests import api, pages as page_routes
from .requests.answers import ERROR, Answer
from .requests.fields import ParameterError
from .requests.queries import (CONTROLS, FRAME_HEIGHT_DEFAULT, FRAME_WIDTH_DEFAULT, FULL_WIDTH, NO_CONTROLS, BuilderQuery,
                               EmbedQuery, OembedQuery)
from .settings import BASEMAP_NAMES
from .state import state

log = logging.getLogger(__name__)

bp = Blueprint("embeds", __name__)
bp.after_request(templating.finish_html)

#: basemaps drawn without a key, besides the site's own
KEYLESS_BASEMAPS = ("osm", "amap")
#: the iframe's permissions: the position for "find the nearest", full screen for its button
FRAME_ALLOW = "geolocation; fullscreen"
FRAME_REFERRER_POLICY = "strict-origin-when-cross-origin"
OEMBED_VERSION = "1.0"
OEMBED_CACHE_AGE_S = 24 * 3600
#: the pages whose URL oEmbed takes: the embed, and the map (the same options, as its embed)
OEMBED_PAGES = ("pages.embed", "pages.index")


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return templating.page_globals()


def available_basemaps(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The basemaps an embed may ask for: the site's ``BASEMAP`` first, then those drawn without a key
    (Tianditu where ``TIANDITU_KEY`` is set), then ``none``. A site with its own tiles (``TILE_URL``)
    offers only them and ``none``: its public may not reach any other."""
    own = config["BASEMAP"]
    if config.get("TILE_URL"):
        names = [own, "none"]
    else:
        names = [own, *KEYLESS_BASEMAPS, *(("tianditu",) if config.get("TIANDITU_KEY") else ()), "none"]
    return tuple(n for n in dict.fromkeys(names) if n in BASEMAP_NAMES)


def basemap_config(config: Mapping[str, Any], name: str | None) -> Mapping[str, Any]:
    """The settings to draw ``name`` with: the app's own for its basemap, else a copy without the site's
    tile overrides (``TILE_URL``, ``TILE_ATTRIBUTION``, ``TILE_HOSTS`` belong to ``BASEMAP``)."""
    if not name or name == config["BASEMAP"]:
        return config
    return {**config, "BASEMAP": name, "TILE_URL": None, "TILE_ATTRIBUTION": None, "TILE_HOSTS": None}


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute URL of ours (``PUBLIC_URL`` wins over the request's host)."""
    from .pages import page_url
    return page_url(endpoint, **values)


def embed_parameters(query: EmbedQuery) -> list[tuple[str, str]]:
    """The query string of ``/embed`` for ``query``'s options, in a stable order, defaults left out."""
    out: list[tuple[str, str]] = []
    if query.county:
        out.append(("county", query.county))
    if query.kind:
        out.append(("kind", ",".join(k for k in KINDS if k in query.kind)))
    if query.lang:
        out.append(("lang", query.lang))
    if query.basemap and query.basemap != current_app.config["BASEMAP"]:
        out.append(("basemap", query.basemap))
    shown = query.shown_controls
    if tuple(shown) != CONTROLS:
        out.append(("controls", ",".join(c for c in CONTROLS if c in shown) or NO_CONTROLS))
    return out


def embed_url(query: EmbedQuery) -> str:
    """The absolute ``/embed`` URL of ``query``'s options."""
    params = embed_parameters(query)
    return absolute_url("pages.embed") + (("?" + urlencode(params, safe=",")) if params else "")


def embed_title(query: EmbedQuery, lang: str) -> str:
    """The frame's title: "邹城市 · 驿站地图 · 济宁市"."""
    city = current_app.config["CITY_NAME"]
    title = f"{i18n.translate('site_title', lang)} · {city}"
    if query.county:
        title = f"{state().counties.name(query.county)} · {title}"
    return title


def frame_code(src: str, title: str, width: str | int, height: int) -> str:
    """The ``<iframe>`` code for a host page (autoescaped: ``src`` and ``title`` are attribute-safe)."""
    return render_template("_embed_code.html", what="iframe", src=src, title=title, width=width, height=height,
                           allow=FRAME_ALLOW, referrer_policy=FRAME_REFERRER_POLICY).strip()


def link_code(src: str, text: str) -> str:
    """A plain link to the embed, for a CMS that strips iframes."""
    return render_template("_embed_code.html", what="link", src=src, text=text).strip()


# ---- the builder --------------------------------------------------------------------------------

@bp.get("/embed/builder")
@page_routes.route(query=BuilderQuery)
def builder(query: BuilderQuery):
    """The embed builder: choose the options, see the map, copy the ``<iframe>`` code or the plain link.

    Works without script (the form reloads the page with the code for its options); the page script
    updates the preview and the code as the options change.
    """
    lang = i18n.get_lang()
    embed_lang = query.embed_lang or lang
    counties = state().counties
    values = {name: getattr(query, name) for name in EmbedQuery.model_fields}
    controls = query.shown_controls
    options = EmbedQuery.model_construct(**{**values, "lang": embed_lang,
                                            "controls": controls if controls else (NO_CONTROLS,)})
    src = embed_url(options)
    width = query.width or FULL_WIDTH
    title = embed_title(options, embed_lang)
    data = {
        "base": absolute_url("pages.embed"),
        "siteBasemap": current_app.config["BASEMAP"],
        "controls": list(CONTROLS),
        "titles": {code: {lg: f"{counties.name(code)} · {i18n.translate('site_title', lg)} · "
                              f"{current_app.config['CITY_NAME']}" for lg in i18n.LANGS} for code in counties.codes},
        "titleAll": {lg: f"{i18n.translate('site_title', lg)} · {current_app.config['CITY_NAME']}" for lg in i18n.LANGS},
        "linkText": {lg: i18n.translate("embed.link_text", lg) for lg in i18n.LANGS},
        "allow": FRAME_ALLOW, "referrerPolicy": FRAME_REFERRER_POLICY,
        "strings": {k: i18n.translate(k, lang) for k in ("embed.copied", "embed.copy_failed")},
    }
    return render_template(
        "embed_builder.html", query=query, options=options, src=src, width=width, height=query.height,
        code=frame_code(src, title, width, query.height), link=link_code(src, i18n.translate("embed.link_text",
                                                                                            embed_lang)),
        county_options=[(code, counties.name(code)) for code in counties.codes], kinds=KINDS,
        basemaps=available_basemaps(current_app.config), controls=CONTROLS, shown=set(query.shown_controls),
        builder_json=templating.page_json(data), oembed_url=oembed_discovery_url(src),
    )


# ---- oEmbed -------------------------------------------------------------------------------------

def oembed_discovery_url(page_url: str) -> str:
    """The ``/oembed`` URL that describes ``page_url`` (the discovery ``<link>``'s ``href``)."""
    return absolute_url("embeds.oembed", url=page_url, format="json")


def _our_hosts() -> set[str]:
    hosts = {request.host.lower()}
    public = current_app.config.get("PUBLIC_URL")
    if public:
        hosts.add(urlsplit(public).netloc.lower())
    return hosts


def _embed_query_of(url: str) -> EmbedQuery:
    """The embed options of one of our embeddable pages' URL; 404 for any other URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in _our_hosts():
        abort(404, f"url={quote_value(url)} is not a page of this site")
    adapter = current_app.url_map.bind(parts.netloc, script_name=request.script_root or "/")
    path = parts.path or "/"
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:  # werkzeug's NotFound, RequestRedirect, MethodNotAllowed: no such page
        endpoint = None
    if endpoint not in OEMBED_PAGES:
        abort(404, f"url={quote_value(url)} is not an embeddable page of this site (/embed or the map /)")
    args = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
    if endpoint == "pages.index":  # the map: its county and language, as the embed
        args = MultiDict([(k, v) for k, v in args.items(multi=True) if k in ("county", "lang")])
    try:
        return EmbedQuery.from_args(args)
    except ParameterError as exc:
        abort(404, f"url={quote_value(url)} is not an embeddable page of this site: {exc}")


OEMBED_RESPONSE = {
    "type": "object",
    "required": ["version", "type", "html", "width", "height"],
    "properties": {
        "version": {"const": OEMBED_VERSION}, "type": {"const": "rich"},
        "title": {"type": "string"}, "provider_name": {"type": "string"},
        "provider_url": {"type": "string", "format": "uri"},
        "html": {"type": "string", "description": "The `<iframe>` of the embed (its URL escaped)."},
        "width": {"type": "integer"}, "height": {"type": "integer"},
        "cache_age": {"type": "integer"},
    },
}


@bp.get("/oembed")
@api.route(query=OembedQuery, operation_id="oembed", tags=("stations",), answers={
    200: Answer("The embed as a `rich` oEmbed 1.0 response.", OEMBED_RESPONSE),
    404: Answer("The URL is not a page of this site, or not an embeddable one (`/embed`, the map `/`).", ERROR),
    501: Answer("A format other than `json`.", ERROR),
})
def oembed(query: OembedQuery) -> Response:
    """oEmbed for the map

    The `<iframe>` of the embeddable map for `url` (an `/embed?...` URL of this site, or the map `/?...`,
    whose county and language carry over), as a `rich` oEmbed 1.0 response. Its size is the builder's
    default (640 × 480 pixels), shrunk to `maxwidth` and `maxheight`. Embed pages carry the discovery
    `<link rel="alternate" type="application/json+oembed">`.
    """
    if query.format != "json":
        abort(501, f"format={quote_value(query.format)} is not served; allowed: json")
    options = _embed_query_of(query.url)
    lang = options.lang or current_app.config["DEFAULT_LANG"]
    width = min(FRAME_WIDTH_DEFAULT, query.maxwidth or FRAME_WIDTH_DEFAULT)
    height = min(FRAME_HEIGHT_DEFAULT, query.maxheight or FRAME_HEIGHT_DEFAULT)
    title = embed_title(options, lang)
    src = embed_url(options)
    payload = {
        "version": OEMBED_VERSION, "type": "rich", "title": title,
        "provider_name": f"{i18n.translate('site_title', lang)} · {current_app.config['CITY_NAME']}",
        "provider_url": absolute_url("pages.index"), "cache_age": OEMBED_CACHE_AGE_S,
        "html": frame_code(src, title, width, height), "width": width, "height": height,
    }
    return json_response(payload)
