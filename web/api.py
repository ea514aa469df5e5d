"""The JSON API under /api: declared parameters (``web.requests``) -> ``stations.*`` -> JSON. No domain logic.

Each route declares its query model, answers and documentation with ``api.route``; the OpenAPI
document (``/api/openapi.json``, ``web.openapi``) is generated from those declarations and the body
schemas registered here.

Positions are WGS-84 (lon, lat) unless ``crs=gcj02|bd09`` asks for converted output (AMap and Baidu
maps). Every answer with positions names its coordinate system in a ``Content-Crs`` header, as OGC
API - Features (Part 2) does: ``<http://www.opengis.net/def/crs/OGC/1.3/CRS84>`` for WGS-84 (longitude
first). GCJ-02 and BD-09 have no registered CRS URI, so they are named by this site's URNs
``<urn:yizhan:crs:gcj02>`` and ``<urn:yizhan:crs:bd09>``, and the body says so too in a foreign member
``"coordinate_system": "gcj02"`` (on the collection, the feature, the nearest answer). Never a member
named ``crs``: RFC 7946 dropped it and GDAL and QGIS still read the old GeoJSON ``crs`` object.
Errors are answered by ``web.errors`` as ``{"error": {...}}`` with a 4xx status.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
from flask import Blueprint, Response, request

from stations import hours
from stations.coords import CRS_NAMES, convert
from stations.model import AMENITIES, COORD_DECIMALS, KINDS, STATUSES
from stations.store import record_version

from stations.exporting import FORMATS, export_stations, filename

from . import pages
from .caching import conditional, etag_of
from .errors import json_response
from .opendata import export_info, negotiate, page_links
from .openapi import build_openapi
from .requests import GEOJSON, Answer, api, error, schema
from .requests.answers import STATION_FEATURE
from .requests.queries import MAX_K, NearestQuery, StationQuery, StationsQuery
from .state import state

bp = Blueprint("api", __name__, url_prefix="/api")

#: ``Content-Crs`` per output coordinate system (see the module doc)
CONTENT_CRS = {
    "wgs84": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
    "gcj02": "<urn:yizhan:crs:gcj02>",
    "bd09": "<urn:yizhan:crs:bd09>",
}
CRS_HEADER = {"Content-Crs": {
    "description": "The coordinate system of the positions: `<http://www.opengis.net/def/crs/OGC/1.3/CRS84>` "
                   "(WGS-84, longitude first), or `<urn:yizhan:crs:gcj02>` / `<urn:yizhan:crs:bd09>` (no "
                   "registered CRS URI exists for them; this site's names).",
    "schema": {"type": "string", "enum": list(CONTENT_CRS.values())}}}
COORDINATE_SYSTEM = {"type": "string", "enum": [c for c in CRS_NAMES if c != "wgs84"],
                     "description": "present when positions are not WGS-84: the system they are in"}
NO_CRS_MEMBER = {"not": {"required": ["crs"]}}  # never the old GeoJSON crs member

# ---- answer bodies (components.schemas) ------------------------------------------------------------

_HIT = {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "kind": {"type": "string", "enum": list(KINDS)},
    "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "longitude (degrees)"},
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude (degrees)"},
    "distance_m": {"type": "number", "minimum": 0, "description": "geodesic distance on the WGS-84 ellipsoid, metres"},
    "county_code": {"type": ["string", "null"], "pattern": r"^\d{6}$"},
    "status": {"type": "string", "enum": list(STATUSES)},
    "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}},
    "opening_hours": {"type": ["string", "null"], "description": "OpenStreetMap opening_hours syntax, Asia/Shanghai time"},
}
#: what ``include=`` (and ``rank=open_first``) add to each result
_HIT_EXTRA = {
    "open_now": {"type": ["boolean", "null"],
                 "description": "open at `now`: status `open` and opening hours that say so; null when the hours are "
                                "unknown or unreadable (with `include=open_state` or `rank=open_first`)"},
    "next_change": {"type": ["string", "null"], "format": "date-time",
                    "description": "when `open_now` next changes (Asia/Shanghai time; null: not within a year, or "
                                   "not `open`, or hours unknown)"},
    "hours_text": {"type": "string", "description": "the opening hours in words, in `lang` (`include=hours_text`)"},
}
NEAREST_HIT = schema("NearestHit", {"type": "object", "required": list(_HIT), "additionalProperties": False,
                                    "properties": {**_HIT, **_HIT_EXTRA}})
NEAREST_RESPONSE = schema("NearestResponse", {
    "type": "object",
    "required": ["query", "results"],
    "additionalProperties": False,
    "properties": {
        "query": {"type": "object", "required": ["lat", "lon"], "additionalProperties": False,
                  "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                  "description": "the position asked about, WGS-84"},
        "results": {"type": "array", "items": NEAREST_HIT, "maxItems": MAX_K,
                    "description": "nearest first (`rank=open_first`: those open now first)"},
        "now": {"type": "string", "format": "date-time",
                "description": "the moment taken as now (with `include=open_state` or `rank=open_first`)"},
        "coordinate_system": COORDINATE_SYSTEM,
    },
})
LINK = schema("Link", {
    "type": "object", "required": ["href", "rel"],
    "properties": {"href": {"type": "string", "format": "uri"}, "rel": {"type": "string"},
                   "type": {"type": "string"}, "title": {"type": "string"}},
})
STATION_COLLECTION = schema("StationCollection", {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "links", "license", "attribution", "sample"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "coordinate_system": COORDINATE_SYSTEM,
        "numberMatched": {"type": "integer", "minimum": 0, "description": "stations matching the filters, all pages"},
        "numberReturned": {"type": "integer", "minimum": 0, "description": "stations on this page"},
        "links": {"type": "array", "items": LINK, "description": "`self`, `next` and `prev` (absolute URLs)"},
        "title": {"type": "string"},
        "attribution": {"type": "string", "description": "whom to credit (`DATA_ATTRIBUTION`)"},
        "license": {"type": "string", "description": "the data's licence (`DATA_LICENSE`)"},
        "data_date": {"type": ["string", "null"], "format": "date",
                      "description": "the newest `last_verified_on` of the stations on this page"},
        "exported_at": {"type": "string", "format": "date-time"},
        "sample": {"type": "boolean", "description": "true while any station on this page is sample data"},
        "notice": {"type": "string", "description": "the sample warning, attribution, licence and dates in a line"},
        "features": {"type": "array", "items": STATION_FEATURE},
    },
    **NO_CRS_MEMBER,
})
#: the other files /api/stations answers with (``format=``), by media type
EXPORT_MEDIA_TYPES = {name: f.media_type for name, f in FORMATS.items()}
EXPORT_MEDIA = {f.media_type.split(";")[0]: {"schema": {"type": "string", "contentEncoding": "binary",
                                                        "description": f.title}}
                for name, f in FORMATS.items() if name != "geojson"}
PAGE_HEADERS = {
    "Link": {"description": 'The next and previous pages (RFC 8288): `<https://...&offset=1000>; rel="next"`.',
             "schema": {"type": "string"}},
    "Content-Disposition": {"description": "With `format`: `attachment` and the file name "
                                           "(`yizhan-stations.csv`, `yizhan-stations-from-1000.gpkg`).",
                            "schema": {"type": "string"}},
}
STATION_FEATURE_OUT = schema("StationFeatureOut", {
    "description": "A station feature; with `coordinate_system` when positions are not WGS-84.",
    "allOf": [STATION_FEATURE],
    "properties": {"coordinate_system": COORDINATE_SYSTEM},
    **NO_CRS_MEMBER,
})
COUNTY_COLLECTION = schema("CountyCollection", {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "properties", "geometry"],
            "properties": {
                "type": {"const": "Feature"},
                "properties": {
                    "type": "object",
                    "required": ["adcode", "name"],
                    "properties": {
                        "adcode": {"type": "string", "pattern": r"^\d{6}$"},
                        "name": {"type": "string"},
                        "area_km2": {"type": ["number", "null"], "minimum": 0},
                        "population": {"type": ["integer", "null"], "minimum": 0},
                    },
                },
                "geometry": {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]},
                                            "coordinates": {"type": "array"}}},
            },
        }},
    },
})
HEALTH = schema("Health", {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})


# ---- helpers ---------------------------------------------------------------------------------

def _canonical_args() -> tuple:
    return tuple(sorted(request.args.items(multi=True)))


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _text_and_etag(payload: Any) -> tuple[str, str]:
    """Serialised text and an ETag of its content (for data that does not follow the store)."""
    text = _dumps(payload)
    return text, etag_of(text)


def _conditional(etag: str, build_body: Callable[[], str], mimetype: str, crs: str | None = None,
                 weak: bool = True) -> Response:
    """304 when the client has ``etag``; else the body (built lazily) with the ETag (and ``Content-Crs``)."""
    response = conditional(etag, lambda: Response(build_body(), mimetype=mimetype), weak=weak)
    if crs is not None:
        response.headers["Content-Crs"] = CONTENT_CRS[crs]
    return response


def _convert_positions(lons: list[float], lats: list[float], crs: str) -> tuple[list[float], list[float]]:
    """WGS-84 -> ``crs`` for many positions at once (vectorised), rounded like stored data."""
    if crs == "wgs84" or not lons:
        return lons, lats
    out_lon, out_lat = convert(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), "wgs84", crs)
    return ([round(float(v), COORD_DECIMALS) for v in out_lon],
            [round(float(v), COORD_DECIMALS) for v in out_lat])


def _features_in_crs(collection: dict[str, Any], crs: str) -> dict[str, Any]:
    """The FeatureCollection with every Point converted to ``crs`` and a ``coordinate_system`` member
    saying so (a new dict; input untouched)."""
    if crs == "wgs84":
        return collection
    features = collection["features"]
    lons = [f["geometry"]["coordinates"][0] for f in features]
    lats = [f["geometry"]["coordinates"][1] for f in features]
    lons, lats = _convert_positions(lons, lats, crs)
    converted = [
        {**f, "geometry": {**f["geometry"], "coordinates": [lon, lat]}}
        for f, lon, lat in zip(features, lons, lats)
    ]
    return {**collection, "coordinate_system": crs, "features": converted}


# ---- routes ----------------------------------------------------------------------------------

@bp.get("/health")
@api.route(operation_id="health", tags=("meta",), answers={200: Answer("Up.", HEALTH)})
def health() -> Response:
    """Liveness check (touches no data)

    \f The benchmark's baseline: no parameters, no data access.
    """
    response = json_response({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/nearest")
@api.route(query=NearestQuery, operation_id="nearest", tags=("stations",),
           answers={200: Answer("The nearest stations.", NEAREST_RESPONSE, headers=CRS_HEADER)})
def nearest(query: NearestQuery) -> Response:
    """The nearest stations to a position

    Nearest first, by geodesic distance on the WGS-84 ellipsoid. Same JSON as `yizhan nearest --json`.
    With `rank=open_first` (what the map asks for) the stations open now come first, nearest first, then
    the others, nearest first; with `serves=passing_worker` only rest stations and the cultural palaces
    that offer drinking water. `include` adds each result's open state and hours in words.
    """
    now = query.now or pages.now_shanghai()  # the site's one clock (tests set it there)
    filters = {"k": query.k, "kind": query.kind, "amenities": query.amenities, "statuses": query.statuses,
               "max_distance_m": query.max_distance_m, "open_24_7": query.open_24_7, "serves": query.serves}
    index = state().nearest_index()
    open_at = query.open_at(now)
    if query.rank == "open_first" and open_at is None:
        hits = index.query_open_first(query.lon, query.lat, now, **filters)
    else:  # by distance; with open_now or at every result is open then, so open first is the same order
        hits = index.query(query.lon, query.lat, open_at=open_at, **filters)
    results = [hit.to_dict() for hit in hits]
    payload: dict[str, Any] = {"query": {"lat": query.lat, "lon": query.lon}, "results": results}
    if query.includes("open_state"):
        payload["now"] = now.isoformat(timespec="seconds")
        for hit, result in zip(hits, results):
            open_now, change = hours.state_at(hit.station.opening_hours, now, hit.station.status)
            result["open_now"] = open_now
            result["next_change"] = None if change is None else change.isoformat(timespec="seconds")
    if query.includes("hours_text"):
        for hit, result in zip(hits, results):
            result["hours_text"] = hours.describe_text(hit.station.opening_hours, query.lang or "zh")
    if query.crs != "wgs84":
        lons, lats = _convert_positions([r["lon"] for r in results], [r["lat"] for r in results], query.crs)
        for result, lon, lat in zip(results, lons, lats):
            result["lon"], result["lat"] = lon, lat
        payload["coordinate_system"] = query.crs
    response = json_response(payload)
    response.headers["Cache-Control"] = "no-store"  # "open now" depends on the clock
    response.headers["Content-Crs"] = CONTENT_CRS[query.crs]
    return response


@bp.get("/stations")
@api.route(query=StationsQuery, operation_id="listStations", tags=("stations",), conditional=True,
           answers={200: Answer("One page of the stations: GeoJSON, or the file asked for with `format` (or "
                                "`Accept`).", STATION_COLLECTION, GEOJSON, {**CRS_HEADER, **PAGE_HEADERS},
                                also=EXPORT_MEDIA)})
def stations(query: StationsQuery) -> Response:
    """Stations as GeoJSON, CSV, XLSX, KML, GeoPackage or Shapefile, a page at a time

    The stations matching every filter, sorted by id, `limit` at a time from `offset`. GeoJSON (RFC 7946)
    by default: a FeatureCollection with `numberMatched` (all matches), `numberReturned` (this page) and
    `links` (`self`, `next`, `prev`) as foreign members, and the attribution, licence, data date and
    sample-data notice beside them. `format` (or `Accept`) asks for a file instead; the `Link` header
    names the next and previous pages in every format.
    """
    st = state()
    fmt = negotiate(query.format, EXPORT_MEDIA_TYPES, "geojson")
    etag = etag_of("stations", st.store.version, _canonical_args(), fmt, request.host_url)

    def geojson_page() -> tuple[str, str]:
        """(body, Link header) of the GeoJSON page."""
        chosen = st.store.query(**query.store_query(), limit=query.limit, offset=query.offset)
        links = page_links("api.stations", query.offset, query.limit, chosen.next_offset)
        collection = st.store.to_geojson(chosen)
        body = {"type": "FeatureCollection",
                **{k: v for k, v in collection.items() if k not in ("type", "features")},
                **export_info(chosen, links.self).members(),
                "numberMatched": chosen.total, "numberReturned": len(chosen),
                "links": links.json(GEOJSON), "features": collection["features"]}
        return _dumps(_features_in_crs(body, query.crs)), links.header()

    def build() -> Response:
        if fmt == "geojson":
            if query.is_empty:  # the whole map, a page at a time: serialised once per store version
                text, link = st.cached(("api.stations", _canonical_args(), request.host_url), geojson_page)
            else:
                text, link = geojson_page()
            response = Response(text, mimetype=GEOJSON)
        else:
            chosen = st.store.query(**query.store_query(), limit=query.limit, offset=query.offset)
            links = page_links("api.stations", query.offset, query.limit, chosen.next_offset)
            link = links.header()
            data = export_stations(chosen, fmt, export_info(chosen, links.self), counties=st.counties,
                                   lang=query.lang or "zh")
            response = Response(data, mimetype=FORMATS[fmt].media_type.split(";")[0])
        if query.format is not None:  # a file asked for by name: a download with a file name
            response.headers["Content-Disposition"] = content_disposition(fmt, query.offset)
        if link:
            response.headers["Link"] = link
        return response

    response = conditional(etag, build)
    response.headers["Content-Crs"] = CONTENT_CRS[query.crs]
    if query.format is None:
        response.vary.add("Accept")
    return response


def content_disposition(fmt: str, offset: int) -> str:
    """``attachment; filename=yizhan-stations.csv`` (``-from-1000`` for a later page)."""
    return f'attachment; filename="{filename(fmt, "yizhan-stations" + (f"-from-{offset}" if offset else ""))}"'


@bp.get("/stations/<station_id>")
@api.route(query=StationQuery, operation_id="getStation", tags=("stations",), conditional=True,
           path_parameters={"station_id": "The station's id, e.g. JN-RS-0001."},
           path_examples={"station_id": "JN-RS-0001"},
           answers={200: Answer("The station.", STATION_FEATURE_OUT, GEOJSON, CRS_HEADER),
                    404: error("No station with that id.")})
def station(station_id: str, query: StationQuery) -> Response:
    """One station as a GeoJSON Feature

    Its `ETag` is the station's version (strong, quoted): the value `If-Match` takes when the
    station is changed (`PATCH`, `DELETE`). With `crs` the ETag carries the system too.
    """
    st = state()
    found = st.store.get(station_id)  # NotFound -> 404 by web.errors
    feature = found.to_feature()
    version = record_version(found)
    etag = version if query.crs == "wgs84" else f"{version}-{query.crs}"
    if query.crs != "wgs84":
        feature = _features_in_crs({"features": [feature]}, query.crs)["features"][0]
        feature["coordinate_system"] = query.crs
    return _conditional(etag, lambda: _dumps(feature), GEOJSON, query.crs, weak=False)


@bp.get("/counties")
@api.route(operation_id="listCounties", tags=("stations",), conditional=True,
           answers={200: Answer("The counties.", COUNTY_COLLECTION, GEOJSON, CRS_HEADER)})
def counties() -> Response:
    """County outlines as GeoJSON

    The county-level divisions (WGS-84) with adcode, name, area_km2 and population.
    """
    st = state()
    text, etag = st.cached("api.counties", lambda: _text_and_etag(st.counties.to_geojson()))
    return _conditional(etag, lambda: text, GEOJSON, "wgs84")


@bp.get("/openapi.json")
@api.route(operation_id="openapi", tags=("meta",), conditional=True,
           answers={200: Answer("OpenAPI 3.1 document.", {"type": "object", "required": ["openapi", "paths"]})})
def openapi() -> Response:
    """This document

    Generated from the routes' declarations (parameters, answers, bounds) and the running app's
    counties and settings.
    """
    st = state()
    text, etag = st.cached("api.openapi", lambda: _text_and_etag(build_openapi()))
    return _conditional(etag, lambda: text, "application/json")
