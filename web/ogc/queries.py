"""The OGC API's query models: ``f`` and ``lang`` everywhere, paging, ``bbox``, ``datetime`` and each
collection's property filters on ``items``.

OGC API - Features Core (``/req/core/query-param-unknown``) answers 400 to a parameter the API does
not define: these models refuse unknown parameters, unlike the rest of the site, which ignores them.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from stations.errors import Problem, quote_value

from ..requests import fields
from ..requests.fields import Allowed, Invalid, ParameterError, one, vocabulary_doc
from ..requests.layer import QueryModel
from ..requests.queries import (
    AMENITY_DOC, COUNTY_DOC, KIND_DOC, LANG_DOC, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, Amenities, BBox, County,
    Kind, Lang, Limit, Offset, Status,
)

OGC_FORMATS = ("json", "html")
Format = fields.choice(OGC_FORMATS)
F_DOC = ("`json` (GeoJSON for features) or `html`. Without it the `Accept` header chooses, JSON first "
         "(`*/*` gets JSON; a browser's `text/html` gets HTML).")
#: RFC 3339 date or date-time, as OGC API - Features' ``datetime`` takes it
_INSTANT = r"\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"
_DATETIME_RE = re.compile(rf"(?:{_INSTANT}|(?:{_INSTANT}|\.\.)?/(?:{_INSTANT}|\.\.)?)", re.ASCII)
DATETIME_ALLOWED = "an RFC 3339 date or date-time, or an interval start/end with `..` for an open end"


def datetime_interval() -> Any:
    """``datetime``: checked for its syntax (a bad value is a 400, as the standard asks)."""

    def parse(value: Any) -> str:
        text = one(value, DATETIME_ALLOWED)
        if not _DATETIME_RE.fullmatch(text) or text in ("/", "../..", "../", "/.."):
            raise Invalid("is not a date-time or interval", text, DATETIME_ALLOWED)
        return text

    schema = {"type": "string", "examples": ["2026-01-01T00:00:00Z/.."]}
    return Annotated[str, BeforeValidator(parse), WithJsonSchema(schema), Allowed(DATETIME_ALLOWED)]


DateTimeInterval = datetime_interval()
AdcodeText = fields.text(6)
NameText = fields.text(100)


class OgcQuery(QueryModel):
    """What every OGC API resource takes: ``f`` and ``lang``; any other parameter is a 400."""

    f: Format = Field(None, description=F_DOC)
    lang: Lang = Field(None, description=LANG_DOC)

    @classmethod
    def from_args(cls, args, context: Any = None):
        unknown = [name for name in args if name not in cls.parameter_names]
        if unknown:
            allowed = ", ".join(sorted(cls.parameter_names))
            raise ParameterError([Problem("query", name, args.get(name),
                                          f"{name}={quote_value(args.get(name))} is not a parameter of this "
                                          f"resource; allowed: {allowed}") for name in unknown])
        return super().from_args(args, context)


LIMIT_DOC = (f"Features per page, 1 to {PAGE_LIMIT_MAX:,} (default {PAGE_LIMIT_DEFAULT:,}); the answer's `next` "
             "link asks for the next page.")
OFFSET_DOC = "Skip this many matching features (in id order) first: the `next` link sets it."
BBOX_DOC = ("Only features whose geometry intersects this box: minlon,minlat,maxlon,maxlat in WGS-84 degrees "
            "(CRS84, longitude first).")
DATETIME_DOC = ("Accepted and checked (RFC 3339 instant or interval); the collection has no temporal geometry, so "
                "it selects every feature.")


class ItemsQuery(OgcQuery):
    """``/ogc/collections/{id}/items``: paging, ``bbox`` and ``datetime``."""

    bbox: BBox = Field(None, description=BBOX_DOC)
    limit: Limit = Field(PAGE_LIMIT_DEFAULT, description=LIMIT_DOC)
    offset: Offset = Field(0, description=OFFSET_DOC)
    datetime: DateTimeInterval = Field(None, description=DATETIME_DOC)


class StationItemsQuery(ItemsQuery):
    """``/ogc/collections/stations/items``: the station filters of ``/api/stations``."""

    kind: Kind = Field(None, description=KIND_DOC)
    status: Status = Field(None, description="Only this status. " + vocabulary_doc("status"))
    county: County = Field(None, description=COUNTY_DOC)
    amenity: Amenities = Field((), description=AMENITY_DOC)

    def store_query(self) -> dict[str, Any]:
        return {"kind": self.kind, "county": self.county, "status": self.status, "amenity": self.amenity,
                "bbox": self.bbox}


class CountyItemsQuery(ItemsQuery):
    """``/ogc/collections/counties/items``: by adcode or exact name."""

    adcode: AdcodeText = Field(None, description="Only the county with this 6-digit adcode.")
    name: NameText = Field(None, description="Only the county with this exact name (e.g. 邹城市).")
