"""Validation of station features: every problem of every record at once.

Hand-written (fast enough for 186,100 records) and kept in step with ``schema.json``, which is
generated from the same vocabulary by :func:`build_schema` (a test checks they agree).
"""
from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from .errors import Problem
from .model import AMENITIES, KINDS, PALACE_CLASSES, PROPERTY_ORDER, STATUSES

ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
PHONE_PATTERN = r"^[0-9+][0-9 ()\-]{4,24}(转[0-9]{1,6})?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_ID_RE = re.compile(ID_PATTERN)
_PHONE_RE = re.compile(PHONE_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)

REQUIRED = ("id", "name", "kind", "status")
KNOWN = set(PROPERTY_ORDER)


def _choices(values: Iterable[str]) -> str:
    return "one of " + ", ".join(values)


def record_label(feature: Any, index: int | None = None) -> str:
    """How a record is named in messages: its id, else its position in the file."""
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    fid = props.get("id") if isinstance(props, Mapping) else None
    if isinstance(fid, str) and fid:
        return fid
    return f"record #{index + 1}" if index is not None else "record"


def check_position(coords: Any, label: str) -> tuple[list[Problem], tuple[float, float] | None]:
    """Check a GeoJSON Point's coordinates; return problems and (lon, lat) when usable."""
    allowed = "[longitude, latitude] in WGS-84 degrees: longitude -180..180, latitude -90..90"
    if not isinstance(coords, (list, tuple)) or len(coords) not in (2, 3):
        return [Problem(label, "geometry.coordinates", coords, allowed)], None
    lon, lat = coords[0], coords[1]  # GeoJSON order is (lon, lat)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat))
    if not numeric or not all(math.isfinite(v) for v in (lon, lat)):
        return [Problem(label, "geometry.coordinates", coords, allowed)], None
    problems = []
    if not -180 <= lon <= 180:
        problems.append(Problem(label, "geometry.coordinates[0] (longitude)", lon, "-180..180"))
    if not -90 <= lat <= 90:
        hint = ""
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            hint = f"; latitude and longitude look swapped: GeoJSON order is [lon, lat], try [{lat}, {lon}]"
        problems.append(Problem(label, "geometry.coordinates[1] (latitude)", lat, "-90..90" + hint))
    return problems, (None if problems else (float(lon), float(lat)))


def _check_date(label: str, key: str, value: Any) -> list[Problem]:
    allowed = "a date as YYYY-MM-DD"
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return [Problem(label, key, value, allowed)]
    try:
        date.fromisoformat(value)
    except ValueError:
        return [Problem(label, key, value, allowed + " (a real calendar date)")]
    return []


def check_properties(props: Mapping[str, Any], label: str) -> list[Problem]:
    """Every problem of one record's properties (not its position or county)."""
    problems: list[Problem] = []
    add = problems.append
    for key in REQUIRED:
        if props.get(key) in (None, ""):
            add(Problem(label, key, props.get(key), "required"))
    for key in props:
        if key not in KNOWN:
            add(Problem(label, key, props[key], "an unknown field; allowed: " + ", ".join(PROPERTY_ORDER)))

    fid = props.get("id")
    if fid not in (None, "") and (not isinstance(fid, str) or not _ID_RE.match(fid)):
        add(Problem(label, "id", fid, "upper-case letters and digits in dash-separated parts, e.g. JN-RS-0001"))
    name = props.get("name")
    if name not in (None, "") and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        add(Problem(label, "name", name, "a non-blank text of at most 200 characters"))
    kind = props.get("kind")
    if kind not in (None, "") and kind not in KINDS:
        add(Problem(label, "kind", kind, _choices(KINDS)))
    status = props.get("status")
    if status not in (None, "") and status not in STATUSES:
        add(Problem(label, "status", status, _choices(STATUSES)))

    amenities = props.get("amenities")
    if amenities is not None:
        if not isinstance(amenities, list):
            add(Problem(label, "amenities", amenities, "a list of amenity names"))
        else:
            for item in amenities:
                if item not in AMENITIES:
                    add(Problem(label, "amenities", item, _choices(AMENITIES)))
            if len(set(map(str, amenities))) != len(amenities):
                add(Problem(label, "amenities", amenities, "each amenity at most once"))

    for key in ("address", "host", "source"):
        value = props.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            add(Problem(label, key, value, "a text of at most 500 characters"))
    phone = props.get("phone")
    if phone is not None and (not isinstance(phone, str) or not _PHONE_RE.match(phone)):
        add(Problem(label, "phone", phone, "a phone number: digits, spaces, +, -, ( ), e.g. 0537-2345678"))
    hours = props.get("opening_hours")
    if hours is not None:
        problems.extend(check_opening_hours(hours, label))
    for key in ("opened_on", "last_verified_on"):
        if props.get(key) is not None:
            problems.extend(_check_date(label, key, props[key]))

    pclass = props.get("palace_class")
    if pclass is not None:
        if kind != "cultural_palace":
            add(Problem(label, "palace_class", pclass, "only for kind cultural_palace"))
        elif pclass not in PALACE_CLASSES or isinstance(pclass, bool):
            add(Problem(label, "palace_class", pclass, "1, 2 or 3"))
    area = props.get("floor_area_m2")
    if area is not None and (isinstance(area, bool) or not isinstance(area, (int, float))
                             or not math.isfinite(area) or area <= 0):
        add(Problem(label, "floor_area_m2", area, "a positive number of square metres"))
    beds = props.get("beds")
    if beds is not None and (isinstance(beds, bool) or not isinstance(beds, int) or beds < 0):
        add(Problem(label, "beds", beds, "a whole number ≥ 0"))
    sample = props.get("sample")
    if sample is not None and not isinstance(sample, bool):
        add(Problem(label, "sample", sample, "true or false"))
    code = props.get("county_code")
    if code is not None and (not isinstance(code, str) or not re.fullmatch(r"\d{6}", code)):
        add(Problem(label, "county_code", code, "a 6-digit administrative code (adcode), e.g. 370811"))
    return problems


def check_opening_hours(text: Any, label: str) -> list[Problem]:
    from .hours import parse_opening_hours  # local: hours imports errors only

    if not isinstance(text, str):
        return [Problem(label, "opening_hours", text, "OpenStreetMap opening_hours text, e.g. 'Mo-Fr 08:00-18:00'")]
    try:
        parse_opening_hours(text)
    except ValueError as exc:
        problems = getattr(exc, "problems", None)
        reason = problems[0].allowed if problems else str(exc)
        return [Problem(label, "opening_hours", text, f"OpenStreetMap opening_hours syntax: {reason}")]
    return []


def check_feature_shape(feature: Any, label: str) -> tuple[list[Problem], tuple[float, float] | None]:
    """Structure of a GeoJSON Point Feature; returns problems and the position if usable."""
    if not isinstance(feature, Mapping):
        return [Problem(label, "(record)", type(feature).__name__, "a GeoJSON Feature object")], None
    problems = []
    if feature.get("type") != "Feature":
        problems.append(Problem(label, "type", feature.get("type"), "'Feature'"))
    geom = feature.get("geometry")
    if not isinstance(geom, Mapping) or geom.get("type") != "Point":
        gtype = geom.get("type") if isinstance(geom, Mapping) else geom
        problems.append(Problem(label, "geometry", gtype, "a GeoJSON Point"))
        return problems, None
    pos_problems, pos = check_position(geom.get("coordinates"), label)
    problems.extend(pos_problems)
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        problems.append(Problem(label, "properties", props, "an object of station properties"))
    return problems, pos


def check_counties(records: Sequence[tuple[str, Mapping[str, Any], tuple[float, float]]],
                   counties) -> list[Problem]:
    """Each position must fall in a county; a given ``county_code`` must match it.

    ``records`` are (label, properties, (lon, lat)). Swapped coordinates that would fall inside
    a county are reported as such.
    """
    if counties is None or not records:
        return []
    lons = [pos[0] for _, _, pos in records]
    lats = [pos[1] for _, _, pos in records]
    found = counties.locate_many(lons, lats)
    problems = []
    for (label, props, (lon, lat)), code in zip(records, found):
        given = props.get("county_code")
        if code is None:
            allowed = "a point inside one of the counties: " + ", ".join(
                f"{c} {counties.name(c)}" for c in counties.codes)
            swapped = counties.locate(lat, lon) if -90 <= lon <= 90 else None
            if swapped is not None:
                allowed += (f"; latitude and longitude look swapped: [{lat}, {lon}] falls in "
                            f"{swapped} {counties.name(swapped)} (GeoJSON order is [lon, lat])")
            problems.append(Problem(label, "geometry.coordinates", [lon, lat], allowed))
        elif given is not None and given != code:
            problems.append(Problem(label, "county_code", given,
                                    f"{code} ({counties.name(code)}), the county the point falls in"))
    return problems


def build_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a station feature, from the one vocabulary in ``model``."""
    text = {"type": "string"}
    nullable_text = {"type": ["string", "null"], "maxLength": 500}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://yizhan.example/schema/station.json",
        "title": "Yizhan station feature",
        "description": "A GeoJSON (RFC 7946) Point Feature; coordinates are WGS-84 [longitude, latitude].",
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": text,
            "geometry": {
                "type": "object",
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"const": "Point"},
                    "coordinates": {
                        "type": "array", "minItems": 2, "maxItems": 2,
                        "prefixItems": [
                            {"type": "number", "minimum": -180, "maximum": 180, "description": "longitude"},
                            {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude"},
                        ],
                    },
                },
            },
            "properties": {
                "type": "object",
                "required": list(REQUIRED),
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": ID_PATTERN},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "kind": {"enum": list(KINDS)},
                    "county_code": {"type": ["string", "null"], "pattern": r"^\d{6}$"},
                    "address": nullable_text,
                    "phone": {"type": ["string", "null"], "pattern": PHONE_PATTERN},
                    "opening_hours": {"type": ["string", "null"],
                                      "description": "OpenStreetMap opening_hours syntax, Asia/Shanghai time"},
                    "amenities": {"type": "array", "uniqueItems": True, "items": {"enum": list(AMENITIES)}},
                    "host": nullable_text,
                    "status": {"enum": list(STATUSES)},
                    "opened_on": {"type": ["string", "null"], "pattern": DATE_PATTERN},
                    "last_verified_on": {"type": ["string", "null"], "pattern": DATE_PATTERN},
                    "palace_class": {"enum": [*PALACE_CLASSES, None]},
                    "floor_area_m2": {"type": ["number", "null"], "exclusiveMinimum": 0},
                    "beds": {"type": ["integer", "null"], "minimum": 0},
                    "sample": {"type": "boolean"},
                    "source": nullable_text,
                },
            },
        },
    }
