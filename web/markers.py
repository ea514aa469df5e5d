"""The map's markers for an area (``/api/map/markers``): what a large store's map loads as it moves.

Above ``MAP_INLINE_MAX`` stations the map page carries none and asks for the visible area's. The answer
holds the same records the page carries inline for a small store (``web.maps.marker_records``: the
drawing CRS, the county's name, the hours in words, open now, open 24/7), so popups and filters (open
now included) behave the same on both.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from stations import hours
from stations.serves import serves as in_set

from . import i18n, maps
from .errors import json_response
from .requests import Answer, api, schema
from .requests.lookups import MarkersQuery
from .state import state

bp = Blueprint("markers", __name__, url_prefix="/api/map")

VISIBLE_STATUSES = ("open", "temporarily_closed", "under_construction", "planned")  # the map never shows closed

MARKER = {
    "type": "object", "required": ["id", "name", "kind", "status", "lat", "lon", "hours", "open", "h24", "amenities"],
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string"},
        "lat": {"type": "number", "description": "in the answer's `crs`"},
        "lon": {"type": "number", "description": "in the answer's `crs`"},
        "wlat": {"type": "number", "description": "WGS-84, when `crs` is not"},
        "wlon": {"type": "number", "description": "WGS-84, when `crs` is not"},
        "county": {"type": "string"}, "address": {"type": "string"},
        "hours": {"type": "string", "description": "the opening hours in words (`lang`), or as written"},
        "open": {"type": ["boolean", "null"], "description": "open at `now` by its hours (null: hours unknown)"},
        "h24": {"type": "boolean", "description": "open around the clock"},
        "amenities": {"type": "array", "items": {"type": "string"}},
        "phone": {"type": "string"}, "sample": {"type": "boolean"},
    },
}
MARKERS_RESPONSE = schema("MapMarkers", {
    "type": "object", "required": ["crs", "now", "numberMatched", "numberReturned", "next_offset", "markers"],
    "properties": {
        "crs": {"enum": ["wgs84", "gcj02"], "description": "the map's drawing system (GCJ-02 on AMap tiles)"},
        "now": {"type": "string", "format": "date-time", "description": "the moment `open` is judged at"},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "next_offset": {"type": ["integer", "null"], "description": "the `offset` of the next page, if any"},
        "markers": {"type": "array", "items": MARKER},
    },
})


@bp.get("/markers")
@api.route(query=MarkersQuery, operation_id="mapMarkers", tags=("map",),
           answers={200: Answer("The area's markers, as the map draws them.", MARKERS_RESPONSE)})
def markers(query: MarkersQuery) -> Response:
    """The map's markers in an area

    The stations in `bbox` that the map shows (every status but `closed`), filtered like the map's filters
    (`kind`, `amenity`, `serves`, `open_now`, `h24`), in id order, `limit` at a time: each with its hours in
    words, whether it is open at `now` and whether it is open around the clock, in the map's drawing system.
    """
    from .pages import now_shanghai  # the site's one clock (tests set it there)

    st = state()
    lang = query.lang or i18n.get_lang()
    at = query.now or now_shanghai()
    crs = maps.display_crs(current_app.config)
    found = st.store.query(kind=query.kind, amenity=query.amenity, bbox=query.bbox, status=VISIBLE_STATUSES)
    chosen = []
    for s in found:
        if not in_set(s, query.serves):
            continue
        if query.h24 and not hours.open_around_the_clock(s.opening_hours):
            continue
        if query.open_now and not (s.status == "open" and hours.open_state(s.opening_hours, at) is True):
            continue
        chosen.append(s)
    page = chosen[query.offset:query.offset + query.limit]
    names = {code: st.counties.name(code) for code in {s.county_code for s in page if s.county_code}
             if code in st.counties}
    records = maps.marker_records(
        page, crs, {s.id: hours.open_state(s.opening_hours, at) for s in page},
        [s.id for s in page if hours.open_around_the_clock(s.opening_hours)], names,
        {s.id: hours.describe_text(s.opening_hours, lang) for s in page})
    following = query.offset + len(page)
    response = json_response({"crs": crs, "now": at.isoformat(timespec="seconds"), "numberMatched": len(chosen),
                              "numberReturned": len(records),
                              "next_offset": following if following < len(chosen) else None, "markers": records})
    response.headers["Cache-Control"] = "no-store"  # "open" follows the clock
    return response
