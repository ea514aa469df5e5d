"""The query models of the station pages and the station API: one model per endpoint, shared types.

A page and an API endpoint that take the same parameter take it with the same type, so the same bad
value gets the same 400 on both (``/list?lat=3_5.4`` and ``/api/nearest?lat=3_5.4``). Descriptions
are the OpenAPI document's; ``{name}`` in one is filled from the running app by ``web.openapi``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from stations.coords import CRS_NAMES
from stations.exporting import FORMATS
from stations.model import AMENITIES, KINDS, STATUSES
from stations.nearest import RANKS
from stations.serves import SERVES

from . import fields
from .fields import TZ, Allowed, Invalid, vocabulary_doc
from .layer import QueryModel

MAX_K = 50
DEFAULT_K = 5
MAX_DISTANCE_M = 20_040_000.0  # half the equator: no two points on Earth are further apart
LANGS = ("zh", "en")
LIST_SEARCH_MAX_CHARS = 100
#: stations per page of /api/stations and the OGC API's items: by default, and at most
PAGE_LIMIT_DEFAULT = 1000
PAGE_LIMIT_MAX = 10_000
OFFSET_MAX = 1_000_000_000

Latitude = fields.decimal(-90, 90, "a WGS-84 latitude", examples=(35.41,))
Longitude = fields.decimal(-180, 180, "a WGS-84 longitude", examples=(116.59,))
Kind = fields.choice(KINDS)
Status = fields.choice(STATUSES)
Statuses = fields.choices(STATUSES)
Amenities = fields.choices(AMENITIES)
Crs = fields.choice(CRS_NAMES, examples=("gcj02",))
County = fields.county()
YesNo = fields.yes_no()
Lang = fields.preference(LANGS)
HowMany = fields.whole(1, MAX_K)
DateTime = fields.date_time()
DistanceM = fields.decimal(0, MAX_DISTANCE_M, "a distance in metres")
BBox = fields.bbox()
SearchText = fields.text(LIST_SEARCH_MAX_CHARS)
Limit = fields.whole(1, PAGE_LIMIT_MAX)
Offset = fields.whole(0, OFFSET_MAX)
Format = fields.choice(FORMATS, examples=("csv",))

KIND_DOC = "Only this kind. " + vocabulary_doc("kind")
AMENITY_DOC = ("Required amenities, all of them: repeat the parameter or separate with commas. "
               + vocabulary_doc("amenity"))
CRS_DOC = ("Coordinate system of positions in the answer: `wgs84` (GeoJSON, OSM, Tianditu), `gcj02` (AMap/Gaode, "
           "Tencent) or `bd09` (Baidu). The answer's `Content-Crs` header names it; when not wgs84 the body "
           "also says so in a `coordinate_system` member (never a GeoJSON `crs` member).")
COUNTY_DOC = "County: its 6-digit adcode or its exact name ({counties})."
LIMIT_DOC = (f"Stations per page, at most {PAGE_LIMIT_MAX:,} (default {PAGE_LIMIT_DEFAULT:,}); the answer links the next "
             "page (`links` and the `Link` header, `rel=next`).")
OFFSET_DOC = "Skip this many matching stations (in id order) first: the `next` link sets it."
FORMAT_DOC = ("File format: `geojson` (default), `csv` (UTF-8 with BOM), `xlsx`, `kml` (Google Earth, 奥维地图), `gpkg` "
              "(GeoPackage) or `shp` (zipped Shapefile, UTF-8). Without it the `Accept` header chooses among their "
              "media types, GeoJSON first. Attribution, licence, the data's date and the sample-data notice travel "
              "inside every file.")
LANG_DOC = "Language of the page: `zh` (default) or `en`; remembered in a cookie. Anything else is ignored."
#: what a nearest answer may add to each result (``include=``)
INCLUDES = ("open_state", "hours_text")
Rank = fields.choice(RANKS, examples=("open_first",))
Serves = fields.choice(SERVES, examples=("passing_worker",))
Includes = fields.choices(INCLUDES)
SERVES_DOC = ("Only the stations that serve someone: `passing_worker` = every rest station and the cultural "
              "palaces that offer drinking water (what a worker passing by needs: water and a rest). Combines "
              "with `kind`. Default: every kind.")
NOW_DOC = ("The moment taken as now (ISO 8601; Asia/Shanghai time unless an offset is given); default: the "
           "server's clock. `open_now`, `rank=open_first` and each result's `open_now` and `next_change` are "
           "judged at it.")


# ---- the API -------------------------------------------------------------------------------------

class NearestQuery(QueryModel):
    """``GET /api/nearest``."""

    lat: Latitude = Field(description="Latitude, WGS-84 degrees.")
    lon: Longitude = Field(description="Longitude, WGS-84 degrees.")
    k: HowMany = Field(DEFAULT_K, description="How many stations.")
    kind: Kind = Field(None, description=KIND_DOC)
    amenity: Amenities = Field((), description=AMENITY_DOC)
    open_now: YesNo = Field(False, description="Only stations whose opening hours say they are open now "
                                               "(Asia/Shanghai time).")
    at: DateTime = Field(None, description="Only stations open at this time (ISO 8601; Asia/Shanghai "
                                                     "time unless an offset is given). Not together with open_now.")
    open_24_7: YesNo = Field(False, description="Only stations open around the clock: opening hours that parse and "
                                                "cover every moment (`24/7`, `Mo-Su 00:00-24:00`, ...). Combines "
                                                "with open_now and at.")
    max_distance_m: DistanceM = Field(None, description="Only stations within this many metres (geodesic).")
    status: Statuses = Field(("open",), description="Statuses to include (repeat or comma-separate); default open "
                                                    "only. " + vocabulary_doc("status"))
    crs: Crs = Field("wgs84", description=CRS_DOC)
    serves: Serves = Field(None, description=SERVES_DOC)
    rank: Rank = Field("distance", description="`distance` (default): nearest first. `open_first`: the stations "
                                               "open now (status `open` and opening hours that say so) first, "
                                               "nearest first, then the other matches (closed now, or hours "
                                               "unknown), nearest first; each result then says `open_now` and "
                                               "`next_change` (as `include=open_state`). The map asks for it.")
    now: DateTime = Field(None, description=NOW_DOC)
    include: Includes = Field((), description="Add to each result: `open_state` (`open_now`: true, false or null "
                                              "when the hours are unknown or unreadable; `next_change`: when that "
                                              "changes next, ISO 8601 in Asia/Shanghai time, or null) and "
                                              "`hours_text` (the opening hours in words, in `lang`).")
    lang: Lang = Field(None, description="Language of `hours_text`: `zh` (default) or `en`.")

    @field_validator("at", mode="before")
    @classmethod
    def _not_with_open_now(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("open_now"):  # open_now is declared (so validated) before at
            raise Invalid("conflicts with open_now=1", value, "one of open_now=1 or at=..., not both")
        return value

    @property
    def amenities(self) -> tuple[str, ...]:
        return self.amenity

    @property
    def statuses(self) -> tuple[str, ...]:
        return self.status or ("open",)

    def open_at(self, now: datetime | None = None) -> datetime | None:
        """The moment stations must be open at: ``at``, or now with ``open_now`` (the ``now`` parameter, else
        the ``now`` given, else the clock)."""
        if self.open_now:
            return self.now or (now if now is not None else datetime.now(TZ))
        return self.at

    def includes(self, what: str) -> bool:
        """Whether each result carries ``what`` (``open_state`` also comes with ``rank=open_first``)."""
        return what in self.include or (what == "open_state" and self.rank == "open_first")


class StationsQuery(QueryModel):
    """``GET /api/stations``."""

    kind: Kind = Field(None, description=KIND_DOC)
    county: County = Field(None, description=COUNTY_DOC)
    status: Status = Field(None, description="Only this status. " + vocabulary_doc("status"))
    amenity: Amenities = Field((), description=AMENITY_DOC)
    bbox: BBox = Field(None, description="minlon,minlat,maxlon,maxlat in WGS-84 degrees (longitude "
                                                  "first), min <= max.")
    crs: Crs = Field("wgs84", description=CRS_DOC + " GeoJSON only: every other format is WGS-84.")
    limit: Limit = Field(PAGE_LIMIT_DEFAULT, description=LIMIT_DOC)
    offset: Offset = Field(0, description=OFFSET_DOC)
    format: Format = Field(None, description=FORMAT_DOC)
    lang: Lang = Field(None, description="CSV and XLSX: `zh` (default) Chinese headers, labels and county names, "
                                         "or `en` English headers and vocabulary keys; the import reads both back.")

    @model_validator(mode="after")
    def _crs_only_in_geojson(self):
        if self.crs != "wgs84" and self.format not in (None, "geojson"):
            raise Invalid(f"is only for GeoJSON, not format={self.format}", self.crs,
                          "crs=wgs84 (or no crs) with any format other than geojson", parameter="crs")
        return self

    def store_query(self) -> dict[str, Any]:
        """Keyword arguments for the store's ``query``."""
        return {"kind": self.kind, "county": self.county, "status": self.status, "amenity": self.amenity,
                "bbox": self.bbox}

    @property
    def is_empty(self) -> bool:
        """No filter (``crs`` aside): the whole collection."""
        return not any(self.store_query().values())


class StationQuery(QueryModel):
    """``GET /api/stations/<id>``."""

    crs: Crs = Field("wgs84", description=CRS_DOC)


# ---- the pages -----------------------------------------------------------------------------------

class PageQuery(QueryModel):
    """What every page takes."""

    lang: Lang = Field(None, description=LANG_DOC)


class MapQuery(PageQuery):
    """``/`` and ``/embed``: the map, optionally fitted to one county."""

    county: County = Field(None, description=COUNTY_DOC)


class PositionQuery(PageQuery):
    """A page that may know where the reader is (``/stations/<id>``, ``/list``): both or neither."""

    lat: Latitude = Field(None, description="The reader's latitude, WGS-84 degrees (with lon).")
    lon: Longitude = Field(None, description="The reader's longitude, WGS-84 degrees (with lat).")

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.lat is None) != (self.lon is None):
            given, missing = ("lat", "lon") if self.lon is None else ("lon", "lat")
            raise Invalid(f"is missing while {given} is given", None,
                          "both lat and lon (WGS-84 degrees), or neither", parameter=missing)
        return self

    @property
    def origin(self) -> tuple[float, float] | None:
        """(lon, lat) of the reader, or None."""
        return None if self.lat is None else (self.lon, self.lat)


class ListQuery(PositionQuery):
    """``/list``: the directory, filtered, sorted by distance when a position is given."""

    kind: Kind = Field(None, description=KIND_DOC)
    county: County = Field(None, description="Only this county. " + COUNTY_DOC)
    amenity: Amenities = Field((), description=AMENITY_DOC)
    open_now: YesNo = Field(False, description="Only stations open now.")
    h24: YesNo = Field(False, description="Only stations open around the clock.")
    q: SearchText = Field("", description="Words that name, address, county, host or "
                                                                  "id must all contain.")

    @property
    def amenities(self) -> tuple[str, ...]:
        return self.amenity

    @property
    def active(self) -> bool:
        """Any filter set (the form's box starts open)."""
        return bool(self.kind or self.county or self.amenity or self.open_now or self.h24 or self.q)


# ---- embeds (``web.embeds``) ----------------------------------------------------------------------

#: the buttons an embedded map may show (``controls=``): the vocabulary of ``/embed`` and the builder
CONTROLS = ("nearest", "search", "filters", "legend", "zoom", "fullscreen")
#: ``controls=none``: the map and its markers only
NO_CONTROLS = "none"
CONTROLS_DOC = ("The buttons the embedded map shows, repeated or comma-separated (default: all): `nearest` "
                "(找最近的驿站 and pick a point on the map), `search` (the search box), `filters` (kinds and "
                "amenities), `legend`, `zoom` (+/-), `fullscreen`; `none` for none of them.")
#: an iframe's size in the builder and in oEmbed answers, CSS pixels
FRAME_WIDTH_MIN, FRAME_WIDTH_MAX, FRAME_WIDTH_DEFAULT = 200, 2000, 640
FRAME_HEIGHT_MIN, FRAME_HEIGHT_MAX, FRAME_HEIGHT_DEFAULT = 200, 2000, 480
FULL_WIDTH = "100%"


def _controls() -> Any:
    """``controls``: several of :data:`CONTROLS`, or ``none`` alone."""
    plain = fields.choices(CONTROLS + (NO_CONTROLS,))
    allowed = (", ".join(CONTROLS) + " (repeat the parameter or separate with commas), or none alone")

    def check(value: tuple[str, ...]) -> tuple[str, ...]:
        if NO_CONTROLS in value and len(value) > 1:
            raise Invalid("mixes none with buttons", ",".join(value), allowed)
        return value

    return Annotated[plain, AfterValidator(check), Allowed(allowed)]


def _basemap() -> Any:
    """``basemap``: one of the basemaps this site can draw (``web.embeds.available_basemaps``)."""
    generic = "a basemap this site offers (see /embed/builder)"

    def parse(value: Any) -> str:
        from flask import current_app
        from web.embeds import available_basemaps

        names = available_basemaps(current_app.config)
        raw = fields.one(value, generic)
        if raw not in names:
            raise Invalid("is not a basemap of this site", raw, ", ".join(names))
        return raw

    return fields._param(str, parse, {"type": "string"}, generic)


def _frame_width() -> Any:
    """``width``: CSS pixels, or ``100%`` (the host page's column)."""
    allowed = f"a whole number of pixels from {FRAME_WIDTH_MIN} to {FRAME_WIDTH_MAX}, or {FULL_WIDTH}"

    def parse(value: Any) -> str:
        raw = fields.one(value, allowed)
        if raw == FULL_WIDTH:
            return raw
        if not (raw.isascii() and raw.isdigit()) or not FRAME_WIDTH_MIN <= int(raw) <= FRAME_WIDTH_MAX:
            raise Invalid("is not a width", raw, allowed)
        return str(int(raw))

    return fields._param(str, parse, {"type": "string"}, allowed)


Controls = _controls()
Kinds = fields.choices(KINDS)
StrictLang = fields.choice(LANGS)
Basemap = _basemap()
FrameWidth = _frame_width()
FrameHeight = fields.whole(FRAME_HEIGHT_MIN, FRAME_HEIGHT_MAX)
EMBED_LANG_DOC = "Language of the embedded map: `zh` (default) or `en`."


class EmbedQuery(PageQuery):
    """``/embed``: the map for an ``<iframe>``, restricted to a county and kinds, with the buttons asked for."""

    county: County = Field(None, description="Only this county's stations, the map fitted to it. " + COUNTY_DOC)
    kind: Kinds = Field((), description="Only these kinds (repeat or comma-separate). " + vocabulary_doc("kind"))
    lang: StrictLang = Field(None, description=EMBED_LANG_DOC)
    basemap: Basemap = Field(None, description="The basemap (default: the site's `BASEMAP`).")
    controls: Controls = Field((), description=CONTROLS_DOC)

    @property
    def shown_controls(self) -> tuple[str, ...]:
        """The buttons to show: all by default, none for ``none``."""
        if not self.controls:
            return CONTROLS
        return () if self.controls == (NO_CONTROLS,) else self.controls

    @property
    def restricted(self) -> bool:
        """Only some stations (a county, some kinds): the page carries them all and searches them itself."""
        return bool(self.county or self.kind)


class BuilderQuery(EmbedQuery):
    """``/embed/builder``: the embed's options, and the iframe's size; ``lang`` is the builder's own language,
    ``embed_lang`` the embed's (default: the builder's)."""

    lang: Lang = Field(None, description=LANG_DOC)
    embed_lang: StrictLang = Field(None, description=EMBED_LANG_DOC)
    chosen: YesNo = Field(False, description="Sent by the builder's form: no `controls` ticked means none.")

    @property
    def shown_controls(self) -> tuple[str, ...]:
        if self.chosen and not self.controls:  # the form sends nothing for no box ticked
            return ()
        return super().shown_controls
    width: FrameWidth = Field(None, description="The iframe's width: pixels or 100%.")
    height: FrameHeight = Field(FRAME_HEIGHT_DEFAULT, description="The iframe's height, pixels.")


class OembedQuery(QueryModel):
    """``GET /oembed``."""

    url: fields.text(2000) = Field(description="The URL of a page of this site to embed: `/embed?...` or the "
                                               "map `/?...` (its county, kinds and language carry over).")
    maxwidth: fields.whole(1, 100_000) = Field(None, description="The largest width the consumer can show, pixels.")
    maxheight: fields.whole(1, 100_000) = Field(None, description="The largest height the consumer can show, "
                                                                 "pixels.")
    format: fields.text(20) = Field("json", description="`json`, the only format served (anything else: 501).")
