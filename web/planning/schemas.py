"""The answers of ``/api/coverage`` and ``/api/coverage/gaps`` as JSON Schema (``components.schemas``).

The shapes are ``stations.coverage.CoverageResult.to_dict()`` and ``.gaps_geojson()``; the routes
declare them (``web.planning.routes``) and real answers are checked against them in the tests.
"""
from __future__ import annotations

from ..requests import schema

_NUM_OR_NULL = {"type": ["number", "null"]}
_POINT = {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
          "description": "[lon, lat], WGS-84"}
_FIGURES = {
    "stations": {"type": "integer", "minimum": 0, "description": "stations counted (open, or also planned)"},
    "rest_stations": {"type": "integer", "minimum": 0},
    "covering_stations": {"type": "integer", "minimum": 0,
                          "description": "stations counted that are of the kinds counting towards coverage"},
    "area_km2": {"type": "number", "minimum": 0, "description": "geodesic area of the whole outline (water too), km²"},
    "land_km2": {**_NUM_OR_NULL, "description": "with a water mask: the outline less the water, km²; else null"},
    "water_km2": {**_NUM_OR_NULL, "description": "with a water mask: the water in the outline, km²; else null"},
    "population": {"type": ["integer", "null"], "minimum": 0, "description": "residents (persons)"},
    "covered_km2": {"type": "number", "minimum": 0},
    "covered_share": {"type": "number", "minimum": 0, "maximum": 1,
                      "description": "share of the area within radius_m (geodesic) of a covering site: of the "
                                     "land with a water mask (area_basis land), else of the whole outline"},
    "covered_share_all_area": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": "share of the whole outline (water too) within radius_m"},
    "covered_share_land": {**_NUM_OR_NULL, "description": "with a water mask: share of the land; else null"},
    "worst_case_m": {**_NUM_OR_NULL, "description": "distance from the farthest point to its nearest station, m"},
    "worst_case_point": _POINT,
    "target": {"type": "object", "description": "progress against the targets (rest stations, bases, palaces)"},
    "by_kind": {"type": "object", "additionalProperties": {"type": "integer"}},
    "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
    "rest_per_100km2": _NUM_OR_NULL,
    "rest_per_100k_residents": _NUM_OR_NULL,
    "covered_km2_after": {"type": "number"},
    "covered_share_after": _NUM_OR_NULL,
}
_REQUIRED = ["stations", "rest_stations", "area_km2", "population", "covered_share", "worst_case_m",
             "worst_case_point", "target"]

COVERAGE = schema("Coverage", {
    "type": "object",
    "required": ["radius_m", "include_planned", "kinds", "area_basis", "city", "counties", "suggestions"],
    "properties": {
        "radius_m": {"type": "number", "description": "the radius analysed (rounded to the step), metres"},
        "include_planned": {"type": "boolean"},
        "kinds": {"type": "array", "items": {"type": "string"},
                  "description": "the kinds counting towards coverage, or [\"water\"]: every site offering drinking water"},
        "area_basis": {"enum": ["land", "all"],
                       "description": "what covered_share is a share of: the land (a water mask was used) or the "
                                      "whole outlines"},
        "water_mask": {"type": ["object", "null"], "description": "the water mask used (name, digest, polygons, "
                                                                  "source, license), or null"},
        "city": {"type": "object", "required": _REQUIRED,
                 "properties": {**_FIGURES, "counties": {"type": "integer"},
                                "worst_case_county": {"type": ["string", "null"]}}},
        "counties": {"type": "array", "items": {
            "type": "object", "required": ["adcode", "name", *_REQUIRED],
            "properties": {"adcode": {"type": "string", "pattern": r"^\d{6}$"}, "name": {"type": "string"},
                           **_FIGURES}}},
        "suggestions": {"type": "array", "items": {
            "type": "object", "required": ["lon", "lat", "county_code", "county", "nearest_station", "gain"],
            "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}, "county_code": {"type": "string"},
                           "county": {"type": ["string", "null"], "description": "the county's name"},
                           "nearest_station": {"type": ["object", "null"], "description":
                                               "the nearest covering station: id, name, kind, distance_m (geodesic)"},
                           "address": {"type": ["string", "null"], "description":
                                       "the nearest address or road from the site's reverse geocoder, where one "
                                       "is configured"},
                           "address_state": {"enum": ["found", "none", "pending"]},
                           "gain": {"type": "number", "description": "added coverage, km²"}}}},
        "siting": {"type": "object"},
    },
})

COVERAGE_GAPS = schema("CoverageGaps", {
    "type": "object", "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "geometry": {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}}},
                "properties": {"type": "object", "required": ["adcode", "name", "area_km2", "covered_share"],
                               "properties": {"adcode": {"type": "string"}, "name": {"type": "string"},
                                              "area_km2": {"type": "number", "minimum": 0},
                                              "county_area_km2": {"type": "number"},
                                              "covered_share": {"type": "number"}}},
            }}},
    },
})
