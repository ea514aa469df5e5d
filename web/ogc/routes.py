"""The OGC API - Features routes under ``/ogc``: parse (``web.ogc.queries``) -> documents -> JSON or HTML.

``f=json|html`` chooses the format; without it ``Accept`` does, JSON first (``*/*``, QGIS and OWSLib
get JSON; a browser gets HTML), and the answer varies on ``Accept``. Features are GeoJSON
(``application/geo+json``) with CRS84 positions, named in a ``Content-Crs`` header; GCJ-02 and
BD-09 have no registered CRS URI and are never offered here. Each collection has its own routes
(``/ogc/collections/stations/items``...), so the OpenAPI document (``/api/openapi.json``) lists each
collection's own filters; any other collection id matches no route: a 404 (JSON, or HTML as negotiated).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from flask import Blueprint, Response, render_template

from .. import i18n, templating
from ..caching import conditional, etag_of
from ..errors import json_response
from ..opendata import absolute_url, negotiate
from ..requests import GEOJSON, Answer, api, schema
from ..requests.answers import ERROR
from . import documents
from .collections import COLLECTIONS, Collection
from .queries import OgcQuery

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
bp.after_request(templating.finish_html)  # language cookie, gzip

CONTENT_CRS = f"<{documents.CRS84}>"
TAGS = ("ogc",)
HTML_BODY = {"text/html": {"schema": {"type": "string", "description": "the same document as an HTML page"}}}
CRS_HEADER = {"Content-Crs": {"description": "`<http://www.opengis.net/def/crs/OGC/1.3/CRS84>`: WGS-84 "
                                             "longitude/latitude.", "schema": {"type": "string"}}}


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return templating.page_globals()


# ---- documented answers ------------------------------------------------------------------------

_LINK = {"type": "object", "required": ["href", "rel"],
         "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                        "title": {"type": "string"}}}
LINKS = {"type": "array", "items": _LINK}
LANDING = schema("OgcLandingPage", {"type": "object", "required": ["links"],
                                    "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                                                   "links": LINKS}})
CONFORMANCE = schema("OgcConformance", {"type": "object", "required": ["conformsTo"],
                                        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}},
                                                       "links": LINKS}})
COLLECTION = schema("OgcCollection", {
    "type": "object", "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "links": LINKS, "itemType": {"const": "feature"}, "crs": {"type": "array", "items": {"type": "string"}},
        "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
            "bbox": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4, "maxItems": 4,
                                                              "items": {"type": "number"}}},
            "crs": {"const": documents.CRS84}}}}},
    },
})
COLLECTIONS_DOC = schema("OgcCollections", {"type": "object", "required": ["links", "collections"],
                                            "properties": {"links": LINKS,
                                                           "collections": {"type": "array", "items": COLLECTION}}})
FEATURE = {"type": "object", "required": ["type", "geometry", "properties"],
           "properties": {"type": {"const": "Feature"}, "id": {"type": ["string", "integer"]},
                          "geometry": {"type": "object"}, "properties": {"type": ["object", "null"]},
                          "links": LINKS}}
OGC_FEATURE = schema("OgcFeature", FEATURE)
OGC_ITEMS = schema("OgcFeatureCollection", {
    "type": "object", "required": ["type", "features"],
    "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": FEATURE},
                   "links": LINKS, "timeStamp": {"type": "string", "format": "date-time"},
                   "numberMatched": {"type": "integer", "minimum": 0},
                   "numberReturned": {"type": "integer", "minimum": 0}},
})
BAD_PARAMETER = Answer("A parameter is invalid, or not one this resource defines (OGC API - Features answers "
                       "400 to unknown parameters); `error.parameter` names it.", ERROR, also=HTML_BODY)
NOT_FOUND = Answer("No such collection or feature.", ERROR, also=HTML_BODY)


def _answers(description: str, body: dict[str, str], media: str = "application/json",
             headers: dict[str, Any] | None = None, not_found: bool = False) -> dict[int, Answer]:
    answers = {200: Answer(description, body, media, headers or {}, also=HTML_BODY), 400: BAD_PARAMETER}
    if not_found:
        answers[404] = NOT_FOUND
    return answers


# ---- rendering ---------------------------------------------------------------------------------

def _format(query: OgcQuery, json_media: str) -> str:
    return negotiate(query.f, {"json": json_media, "html": "text/html"}, "json")


def _answer(query: OgcQuery, json_media: str, build: Callable[[str, str], dict[str, Any]], template: str,
            etag_parts: tuple | None = None, **context: Any) -> Response:
    """The document ``build(lang, fmt)`` as JSON (``json_media``) or as the HTML page ``template``; with
    ``etag_parts`` a conditional GET (304 when unchanged)."""
    fmt = _format(query, json_media)
    lang = i18n.get_lang()

    def render() -> Response:
        doc = build(lang, fmt)
        if fmt == "html":
            return Response(render_template(template, doc=doc, doc_json=json.dumps(doc, ensure_ascii=False),
                                            **context), mimetype="text/html")
        return json_response(doc, mimetype=json_media)

    if etag_parts is None:
        response = render()
    else:
        from flask import request
        response = conditional(etag_of("ogc", *etag_parts, fmt, lang, tuple(sorted(request.args.items(multi=True))),
                                       request.host_url), render)
    if query.f is None:
        response.vary.add("Accept")
    return response


# ---- the service -------------------------------------------------------------------------------

@bp.get("/")
@api.route(query=OgcQuery, operation_id="ogcLandingPage", tags=TAGS,
           answers=_answers("The landing page: links to the API definition, the conformance declaration and the "
                            "collections.", LANDING))
def landing(query: OgcQuery) -> Response:
    """OGC API - Features: landing page

    The start of the OGC API - Features service (Part 1: Core, GeoJSON and HTML) over the stations and
    the county outlines: QGIS, ArcGIS Pro and OWSLib connect to this URL.
    """
    return _answer(query, "application/json", lambda lang, fmt: documents.landing(lang), "ogc/landing.html",
                   service_url=absolute_url("ogc.landing"))


@bp.get("/conformance")
@api.route(query=OgcQuery, operation_id="ogcConformance", tags=TAGS,
           answers=_answers("The conformance classes this service meets.", CONFORMANCE))
def conformance(query: OgcQuery) -> Response:
    """OGC API - Features: conformance declaration

    Core, GeoJSON and HTML of OGC API - Features - Part 1: Core 1.0.
    """
    return _answer(query, "application/json", lambda lang, fmt: documents.conformance(lang),
                   "ogc/conformance.html")


@bp.get("/collections")
@api.route(query=OgcQuery, operation_id="ogcCollections", tags=TAGS,
           answers=_answers("The collections: `stations` and `counties`.", COLLECTIONS_DOC))
def collections(query: OgcQuery) -> Response:
    """OGC API - Features: the collections

    Each with its title, description, spatial extent (CRS84), CRS list and links to its items.
    """
    return _answer(query, "application/json", lambda lang, fmt: documents.collections(lang),
                   "ogc/collections.html")


def _register(c: Collection) -> None:
    """The three routes of one collection: its document, its items, one item."""
    title = c.id
    base = f"/collections/{c.id}"
    capital = c.id.capitalize()

    def collection_view(query: OgcQuery) -> Response:
        return _answer(query, "application/json", lambda lang, fmt: documents.collection(c, lang),
                       "ogc/collection.html", collection=c)

    collection_view.__doc__ = f"OGC API - Features: the {title} collection\n\nIts extent, CRS and links to its items."
    bp.add_url_rule(base, endpoint=f"{c.id}_collection", methods=["GET"], view_func=api.route(
        query=OgcQuery, operation_id=f"ogcCollection{capital}", tags=TAGS,
        answers=_answers(f"The {title} collection.", COLLECTION))(collection_view))

    def items_view(query) -> Response:
        def build(lang: str, fmt: str) -> dict[str, Any]:
            return documents.items(c, c.select(query), query, lang, fmt)

        response = _answer(query, GEOJSON, build, "ogc/items.html", etag_parts=(c.id, c.version()), collection=c)
        response.headers["Content-Crs"] = CONTENT_CRS
        return response

    items_view.__doc__ = (f"OGC API - Features: the {title}, a page at a time\n\nGeoJSON (CRS84) with "
                          "`numberMatched`, `numberReturned`, `timeStamp` and `next`/`prev` links; `bbox`, "
                          "`limit`, `offset` and the property filters select.")
    bp.add_url_rule(f"{base}/items", endpoint=f"{c.id}_items", methods=["GET"], view_func=api.route(
        query=c.query, operation_id=f"ogcItems{capital}", tags=TAGS, conditional=True,
        answers=_answers(f"A page of the {title}.", OGC_ITEMS, GEOJSON, CRS_HEADER))(items_view))

    def item_view(item_id: str, query: OgcQuery) -> Response:
        feature = c.feature(item_id)  # NotFound -> 404 by web.errors
        response = _answer(query, GEOJSON, lambda lang, fmt: documents.item(c, feature, lang), "ogc/item.html",
                           etag_parts=(c.id, c.version(), item_id), collection=c)
        response.headers["Content-Crs"] = CONTENT_CRS
        return response

    item_view.__doc__ = f"OGC API - Features: one of the {title}\n\nA GeoJSON Feature (CRS84) with its links."
    example = "JN-RS-0001" if c.id == "stations" else "370811"
    bp.add_url_rule(f"{base}/items/<item_id>", endpoint=f"{c.id}_item", methods=["GET"], view_func=api.route(
        query=OgcQuery, operation_id=f"ogcItem{capital}", tags=TAGS, conditional=True,
        path_parameters={"item_id": f"The feature's id, e.g. {example}."}, path_examples={"item_id": example},
        answers=_answers(f"One of the {title}.", OGC_FEATURE, GEOJSON, CRS_HEADER, not_found=True))(item_view))


for _collection in COLLECTIONS.values():
    _register(_collection)
