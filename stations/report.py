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

from .spreadsheet import append_row, safe_row

# (key, Chinese header, English header); values come from CoverageResult.to_dict() rows.
COLUMNS = [
    ("adcode", "行政区划代码", "adcode"),
    ("name", "县市区", "county"),
    ("stations", "站点总数", "sites"),
    ("rest_stations", "驿站数", "rest stations"),
    ("area_km2", "面积(km²)", "area (km²)"),
    ("population", "常住人口", "population"),
    ("rest_per_100km2", "每百平方公里驿站", "rest stations per 100 km²"),
    ("rest_per_100k_residents", "每十万人驿站", "rest stations per 100k residents"),
    ("covered_share_pct", "覆盖率(%)", "covered share (%)"),
    ("worst_case_km", "最远距离(km)", "worst case (km)"),
    ("rest_target", "驿站目标", "rest station target"),
    ("rest_progress_pct", "目标完成(%)", "target progress (%)"),
    ("bases", "疗休养基地", "convalescence bases"),
    ("covered_share_after_pct", "新增后覆盖率(%)", "covered after new sites (%)"),
]
CITY_LABEL = {"zh": "全市合计", "en": "City total"}
SUGGESTION_HEADERS = {
    "zh": ["序号", "经度(WGS-84)", "纬度(WGS-84)", "行政区划代码", "县市区", "新增覆盖"],
    "en": ["rank", "lon (WGS-84)", "lat (WGS-84)", "adcode", "county", "gain"],
}
GAIN_UNITS = {"km2": {"zh": "km²", "en": "km²"}, "weight": {"zh": "需求权重", "en": "demand weight"}}


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
        city = dict(result["city"], adcode="", name=CITY_LABEL.get(lang, CITY_LABEL["zh"]))
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


def headers(lang: str = "zh") -> list[str]:
    return [zh if lang == "zh" else en for _, zh, en in COLUMNS]


def to_csv(result: dict[str, Any], lang: str = "zh") -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that Excel shows Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(headers(lang)))
    for row in table_rows(result, lang=lang):
        writer.writerow(safe_row("" if row[key] is None else row[key] for key, _, _ in COLUMNS))
    return out.getvalue().encode("utf-8-sig")


def describe(result: dict[str, Any], lang: str = "zh") -> str:
    """One line stating what was analysed: radius, stations counted, new sites."""
    radius = f"{result['radius_m']:.10g}"
    n = len(result.get("suggestions") or [])
    if lang == "zh":
        text = f"服务半径 {radius} 米；计入{'已开放、在建和规划' if result.get('include_planned') else '已开放'}的驿站"
        return text + (f"；建议新增 {n} 处" if n else "")
    text = f"radius {radius} m; {'open, under construction and planned' if result.get('include_planned') else 'open'} stations"
    return text + (f"; {n} suggested new sites" if n else "")


def to_xlsx(result: dict[str, Any], lang: str = "zh") -> bytes:
    """An Excel workbook: the county table (with the city total), then the suggested sites."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖分析" if lang == "zh" else "coverage"
    append_row(ws, [describe(result, lang)])
    for cell in append_row(ws, headers(lang)):
        cell.font = Font(bold=True)
    rows = table_rows(result, lang=lang)
    for row in rows:
        append_row(ws, [row[key] for key, _, _ in COLUMNS])
    for cell in ws[ws.max_row]:  # the city total
        cell.font = Font(bold=True)
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{ws.cell(row=2, column=len(COLUMNS)).column_letter}{ws.max_row - 1}"
    for i, (_, zh, en) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = max(10, len(zh) * 2, len(en) // 2)

    names = {c["adcode"]: c["name"] for c in result["counties"]}
    unit = GAIN_UNITS.get((result.get("siting") or {}).get("gain_unit", "km2"), GAIN_UNITS["km2"])[
        "zh" if lang == "zh" else "en"]
    sug = wb.create_sheet("建议新站点" if lang == "zh" else "suggested sites")
    head = list(SUGGESTION_HEADERS["zh" if lang == "zh" else "en"])
    head[-1] = f"{head[-1]}({unit})" if lang == "zh" else f"{head[-1]} ({unit})"
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
    labels = {k: (zh if lang == "zh" else en) for k, zh, en in COLUMNS}
    rows = table_rows(result, lang=lang)
    cells = [[labels[k] for k in keys]] + [["" if r[k] is None else str(r[k]) for k in keys] for r in rows]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in cells) for i in range(len(keys))]
    lines = ["  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)
