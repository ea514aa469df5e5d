"""Tabular coverage reports: the per-county table as rows, CSV (UTF-8 with BOM for Excel), XLSX, GeoJSON.

Shared by the ``yizhan coverage`` command and the planner page (``/planning``) and its downloads,
so that the page's table, the CSV and the workbook always show the same figures.
Every CSV and XLSX cell goes through ``stations.spreadsheet`` (no text is ever run as a formula).
All inputs are ``CoverageResult.to_dict()`` (WGS-84 lon/lat; metres; km²; shares 0..1).

Every file says what it is (:class:`ReportInfo`): when it was made (Asia/Shanghai), from which data
(store version, data date, stations in the data, sample data or not) and with which settings (radius,
kinds counting towards coverage, planned stations, new sites, county, water mask and area basis):

- CSV: constant columns after the figures, on every row (:data:`META_KEYS`, headers from the
  catalogue), as the open-data CSV does (``stations.exporting``): the header stays the first row, so
  Excel, pandas and GDAL read one table.
- XLSX: the describing line above the table, and a sheet ``说明 README`` of (item, value) rows.
- GeoJSON: foreign members of the FeatureCollection (:meth:`ReportInfo.members`).
- SVG (``web.planning``): ``<metadata>``, ``<desc>`` and a visible footer (:meth:`ReportInfo.lines`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from .i18n import gettext, label
from .spreadsheet import append_row, safe_row

TZ = ZoneInfo("Asia/Shanghai")
WATER_PRESET = "water"  # as stations.coverage.WATER_PRESET (not imported: this module stays light)
#: the metadata every report carries, in order (labels ``report.meta.<key>``)
META_KEYS = ("made_at", "store_version", "data_date", "stations_in_data", "sample", "radius_m", "kinds",
             "include_planned", "new_sites", "county", "water_mask", "area_basis")


def kinds_text(kinds: Iterable[str], lang: str = "zh") -> str:
    """The kinds counting towards coverage in words: labels, or the drinking-water preset."""
    kinds = tuple(kinds)
    if kinds == (WATER_PRESET,):
        return gettext("report.kinds.water", lang)
    return gettext("report.kinds.separator", lang).join(label("kind", k, lang) for k in kinds)


def store_facts(stations: Iterable[Any]) -> dict[str, Any]:
    """What a report tells of the data (:class:`ReportInfo`): the stations' count, their newest
    ``last_verified_on`` and whether any is sample data."""
    items = list(stations)
    dates = [s.last_verified_on for s in items if getattr(s, "last_verified_on", None)]
    return {"data_date": max(dates) if dates else None, "stations_in_data": len(items),
            "sample": any(getattr(s, "sample", False) for s in items)}


@dataclass(frozen=True)
class ReportInfo:
    """When, from which data and with which settings a report was made (see the module doc)."""

    made_at: str  # ISO 8601, Asia/Shanghai, to the second
    store_version: str
    data_date: str | None  # the newest last_verified_on of the stations in the data
    stations_in_data: int
    sample: bool
    radius_m: float
    kinds: tuple[str, ...]
    include_planned: bool
    new_sites: int
    county: str | None  # adcode
    county_name: str | None
    water_mask: str | None  # the mask's name, None without one
    area_basis: str  # "land" or "all"

    @classmethod
    def of(cls, result: dict[str, Any], stations: Iterable[Any] | None, *, store_version: str, new_sites: int = 0,
           county: str | None = None, county_name: str | None = None, now: datetime | None = None,
           facts: dict[str, Any] | None = None) -> "ReportInfo":
        """The info of a report of ``result`` (``CoverageResult.to_dict()``) made from ``stations`` (all of
        the data, any status: their count, newest ``last_verified_on`` and whether any is sample data),
        or from ``facts``, :func:`store_facts` of them made earlier."""
        if facts is None:
            facts = store_facts(stations or ())
        moment = (now or datetime.now(TZ)).astimezone(TZ).replace(microsecond=0)
        mask = result.get("water_mask") or None
        return cls(made_at=moment.isoformat(), store_version=str(store_version),
                   data_date=facts["data_date"], stations_in_data=facts["stations_in_data"],
                   sample=facts["sample"], radius_m=float(result["radius_m"]),
                   kinds=tuple(result.get("kinds") or ("rest_station",)),
                   include_planned=bool(result.get("include_planned")), new_sites=int(new_sites), county=county,
                   county_name=county_name, water_mask=mask["name"] if mask else None,
                   area_basis=result.get("area_basis") or "all")

    def values(self, lang: str = "zh") -> dict[str, str]:
        """Each of :data:`META_KEYS` as text in ``lang`` (what the CSV, the workbook and the SVG show)."""
        yes, no = gettext("report.meta.yes", lang), gettext("report.meta.no", lang)
        unknown = gettext("report.meta.unknown", lang)
        return {
            "made_at": self.made_at.replace("T", " ")[:19] + " (UTC+8)",
            "store_version": self.store_version, "data_date": self.data_date or unknown,
            "stations_in_data": str(self.stations_in_data),
            "sample": gettext("report.meta.sample_yes", lang) if self.sample else no,
            "radius_m": f"{self.radius_m:.10g}", "kinds": kinds_text(self.kinds, lang),
            "include_planned": yes if self.include_planned else no, "new_sites": str(self.new_sites),
            "county": (f"{self.county_name} ({self.county})" if self.county_name else self.county) if self.county
            else gettext("report.meta.whole_city", lang),
            "water_mask": self.water_mask or gettext("report.meta.no_water", lang),
            "area_basis": gettext(f"report.meta.basis.{'land' if self.area_basis == 'land' else 'all'}", lang),
        }

    def items(self, lang: str = "zh") -> list[tuple[str, str]]:
        """(label, text) per metadata item, in order: the workbook's README sheet, the SVG's footer."""
        values = self.values(lang)
        return [(gettext(f"report.meta.{key}", lang), values[key]) for key in META_KEYS]

    def columns(self, lang: str = "zh") -> list[tuple[str, str]]:
        """(header, value) of the CSV's constant metadata columns."""
        return self.items(lang)

    def lines(self, lang: str = "zh", per_line: int = 4) -> list[str]:
        """The metadata as a few short lines ("label: text · label: text"), for a visible footer."""
        parts = [f"{k}: {v}" for k, v in self.items(lang)]
        return [" · ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line)]

    def members(self) -> dict[str, Any]:
        """GeoJSON foreign members (machine values: keys, numbers, booleans)."""
        return {"made_at": self.made_at, "store_version": self.store_version, "data_date": self.data_date,
                "stations_in_data": self.stations_in_data, "sample": self.sample, "radius_m": self.radius_m,
                "kinds": list(self.kinds), "include_planned": self.include_planned, "new_sites": self.new_sites,
                "county": self.county, "water_mask": self.water_mask, "area_basis": self.area_basis}

# Column keys; values come from CoverageResult.to_dict() rows, headers from the catalogue
# (``report.col.<key>``, ``stations.i18n``).
COLUMNS = (
    "adcode", "name", "stations", "rest_stations", "area_km2", "population", "rest_per_100km2",
    "rest_per_100k_residents", "covered_share_pct", "worst_case_km", "rest_target", "rest_progress_pct",
    "bases", "covered_share_after_pct", "land_km2", "covered_share_all_pct",
)
#: columns shown only with a water mask (the page's table; the files always have them)
WATER_COLUMNS = ("land_km2", "covered_share_all_pct")
SUGGESTION_COLUMNS = ("rank", "lon", "lat", "adcode", "county", "address", "nearest", "nearest_m",
                      "gain")  # headers: ``report.sug.<key>``
GAIN_UNITS = ("km2", "weight")  # ``report.unit.<unit>``


def _pct(value: Any) -> float | None:
    return None if value is None else round(value * 100, 2)


def table_rows(result: dict[str, Any], include_city: bool = True, lang: str = "zh") -> list[dict[str, Any]]:
    """One flat row per county (and a last city-total row) from ``CoverageResult.to_dict()``.

    Shares become percentages rounded to 0.01, the worst case kilometres rounded to 0.01 km;
    other figures are passed through. Missing figures are ``None``.
    """
    rows = []
    entries = list(result["counties"])
    if include_city:
        city = dict(result["city"], adcode="", name=gettext("report.city_total", lang))
        entries.append(city)
    for c in entries:
        target = c.get("target") or {}
        rest_t = target.get("rest_stations") or {}
        bases = (target.get("convalescence_bases") or {}).get("actual")
        rows.append({
            "adcode": c.get("adcode", ""), "name": c.get("name", ""),
            "stations": c.get("stations"), "rest_stations": c.get("rest_stations"),
            "area_km2": c.get("area_km2"), "land_km2": c.get("land_km2"), "population": c.get("population"),
            "rest_per_100km2": c.get("rest_per_100km2"),
            "rest_per_100k_residents": c.get("rest_per_100k_residents"),
            "covered_share_pct": _pct(c.get("covered_share")),
            "covered_share_all_pct": _pct(c.get("covered_share_all_area", c.get("covered_share"))),
            "worst_case_km": None if c.get("worst_case_m") is None else round(c["worst_case_m"] / 1000, 2),
            "rest_target": rest_t.get("target"), "rest_progress_pct": _pct(rest_t.get("progress")),
            "bases": bases, "covered_share_after_pct": _pct(c.get("covered_share_after")),
        })
    return rows


def column_label(key: str, lang: str = "zh") -> str:
    """The header of column ``key`` in ``lang``."""
    return gettext(f"report.col.{key}", lang)


def headers(lang: str = "zh") -> list[str]:
    return [column_label(key, lang) for key in COLUMNS]


def to_csv(result: dict[str, Any], lang: str = "zh", info: ReportInfo | None = None) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that Excel shows Chinese correctly; with ``info``, its
    metadata as constant columns after the figures (see the module doc)."""
    meta = info.columns(lang) if info is not None else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(headers(lang) + [head for head, _ in meta]))
    for row in table_rows(result, lang=lang):
        writer.writerow(safe_row(["" if row[key] is None else row[key] for key in COLUMNS]
                                 + [value for _, value in meta]))
    return out.getvalue().encode("utf-8-sig")


def describe(result: dict[str, Any], lang: str = "zh") -> str:
    """One line stating what was analysed: radius, stations counted, kinds covering, area basis, new sites."""
    counted = (gettext("report.counted.planned", lang) if result.get("include_planned")
               else gettext("report.counted.open", lang))
    text = gettext("report.describe", lang, radius=f"{result['radius_m']:.10g}", counted=counted)
    text += gettext("report.describe_kinds", lang, kinds=kinds_text(result.get("kinds") or ("rest_station",), lang))
    mask = result.get("water_mask")
    text += (gettext("report.area.land", lang, mask=mask["name"]) if mask else gettext("report.area.all", lang))
    n = len(result.get("suggestions") or [])
    return text + (gettext("report.describe_suggested", lang, n=n) if n else "")


def suggestion_rows(result: dict[str, Any], lang: str = "zh") -> list[dict[str, Any]]:
    """One row per suggested site (:data:`SUGGESTION_COLUMNS`): rank, position, county, the nearest
    address or road where a reverse geocoder gave one (``address``), the nearest covering station."""
    names = {c["adcode"]: c["name"] for c in result["counties"]}
    rows = []
    for i, s in enumerate(result.get("suggestions") or [], start=1):
        near = s.get("nearest_station") or {}
        rows.append({"rank": i, "lon": s["lon"], "lat": s["lat"], "adcode": s.get("county_code"),
                     "county": s.get("county") or names.get(s.get("county_code"), ""),
                     "address": s.get("address") or "", "nearest": near.get("name", ""),
                     "nearest_m": near.get("distance_m"), "gain": s.get("gain")})
    return rows


def to_xlsx(result: dict[str, Any], lang: str = "zh", info: ReportInfo | None = None) -> bytes:
    """An Excel workbook: the county table (with the city total), the suggested sites, and with ``info``
    a sheet ``说明 README`` saying when, from which data and with which settings it was made."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = gettext("report.sheet.coverage", lang)
    append_row(ws, [describe(result, lang)])
    for cell in append_row(ws, headers(lang)):
        cell.font = Font(bold=True)
    rows = table_rows(result, lang=lang)
    for row in rows:
        append_row(ws, [row[key] for key in COLUMNS])
    for cell in ws[ws.max_row]:  # the city total
        cell.font = Font(bold=True)
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{ws.cell(row=2, column=len(COLUMNS)).column_letter}{ws.max_row - 1}"
    for i, key in enumerate(COLUMNS, start=1):  # the same widths in both languages
        zh, en = column_label(key, "zh"), column_label(key, "en")
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = max(10, len(zh) * 2, len(en) // 2)

    unit = (result.get("siting") or {}).get("gain_unit", "km2")
    unit_label = gettext(f"report.unit.{unit if unit in GAIN_UNITS else 'km2'}", lang)
    sug = wb.create_sheet(gettext("report.sheet.suggestions", lang))
    head = [gettext(f"report.sug.{key}", lang, unit=unit_label) for key in SUGGESTION_COLUMNS]
    for cell in append_row(sug, head):
        cell.font = Font(bold=True)
    for row in suggestion_rows(result, lang):
        append_row(sug, [row[key] for key in SUGGESTION_COLUMNS])
    if info is not None:
        readme = wb.create_sheet(gettext("report.sheet.readme", lang))
        append_row(readme, [describe(result, lang)])
        for key, value in info.items(lang):
            append_row(readme, [key, value])
        readme.column_dimensions["A"].width = 28
        readme.column_dimensions["B"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_geojson(result: dict[str, Any], gaps: dict[str, Any], info: ReportInfo | None = None) -> dict[str, Any]:
    """One FeatureCollection (WGS-84) for GIS: the gaps, the suggested sites and each county's worst case.

    ``gaps`` is ``CoverageResult.gaps_geojson()``. Every feature has a ``kind`` property:
    ``gap`` (polygons of uncovered area), ``suggestion`` (points, with ``rank``, ``gain``, ``county``,
    ``address`` where known and the nearest station's ``nearest_station``/``nearest_station_m``) or
    ``worst_case`` (the point of a county farthest from any station, with ``distance_m``). With
    ``info``, its :meth:`ReportInfo.members` are foreign members of the collection.
    """
    features = [{**f, "properties": {"kind": "gap", **f["properties"]}} for f in gaps["features"]]
    for rank, s in enumerate(result.get("suggestions") or [], start=1):
        props = {k: v for k, v in s.items() if k != "nearest_station"}
        near = s.get("nearest_station") or {}
        props.update(nearest_station_id=near.get("id"), nearest_station=near.get("name"),
                     nearest_station_m=near.get("distance_m"))
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                         "properties": {"kind": "suggestion", "rank": rank, **props}})
    for c in result["counties"]:
        if c.get("worst_case_point"):
            features.append({"type": "Feature",
                             "geometry": {"type": "Point", "coordinates": list(c["worst_case_point"])},
                             "properties": {"kind": "worst_case", "adcode": c["adcode"], "name": c["name"],
                                            "distance_m": c["worst_case_m"]}})
    out: dict[str, Any] = {"type": "FeatureCollection",
                           "radius_m": result["radius_m"], "include_planned": result.get("include_planned", False),
                           "kinds": list(result.get("kinds") or ("rest_station",)),
                           "area_basis": result.get("area_basis", "all")}
    if info is not None:
        out.update(info.members())
        out["notice"] = " · ".join(info.lines("zh", per_line=len(META_KEYS)) + info.lines("en", per_line=len(META_KEYS)))
    out["features"] = features
    return out


def to_text_table(result: dict[str, Any], lang: str = "zh") -> str:
    """A plain-text table for the terminal."""
    keys = ["adcode", "name", "rest_stations", "area_km2", "rest_per_100km2", "covered_share_pct",
            "worst_case_km", "rest_target", "rest_progress_pct", "covered_share_after_pct"]
    labels = {k: column_label(k, lang) for k in keys}
    rows = table_rows(result, lang=lang)
    cells = [[labels[k] for k in keys]] + [["" if r[k] is None else str(r[k]) for k in keys] for r in rows]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in cells) for i in range(len(keys))]
    lines = ["  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)
