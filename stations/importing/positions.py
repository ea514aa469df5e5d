"""Positions as spreadsheets hold them: decimal degrees or degrees-minutes-seconds, in WGS-84, GCJ-02 or
BD-09, sometimes with latitude and longitude swapped.

:func:`parse_degrees` reads one cell (``116.587``, ``116°35'24"E``, ``35°24′36″N``, ``北纬35度24分36秒``,
``116 35 24``). :func:`place` turns a (lon, lat) pair in a given system into WGS-84 and checks it against
the counties: inside; outside but inside once swapped (``swapped``); outside (``outside``).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..coords import convert

_MARKS = str.maketrans({"度": "°", "分": "'", "秒": '"', "′": "'", "″": '"', "’": "'", "‘": "'", "”": '"',
                        "“": '"', "º": "°", "˚": "°"})
_HEMISPHERES = {"北纬": "N", "南纬": "S", "东经": "E", "西经": "W", "N": "N", "S": "S", "E": "E", "W": "W"}
_NUMBER = r"\d+(?:\.\d+)?"
_DMS = re.compile(rf"({_NUMBER})\s*°\s*(?:({_NUMBER})\s*'\s*(?:({_NUMBER})\s*(?:\"|'')?)?)?")
_SPACED = re.compile(rf"(\d+)\s+({_NUMBER})(?:\s+({_NUMBER}))?")
_DECIMAL = re.compile(rf"[+-]?{_NUMBER}")
_AXIS = {"N": "lat", "S": "lat", "E": "lon", "W": "lon"}


def parse_degrees(value: Any) -> tuple[float, str | None]:
    """Degrees (negative south and west) and the hemisphere letter written, if any.

    Raises ``ValueError`` with a short reason for anything else (the caller names row and column).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number of degrees")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return float(value), None
    text = unicodedata.normalize("NFKC", str(value)).translate(_MARKS).strip().upper()
    hemisphere = None
    for word, letter in _HEMISPHERES.items():
        if text.startswith(word):
            hemisphere, text = letter, text[len(word):].strip()
            break
        if text.endswith(word):
            hemisphere, text = letter, text[: -len(word)].strip()
            break
    text = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
    if _DECIMAL.fullmatch(text):
        degrees = float(text.rstrip("°"))
    elif (match := _DMS.fullmatch(text) or _SPACED.fullmatch(text)) is not None:
        d, m, s = (float(g) if g else 0.0 for g in match.groups())
        if m >= 60 or s >= 60:
            raise ValueError("minutes and seconds must be below 60")
        if "." in (match.group(1) or "") and (m or s):
            raise ValueError("whole degrees before minutes and seconds")
        degrees = d + m / 60 + s / 3600
    elif text.endswith("°") and _DECIMAL.fullmatch(text[:-1]):
        degrees = float(text[:-1])
    else:
        raise ValueError("decimal degrees (116.587) or degrees, minutes, seconds (116°35'24\"E)")
    if hemisphere in ("S", "W"):
        degrees = -abs(degrees)
    return degrees, hemisphere


def parse_pair(value: Any) -> tuple[tuple[float, str | None], tuple[float, str | None]]:
    """A "lon,lat" cell (``116.587,35.415``; also separated by ``，`` ``;`` or spaces) as two
    :func:`parse_degrees` results, in the order written."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    parts = [p for p in re.split(r"\s*[,;]\s*|\s+(?=[+-]?\d)", text) if p]
    if len(parts) != 2:
        raise ValueError("two numbers: longitude,latitude (116.587,35.415)")
    return parse_degrees(parts[0]), parse_degrees(parts[1])


def hemisphere_swapped(lon_hemisphere: str | None, lat_hemisphere: str | None) -> bool:
    """Whether the hemisphere letters say that the longitude and latitude cells hold each other's value."""
    return _AXIS.get(lon_hemisphere or "") == "lat" or _AXIS.get(lat_hemisphere or "") == "lon"


@dataclass(frozen=True)
class Placed:
    """A position checked against the counties.

    ``lon``/``lat``: WGS-84 degrees as read (``None`` when out of range); ``county``: the adcode it
    falls in (None outside). ``swapped``: outside as written, inside once latitude and longitude are
    exchanged; then ``swapped_lon``/``swapped_lat``/``swapped_county`` give that reading.
    """

    lon: float | None
    lat: float | None
    county: str | None
    swapped: bool = False
    swapped_lon: float | None = None
    swapped_lat: float | None = None
    swapped_county: str | None = None


def _to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float] | None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return convert(lon, lat, crs, "wgs84") if crs != "wgs84" else (lon, lat)


def place(lon: float, lat: float, crs: str, counties) -> Placed:
    """(lon, lat) in ``crs`` (wgs84, gcj02, bd09) as WGS-84, with the county it falls in.

    Without ``counties`` the point is only converted. Outside every county, the swapped reading
    (lat, lon) is tried: when it falls in a county the result says ``swapped``.
    """
    wgs = _to_wgs84(lon, lat, crs)
    county = counties.locate(*wgs) if wgs is not None and counties is not None else None
    if county is not None or counties is None:
        return Placed(wgs[0] if wgs else None, wgs[1] if wgs else None, county)
    other = _to_wgs84(lat, lon, crs)  # the other reading: the cells hold each other's value
    other_county = counties.locate(*other) if other is not None else None
    if other_county is None:
        return Placed(wgs[0] if wgs else None, wgs[1] if wgs else None, None)
    return Placed(wgs[0] if wgs else None, wgs[1] if wgs else None, None, True, other[0], other[1], other_county)
