"""The planner's figures as drawings: share classes and their colours, the bar chart's geometry,
the static SVG map (print and download), the table's columns and the key figures.

Plain functions of the analysis (``CoverageResult.to_dict()``), the county outlines and the stations
counted: no request, no app; the templates ``planning.html``, ``planning_chart.html`` and
``planning_map_svg.html`` draw what they return.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from stations import report
from stations.coverage import COVERING_KINDS, covers
from stations.model import Station

from ..i18n import translate
from .parameters import CoverageQuery

# ColorBrewer YlGnBu, 5 classes (colour-blind safe, prints in grey): low coverage light, high dark.
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= ``value`` (> 0)."""
    exp = math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= value * (1 - 1e-9):
            return m * 10 ** exp
    return 10 ** (exp + 1)  # pragma: no cover


@dataclass(frozen=True)
class ShareClasses:
    """Equal classes of covered share (percent) with nice breaks from 0 to the largest share."""

    step: float       # percentage points per class
    decimals: int

    @classmethod
    def for_shares(cls, shares: list[float]) -> "ShareClasses":
        top = max([s * 100 for s in shares] + [0.0])
        step = min(nice_step(top / len(PALETTE)), 20.0) if top > 0 else 20.0
        exp = math.floor(math.log10(step))
        decimals = max(0, -exp) + (1 if round(step / 10 ** exp, 1) == 2.5 else 0)
        return cls(step=step, decimals=decimals)

    def index(self, share: float) -> int:
        return min(int(share * 100 / self.step + 1e-9), len(PALETTE) - 1)

    def colour(self, share: float) -> str:
        return PALETTE[self.index(share)]

    def legend(self) -> list[tuple[str, str]]:
        """(colour, "a–b %") per class; the last class is open-ended only at 100 %."""
        out = []
        for i, colour in enumerate(PALETTE):
            lo, hi = i * self.step, min((i + 1) * self.step, 100.0)
            out.append((colour, f"{lo:.{self.decimals}f}–{hi:.{self.decimals}f}%"))
        return out


def fmt_number(value: Any, decimals: int = 0, suffix: str = "") -> str:
    """A figure for a table cell: thousands separators, fixed decimals, an en dash for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{decimals}f}{suffix}"


def fmt_radius(radius_m: float, lang: str) -> str:
    if radius_m >= 1000 and radius_m % 100 == 0:
        return translate("km", lang, n=f"{radius_m / 1000:g}")
    return translate("radius_text", lang, n=f"{radius_m:.10g}")


# Per table column: decimals shown, sort type. Keys are stations.report.COLUMNS keys.
COLUMN_FORMAT = {
    "stations": 0, "rest_stations": 0, "area_km2": 1, "land_km2": 1, "population": 0, "rest_per_100km2": 2,
    "rest_per_100k_residents": 2, "covered_share_pct": 2, "covered_share_all_pct": 2, "worst_case_km": 1,
    "rest_target": 0, "rest_progress_pct": 0, "bases": 0, "covered_share_after_pct": 2,
}


def table_columns(lang: str, with_after: bool, with_water: bool = False) -> list[dict[str, Any]]:
    """The page table's columns: the report's, less the adcode, the "after" share without new sites and
    the land and whole-area columns without a water mask (the files always have them)."""
    cols = []
    for key in report.COLUMNS:
        if key == "adcode" or (key == "covered_share_after_pct" and not with_after) \
                or (key in report.WATER_COLUMNS and not with_water):
            continue
        cols.append({"key": key, "label": report.column_label(key, lang),
                     "type": "text" if key == "name" else "number", "decimals": COLUMN_FORMAT.get(key, 0)})
    return cols


def bar_chart(rows: list[dict[str, Any]], with_after: bool, width: int = 640) -> dict[str, Any]:
    """Geometry of the horizontal bar chart of covered share (percent), counties sorted by share."""
    rows = sorted(rows, key=lambda r: (-(r["covered_share_pct"] or 0), r["adcode"]))
    top = max([r["covered_share_pct"] or 0 for r in rows] + [r["covered_share_after_pct"] or 0 for r in rows]
              + [0.0])
    step = nice_step(top / 4) if top > 0 else 25.0
    axis_max = min(step * math.ceil(top / step - 1e-9), 100.0) or step
    label_w, right, bar_h, gap, top_pad = 92, (112 if with_after else 56), 18, 8, 24  # right: room for labels
    plot_w = width - label_w - right
    scale = plot_w / axis_max
    bars = []
    for i, r in enumerate(rows):
        y = top_pad + i * (bar_h + gap)
        before = r["covered_share_pct"] or 0.0
        after = r["covered_share_after_pct"] if with_after else None
        bars.append({"label": r["name"], "adcode": r["adcode"], "y": y, "h": bar_h, "value": before,
                     "w": round(before * scale, 2), "after": after,
                     "after_w": None if after is None else round(after * scale, 2),
                     "text_x": round(label_w + max(before, after or 0) * scale + 4, 1)})
    decimals = max(0, -math.floor(math.log10(step))) + (1 if round(step / 10 ** math.floor(math.log10(step)), 1) == 2.5 else 0)
    ticks = [{"x": round(label_w + v * scale, 2), "text": f"{v:.{decimals}f}%"}
             for v in np.arange(0, axis_max + step / 2, step)]
    height = top_pad + len(rows) * (bar_h + gap) + 8
    return {"width": width, "height": height, "x0": label_w, "plot_w": plot_w, "bars": bars, "ticks": ticks,
            "with_after": with_after}



def svg_map(p: CoverageQuery, data: dict, gaps: dict, classes: ShareClasses, lang: str, counties,
            stations: list[Station], width: int = 800, info: report.ReportInfo | None = None) -> dict[str, Any]:
    """A static map (for print and the SVG download): paths in a local equirectangular frame, y down.

    ``counties`` are the outlines (WGS-84), ``stations`` those the analysis counted. With ``info`` the
    drawing carries the report's metadata: a visible footer, ``<desc>`` and ``<metadata>`` (JSON).
    """
    codes = [c["adcode"] for c in data["counties"]]
    minlon, minlat, maxlon, maxlat = shapely.union_all([counties.geometry(c) for c in codes]).bounds
    kx = math.cos(math.radians((minlat + maxlat) / 2))
    pad, top = 10, 40  # room for the title
    scale = (width - 2 * pad) / ((maxlon - minlon) * kx)
    height = int(math.ceil((maxlat - minlat) * scale + pad + top))
    tol = 0.6 / scale  # degrees: about half a unit of the drawing

    def xy(lon, lat):
        return (lon - minlon) * kx * scale + pad, (maxlat - lat) * scale + top

    def path(geom) -> str:
        out = []
        for poly in shapely.get_parts(shapely.simplify(geom, tol, preserve_topology=True)):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            for ring in (poly.exterior, *poly.interiors):
                coords = np.asarray(ring.coords)
                x, y = xy(coords[:, 0], coords[:, 1])
                out.append("M" + " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y)) + "Z")
        return "".join(out)

    shapes = []
    for c in data["counties"]:
        geom = counties.geometry(c["adcode"])
        lx, ly = xy(*shapely.point_on_surface(geom).coords[0])
        shapes.append({"d": path(geom), "fill": classes.colour(c["covered_share"]), "name": c["name"],
                         "x": round(lx, 1), "y": round(ly, 1),
                         "share": fmt_number(c["covered_share"] * 100, classes.decimals + 1, "%")})
    gap_paths = [path(shape(f["geometry"])) for f in gaps["features"]]
    markers = []
    kinds = tuple(data.get("kinds") or COVERING_KINDS)
    for s in stations:
        x, y = xy(s.lon, s.lat)
        if -pad <= x <= width + pad and -pad <= y <= height + pad:
            markers.append({"x": round(x, 1), "y": round(y, 1), "rest": covers(s, kinds),
                             "planned": s.status != "open"})
    worst = [dict(zip(("x", "y"), (round(v, 1) for v in xy(*c["worst_case_point"]))))
             for c in data["counties"] if c["worst_case_point"]]
    suggestions = [dict(zip(("x", "y"), (round(v, 1) for v in xy(s["lon"], s["lat"]))), rank=i)
                   for i, s in enumerate(data["suggestions"], start=1)]
    legend_y = height + 10
    footer = info.lines(lang, per_line=3) if info is not None else []
    footer_y = legend_y + 24 * 4 + 12
    return {"width": width, "height": height, "full_height": footer_y + 16 * len(footer) + 4, "legend_y": legend_y,
            "footer": footer, "footer_y": footer_y, "describe": report.describe(data, lang),
            "metadata": None if info is None else json.dumps(info.members(), ensure_ascii=False),
            "counties": shapes, "gaps": gap_paths, "stations": markers, "worst": worst,
            "suggestions": suggestions, "legend": classes.legend(),
            "labels": {"share": translate("legend_share", lang), "gap": translate("legend_gap", lang),
                       "station": translate("legend_station", lang), "other": translate("legend_other", lang),
                       "worst": translate("legend_worst", lang), "suggestion": translate("legend_suggestion", lang),
                       "breaks": translate("legend_breaks", lang)},
            "title": translate("map_title", lang, r=fmt_radius(p.radius_m, lang))}


def key_figures(data: dict) -> dict[str, Any]:
    city = data["city"]
    target = city["target"]
    worst_name = next((c["name"] for c in data["counties"] if c["adcode"] == city.get("worst_case_county")), "")
    rest = target["rest_stations"]
    return {
        "covered_pct": city["covered_share"] * 100,
        "covered_all_pct": city.get("covered_share_all_area", city["covered_share"]) * 100,
        "water_km2": city.get("water_km2"), "area_basis": data.get("area_basis", "all"),
        "covered_after_pct": None if city.get("covered_share_after") is None else city["covered_share_after"] * 100,
        "worst_km": None if city["worst_case_m"] is None else city["worst_case_m"] / 1000,
        "worst_county": worst_name,
        "rest": rest["actual"], "rest_target": rest["target"],
        "missing": max(0, (rest["target"] or 0) - (rest["actual"] or 0)),
        "bases": target["convalescence_bases"].get("counties_with_base"),
        "bases_target": target["convalescence_bases"].get("target_counties"),
        "palace_pct": None if target["palaces_class_1_2"]["share"] is None else target["palaces_class_1_2"]["share"] * 100,
        "palace_target_pct": target["palaces_class_1_2"]["target_share"] * 100,
    }
