"""The station form: a record as the form's texts, and the form's texts as a record and a change set.

No Flask here. The form is read as typed (``web.manage.queries.StationForm``): numbers that do not
read as numbers are passed on as texts, so that the record's own rules (``stations.validate``) name
them with every other problem; only the position, which the record cannot hold unless it is two
numbers, is checked here. Positions may be typed in WGS-84, GCJ-02 (AMap, phones) or BD-09 (Baidu):
converted to WGS-84 on the way in (``stations.coords``), never stored.

A problem is shown next to its form field: :func:`field_of` maps the store's problem fields
(``geometry.coordinates[1] (latitude)``, ``county_code``) onto the form's (``position``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from stations import hours
from stations.coords import convert
from stations.errors import Problem
from stations.model import AMENITIES, PROPERTY_ORDER, Station
from stations.validate import REOPENS_STATUS, check_properties

from .queries import StationForm

#: the record's properties the form edits (the id is the store's; the county is derived from the position)
EDITED = tuple(key for key in PROPERTY_ORDER if key not in ("id", "county_code"))
TEXTS = ("name", "kind", "status", "status_reason", "reopens_on", "address", "phone", "opening_hours", "host",
         "opened_on", "last_verified_on", "source")
#: the form's fields in the order of the page: problems and comparisons are listed in it
FIELDS = ("name", "kind", "status", "status_reason", "reopens_on", "position", "address", "phone", "opening_hours",
          "amenities", "host", "opened_on", "last_verified_on", "palace_class", "floor_area_m2", "beds", "source",
          "sample")
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
WHOLE_RE = re.compile(r"[+-]?[0-9]{1,12}", re.ASCII)
COORD_TEXT_DECIMALS = 7
MOVE_TOLERANCE_DEG = 5e-8  # below the stored precision (7 decimals): not a move


@dataclass
class Draft:
    """What a submitted form says: the properties (``None``: not given), the WGS-84 position (``None`` when
    it could not be read) and the problems found while reading (form field -> messages)."""

    properties: dict[str, Any]
    position: tuple[float, float] | None
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add_problem(self, name: str, message: str) -> None:
        self.problems.setdefault(name, []).append(message)


# ---- a record as the form's texts --------------------------------------------------------------------

def number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def coord_text(value: float) -> str:
    """A coordinate as typed back: 7 decimals (the stored precision), trailing zeros dropped."""
    text = f"{value:.{COORD_TEXT_DECIMALS}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def form_values(station: Station | None) -> dict[str, Any]:
    """The form's fields for ``station`` (``None``: a new station: a rest station, open)."""
    if station is None:
        values: dict[str, Any] = {key: "" for key in TEXTS}
        values.update(kind="rest_station", status="open", amenity=[], palace_class="", floor_area_m2="", beds="",
                      sample=False, lon="", lat="", crs="wgs84")
        return values
    values = {key: getattr(station, key) or "" for key in TEXTS}
    values.update(amenity=list(station.amenities), palace_class=number_text(station.palace_class),
                  floor_area_m2=number_text(station.floor_area_m2), beds=number_text(station.beds),
                  sample=bool(station.sample), lon=coord_text(station.lon), lat=coord_text(station.lat), crs="wgs84")
    return values


def submitted_values(form: StationForm) -> dict[str, Any]:
    """The form's fields as the user typed them (shown again after a problem or a conflict)."""
    values = {key: getattr(form, key) for key in TEXTS}
    values.update(amenity=list(form.amenity), palace_class=form.palace_class, floor_area_m2=form.floor_area_m2,
                  beds=form.beds, sample=form.sample, lon=form.lon, lat=form.lat, crs=form.crs, note=form.note)
    return values


# ---- the form's texts as a record ----------------------------------------------------------------------

def _number(text: str, whole: bool) -> Any:
    """A number from a form text: ``None`` if empty; the text itself if it is not one (the record's rules
    then name it)."""
    if not text:
        return None
    text = text.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", text) else text
    if whole and WHOLE_RE.fullmatch(text):
        return int(text)
    if not whole and NUMBER_RE.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    return text


def _coordinate(text: str) -> float | None:
    text = text.strip().replace("，", ",").rstrip("°")
    if not NUMBER_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def read_position(lon_text: str, lat_text: str, crs: str, draft: Draft) -> tuple[float, float] | None:
    """(lon, lat) WGS-84 from the texts typed in ``crs``; problems go to the ``position`` field.

    ``lon`` may hold both numbers as AMap copies them, ``116.59,35.41`` (longitude first)."""
    lon_text, lat_text = lon_text.strip(), lat_text.strip()
    if not lat_text and ("," in lon_text or "，" in lon_text):
        lon_text, _, lat_text = lon_text.replace("，", ",").partition(",")
    if not lon_text and not lat_text:
        draft.add_problem("position", "missing")
        return None
    lon, lat = _coordinate(lon_text), _coordinate(lat_text)
    if lon is None or lat is None:
        draft.add_problem("position", "not_numbers")
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        draft.add_problem("position", "swapped" if -90 <= lon <= 90 and -180 <= lat <= 180 else "range")
        return None
    if crs != "wgs84":
        lon, lat = convert(lon, lat, crs, "wgs84")
    return float(lon), float(lat)


def read_form(form: StationForm) -> Draft:
    """The record a submitted form describes (see the module doc)."""
    props: dict[str, Any] = {key: (getattr(form, key) or None) for key in TEXTS}
    props["amenities"] = list(form.amenity)
    props["sample"] = bool(form.sample)
    props["palace_class"] = _number(form.palace_class, whole=True)
    props["floor_area_m2"] = _number(form.floor_area_m2, whole=False)
    props["beds"] = _number(form.beds, whole=True)
    if props["kind"] != "cultural_palace":
        props["palace_class"] = None  # the kind has none (the field is hidden for other kinds)
    if props["status"] == "open":
        props["status_reason"] = None  # a reason and a reopening date belong to a station that is not open
    if props["status"] != REOPENS_STATUS:
        props["reopens_on"] = None
    draft = Draft(props, None)
    draft.position = read_position(form.lon, form.lat, form.crs, draft)
    return draft


def changes_from(draft: Draft, current: Station) -> dict[str, Any]:
    """The store's ``changes`` that make ``current`` what the form says: only what differs (a text that
    differs only by surrounding white space, or amenities in another order, is no change)."""
    before = current.to_properties()
    changes: dict[str, Any] = {}
    for key in EDITED:
        new, old = draft.properties.get(key), before.get(key)
        if key == "amenities":
            old = list(old or [])
            if set(new or []) == set(old):
                continue
            new = [a for a in old if a in new] + [a for a in AMENITIES if a in new and a not in old]
            changes[key] = new or None
            continue
        if key == "sample":
            if bool(new) != bool(old):
                changes[key] = bool(new)
            continue
        if isinstance(old, str) and isinstance(new, str) and old.strip() == new:
            continue
        if new != old:
            changes[key] = new
    if draft.position is not None and (abs(draft.position[0] - current.lon) > MOVE_TOLERANCE_DEG
                                       or abs(draft.position[1] - current.lat) > MOVE_TOLERANCE_DEG):
        changes["lon"], changes["lat"] = draft.position  # a move: the store derives the county again
    return changes


def new_feature(draft: Draft) -> dict[str, Any]:
    """A GeoJSON Feature of a new station from the form (the store gives it its id)."""
    props = {key: value for key, value in draft.properties.items() if value not in (None, [], "")}
    if not draft.properties.get("sample"):
        props.pop("sample", None)
    lon, lat = draft.position or (None, None)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def property_problems(draft: Draft, label: str = "form") -> list[Problem]:
    """The record's own problems of the form's properties (used when the position could not be read)."""
    props = {key: value for key, value in draft.properties.items() if value is not None}
    props.setdefault("id", "JN-RS-0000")
    return check_properties(props, label)


# ---- problems next to their fields ---------------------------------------------------------------------

def field_of(problem_field: str) -> str:
    """The form field a store problem belongs to: positions and the county are the ``position``."""
    if problem_field.startswith("geometry") or problem_field == "county_code":
        return "position"
    if problem_field in FIELDS:
        return problem_field
    return "record"


def problems_by_field(problems: Iterable[Problem], into: dict[str, list[str]] | None = None) -> dict[str, list[Any]]:
    """form field -> the problems (``Problem``s or the form's own problem keys), every one of them."""
    out = into if into is not None else {}
    for problem in problems:
        out.setdefault(field_of(problem.field), []).append(problem)
    return out


# ---- comparing versions (the conflict page) ---------------------------------------------------------------

def comparable(props: Mapping[str, Any], position: tuple[float, float] | None) -> dict[str, str]:
    """Each form field's value as one text, to compare versions field by field."""
    out = {}
    for name in FIELDS:
        if name == "position":
            out[name] = f"{coord_text(position[0])}, {coord_text(position[1])}" if position else ""
        elif name == "amenities":
            out[name] = " ".join(sorted(props.get("amenities") or ()))
        elif name == "sample":
            out[name] = "1" if props.get("sample") else ""
        else:
            value = props.get(name)
            out[name] = number_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else (value or "").strip()
    return out


def station_comparable(station: Station) -> dict[str, str]:
    return comparable(station.to_properties(), (station.lon, station.lat))


def draft_comparable(draft: Draft) -> dict[str, str]:
    return comparable(draft.properties, draft.position)


# the form fields each comparable field is typed in
FORM_FIELDS = {"position": ("lon", "lat", "crs"), "amenities": ("amenity",)}


def merged_values(typed: Mapping[str, Any], current: Station, mine_changed: Iterable[str]) -> dict[str, Any]:
    """The form to show after a conflict: the current version, with what the user changed typed over it."""
    values = form_values(current)
    values["note"] = typed.get("note", "")
    for name in mine_changed:
        for key in FORM_FIELDS.get(name, (name,)):
            values[key] = typed[key]
    return values


# ---- opening hours, read as the site reads them ------------------------------------------------------------

def hours_preview(text: str, lang: str, now=None) -> dict[str, Any]:
    """``text`` (``opening_hours``) in words and open now, or the parser's error pointing at the faulty
    part: what ``/api/hours/preview`` answers and the form shows before its script runs."""
    if not text:
        return {"text": text, "valid": None}
    try:
        parsed = hours.parse_opening_hours(text)
    except hours.OpeningHoursError as exc:
        return {"text": text, "valid": False, "error": {
            "column": exc.column, "length": len(exc.token), "token": exc.token, "reason": exc.reason,
            "message": exc.problems[0].allowed}}
    now = now or hours.now_shanghai()
    change = parsed.next_change(now)
    return {"text": text, "valid": True, "description": parsed.describe(lang), "open_now": parsed.is_open(now),
            "is_24_7": parsed.is_24_7, "next_change": change.isoformat(timespec="seconds") if change else None}
