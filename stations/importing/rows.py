"""One row of a station list -> the station fields it gives, its position (WGS-84) and its problems.

:func:`map_headers` places each header (``名称`` -> ``name``); :func:`parse_row` reads one row's cells
with the field's reader: vocabulary values (``爱心驿站`` -> ``rest_station``), amenity lists, Chinese
opening hours, dates, numbers, yes/no, the county (adcode or name), and the position (decimal or DMS,
converted from ``crs`` to WGS-84, checked against the counties; swapped latitude/longitude reported,
and fixed only with ``fix_swapped``). A blank cell in a column the file has means "no value".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from .hours_text import to_opening_hours
from .positions import parse_degrees, parse_pair, place
from .problems import RowProblem
from .readers import SourceRow, cell_text
from .vocabulary import (
    AMENITY_VALUES, KIND_VALUES, NO, STATUS_VALUES, YES, allowed_values, fold, header_field, is_ignored_header, is_metadata_header,
    known_headers, lookup,
)

POSITION_FIELDS = ("lon", "lat", "lonlat")
TEXT_FIELDS = ("id", "name", "address", "host", "source", "phone")
_AMENITY_SPLIT = re.compile(r"[、，,;；/|\s]+")
_CLASS_WORDS = {"一类": 1, "二类": 2, "三类": 3, "一级": 1, "二级": 2, "三级": 3}
EXAMPLE_MARK = "示例"


@dataclass
class HeaderMap:
    """Where each field is in the table: field -> column index, field -> header as written."""

    index: dict[str, int] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def column_of(self, name: str | None) -> str | None:
        """The header of a field (``county_code`` and positions map to their columns)."""
        if name in ("county_code",):
            name = "county"
        if name in ("geometry", "geometry.coordinates"):
            name = "lon" if "lon" in self.header else "lonlat" if "lonlat" in self.header else "address"
        return self.header.get(name or "", name)

    @property
    def has_position(self) -> bool:
        return ("lon" in self.index and "lat" in self.index) or "lonlat" in self.index


def map_headers(headers: list[str], lang: str = "zh") -> HeaderMap:
    """Place every header; report unknown ones (warning: their values are not imported), a field
    named twice, and missing required columns (errors: nothing can be imported)."""
    hmap = HeaderMap()
    for i, text in enumerate(headers):
        if not text:
            continue
        name = header_field(text)
        if name is None:
            code = ("ignored_header" if is_ignored_header(text) else
                    "metadata_header" if is_metadata_header(text) else "unknown_header")
            hmap.problems.append(RowProblem(code, "warning" if code == "unknown_header" else "info",
                                            column=text, value=text, params={"allowed": "、".join(known_headers(lang))}))
        elif name in hmap.index:
            hmap.problems.append(RowProblem("duplicate_header", column=text, value=text, field=name,
                                            params={"other": hmap.header[name], "field": name}))
        else:
            hmap.index[name], hmap.header[name] = i, text
    if "name" not in hmap.index:
        hmap.problems.append(RowProblem("missing_column", field="name", params={"field": "名称 (name)"}))
    for one, other in (("lon", "lat"), ("lat", "lon")):
        if one in hmap.index and other not in hmap.index:
            hmap.problems.append(RowProblem("missing_column", field=other, params={"field": other}))
    if not hmap.has_position and "address" not in hmap.index and not any(p.code == "missing_column"
                                                                        for p in hmap.problems):
        hmap.problems.append(RowProblem("missing_position_columns", "warning"))
    return hmap


@dataclass
class ParsedRow:
    """What one row gives: ``values`` the station properties of the columns present (``None``: no
    value), ``lon``/``lat`` WGS-84 (None: no position yet), ``county_given`` the adcode of the county
    column, ``problems`` of this row."""

    source: SourceRow
    values: dict[str, Any] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None
    county_given: str | None = None
    county_found: str | None = None
    address: str | None = None
    example: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.source.number

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def needs_geocoding(self) -> bool:
        return self.lon is None and bool(self.address) and not any(
            p.is_error and p.field in POSITION_FIELDS + ("county",) for p in self.problems)


class _Bad(ValueError):
    """A cell that cannot be read: the problem code and its parameters."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cell_text(value).strip()


def _vocabulary(table: dict[str, str], vocab: str, code: str) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        key = lookup(table, _text(value))
        if key is None:
            raise _Bad(code, allowed=allowed_values(vocab))
        return key
    return read


def _amenities(value: Any) -> list[str]:
    items = value if isinstance(value, list) else _AMENITY_SPLIT.split(_text(value))
    keys: list[str] = []
    unknown = []
    for item in (i.strip() for i in items if i and i.strip()):
        key = lookup(AMENITY_VALUES, item)
        if key is None:
            unknown.append(item)
        elif key not in keys:
            keys.append(key)
    if unknown:
        raise _Bad("unknown_amenity", allowed=allowed_values("amenity"), unknown=unknown)
    return keys


def _hours(value: Any) -> str:
    osm = to_opening_hours(_text(value))
    if osm is None:
        raise _Bad("bad_hours")
    return osm


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", _text(value))
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    try:
        if match:
            return date(*map(int, match.groups())).isoformat()
    except ValueError:
        pass
    raise _Bad("bad_date")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Bad("bad_number")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = re.sub(r"(平方米|㎡|m²|m2|平米)$", "", unicodedata.normalize("NFKC", _text(value)).replace(",", ""))
        try:  # a whole number exactly, however long (the record's bounds then name it), else a float
            number = int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)
        except ValueError:  # not a number, or an integer of more than 4300 digits
            raise _Bad("bad_number") from None
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _whole(value: Any) -> int:
    if isinstance(value, str) and fold(value) in _CLASS_WORDS:
        return _CLASS_WORDS[fold(value)]
    number = _number(re.sub(r"(张|个|床)$", "", value) if isinstance(value, str) else value)
    if not isinstance(number, int):
        raise _Bad("bad_whole")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = fold(_text(value))
    if text in {fold(y) for y in YES}:
        return True
    if text in {fold(n) for n in NO}:
        return False
    raise _Bad("bad_bool")


READERS: dict[str, Callable[[Any], Any]] = {
    "kind": _vocabulary(KIND_VALUES, "kind", "unknown_kind"),
    "status": _vocabulary(STATUS_VALUES, "status", "unknown_status"),
    "amenities": _amenities,
    "opening_hours": _hours,
    "opened_on": _date,
    "last_verified_on": _date,
    "palace_class": _whole,
    "floor_area_m2": _number,
    "beds": _whole,
    "sample": _bool,
}


def resolve_county(value: Any, counties) -> str:
    """The adcode a county cell names: an adcode (``370811``, also as a number), an exact name
    (``任城区``), a name without its suffix (``任城``), or one with the city before it (``济宁市任城区``)."""
    text = _text(value)
    if counties is None:
        if re.fullmatch(r"\d{6}", text):
            return text
        raise _Bad("unknown_county", allowed="a 6-digit adcode")
    if text in counties:
        return text
    names = {counties.name(c): c for c in counties.codes}
    if text in names:
        return names[text]
    short = [c for n, c in names.items() if re.sub(r"(区|县|市)$", "", n) == text or text.endswith(n)]
    if len(short) == 1:
        return short[0]
    raise _Bad("unknown_county", allowed="、".join(f"{n} ({c})" for n, c in names.items()))


def _problem(code: str, row: SourceRow, hmap: HeaderMap, name: str, value: Any, severity: str = "error",
             **params: Any) -> RowProblem:
    return RowProblem(code, severity, row.number, hmap.column_of(name), name, value, params)


def parse_row(row: SourceRow, hmap: HeaderMap, counties, *, crs: str = "wgs84", fix_swapped: bool = False) -> ParsedRow:
    """Read one row (see the module docstring)."""
    out = ParsedRow(row)
    cell = {name: row.cells[i] for name, i in hmap.index.items() if i < len(row.cells)}
    if _text(cell.get("id")) == EXAMPLE_MARK:
        out.example = True
        out.problems.append(RowProblem("example_row", "info", row.number))
        return out
    for name, value in cell.items():
        if name in POSITION_FIELDS or name == "county":
            continue
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            out.values[name] = None
            if name == "name":
                out.problems.append(_problem("required", row, hmap, name, value))
            continue
        try:
            out.values[name] = READERS[name](value) if name in READERS else _text(value)
        except _Bad as bad:
            for item in bad.params.pop("unknown", None) or [value]:
                out.problems.append(_problem(bad.code, row, hmap, name, item, **bad.params))
    out.address = out.values.get("address")
    if cell.get("county") is not None:
        try:
            out.county_given = resolve_county(cell["county"], counties)
            out.values["county_code"] = out.county_given
        except _Bad as bad:
            out.problems.append(_problem(bad.code, row, hmap, "county", cell["county"], **bad.params))
    _read_position(out, cell, hmap, counties, crs, fix_swapped)
    return out


def _read_position(out: ParsedRow, cell: dict[str, Any], hmap: HeaderMap, counties, crs: str,
                   fix_swapped: bool) -> None:
    row = out.source
    try:
        if cell.get("lonlat") is not None:
            (lon, _), (lat, _) = parse_pair(cell["lonlat"])
        elif cell.get("lon") is None and cell.get("lat") is None:
            return
        elif cell.get("lon") is None or cell.get("lat") is None:
            given, missing = ("lat", "lon") if cell.get("lon") is None else ("lon", "lat")
            names = {"lon": "经度", "lat": "纬度"}
            out.problems.append(_problem("half_position", row, hmap, missing, None,
                                         given=names[given], missing=names[missing]))
            return
        else:
            bad = None
            try:
                lon, _ = parse_degrees(cell["lon"])
            except ValueError as exc:
                bad = ("lon", cell["lon"], exc)
                lon = None
            try:
                lat, _ = parse_degrees(cell["lat"])
            except ValueError as exc:
                out.problems.append(_problem("bad_degrees", row, hmap, "lat", cell["lat"], reason=str(exc)))
                lat = None
            if bad:
                out.problems.append(_problem("bad_degrees", row, hmap, bad[0], bad[1], reason=str(bad[2])))
            if lon is None or lat is None:
                return
    except ValueError as exc:
        out.problems.append(_problem("bad_degrees", row, hmap, "lonlat", cell.get("lonlat"), reason=str(exc)))
        return
    placed = place(lon, lat, crs, counties)
    name = "lonlat" if "lonlat" in hmap.index else "lon"
    if placed.swapped:
        params = {"lon": round(placed.swapped_lon, 7), "lat": round(placed.swapped_lat, 7),
                  "county": _county_label(counties, placed.swapped_county)}
        if not fix_swapped:
            out.problems.append(_problem("swapped", row, hmap, name, [lon, lat], **params))
            return
        out.problems.append(_problem("swapped_fixed", row, hmap, name, [lon, lat], "warning", **params))
        out.lon, out.lat, out.county_found = placed.swapped_lon, placed.swapped_lat, placed.swapped_county
    elif counties is not None and placed.county is None:
        out.problems.append(_problem("outside", row, hmap, name, [lon, lat], lon=lon, lat=lat, crs=crs.upper()))
        return
    else:
        out.lon, out.lat, out.county_found = placed.lon, placed.lat, placed.county
    if out.county_given and out.county_found and out.county_given != out.county_found:
        out.problems.append(_problem("county_mismatch", row, hmap, "county", cell.get("county"),
                                     found=_county_label(counties, out.county_found),
                                     given=_county_label(counties, out.county_given)))


def _county_label(counties, code: str | None) -> str:
    if code is None:
        return "-"
    try:
        return f"{counties.name(code)} ({code})"
    except Exception:  # unknown code: say the code
        return code
