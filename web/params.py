"""Parsing and checking of query-string parameters for the JSON API.

Functions here take a werkzeug ``MultiDict`` (``request.args``), not the request, so they are
plain functions that tests can call directly. Every bad value raises :class:`ParameterError`
(a ``stations.errors.ValidationError``) naming the parameter, the value it got and what is
allowed; ``web.errors`` turns it into a 400 JSON answer.

An empty value (``kind=``, as an HTML form sends for "any") counts as absent, except for
required parameters. Unknown parameters are ignored (cache busters, analytics tags).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from stations.coords import CRS_NAMES
from stations.errors import Problem, ValidationError
from stations.model import AMENITIES, KINDS, STATUSES

TZ = ZoneInfo("Asia/Shanghai")
MAX_K = 50
DEFAULT_K = 5
MIN_YEAR, MAX_YEAR = 1970, 2100  # for ``at``: public-holiday tables and time zones make sense here
MAX_DISTANCE_M = 20_040_000.0  # half the equator: no two points on Earth are further apart
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INT_RE = re.compile(r"^\+?\d{1,9}$")
KIND_NAMES = tuple(KINDS)
AMENITY_NAMES = tuple(AMENITIES)
STATUS_NAMES = tuple(STATUSES)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ParameterError(ValidationError):
    """A query parameter is missing or invalid: names it, its value and what is allowed."""

    def __init__(self, parameter: str, value: Any, message: str):
        self.parameter = parameter
        self.value = value
        self.message = message
        super().__init__(Problem("query", parameter, value, message))

    def __str__(self) -> str:
        return self.message


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    """Every non-empty value of a parameter (repeated parameters give several)."""
    if name not in args:  # the common case, kept cheap: most parameters are absent
        return []
    getlist = getattr(args, "getlist", None)
    raw = getlist(name) if getlist else [args[name]]
    return [v for v in raw if v.strip() != ""]


def _single(args: Mapping[str, Any], name: str, required: bool, allowed: Callable[[], str]) -> str | None:
    """The one non-empty value of a parameter, or None. ``allowed()`` is only called to explain an error
    (request parsing is on the hot path of /api/nearest: no message is built for valid input)."""
    values = _values(args, name)
    if not values:
        if required:
            raw = args.get(name)
            what = "missing" if raw is None else "empty"
            raise ParameterError(name, raw, f"{name} is required but {what}; allowed: {allowed()}")
        return None
    if len(values) > 1:
        raise ParameterError(name, values, f"{name} given {len(values)} times; allowed: once, {allowed()}")
    return values[0].strip()


def _choices_text(choices: Iterable[str]) -> str:
    return "one of " + ", ".join(choices)


def parse_float(args, name: str, *, required: bool = False, minimum: float | None = None,
                maximum: float | None = None, what: str = "a number") -> float | None:
    """A finite decimal number (no NaN/inf, no hex), optionally bounded (inclusive)."""
    def allowed() -> str:
        lo = "-inf" if minimum is None else f"{minimum:g}"
        hi = "inf" if maximum is None else f"{maximum:g}"
        return f"{what} from {lo} to {hi}"

    text = _single(args, name, required, allowed)
    if text is None:
        return None
    if not _NUMBER_RE.match(text):
        raise ParameterError(name, text, f"{name} is not a decimal number; allowed: {allowed()}")
    value = float(text)
    if not math.isfinite(value):
        raise ParameterError(name, text, f"{name} is not finite; allowed: {allowed()}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(name, text, f"{name} is out of range; allowed: {allowed()}")
    return value


def parse_int(args, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole number in ``minimum..maximum`` (``1e3`` and ``2.0`` are refused)."""
    def allowed() -> str:
        return f"a whole number from {minimum} to {maximum}"

    text = _single(args, name, False, allowed)
    if text is None:
        return default
    if not _INT_RE.match(text) or not minimum <= int(text) <= maximum:
        raise ParameterError(name, text, f"{name} is not allowed; allowed: {allowed()}")
    return int(text)


def parse_bool(args, name: str, *, default: bool = False) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case)."""
    def allowed() -> str:
        return "1, true, yes, on, 0, false, no or off"

    text = _single(args, name, False, allowed)
    if text is None:
        return default
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ParameterError(name, text, f"{name} is not a yes/no value; allowed: {allowed()}")


def parse_choice(args, name: str, choices: Sequence[str], *, default: str | None = None) -> str | None:
    """One value out of ``choices``."""
    def allowed() -> str:
        return _choices_text(choices)

    text = _single(args, name, False, allowed)
    if text is None:
        return default
    if text not in choices:
        raise ParameterError(name, text, f"unknown {name}; allowed: {allowed()}")
    return text


def parse_choices(args, name: str, choices: Sequence[str]) -> tuple[str, ...]:
    """Several values out of ``choices``: repeated (``a=x&a=y``) and/or comma-separated (``a=x,y``).

    Order is kept, duplicates dropped.
    """
    out: list[str] = []
    for raw in _values(args, name):
        for part in raw.split(","):
            item = part.strip()
            if not item:
                continue
            if item not in choices:
                raise ParameterError(name, item, f"unknown {name}; allowed: {_choices_text(choices)}")
            if item not in out:
                out.append(item)
    return tuple(out)


def parse_bbox(args, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` in WGS-84 degrees (the GeoJSON/OGC order: lon first)."""
    allowed = "minlon,minlat,maxlon,maxlat in WGS-84 degrees, lon -180..180, lat -90..90, min <= max"
    text = _single(args, name, False, lambda: allowed)
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(_NUMBER_RE.match(p) for p in parts):
        raise ParameterError(name, text, f"{name} needs 4 comma-separated numbers; allowed: {allowed}")
    minlon, minlat, maxlon, maxlat = (float(p) for p in parts)
    if not all(math.isfinite(v) for v in (minlon, minlat, maxlon, maxlat)):
        raise ParameterError(name, text, f"{name} has a non-finite number; allowed: {allowed}")
    if not (-180 <= minlon <= 180 and -180 <= maxlon <= 180 and -90 <= minlat <= 90 and -90 <= maxlat <= 90):
        raise ParameterError(name, text, f"{name} is out of range; allowed: {allowed}")
    if minlon > maxlon or minlat > maxlat:
        raise ParameterError(name, text, f"{name} has a minimum above its maximum; allowed: {allowed}")
    return (minlon, minlat, maxlon, maxlat)


def parse_county(args, counties, name: str = "county") -> str | None:
    """A county adcode (``370811``) or its exact name (``任城区``); returns the adcode."""
    codes = counties.codes

    def allowed() -> str:
        return "one of " + ", ".join(f"{c} ({counties.name(c)})" for c in codes)

    text = _single(args, name, False, allowed)
    if text is None:
        return None
    if text in codes:
        return text
    for code in codes:
        if counties.name(code) == text:
            return code
    raise ParameterError(name, text, f"unknown {name}; allowed: {allowed()} (adcode or name)")


def parse_datetime(args, name: str) -> datetime | None:
    """ISO 8601 date-time; without an offset it is Asia/Shanghai time. Returned aware."""
    allowed = "an ISO 8601 date-time such as 2026-05-01T12:30 (Asia/Shanghai time unless an offset is given)"
    text = _single(args, name, False, lambda: allowed)
    if text is None:
        return None
    # A '+' of an offset arrives as a space when the client did not percent-encode it.
    iso = text.replace(" ", "+") if text.count(" ") == 1 and "T" in text else text
    try:
        value = datetime.fromisoformat(iso)
        value = value.replace(tzinfo=TZ) if value.tzinfo is None else value.astimezone(TZ)
    except (ValueError, OverflowError):
        raise ParameterError(name, text, f"{name} is not a date-time; allowed: {allowed}") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ParameterError(name, text,
                             f"{name} is out of range; allowed: {allowed}, years {MIN_YEAR}-{MAX_YEAR}")
    return value


def parse_crs(args, name: str = "crs") -> str:
    """Output coordinate system of positions: wgs84 (default), gcj02 (AMap) or bd09 (Baidu)."""
    return parse_choice(args, name, CRS_NAMES, default="wgs84") or "wgs84"


# ---- one function per endpoint -------------------------------------------------------------

@dataclass(frozen=True)
class NearestParams:
    lon: float
    lat: float
    k: int = DEFAULT_K
    kind: str | None = None
    amenities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("open",)
    open_at: datetime | None = None
    max_distance_m: float | None = None
    crs: str = "wgs84"
    open_24_7: bool = False


def parse_nearest(args, now: datetime | None = None) -> NearestParams:
    """Parameters of ``GET /api/nearest``; ``now`` (aware) is used for ``open_now=1``."""
    lat = parse_float(args, "lat", required=True, minimum=-90, maximum=90, what="a WGS-84 latitude")
    lon = parse_float(args, "lon", required=True, minimum=-180, maximum=180, what="a WGS-84 longitude")
    k = parse_int(args, "k", default=DEFAULT_K, minimum=1, maximum=MAX_K)
    kind = parse_choice(args, "kind", KIND_NAMES)
    amenities = parse_choices(args, "amenity", AMENITY_NAMES)
    statuses = parse_choices(args, "status", STATUS_NAMES) or ("open",)
    open_now = parse_bool(args, "open_now")
    at = parse_datetime(args, "at")
    if open_now and at is not None:
        raise ParameterError("at", args.get("at"),
                             "at conflicts with open_now=1; allowed: one of open_now=1 or at=..., not both")
    if open_now:
        at = now if now is not None else datetime.now(TZ)
    max_distance_m = parse_float(args, "max_distance_m", minimum=0, maximum=MAX_DISTANCE_M,
                                 what="a distance in metres")
    return NearestParams(lon=lon, lat=lat, k=k, kind=kind, amenities=amenities, statuses=statuses,
                         open_at=at, max_distance_m=max_distance_m, crs=parse_crs(args),
                         open_24_7=parse_bool(args, "open_24_7"))


@dataclass(frozen=True)
class StationFilters:
    kind: str | None = None
    county: str | None = None
    status: str | None = None
    amenities: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    crs: str = "wgs84"

    def store_query(self) -> dict[str, Any]:
        """Keyword arguments for ``GeoJSONStore.query``."""
        return {"kind": self.kind, "county": self.county, "status": self.status,
                "amenity": self.amenities, "bbox": self.bbox}

    @property
    def is_empty(self) -> bool:
        return self.store_query() == StationFilters().store_query()


def parse_station_filters(args, counties) -> StationFilters:
    """Parameters of ``GET /api/stations``."""
    return StationFilters(
        kind=parse_choice(args, "kind", KIND_NAMES),
        county=parse_county(args, counties),
        status=parse_choice(args, "status", STATUS_NAMES),
        amenities=parse_choices(args, "amenity", AMENITY_NAMES),
        bbox=parse_bbox(args),
        crs=parse_crs(args),
    )
