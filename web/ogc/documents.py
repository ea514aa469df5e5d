"""The OGC API's JSON documents: landing page, conformance, collections, a collection, items, an item.

Each is a plain dict built from the collections (``web.ogc.collections``) and absolute links; the
HTML pages render these same dicts (``templates/ogc/``). Links carry ``rel``, ``type`` and ``title``
as OGC API - Features Core asks: ``self`` and ``alternate`` (JSON and HTML twins, each naming its
format with ``f``), ``service-desc`` (the OpenAPI document, ``/api/openapi.json``), ``conformance``,
``data``, ``items``, ``collection``, ``next``/``prev`` and ``license``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import current_app

from .. import i18n
from ..opendata import absolute_url, page_links, request_args
from ..requests import GEOJSON
from .collections import COLLECTIONS, Collection, Selection
from .queries import ItemsQuery

JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: the conformance classes of OGC API - Features - Part 1: Core 1.0 this API meets (not oas30: the
#: API definition is OpenAPI 3.1)
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
)
_SPDX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")


def endpoint(collection_id: str, resource: str) -> str:
    """The Flask endpoint of a collection's resource: ``ogc.stations_items``."""
    return f"ogc.{collection_id}_{resource}"


def link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def twins(endpoint_name: str, lang: str, json_media: str = JSON, **path: Any) -> list[dict[str, str]]:
    """``self`` (JSON) and ``alternate`` (HTML) of a resource, this request's parameters kept."""
    args = request_args(drop=("f",))
    t = _t(lang)
    return [link(absolute_url(endpoint_name, {**args, "f": ["json"]}, **path), "self", json_media, t("ogc.link.json")),
            link(absolute_url(endpoint_name, {**args, "f": ["html"]}, **path), "alternate", HTML,
                 t("ogc.link.html"))]


def _t(lang: str):
    return lambda key, **values: i18n.translate(key, lang, **values)


def landing(lang: str) -> dict[str, Any]:
    t = _t(lang)
    city = current_app.config.get("CITY_NAME", "")
    return {
        "title": t("ogc.title", city=city),
        "description": t("ogc.description", city=city),
        "attribution": current_app.config["DATA_ATTRIBUTION"],
        "links": [
            *twins("ogc.landing", lang),
            link(absolute_url("api.openapi"), "service-desc", OPENAPI, t("ogc.link.service_desc")),
            link(absolute_url("ogc.conformance"), "conformance", JSON, t("ogc.link.conformance")),
            link(absolute_url("ogc.collections"), "data", JSON, t("ogc.link.data")),
        ],
    }


def conformance(lang: str) -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE), "links": twins("ogc.conformance", lang)}


def license_links(lang: str) -> list[dict[str, str]]:
    """A ``license`` link when ``DATA_LICENSE`` is an SPDX id (CC-BY-4.0): its page at spdx.org."""
    name = current_app.config["DATA_LICENSE"]
    if not _SPDX.fullmatch(name):
        return []
    return [link(f"https://spdx.org/licenses/{name}.html", "license", HTML, name)]


def collection(c: Collection, lang: str, listed: bool = False) -> dict[str, Any]:
    """A collection's document; ``listed``: as an entry of ``/collections`` (its ``self`` is its own URL)."""
    t = _t(lang)
    config = current_app.config
    description = t(f"ogc.{c.id}.description")
    if c.sample():
        description = f"{t('ogc.sample_notice')} {description}"
    own = endpoint(c.id, "collection")
    links = ([link(absolute_url(own, {"f": ["json"]}), "self", JSON, t("ogc.link.json")),
              link(absolute_url(own, {"f": ["html"]}), "alternate", HTML, t("ogc.link.html"))]
             if listed else twins(own, lang))
    items = endpoint(c.id, "items")
    links += [
        link(absolute_url(items, {"f": ["json"]}), "items", GEOJSON, t("ogc.link.items_json")),
        link(absolute_url(items, {"f": ["html"]}), "items", HTML, t("ogc.link.items_html")),
        *license_links(lang),
    ]
    return {
        "id": c.id,
        "title": t(f"ogc.{c.id}.title"),
        "description": description,
        "attribution": config["DATA_ATTRIBUTION"],
        "license": config["DATA_LICENSE"],
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(c.bbox())], "crs": CRS84}},
        "links": links,
    }


def collections(lang: str) -> dict[str, Any]:
    return {"links": twins("ogc.collections", lang),
            "collections": [collection(c, lang, listed=True) for c in COLLECTIONS.values()]}


def time_stamp() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def items(c: Collection, selection: Selection, query: ItemsQuery, lang: str, fmt: str) -> dict[str, Any]:
    """A page of features: ``numberMatched``, ``numberReturned``, ``timeStamp``, and links to the
    other pages in the same format (``f``) and to this page in the other."""
    t = _t(lang)
    name = endpoint(c.id, "items")
    pages = page_links(name, query.offset, query.limit, selection.next_offset, override={"f": [fmt]})
    other = "html" if fmt == "json" else "json"
    alternate = page_links(name, query.offset, query.limit, selection.next_offset, override={"f": [other]})
    media = {"json": GEOJSON, "html": HTML}
    links = [link(pages.self, "self", media[fmt], t(f"ogc.link.{fmt}")),
             link(alternate.self, "alternate", media[other], t(f"ogc.link.{other}"))]
    if pages.next:
        links.append(link(pages.next, "next", media[fmt], t("ogc.link.next")))
    if pages.prev:
        links.append(link(pages.prev, "prev", media[fmt], t("ogc.link.prev")))
    links.append(link(absolute_url(endpoint(c.id, "collection"), {"f": ["json"]}), "collection", JSON,
                      t(f"ogc.{c.id}.title")))
    return {
        "type": "FeatureCollection",
        "features": selection.features,
        "links": links,
        "timeStamp": time_stamp(),
        "numberMatched": selection.matched,
        "numberReturned": len(selection.features),
    }


def item(c: Collection, feature: Mapping[str, Any], lang: str) -> dict[str, Any]:
    t = _t(lang)
    item_id = feature["id"]
    links = twins(endpoint(c.id, "item"), lang, GEOJSON, item_id=item_id)
    links.append(link(absolute_url(endpoint(c.id, "collection"), {"f": ["json"]}), "collection", JSON,
                      t(f"ogc.{c.id}.title")))
    return {**feature, "links": links}
