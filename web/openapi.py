"""The OpenAPI 3.1 document of the JSON API, built from the one vocabulary in ``stations.model``.

The station feature schema is ``stations/schema.json`` (the same file the store's validation is
kept in step with), embedded under ``components.schemas.StationFeature``.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from stations.coords import CRS_NAMES
from stations.model import AMENITIES, KINDS, STATUSES

from .params import DEFAULT_K, MAX_DISTANCE_M, MAX_K

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "stations" / "schema.json"
VERSION = "1.0.0"


@lru_cache(maxsize=1)
def station_feature_schema() -> dict[str, Any]:
    """``stations/schema.json`` without ``$schema``/``$id`` (it becomes part of this document)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum_doc(vocabulary: dict[str, dict[str, str]]) -> str:
    return "; ".join(f"`{k}` {v.get('en', '')} ({v.get('zh', '')})" for k, v in vocabulary.items())


def _param(name: str, schema: dict[str, Any], description: str, required: bool = False,
           **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, **extra}


def _json(schema: dict[str, Any], mimetype: str = "application/json") -> dict[str, Any]:
    return {mimetype: {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("Error"))}


CRS_PARAM = _param(
    "crs", {"type": "string", "enum": list(CRS_NAMES), "default": "wgs84"},
    "Coordinate system of positions in the answer: `wgs84` (GeoJSON, OSM, Tianditu), `gcj02` "
    "(AMap/Gaode, Tencent) or `bd09` (Baidu). When not wgs84 the answer carries a `crs` member.")
AMENITY_PARAM = _param(
    "amenity", {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}, "uniqueItems": True},
    "Required amenities, all of them: repeat the parameter or separate with commas. " + _enum_doc(AMENITIES),
    style="form", explode=True)
KIND_PARAM = _param("kind", {"type": "string", "enum": list(KINDS)}, "Only this kind. " + _enum_doc(KINDS))

COMMON_ERRORS = {
    "400": _error("A parameter is missing or invalid; `error.parameter` names it. Also the answer to a "
                  "request for a host the site does not serve (`TRUSTED_HOSTS`)."),
    "414": _error("The URL (path and query string) is longer than `MAX_URL_LENGTH` (default 4,096 bytes). "
                  "Past 8,190 bytes for the whole request line the HTTP server answers before the app, "
                  "with a short HTML body."),
    "431": {"description": "A request header is longer than 8,190 bytes, or there are more than 100 header "
                           "fields: answered by the HTTP server before the app (short HTML body, no JSON)."},
    "500": _error("Unexpected server error (logged; no detail is given)."),
}
CACHED_HEADERS = {
    "ETag": {"description": "Changes when the data changes; send it back in If-None-Match.",
             "schema": {"type": "string"}},
}
NOT_MODIFIED = {"description": "Not modified since the ETag given in If-None-Match.", "headers": CACHED_HEADERS}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag from an earlier answer; 304 if nothing changed.",
                 "schema": {"type": "string"}}


def components(counties=None) -> dict[str, Any]:
    county_codes = list(counties.codes) if counties is not None else []
    hit_props: dict[str, Any] = {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "longitude (degrees)"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude (degrees)"},
        "distance_m": {"type": "number", "minimum": 0,
                       "description": "geodesic distance on the WGS-84 ellipsoid, metres"},
        "county_code": {"type": ["string", "null"], "pattern": r"^\d{6}$"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}},
        "opening_hours": {"type": ["string", "null"],
                          "description": "OpenStreetMap opening_hours syntax, Asia/Shanghai time"},
    }
    return {
        "schemas": {
            "StationFeature": station_feature_schema(),
            "StationCollection": {
                "type": "object",
                "required": ["type", "features"],
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "crs": {"type": "string", "enum": list(CRS_NAMES)},
                    "features": {"type": "array", "items": _ref("StationFeature")},
                },
            },
            "StationFeatureOut": {
                "description": "A station feature; with `crs` when positions are not WGS-84.",
                "allOf": [_ref("StationFeature")],
                "properties": {"crs": {"type": "string", "enum": list(CRS_NAMES)}},
            },
            "NearestHit": {
                "type": "object",
                "required": list(hit_props),
                "additionalProperties": False,
                "properties": hit_props,
            },
            "NearestResponse": {
                "type": "object",
                "required": ["query", "results"],
                "additionalProperties": False,
                "properties": {
                    "query": {
                        "type": "object",
                        "required": ["lat", "lon"],
                        "additionalProperties": False,
                        "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                        "description": "the position asked about, WGS-84",
                    },
                    "results": {"type": "array", "items": _ref("NearestHit"), "maxItems": MAX_K,
                                "description": "nearest first"},
                    "crs": {"type": "string", "enum": list(CRS_NAMES)},
                },
            },
            "CountyCollection": {
                "type": "object",
                "required": ["type", "features"],
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "features": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["type", "properties", "geometry"],
                            "properties": {
                                "type": {"const": "Feature"},
                                "properties": {
                                    "type": "object",
                                    "required": ["adcode", "name"],
                                    "properties": {
                                        "adcode": {"type": "string", "pattern": r"^\d{6}$",
                                                   **({"enum": county_codes} if county_codes else {})},
                                        "name": {"type": "string"},
                                        "area_km2": {"type": ["number", "null"], "minimum": 0},
                                        "population": {"type": ["integer", "null"], "minimum": 0},
                                    },
                                },
                                "geometry": {
                                    "type": "object",
                                    "required": ["type", "coordinates"],
                                    "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]},
                                                   "coordinates": {"type": "array"}},
                                },
                            },
                        },
                    },
                },
            },
            "Health": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"const": "ok"}},
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["status", "message"],
                        "properties": {
                            "status": {"type": "integer", "minimum": 400, "maximum": 599},
                            "message": {"type": "string"},
                            "parameter": {"type": "string", "description": "the offending parameter"},
                            "value": {"description": "the value it had (as sent; a text over 200 characters "
                                                     "is cut, ending with …)"},
                            "value_length": {"type": "integer", "minimum": 0,
                                             "description": "the length of a cut text value, in characters"},
                            "problems": {"type": "array", "items": {"type": "object"},
                                         "description": "every problem, up to 20"},
                            "problems_total": {"type": "integer", "minimum": 0,
                                               "description": "how many problems there were, when over 20"},
                        },
                    },
                },
            },
        },
    }


def paths(counties=None) -> dict[str, Any]:
    county_doc = "County: its 6-digit adcode or its exact name"
    if counties is not None:
        county_doc += " (" + ", ".join(f"`{c}` {counties.name(c)}" for c in counties.codes) + ")"
    return {
        "/api/nearest": {"get": {
            "operationId": "nearest",
            "summary": "The nearest stations to a position",
            "description": "Nearest first, by geodesic distance on the WGS-84 ellipsoid. Same JSON as "
                           "`yizhan nearest --json`.",
            "parameters": [
                _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude, WGS-84 degrees.", True),
                _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude, WGS-84 degrees.", True),
                _param("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K},
                       "How many stations."),
                KIND_PARAM,
                AMENITY_PARAM,
                _param("open_now", {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"],
                                    "default": "0"},
                       "Only stations whose opening hours say they are open now (Asia/Shanghai time)."),
                _param("at", {"type": "string", "format": "date-time"},
                       "Only stations open at this time (ISO 8601; Asia/Shanghai time unless an offset is "
                       "given). Not together with open_now."),
                _param("open_24_7", {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"],
                                     "default": "0"},
                       "Only stations open around the clock: opening hours that parse and cover every "
                       "moment (`24/7`, `Mo-Su 00:00-24:00`, ...). Combines with open_now and at."),
                _param("max_distance_m", {"type": "number", "minimum": 0, "maximum": MAX_DISTANCE_M},
                       "Only stations within this many metres."),
                _param("status", {"type": "array", "items": {"type": "string", "enum": list(STATUSES)},
                                  "default": ["open"]},
                       "Statuses to include (repeat or comma-separate); default open only. " + _enum_doc(STATUSES),
                       style="form", explode=True),
                CRS_PARAM,
            ],
            "responses": {
                "200": {"description": "The nearest stations.", "content": _json(_ref("NearestResponse"))},
                **COMMON_ERRORS,
            },
        }},
        "/api/stations": {"get": {
            "operationId": "listStations",
            "summary": "Stations as GeoJSON",
            "description": "A GeoJSON FeatureCollection (RFC 7946) of the stations matching every filter, "
                           "sorted by id.",
            "parameters": [
                KIND_PARAM,
                _param("county", {"type": "string"}, county_doc + "."),
                _param("status", {"type": "string", "enum": list(STATUSES)}, "Only this status. " + _enum_doc(STATUSES)),
                AMENITY_PARAM,
                _param("bbox", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                       "minlon,minlat,maxlon,maxlat in WGS-84 degrees (longitude first), min <= max.",
                       style="form", explode=False, example=[116.5, 35.3, 116.7, 35.5]),
                CRS_PARAM,
                IF_NONE_MATCH,
            ],
            "responses": {
                "200": {"description": "The stations.", "headers": CACHED_HEADERS,
                        "content": _json(_ref("StationCollection"), "application/geo+json")},
                "304": NOT_MODIFIED,
                **COMMON_ERRORS,
            },
        }},
        "/api/stations/{station_id}": {"get": {
            "operationId": "getStation",
            "summary": "One station as a GeoJSON Feature",
            "parameters": [
                {"name": "station_id", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "The station's id, e.g. JN-RS-0001.", "example": "JN-RS-0001"},
                CRS_PARAM,
                IF_NONE_MATCH,
            ],
            "responses": {
                "200": {"description": "The station.", "headers": CACHED_HEADERS,
                        "content": _json(_ref("StationFeatureOut"), "application/geo+json")},
                "304": NOT_MODIFIED,
                "404": _error("No station with that id."),
                **COMMON_ERRORS,
            },
        }},
        "/api/counties": {"get": {
            "operationId": "listCounties",
            "summary": "County outlines as GeoJSON",
            "description": "The county-level divisions (WGS-84) with adcode, name, area_km2 and population.",
            "parameters": [IF_NONE_MATCH],
            "responses": {
                "200": {"description": "The counties.", "headers": CACHED_HEADERS,
                        "content": _json(_ref("CountyCollection"), "application/geo+json")},
                "304": NOT_MODIFIED,
                "500": COMMON_ERRORS["500"],
            },
        }},
        "/api/health": {"get": {
            "operationId": "health",
            "summary": "Liveness check (touches no data)",
            "responses": {"200": {"description": "Up.", "content": _json(_ref("Health"))}},
        }},
        "/api/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document",
            "parameters": [IF_NONE_MATCH],
            "responses": {
                "200": {"description": "OpenAPI 3.1 document.", "headers": CACHED_HEADERS,
                        "content": _json({"type": "object", "required": ["openapi", "paths"]})},
                "304": NOT_MODIFIED,
            },
        }},
    }


def build_openapi(counties=None, limits=None) -> dict[str, Any]:
    """The whole document; ``counties`` (optional) adds the known county codes, ``limits`` (``web.limits``,
    default the settings' defaults) the configured bounds of the coverage endpoints."""
    from .limits import read_settings
    from .planning import openapi_paths  # /api/coverage*; imported here as web.planning imports this module
    limits = limits or read_settings({})
    return copy.deepcopy({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Yizhan (驿站地图) API",
            "version": VERSION,
            "summary": "Trade-union rest stations for outdoor workers: nearest search and GeoJSON.",
            "description": "Read-only JSON API. Positions are WGS-84 longitude/latitude degrees unless "
                           "`crs` asks otherwise; distances are geodesic metres. Errors answer "
                           "`{\"error\": {\"status\", \"message\", \"parameter\", \"value\"}}`. "
                           "CORS: any origin may read.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": {**paths(counties), **openapi_paths(limits)},
        "components": components(counties),
    })
