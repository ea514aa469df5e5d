"""The query models of the worker's lookups: a place search, walking routes, the map's markers.

Same types and rules as ``queries`` (a bad value is a 400 naming it); descriptions are the OpenAPI
document's.
"""
from __future__ import annotations

from pydantic import Field

from . import fields
from .layer import QueryModel
from .queries import (AMENITY_DOC, KIND_DOC, NOW_DOC, SERVES_DOC, Amenities, BBox, DateTime, Kind, Lang, Latitude,
                      Longitude, Serves, YesNo)

PLACE_QUERY_MAX_CHARS = 60
#: stations one /api/route request may ask about (the map asks for its top three)
ROUTE_MAX_STATIONS = 3
#: markers per /api/map/markers answer: by default and at most
MARKERS_LIMIT_DEFAULT = 5000
MARKERS_LIMIT_MAX = 10_000
MARKERS_OFFSET_MAX = 1_000_000_000

PlaceText = fields.text(PLACE_QUERY_MAX_CHARS)
StationIds = fields.identifiers(ROUTE_MAX_STATIONS)
MarkersLimit = fields.whole(1, MARKERS_LIMIT_MAX)
MarkersOffset = fields.whole(0, MARKERS_OFFSET_MAX)


class PlacesQuery(QueryModel):
    """``GET /api/places``."""

    q: PlaceText = Field(description=f"What the worker typed: a station's name or address, or a place (济宁火车站, "
                                     f"a road, a district or township); the first {PLACE_QUERY_MAX_CHARS} characters "
                                     "are used.")
    lang: Lang = Field(None, description="Language of the answer's labels: `zh` (default) or `en`.")


class RouteQuery(QueryModel):
    """``GET /api/route``."""

    lat: Latitude = Field(description="Where the walk starts: latitude, WGS-84 degrees.")
    lon: Longitude = Field(description="Where the walk starts: longitude, WGS-84 degrees.")
    station: StationIds = Field(description=f"The stations to walk to, by id (at most {ROUTE_MAX_STATIONS}; repeat "
                                            "the parameter or separate with commas).")

    @property
    def origin(self) -> tuple[float, float]:
        return (self.lon, self.lat)


class MarkersQuery(QueryModel):
    """``GET /api/map/markers``."""

    bbox: BBox = Field(description="The map's area: minlon,minlat,maxlon,maxlat in WGS-84 degrees (longitude first), "
                                   "min <= max.")
    kind: Kind = Field(None, description=KIND_DOC)
    amenity: Amenities = Field((), description=AMENITY_DOC)
    serves: Serves = Field(None, description=SERVES_DOC)
    open_now: YesNo = Field(False, description="Only stations open now (at `now`).")
    h24: YesNo = Field(False, description="Only stations open around the clock.")
    now: DateTime = Field(None, description=NOW_DOC)
    lang: Lang = Field(None, description="Language of the hours text and county names: `zh` (default) or `en`.")
    limit: MarkersLimit = Field(MARKERS_LIMIT_DEFAULT, description=f"Markers per answer, at most {MARKERS_LIMIT_MAX:,} "
                                                                   f"(default {MARKERS_LIMIT_DEFAULT:,}); "
                                                                   "`next_offset` says where the next page starts.")
    offset: MarkersOffset = Field(0, description="Skip this many matching stations (in id order) first.")
