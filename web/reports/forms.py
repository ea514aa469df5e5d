"""What a workers' report request may hold: the page's form, the API's JSON body, the staff's handling form.

The same rules for the form and the body: ``kind`` one of ``stations.worker_reports.REPORT_KINDS``;
``note`` optional, at most ``NOTE_MAX_CHARS`` (500) characters (a longer one is refused, never cut), several
lines (line breaks and tabs; any other control character, a NUL or a vertical tab, is refused:
``stations.validate.has_controls``);
``lon`` and ``lat`` the reporter's WGS-84 position, both or neither, in range. A refused value is a
400 naming the field (``web.requests``).
"""
from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Optional

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from stations.validate import MULTI_LINE_PATTERN, has_controls
from stations.worker_reports import NOTE_MAX_CHARS, REPORT_KINDS

from ..requests import JSON, QueryModel
from ..requests import fields
from ..requests.bodies import BodyModel
from ..requests.fields import Allowed, Invalid
from ..requests.queries import Lang, Latitude, Longitude

KIND_DOC = ("What is wrong: `closed` (the station is closed), `no_water` (no drinking water), `moved` (it is not "
            "where the map says), `dirty`, `other` (say what in the note).")
NOTE_DOC = f"What the worker wants to say, at most {NOTE_MAX_CHARS} characters (optional)."
POSITION_DOC = "The reporter's {what}, WGS-84 degrees (optional; with {other})."
NOTE_ALLOWED = (f"a text of at most {NOTE_MAX_CHARS} characters, line breaks and tabs but no other control "
                "character (U+0000-U+001F, U+007F-U+009F)")

ReportKind = fields.choice(REPORT_KINDS, examples=("no_water",))


def _note(value: Any) -> str | None:
    """A note: stripped; empty (or JSON null) is none; longer than :data:`NOTE_MAX_CHARS` is refused (not cut)."""
    if value is None:
        return None
    if isinstance(value, list):
        raise Invalid(f"is given {len(value)} times", value, "once, " + NOTE_ALLOWED)
    if not isinstance(value, str):
        raise Invalid("is not a text", value, NOTE_ALLOWED)
    text = value.replace("\r\n", "\n").strip()  # a browser sends a textarea's line breaks as CRLF
    if len(text) > NOTE_MAX_CHARS:
        raise Invalid(f"is {len(text)} characters long", text, NOTE_ALLOWED)
    if has_controls(text, multi_line=True):
        raise Invalid("holds a control character", text, NOTE_ALLOWED)
    return text or None


Note = Annotated[Optional[str], BeforeValidator(_note),
                 WithJsonSchema({"type": "string", "maxLength": NOTE_MAX_CHARS, "pattern": MULTI_LINE_PATTERN}),
                 Allowed(NOTE_ALLOWED)]


def _json_number(low: float, high: float, what: str):
    """A JSON number (not a string, not a boolean) from ``low`` to ``high``."""
    allowed = f"{what} from {low:g} to {high:g} (a JSON number)"

    def parse(value: Any) -> float | None:
        if value is None:  # JSON null: not given
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("is not a number", value, allowed)
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise Invalid("is out of range", value, allowed) from None
        if not math.isfinite(number) or not low <= number <= high:
            raise Invalid("is out of range", value, allowed)
        return number

    return Annotated[Optional[float], BeforeValidator(parse),
                     WithJsonSchema({"type": "number", "minimum": low, "maximum": high}), Allowed(allowed)]


def _both_or_neither(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        given, missing = ("lon", "lat") if lat is None else ("lat", "lon")
        raise Invalid(f"is missing while {given} is given", None,
                      "both lon and lat (WGS-84 degrees), or neither", parameter=missing)


class ReportForm(QueryModel):
    """The report page's form (``POST /stations/<id>/report``); ``csrf_token`` is checked before it."""

    kind: ReportKind = Field(description=KIND_DOC)
    note: Note = Field(None, description=NOTE_DOC)
    lon: Longitude = Field(None, description=POSITION_DOC.format(what="longitude", other="lat"))
    lat: Latitude = Field(None, description=POSITION_DOC.format(what="latitude", other="lon"))

    @model_validator(mode="after")
    def _position_whole(self):
        _both_or_neither(self.lon, self.lat)
        return self

    @property
    def position(self) -> tuple[float, float] | None:
        """(lon, lat), WGS-84, or None."""
        return None if self.lon is None else (self.lon, self.lat)


class ReportBody(BodyModel):
    """A worker's report: what is wrong (`kind`), an optional note, optionally where the worker stood."""

    media_types: ClassVar[tuple[str, ...]] = (JSON,)
    description: ClassVar[str] = ('a JSON object {"kind": ..., "note": ..., "lon": ..., "lat": ...} '
                                  '(only `kind` is required)')

    kind: ReportKind = Field(description=KIND_DOC)
    note: Note = Field(None, description=NOTE_DOC)
    lon: _json_number(-180, 180, "a WGS-84 longitude") = Field(
        None, description=POSITION_DOC.format(what="longitude", other="lat"))
    lat: _json_number(-90, 90, "a WGS-84 latitude") = Field(
        None, description=POSITION_DOC.format(what="latitude", other="lon"))

    @model_validator(mode="after")
    def _position_whole(self):
        _both_or_neither(self.lon, self.lat)
        return self

    @property
    def position(self) -> tuple[float, float] | None:
        return None if self.lon is None else (self.lon, self.lat)


class ReportPageQuery(QueryModel):
    """``/stations/<id>/report``: the language, and ``sent=1`` after a report was filed (the thanks)."""

    lang: Lang = Field(None, description="Language of the page: `zh` (default) or `en`.")
    sent: fields.yes_no() = Field(False, description="The report was filed: show the thanks.")


class HandleForm(QueryModel):
    """The staff's accept/dismiss form: an optional note (``csrf_token`` checked before it)."""

    note: Note = Field(None, description=f"Why, at most {NOTE_MAX_CHARS} characters (optional).")
