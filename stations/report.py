"""Tabular coverage reports: the per-county table as rows, CSV (UTF-8 with BOM for Excel), XLSX, GeoJSON.

Shared by the ``yizhan coverage`` command and the planner page (``/planning``) and its downloads,
so that the page's table, the CSV and the workbook always show the same figures.
Every CSV and XLSX cell goes through ``stations.spreadsheet`` (no text is ever run as a formula).
All inputs are ``CoverageResult.to_dict()`` (WGS-84 lon/lat; metres; km²; shares 0..1).
"""
from __future__ import annotations

import csv
import io
from typing import Any

from .i18n import gettext
from .spreadsheet import append_row, safe_row

# Column keys; values come from CoverageResult.to_dict() rows, headers from the catalogue
# (``report.col.<key>``, ``stations.i18n``).
COLUMNS = (
    "adcode", "name", "stations", "rest_stations", "area_km2", "population", "rest_per_100km2",
    "rest_per_100k_residents", "covered_share_pct", "worst_case_km", "rest_target", "rest_progress_pct",
    "bases", "covered_share_after_pct",
)
SUGGESTION_COLUMNS = ("rank", "lon", "lat", "adcode", "county", "gain")  # headers: ``report.sug.<key>``
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
            "area_km2": c.get("area_km2"), "population": c.get("population"),
            "rest_per_100km2": c.get("rest_per_100km2"),
            "rest_per_100k_residents": c.get("rest_per_100k_residents"),
            "covered_share_pct": _pct(c.get("covered_share")),
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


def to_csv(result: dict[str, Any], lang: str = "zh") -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that Excel shows Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(headers(lang)))
    for row in table_rows(result, lang=lang):
        writer.writerow(safe_row("" if row[key] is None else row[key] for key in COLUMNS))
    return out.getvalue().encode("utf-8-sig")


def describe(result: dict[str, Any], lang: str = "zh") -> str:
    """One line stating what was analysed: radius, stations counted, new sites."""
    counted = (gettext("report.counted.planned", lang) if result.get("include_planned")
               else gettext("report.counted.open", lang))
    text = gettext("report.describe", lang, radius=f"{result['radius_m']:.10g}", counted=counted)
    n = len(result.get("suggestions") or [])
    return text + (gettext("report.describe_suggested", lang, n=n) if n else "")


def to_xlsx(result: dict[str, Any], lang: str = "zh") -> bytes:
    """An Excel workbook: the county table (with the city total), then the suggested sites."""
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

    names = {c["adcode"]: c["name"] for c in result["counties"]}
    unit = (result.get("siting") or {}).get("gain_unit", "km2")
    unit_label = gettext(f"report.unit.{unit if unit in GAIN_UNITS else 'km2'}", lang)
    sug = wb.create_sheet(gettext("report.sheet.suggestions", lang))
    head = [gettext(f"report.sug.{key}", lang, unit=unit_label) for key in SUGGESTION_COLUMNS]
    for cell in append_row(sug, head):
        cell.font = Font(bold=True)
    for i, s in enumerate(result.get("suggestions") or [], start=1):
        append_row(sug, [i, s["lon"], s["lat"], s.get("county_code"), names.get(s.get("county_code"), ""),
                         s.get("gain")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_geojson(result: dict[str, Any], gaps: dict[str, Any]) -> dict[str, Any]:
    """One FeatureCollection (WGS-84) for GIS: the gaps, the suggested sites and each county's worst case.

    ``gaps`` is ``CoverageResult.gaps_geojson()``. Every feature has a ``kind`` property:
    ``gap`` (polygons of uncovered area), ``suggestion`` (points, with ``rank`` and ``gain``) or
    ``worst_case`` (the point of a county farthest from any station, with ``distance_m``).
    """
    features = [{**f, "properties": {"kind": "gap", **f["properties"]}} for f in gaps["features"]]
    for rank, s in enumerate(result.get("suggestions") or [], start=1):
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                         "properties": {"kind": "suggestion", "rank": rank, **s}})
    for c in result["counties"]:
        if c.get("worst_case_point"):
            features.append({"type": "Feature",
                             "geometry": {"type": "Point", "coordinates": list(c["worst_case_point"])},
                             "properties": {"kind": "worst_case", "adcode": c["adcode"], "name": c["name"],
                                            "distance_m": c["worst_case_m"]}})
    return {"type": "FeatureCollection",
            "radius_m": result["radius_m"], "include_planned": result.get("include_planned", False),
            "features": features}


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
