"""Validation of station features: every problem of every record at once.

Hand-written (fast enough for 186,100 records) and kept in step with ``schema.json``, which is
generated from the same vocabulary and patterns by :func:`build_schema`; write it with
``python scripts/write_schema.py``. A property-based test (``tests/test_schema.py``) feeds random
records to both and checks that they accept and refuse the same ones.

The rules both sides share:

- Every optional property may be ``null``, which means "not given" (GIS exports write ``null``
  for an empty attribute); the required ``id``, ``name``, ``kind``, ``status`` may not.
- Positions are ``[lon, lat]`` or ``[lon, lat, altitude]`` (RFC 7946 section 3.1.1 allows an
  altitude): every member a finite number. The altitude is accepted but not stored.
- Whole numbers (``beds``, ``palace_class``) may be written ``12`` or ``12.0``, as JSON Schema
  counts them both as integers. Numbers are bounded (``beds`` 0..100000, ``floor_area_m2`` up to
  1,000,000 m²): a 401-digit value is no count of beds, and no export could carry it.
- Free texts (``name``, ``address``, ``host``, ``source``, ``status_reason``, ``opening_hours``) hold
  no control character (Unicode category Cc: C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F; a
  vertical tab or a NUL pasted with an address): every one of them is a single line, typed in a
  one-line field of the staff form and shown on one line, and XML (XLSX) cannot carry most of them.
  No station field is multi-line, so not even a newline or a tab is allowed. A multi-line text (a
  workers' report note, typed in a text area: ``web.reports.forms``) may hold line breaks and tabs
  (``\n``, ``\r``, ``\t``) and no other control (:data:`MULTI_LINE_PATTERN`, :func:`has_controls`).
  The other texts (``id``, ``phone``, dates, ``county_code``) have patterns that leave no room for one.
- Patterns mean the same in Python's ``re`` and in ECMA-262 (the regex dialect of JSON Schema):
  ASCII classes only (``[0-9]``, not ``\\d``), and see :func:`_whole`.
- What JSON Schema cannot say: the real calendar (``2026-02-30``) is its ``format: date``, an
  assertion only where a validator enables format checks (jsonschema's ``FormatChecker``,
  ajv-formats); ``opening_hours`` syntax is beyond it (the schema says "a string"); NaN and
  infinities are not JSON values and the validator refuses them.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import Problem, is_unicode
from .model import AMENITIES, KINDS, PALACE_CLASSES, PROPERTY_ORDER, STATUSES

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"


def _whole(body: str) -> str:
    """A pattern that matches the whole string, alike in Python's ``re`` and ECMA-262.

    JSON Schema's ``pattern`` is searched, not matched, hence ``^`` and ``$``. In Python ``$``
    also matches just before a final newline; ``(?!\\n)`` rules that out (in ECMA-262 ``$`` is
    the end already, and the lookahead changes nothing).
    """
    return f"^(?:{body})$(?!\\n)"


ID_PATTERN = _whole(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")
PHONE_PATTERN = _whole(r"[0-9+][0-9 ()\-]{4,24}(转[0-9]{1,6})?")
# Year 1000-9999, month 01-12, day 01-31; the real calendar is checked beside it (format: date).
DATE_PATTERN = _whole(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
COUNTY_CODE_PATTERN = _whole(r"[0-9]{6}")
# Non-blank: at least one character that is not white space (Python's str.isspace and
# ECMA-262's \s differ, so the class lists their union, plus the zero-width space).
NAME_PATTERN = r"[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
NAME_MAX = 200
TEXT_MAX = 500
STATUS_REASON_MAX = 200
#: the control characters (Unicode category Cc) as a character class alike in Python's ``re`` and ECMA-262
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
#: a single-line text: no control character at all
SINGLE_LINE_PATTERN = _whole(f"[^{CONTROL_CLASS}]*")
#: the controls a multi-line text may hold: line breaks (LF, CR) and tabs
MULTI_LINE_CONTROLS = "\t\n\r"
_MULTI_LINE_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # CONTROL_CLASS without MULTI_LINE_CONTROLS
#: a multi-line text: no control character but line breaks and tabs
MULTI_LINE_PATTERN = _whole(f"[^{_MULTI_LINE_CLASS}]*")
#: the station's free texts, each a single line
SINGLE_LINE_FIELDS = ("name", "address", "host", "source", "status_reason", "opening_hours")
#: what a text with a control character is told (the staff form recognises the problem by it)
NO_CONTROLS = ("a single line of text without control characters (U+0000-U+001F, U+007F-U+009F, e.g. a "
               "vertical tab, a NUL or a line break): remove them")
BEDS_MAX = 100_000
FLOOR_AREA_MAX_M2 = 1_000_000
#: the one status a reopening date belongs to
REOPENS_STATUS = "temporarily_closed"
_ID_RE = re.compile(ID_PATTERN)
_PHONE_RE = re.compile(PHONE_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_COUNTY_CODE_RE = re.compile(COUNTY_CODE_PATTERN)
_NAME_RE = re.compile(NAME_PATTERN)
_CONTROL_RE = re.compile(f"[{CONTROL_CLASS}]")
_MULTI_LINE_CONTROL_RE = re.compile(f"[{_MULTI_LINE_CLASS}]")

REQUIRED = ("id", "name", "kind", "status")
KNOWN = set(PROPERTY_ORDER)


def _choices(values: Iterable[str]) -> str:
    return "one of " + ", ".join(values)


def _is_number(value: Any) -> bool:
    """A finite JSON number (bools are not numbers; huge ints are finite)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    """A JSON Schema integer: a finite number without a fraction (``12`` or ``12.0``)."""
    return _is_number(value) and (isinstance(value, int) or value.is_integer())


def has_controls(text: str, multi_line: bool = False) -> bool:
    """Whether ``text`` holds a control character its kind of text may not: none in a single line, none but
    line breaks and tabs in a multi-line text (see the module docstring)."""
    return bool((_MULTI_LINE_CONTROL_RE if multi_line else _CONTROL_RE).search(text))


def record_label(feature: Any, index: int | None = None) -> str:
    """How a record is named in messages: its id, else its position in the file."""
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    fid = props.get("id") if isinstance(props, Mapping) else None
    if isinstance(fid, str) and fid:
        return fid
    return f"record #{index + 1}" if index is not None else "record"


def check_position(coords: Any, label: str) -> tuple[list[Problem], tuple[float, float] | None]:
    """Check a GeoJSON Point's coordinates; return problems and (lon, lat) when usable.

    ``[lon, lat]`` or ``[lon, lat, altitude]``, all finite numbers; the altitude is not used.
    """
    allowed = ("[longitude, latitude] in WGS-84 degrees: longitude -180..180, latitude -90..90 "
               "(an altitude in metres may follow)")
    if not isinstance(coords, (list, tuple)) or len(coords) not in (2, 3):
        return [Problem(label, "geometry.coordinates", coords, allowed)], None
    if not all(_is_number(v) for v in coords):
        return [Problem(label, "geometry.coordinates", coords, allowed)], None
    lon, lat = coords[0], coords[1]  # GeoJSON order is (lon, lat)
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
    if not isinstance(value, str) or not _DATE_RE.search(value):
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

    for key, value in props.items():  # a lone surrogate (JSON's "\ud800") can be neither stored nor shown
        texts = [key] + [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if not all(is_unicode(text) for text in texts):
            add(Problem(label, key, value, "text in Unicode: a lone surrogate such as \\ud800 is not a character"))

    fid = props.get("id")
    if fid not in (None, "") and (not isinstance(fid, str) or not _ID_RE.search(fid)):
        add(Problem(label, "id", fid, "upper-case letters and digits in dash-separated parts, e.g. JN-RS-0001"))
    name = props.get("name")
    if name not in (None, "") and (not isinstance(name, str) or not _NAME_RE.search(name)
                                   or len(name) > NAME_MAX):
        add(Problem(label, "name", name, f"a non-blank text of at most {NAME_MAX} characters"))
    kind = props.get("kind")
    if kind not in (None, "") and (not isinstance(kind, str) or kind not in KINDS):
        add(Problem(label, "kind", kind, _choices(KINDS)))
    status = props.get("status")
    if status not in (None, "") and (not isinstance(status, str) or status not in STATUSES):
        add(Problem(label, "status", status, _choices(STATUSES)))

    amenities = props.get("amenities")
    if amenities is not None:
        if not isinstance(amenities, list):
            add(Problem(label, "amenities", amenities, "a list of amenity names"))
        else:
            for item in amenities:
                if not isinstance(item, str) or item not in AMENITIES:
                    add(Problem(label, "amenities", item, _choices(AMENITIES)))
            if len(set(map(str, amenities))) != len(amenities):
                add(Problem(label, "amenities", amenities, "each amenity at most once"))

    for key in SINGLE_LINE_FIELDS:  # beside each field's other rules, so that the message says what is wrong
        if isinstance(props.get(key), str) and has_controls(props[key]):
            add(Problem(label, key, props[key], NO_CONTROLS))
    for key in ("address", "host", "source"):
        value = props.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > TEXT_MAX):
            add(Problem(label, key, value, f"a text of at most {TEXT_MAX} characters"))
    phone = props.get("phone")
    if phone is not None and (not isinstance(phone, str) or not _PHONE_RE.search(phone)):
        add(Problem(label, "phone", phone,
                    "a phone number: digits, spaces, +, -, ( ), an extension after 转, e.g. 0537-2345678转123"))
    hours = props.get("opening_hours")
    if hours is not None and not (isinstance(hours, str) and has_controls(hours)):
        problems.extend(check_opening_hours(hours, label))
    for key in ("opened_on", "last_verified_on", "reopens_on"):
        if props.get(key) is not None:
            problems.extend(_check_date(label, key, props[key]))
    reason = props.get("status_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > STATUS_REASON_MAX):
        add(Problem(label, "status_reason", reason, f"a text of at most {STATUS_REASON_MAX} characters"))
    if props.get("reopens_on") is not None and status != REOPENS_STATUS:
        add(Problem(label, "reopens_on", props["reopens_on"],
                    f"only for status {REOPENS_STATUS} (the date it opens again); remove it for status {status}"))

    pclass = props.get("palace_class")
    if pclass is not None:
        if kind != "cultural_palace":
            add(Problem(label, "palace_class", pclass, "only for kind cultural_palace"))
        elif not _is_whole(pclass) or pclass not in PALACE_CLASSES:
            add(Problem(label, "palace_class", pclass, "1, 2 or 3"))
    area = props.get("floor_area_m2")
    if area is not None and (not _is_number(area) or not 0 < area <= FLOOR_AREA_MAX_M2):
        add(Problem(label, "floor_area_m2", area,
                    f"a positive number of square metres, at most {FLOOR_AREA_MAX_M2:,}"))
    beds = props.get("beds")
    if beds is not None and (not _is_whole(beds) or not 0 <= beds <= BEDS_MAX):
        add(Problem(label, "beds", beds, f"a whole number from 0 to {BEDS_MAX:,}"))
    sample = props.get("sample")
    if sample is not None and not isinstance(sample, bool):
        add(Problem(label, "sample", sample, "true or false"))
    code = props.get("county_code")
    if code is not None and (not isinstance(code, str) or not _COUNTY_CODE_RE.search(code)):
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
    if "id" in feature and not (isinstance(feature["id"], str) or _is_number(feature["id"])):
        problems.append(Problem(label, "id (feature)", feature["id"], "a string or a number (RFC 7946)"))
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
    """JSON Schema (2020-12) of a station feature, from the one vocabulary in ``model``.

    Same rules as :func:`check_feature_shape` and :func:`check_properties` (see this module's
    docstring for the few JSON Schema cannot express).
    """
    def optional(json_type: str, **keywords: Any) -> dict[str, Any]:
        """An optional property: ``null`` means not given (the keywords apply to ``json_type``)."""
        return {"type": [json_type, "null"], **keywords}

    single_line = {"pattern": SINGLE_LINE_PATTERN}
    text = optional("string", maxLength=TEXT_MAX, **single_line, description="one line, no control characters")
    day = optional("string", pattern=DATE_PATTERN, format="date",
                   description="YYYY-MM-DD; a real calendar date (format: date)")
    number = {"type": "number"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://yizhan.example/schema/station.json",
        "title": "Yizhan station feature",
        "description": (
            "A GeoJSON (RFC 7946) Point Feature; coordinates are WGS-84 [longitude, latitude], "
            "optionally followed by an altitude in metres (accepted, not stored). Optional "
            "properties may be null (not given). Generated by stations.validate.build_schema from "
            "the validator's own vocabulary and patterns. Texts hold no control characters (Cc: "
            "U+0000-U+001F, U+007F-U+009F): every text is a single line. The validator also checks what this "
            "schema cannot: opening_hours syntax (OpenStreetMap), and a real calendar date, which "
            "here is `format: date`, enforced only where format assertion is on (e.g. Python "
            "jsonschema with a FormatChecker, ajv with ajv-formats)."),
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": ["string", "number"],
                   "description": "RFC 7946 feature id; the station id is properties.id"},
            "geometry": {
                "type": "object",
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"const": "Point"},
                    "coordinates": {
                        "type": "array", "minItems": 2, "maxItems": 3,
                        "prefixItems": [
                            {**number, "minimum": -180, "maximum": 180, "description": "longitude"},
                            {**number, "minimum": -90, "maximum": 90, "description": "latitude"},
                            {**number, "description": "altitude in metres (accepted, not stored)"},
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
                    "name": {"type": "string", "maxLength": NAME_MAX,
                             "allOf": [{"pattern": NAME_PATTERN}, single_line],
                             "description": "not blank: at least one character that is not white space; one "
                                            "line, no control characters"},
                    "kind": {"enum": list(KINDS)},
                    "county_code": optional("string", pattern=COUNTY_CODE_PATTERN),
                    "address": text,
                    "phone": optional("string", pattern=PHONE_PATTERN,
                                      description="an extension follows 转, e.g. 0537-2345678转123"),
                    "opening_hours": optional(
                        "string", **single_line,
                        description="OpenStreetMap opening_hours syntax, Asia/Shanghai time, one line "
                                    "(the syntax is checked by the validator, not by this schema)"),
                    "amenities": optional("array", uniqueItems=True, items={"enum": list(AMENITIES)}),
                    "host": text,
                    "status": {"enum": list(STATUSES)},
                    "status_reason": optional("string", maxLength=STATUS_REASON_MAX, **single_line,
                                              description="why the station has its status (temporarily closed, "
                                                          "closed...); one line, no control characters"),
                    "reopens_on": {**day, "description": f"YYYY-MM-DD, a real calendar date (format: date): when "
                                                         f"the station opens again; only for status "
                                                         f"{REOPENS_STATUS}"},
                    "opened_on": day,
                    "last_verified_on": day,
                    "palace_class": {"enum": [*PALACE_CLASSES, None],
                                     "description": "only for kind cultural_palace"},
                    "floor_area_m2": optional("number", exclusiveMinimum=0, maximum=FLOOR_AREA_MAX_M2),
                    "beds": optional("integer", minimum=0, maximum=BEDS_MAX),
                    "sample": optional("boolean"),
                    "source": text,
                },
                "allOf": [
                    {  # palace_class belongs to a cultural palace only
                        "if": {"required": ["kind"], "properties": {"kind": {"const": "cultural_palace"}}},
                        "else": {"properties": {"palace_class": {"type": "null"}}},
                    },
                    {  # a reopening date belongs to a temporarily closed station only
                        "if": {"required": ["status"], "properties": {"status": {"const": REOPENS_STATUS}}},
                        "else": {"properties": {"reopens_on": {"type": "null"}}},
                    },
                ],
            },
        },
    }


def schema_text() -> str:
    """The text of ``schema.json``: :func:`build_schema` as stable, readable JSON."""
    return json.dumps(build_schema(), ensure_ascii=False, indent=2) + "\n"


def write_schema(path: str | Path = SCHEMA_PATH) -> Path:
    """Write :func:`schema_text` to ``path`` (default: the package's ``schema.json``)."""
    path = Path(path)
    path.write_text(schema_text(), encoding="utf-8")
    return path
