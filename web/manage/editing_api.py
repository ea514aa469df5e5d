"""Two small JSON lookups the station form asks while staff type (public: nothing in them is private).

- ``GET /api/hours/preview?text=``: an ``opening_hours`` text parsed (``stations.hours``): its
  description in the page's language and whether it is open now, or the parser's error pointing at
  the faulty part (1-based column, the part, the reason).
- ``GET /api/counties/locate?lon=&lat=&crs=``: the county a position falls in, the position given in
  WGS-84, GCJ-02 or BD-09 and answered in WGS-84 too (``stations.coords``), as the store will derive it.
"""
from __future__ import annotations

from flask import Blueprint, Response

from stations.coords import convert, wgs84_to_gcj02

from .. import i18n
from ..errors import json_response
from ..requests import Answer, api, schema
from ..state import state
from . import forms
from .queries import HoursPreviewQuery, LocateQuery

bp = Blueprint("editing_api", __name__, url_prefix="/api")

HOURS_PREVIEW = schema("HoursPreview", {
    "type": "object",
    "required": ["text", "valid"],
    "description": "`valid` is null for an empty text (no hours given).",
    "properties": {
        "text": {"type": "string", "description": "the text, as given"},
        "valid": {"type": ["boolean", "null"]},
        "description": {"type": "string", "description": "the hours in words, in the page's language"},
        "open_now": {"type": "boolean", "description": "open at the server's clock (Asia/Shanghai)"},
        "is_24_7": {"type": "boolean"},
        "next_change": {"type": ["string", "null"], "format": "date-time",
                        "description": "when open/closed next flips (Asia/Shanghai), if within a year"},
        "error": {
            "type": "object", "required": ["column", "token", "reason", "message"],
            "description": "why the text cannot be read (when `valid` is false)",
            "properties": {
                "column": {"type": "integer", "description": "1-based position of the faulty part"},
                "length": {"type": "integer", "description": "its length in characters (0: the text ended too soon)"},
                "token": {"type": "string", "description": "the faulty part (empty: the end of the text)"},
                "reason": {"type": "string", "description": "what is wrong, with a hint"},
                "message": {"type": "string", "description": "the whole message"},
            },
        },
    },
})
LOCATED = schema("LocatedPosition", {
    "type": "object",
    "required": ["lon", "lat", "county", "gcj02"],
    "properties": {
        "lon": {"type": "number", "description": "longitude, WGS-84"},
        "lat": {"type": "number", "description": "latitude, WGS-84"},
        "gcj02": {"type": "object", "description": "the same position in GCJ-02 (what maps on AMap tiles draw in)",
                  "required": ["lon", "lat"],
                  "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}}},
        "county": {"type": ["object", "null"], "description": "the county the position falls in (null: none)",
                   "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    },
})


@bp.get("/hours/preview")
@api.route(query=HoursPreviewQuery, operation_id="previewOpeningHours", tags=("editing",),
           answers={200: Answer("The text read, or the parser's error (`valid: false`).", HOURS_PREVIEW)})
def hours_preview(query: HoursPreviewQuery) -> Response:
    """Read opening hours

    An OpenStreetMap `opening_hours` text as the site reads it: in words, open now or not, or where
    and why it cannot be read (the staff form's live preview).
    """
    preview = forms.hours_preview(query.text, query.lang or i18n.get_lang())
    return json_response(preview)


@bp.get("/counties/locate")
@api.route(query=LocateQuery, operation_id="locateCounty", tags=("editing",),
           answers={200: Answer("The position in WGS-84 and its county.", LOCATED)})
def locate_county(query: LocateQuery) -> Response:
    """Find the county of a position

    The county a position falls in, as the store derives a station's `county_code`; the position may
    be given in WGS-84, GCJ-02 (AMap, phones) or BD-09 (Baidu) and is answered in WGS-84 (and in
    GCJ-02, for maps drawn on AMap tiles).
    """
    lon, lat = (query.lon, query.lat) if query.crs == "wgs84" else convert(query.lon, query.lat, query.crs, "wgs84")
    counties = state().counties
    code = counties.locate(lon, lat)
    county = {"code": code, "name": counties.name(code)} if code else None
    glon, glat = (query.lon, query.lat) if query.crs == "gcj02" else wgs84_to_gcj02(lon, lat)
    return json_response({"lon": round(float(lon), 7), "lat": round(float(lat), 7), "county": county,
                          "gcj02": {"lon": round(float(glon), 7), "lat": round(float(glat), 7)}})
