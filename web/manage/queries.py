"""The staff pages' request models: the station list's filters, the edit form's fields, the lookups.

The edit form's fields are texts, read as typed (``web.manage.forms`` turns them into a record and
names every problem next to its field); only what a form cannot get wrong by typing (the version it
started from, the coordinate system, the action) is refused as a 400 here.
"""
from __future__ import annotations

from pydantic import Field

from stations.coords import CRS_NAMES
from stations.model import AMENITIES, KINDS, STATUSES

from ..requests import fields
from ..requests.layer import QueryModel
from ..requests.queries import (COUNTY_DOC, KIND_DOC, LANG_DOC, County, Crs, Kind, Lang, PageQuery, SearchText,
                                Status)

#: the staff list's orders: by id, by name, by last_verified_on (oldest first: what to check next)
SORTS = ("id", "name", "verified_oldest", "verified_newest")
PER_PAGE = 100
FORM_TEXT_MAX = 2000  # longer than any field allows (the record's own rules then name the field)
VERSION_RE_TEXT = "the 16 hex digits of the record version the form started from"


class StationListQuery(PageQuery):
    """``/manage/stations``: the stations an account may see, filtered and sorted."""

    q: SearchText = Field("", description="Words that id, name, address or host must all contain.")
    county: County = Field(None, description="Only this county. " + COUNTY_DOC)
    kind: Kind = Field(None, description=KIND_DOC)
    status: Status = Field(None, description="Only this status.")
    sort: fields.choice(SORTS) = Field("id", description="Order: id, name, verified_oldest, verified_newest.")
    page: fields.whole(1, 1_000_000) = Field(1, description=f"Page of {PER_PAGE} stations.")

    @property
    def active(self) -> bool:
        return bool(self.q or self.county or self.kind or self.status)


FormText = fields.text(FORM_TEXT_MAX)
Version = fields.text(64)


class StationForm(QueryModel):
    """The fields of the station form (``/manage/stations/new`` and ``/manage/stations/<id>``), as typed.

    ``amenity`` repeats (checkboxes); ``crs`` says in which system ``lon``/``lat`` were typed (converted
    to WGS-84 on the way in, never stored); ``version`` is the record version the form started from;
    ``action`` is the button pressed: ``save``, or ``lookup`` (look up the address, fill the position,
    save nothing)."""

    name: FormText = Field("", description="the station's name")
    kind: FormText = Field("", description="one of " + ", ".join(KINDS))
    status: FormText = Field("", description="one of " + ", ".join(STATUSES))
    status_reason: FormText = Field("", description="why the station is not open")
    reopens_on: FormText = Field("", description="YYYY-MM-DD, when a temporarily closed station reopens")
    address: FormText = Field("", description="the address")
    phone: FormText = Field("", description="the phone number")
    opening_hours: FormText = Field("", description="OpenStreetMap opening_hours")
    amenity: fields.choices(AMENITIES) = Field((), description="the amenities")
    host: FormText = Field("", description="who runs it")
    opened_on: FormText = Field("", description="YYYY-MM-DD")
    last_verified_on: FormText = Field("", description="YYYY-MM-DD")
    palace_class: FormText = Field("", description="1, 2 or 3 (cultural palaces)")
    floor_area_m2: FormText = Field("", description="square metres")
    beds: FormText = Field("", description="a whole number")
    source: FormText = Field("", description="where the record comes from")
    sample: fields.yes_no() = Field(False, description="sample data")
    lon: FormText = Field("", description="longitude, in the system crs names")
    lat: FormText = Field("", description="latitude, in the system crs names")
    crs: Crs = Field("wgs84", description="the system lon/lat are typed in: wgs84, gcj02 (AMap, phones) or bd09")
    version: Version = Field("", description=VERSION_RE_TEXT)
    note: fields.text(500, one_line=True) = Field("", description="a note for the journal")
    action: fields.choice(("save", "lookup")) = Field("save", description="save, or look up the address")


class EditQuery(PageQuery):
    """``GET /manage/stations/<id>``: the form, optionally with a suggested change typed in (an accepted
    workers' report: ``web.manage.reports``). Nothing is saved until the editor saves the form."""

    status: Status = Field(None, description="a suggested status")
    status_reason: FormText = Field(None, description="a suggested reason for the status")
    reopens_on: FormText = Field(None, description="a suggested reopening date")
    amenity: fields.choices(AMENITIES) = Field((), description="suggested amenities (`amenity=` alone: none)")
    check: fields.choices(("position", "address", "opening_hours", "amenities", "status", "phone")) = Field(
        (), description="fields to check (highlighted)")
    from_report: fields.whole(1, 10**12) = Field(None, description="the workers' report the suggestion comes from")


class ConfirmQuery(PageQuery):
    """``POST /manage/stations/<id>/confirm``: where to go back to (the list, or the station's form)."""

    next: fields.choice(("edit", "list")) = Field("edit", description="the page to go back to")


class VersionForm(QueryModel):
    """A one-button form (confirm still true, delete): the version the page showed."""

    version: Version = Field("", description=VERSION_RE_TEXT)
    note: fields.text(500, one_line=True) = Field("", description="a note for the journal")


class HistoryQuery(PageQuery):
    """``/manage/stations/<id>/history``: a page of the journal, older than entry ``before``."""

    before: fields.whole(1, 10**12) = Field(None, description="show the changes older than this one")


class RevertForm(QueryModel):
    """``POST /manage/stations/<id>/history/<entry>/revert``."""

    note: fields.text(500, one_line=True) = Field("", description="a note for the journal")


class HoursPreviewQuery(QueryModel):
    """``/api/hours/preview``: an opening_hours text to parse and describe."""

    text: fields.text(FORM_TEXT_MAX) = Field(description="an OpenStreetMap opening_hours value, e.g. Mo-Fr 08:00-18:00")
    lang: Lang = Field(None, description=LANG_DOC)


class LocateQuery(QueryModel):
    """``/api/counties/locate``: the county a position falls in."""

    lon: fields.decimal(-180, 180, "a longitude", examples=(116.59,)) = Field(description="longitude, in `crs`")
    lat: fields.decimal(-90, 90, "a latitude", examples=(35.41,)) = Field(description="latitude, in `crs`")
    crs: Crs = Field("wgs84", description="the system lon/lat are in: " + ", ".join(CRS_NAMES))
    lang: Lang = Field(None, description=LANG_DOC)
