"""The planners' view: ``/planning`` (choropleth, table, chart), its downloads, and ``/api/coverage``.

Every view parses its parameters (``web.params``: a bad one is a 400 naming it; the radius is
rounded to ``RADIUS_STEP_M``), gets ``stations.coverage.analyse``'s answers from the cache or the
background pool (``coverage_result``: one analysis per store version and (radius, include_planned,
new_sites, county), within a time budget, else 503; see ``web.limits`` and ``web.background``)
and renders. The figures shown, downloaded and
served as JSON are the same ``CoverageResult.to_dict()``; the table and the files come from
``stations.report``.

Positions are WGS-84 throughout; on AMap tiles (``BASEMAP=amap``) the map's layers are converted
to GCJ-02 on the way out, as on the home page (``web.maps.to_display``).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from shapely.geometry import mapping, shape

from stations import report
from stations.coords import transform_geometry, wgs84_to_gcj02
from stations.coverage import MAX_NEW_SITES, OPEN_STATUSES, PLANNED_STATUSES, RADIUS_RANGE_M

from . import assets, i18n, maps, pages
from .background import CoverageJob, background, run_coverage
from .caching import conditional, etag_of
from .errors import json_response
from .limits import Limits, current_limits, note_analysis_started, snap_radius_m
from .openapi import CACHED_HEADERS, COMMON_ERRORS, IF_NONE_MATCH, NOT_MODIFIED
from .params import parse_bool, parse_county, parse_float, parse_int
from .state import state

bp = Blueprint("planning", __name__)

DEFAULT_RADIUS_M = 1000.0
RADIUS_PRESETS_M = (500, 1000, 2000, 3000)
# The work of a request is bounded by settings (web.limits): RADIUS_STEP_M, COVERAGE_MAX_NEW_SITES, ...
# ColorBrewer YlGnBu, 5 classes (colour-blind safe, prints in grey): low coverage light, high dark.
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
SUGGESTION_COLOUR = "#d95f02"  # orange: apart from every palette colour
WORST_COLOUR = "#7a0177"
GAP_HATCH = "url(#yz-gap-hatch)"  # a <pattern> defined in planning.html
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "svg": "image/svg+xml",
}
GEOJSON = "application/geo+json"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "planning": "规划", "planning_title": "驿站覆盖分析", "controls": "分析条件",
        "radius": "服务半径（米）", "radius_hint": "100–20000 米，按 {step} 米取整；1000 米约为步行 15 分钟",
        "new_sites": "建议新增站点数", "new_sites_hint": "0–{max}；0 表示不做选址",
        "include_planned": "计入在建和规划中的站点", "county_filter": "范围", "whole_city": "全市",
        "update": "更新分析", "computing": "正在计算……", "to_target": "按目标补足 {n} 处",
        "key_figures": "主要指标", "covered": "面积覆盖率", "covered_after": "新增后",
        "worst_case": "最远点", "worst_case_in": "最远点（{county}）", "rest_vs_target": "驿站 / 目标",
        "bases": "有疗休养基地的县市区", "palaces": "一、二级文化宫占比", "palaces_target": "目标 ≥ {pct}%",
        "map_title": "各县市区覆盖率（半径 {r}）", "legend_share": "面积覆盖率", "legend_gap": "覆盖空白",
        "legend_station": "驿站（计入覆盖）", "legend_other": "文化宫、疗休养基地", "legend_worst": "县内最远点",
        "legend_suggestion": "建议新站点（序号）", "legend_planned": "虚线：在建或规划中",
        "legend_breaks": "分级随半径自动调整", "chart_title": "各县市区面积覆盖率",
        "chart_after": "新增站点后", "chart_before": "现状", "table_title": "分县统计",
        "sort_by": "按“{col}”排序", "sorted_asc": "已按“{col}”升序排列", "sorted_desc": "已按“{col}”降序排列",
        "suggestions_title": "建议新站点", "rank": "序号", "lon": "经度", "lat": "纬度", "gain": "新增覆盖",
        "no_suggestions": "没有可增加覆盖的新站点。", "downloads": "下载与打印",
        "download_csv": "表格 CSV", "download_xlsx": "Excel 工作簿", "download_geojson": "空白区与建议站点 GeoJSON",
        "download_svg": "地图 SVG", "download_json": "JSON（API）", "print_report": "打印报告",
        "method": "计算方法", "method_text": "覆盖率为半径 {r} 内（测地距离）县市区面积的比例；最远点为县内离最近驿站最远的点；"
                                             "只统计驿站（rest station）的覆盖，文化宫和疗休养基地只计入数量。"
                                             "驿站目标按常住人口把全市 {target} 处分配到各县市区。建议站点用最大覆盖模型选择，"
                                             "已有站点保持不变。",
        "worst_tip": "{county}最远点：距最近驿站 {km} 公里", "suggestion_tip": "建议新站点 {rank}：{county}，新增覆盖 {gain} km²",
        "county_tip_share": "覆盖率", "county_tip_worst": "最远点", "county_tip_rest": "驿站",
        "km": "{n} 公里", "radius_text": "{n} 米", "print_note": "打印时间",
    },
    "en": {
        "planning": "Planning", "planning_title": "Station coverage", "controls": "Analysis",
        "radius": "Service radius (m)",
        "radius_hint": "100–20,000 m, rounded to {step} m; 1,000 m is about a 15-minute walk",
        "new_sites": "New sites to suggest", "new_sites_hint": "0–{max}; 0 means no siting",
        "include_planned": "Count stations under construction and planned", "county_filter": "Area",
        "whole_city": "Whole city", "update": "Update", "computing": "Computing…",
        "to_target": "Add {n} to reach the target",
        "key_figures": "Key figures", "covered": "Area covered", "covered_after": "after new sites",
        "worst_case": "Worst case", "worst_case_in": "Worst case ({county})", "rest_vs_target": "Rest stations / target",
        "bases": "Counties with a convalescence base", "palaces": "Class 1-2 cultural palaces",
        "palaces_target": "target ≥ {pct}%",
        "map_title": "Covered share by county (radius {r})", "legend_share": "Area covered",
        "legend_gap": "Not covered", "legend_station": "Rest station (counts for coverage)",
        "legend_other": "Cultural palace, convalescence base", "legend_worst": "Farthest point of a county",
        "legend_suggestion": "Suggested new site (rank)", "legend_planned": "Dashed: under construction or planned",
        "legend_breaks": "classes adapt to the radius", "chart_title": "Area covered by county",
        "chart_after": "after new sites", "chart_before": "now", "table_title": "By county",
        "sort_by": "Sort by “{col}”", "sorted_asc": "Sorted by “{col}”, ascending",
        "sorted_desc": "Sorted by “{col}”, descending",
        "suggestions_title": "Suggested new sites", "rank": "Rank", "lon": "Longitude", "lat": "Latitude",
        "gain": "Added coverage", "no_suggestions": "No new site would add coverage.",
        "downloads": "Downloads and print", "download_csv": "Table (CSV)", "download_xlsx": "Excel workbook",
        "download_geojson": "Gaps and suggested sites (GeoJSON)", "download_svg": "Map (SVG)",
        "download_json": "JSON (API)", "print_report": "Print report",
        "method": "Method", "method_text": "Covered share: the part of a county's area within {r} (geodesic) of a "
                                           "rest station. Worst case: the point of the county farthest from any "
                                           "station. Only rest stations cover; cultural palaces and convalescence "
                                           "bases are counted. The city's target of {target} rest stations is split "
                                           "over counties by population. Suggested sites solve a maximal covering "
                                           "problem with existing stations kept.",
        "worst_tip": "{county}, farthest point: {km} km from the nearest station",
        "suggestion_tip": "Suggested site {rank}: {county}, adds {gain} km²",
        "county_tip_share": "Covered", "county_tip_worst": "Worst case", "county_tip_rest": "Rest stations",
        "km": "{n} km", "radius_text": "{n} m", "print_note": "Printed",
    },
}


def translate(key: str, lang: str, **values: Any) -> str:
    """This page's strings first, then the site's (``web.i18n``)."""
    text = STRINGS.get(lang, {}).get(key) or STRINGS["zh"].get(key)
    if text is None:
        return i18n.translate(key, lang, **values)
    return text.format(**values) if values else text


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    base = pages._template_globals()  # lang, label(), switch_url, city, vocabularies: as the other pages
    lang = base["lang"]
    base["t"] = lambda key, **kw: translate(key, lang, **kw)
    return base


bp.after_request(pages.finish_html)


# ---- parameters and cached results -------------------------------------------------------------

@dataclass(frozen=True)
class CoverageParams:
    radius_m: float = DEFAULT_RADIUS_M
    new_sites: int = 0
    include_planned: bool = False
    county: str | None = None

    @property
    def radius_str(self) -> str:
        """The (snapped) radius as written into links, the form and file names."""
        return f"{self.radius_m:.10g}"

    @property
    def key(self) -> tuple:
        return (self.radius_m, self.new_sites, self.include_planned, self.county)

    def query(self, **extra: Any) -> dict[str, Any]:
        """URL parameters that reproduce this analysis (defaults left out)."""
        out: dict[str, Any] = {"radius_m": self.radius_str}
        if self.new_sites:
            out["new_sites"] = self.new_sites
        if self.include_planned:
            out["include_planned"] = 1
        if self.county:
            out["county"] = self.county
        out.update(extra)
        return out


def parse_coverage(args, counties, limits: Limits | None = None) -> CoverageParams:
    """``radius_m``, ``new_sites``, ``include_planned``, ``county`` (adcode or name) from a query string.

    The radius is checked as given, then rounded to a multiple of ``RADIUS_STEP_M`` (1234 -> 1200 with
    the default 100 m): one analysis, one cache entry and one ETag per step. ``new_sites`` stops at
    ``COVERAGE_MAX_NEW_SITES``.
    """
    limits = limits or current_limits()
    lo, hi = RADIUS_RANGE_M
    radius = parse_float(args, "radius_m", minimum=lo, maximum=hi, what="a radius in metres")
    return CoverageParams(
        radius_m=snap_radius_m(DEFAULT_RADIUS_M if radius is None else radius, limits.radius_step_m),
        new_sites=parse_int(args, "new_sites", default=0, minimum=0, maximum=limits.max_new_sites),
        include_planned=parse_bool(args, "include_planned"),
        county=parse_county(args, counties),
    )


def coverage_result(p: CoverageParams) -> dict[str, Any]:
    """The analysis's answers (``data``, ``gaps``, ``gaps_after``), once per store version and parameters.

    A cache hit answers at once. A miss runs the analysis in the background pool (``web.background``)
    within the time budget (``COVERAGE_TIME_BUDGET_S``), else raises ``Computing`` (503, Retry-After)
    while it goes on; its answers are cached when it ends, so the retry is served. Starting an analysis
    counts against the client's rate limit (``COVERAGE_RATE_LIMIT``).
    """
    st = state()
    key = ("coverage", p.key)
    version = st.store.version  # reads (and checks) the store here: bad data is this request's error
    hit = st.peek(key)
    if hit is not None:
        return hit
    limits = current_limits()
    job = CoverageJob(stations_path=str(st.store.path), counties_path=current_app.config["COUNTIES_PATH"],
                      radius_m=p.radius_m, new_sites=p.new_sites, include_planned=p.include_planned,
                      county=p.county, max_candidates=limits.max_candidates,
                      max_demand_points=limits.max_demand_points)
    _, answers = background().run(
        (version, key), run_coverage, job, limits.time_budget_s,
        on_done=lambda done: st.offer(done[0], key, done[1]), on_start=note_analysis_started)
    return answers


def coverage_dict(p: CoverageParams) -> dict[str, Any]:
    return coverage_result(p)["data"]


def coverage_gaps(p: CoverageParams, after: bool = False) -> dict[str, Any]:
    answers = coverage_result(p)
    return answers["gaps_after"] if after and answers["gaps_after"] is not None else answers["gaps"]


def canonical_redirect(p: CoverageParams) -> Response | None:
    """A redirect to the page of the snapped radius when the URL asks for another (1234 -> 1200)."""
    raw = request.args.get("radius_m", "").strip()
    if not raw or float(raw) == p.radius_m:
        return None
    args = request.args.to_dict(flat=False)
    args["radius_m"] = [p.radius_str]
    return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))


def _etag(*parts: Any) -> str:
    return etag_of(state().store.version, *parts)


# ---- presentation helpers -----------------------------------------------------------------------

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
    "stations": 0, "rest_stations": 0, "area_km2": 1, "population": 0, "rest_per_100km2": 2,
    "rest_per_100k_residents": 2, "covered_share_pct": 2, "worst_case_km": 1, "rest_target": 0,
    "rest_progress_pct": 0, "bases": 0, "covered_share_after_pct": 2,
}


def table_columns(lang: str, with_after: bool) -> list[dict[str, Any]]:
    cols = []
    for key, zh, en in report.COLUMNS:
        if key == "adcode" or (key == "covered_share_after_pct" and not with_after):
            continue
        cols.append({"key": key, "label": zh if lang == "zh" else en,
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


def _display_geom(geom, crs: str):
    return transform_geometry(geom, wgs84_to_gcj02) if crs == "gcj02" else geom


def _display_point(lon: float, lat: float, crs: str) -> dict[str, float]:
    """WGS-84 (lon, lat) -> ``{"lat", "lon"}`` in the drawing CRS, for the page script."""
    x, y = maps.to_display(lon, lat, crs)
    return {"lat": round(float(y), 6), "lon": round(float(x), 6)}


def considered_stations(p: CoverageParams):
    statuses = PLANNED_STATUSES if p.include_planned else OPEN_STATUSES
    return [s for s in state().store.all() if s.status in statuses]


def build_planning_map(p: CoverageParams):
    """The folium skeleton of the planning map: basemap, fitted to the city or the county (numbers only).

    Its layers are data (:func:`planning_layers`), drawn by ``js/planning-map.js``: nothing from the
    store or the county file goes through folium, which compiles its output as a template (``web.maps``).
    """
    st = state()
    config = current_app.config
    crs = maps.display_crs(config)
    m = maps.build_map(config, None, current_app.static_url_path or "/static")  # basemap and local assets
    m.options["zoom_snap"] = 0.25  # fit the city snugly into the frame
    if p.county:
        minlon, minlat, maxlon, maxlat = st.counties.geometry(p.county).bounds
    else:
        minlon, minlat, maxlon, maxlat = st.counties.bounds
    (lon0, lon1), (lat0, lat1) = maps.to_display(np.array([minlon, maxlon]), np.array([minlat, maxlat]), crs)
    m.fit_bounds([[float(lat0), float(lon0)], [float(lat1), float(lon1)]], padding=(8, 8))  # (lat, lon)
    return m


def planning_layers(p: CoverageParams, data: dict, gaps: dict, classes: ShareClasses, lang: str) -> dict[str, Any]:
    """The planning map's layers as JSON for ``js/planning-map.js``: choropleth, gaps, stations, worst cases,
    suggested sites. Positions are in the drawing CRS (GCJ-02 on AMap tiles); texts are plain text that the
    script shows with ``textContent``."""
    st = state()
    crs = maps.display_crs(current_app.config)
    names = {c["adcode"]: c["name"] for c in data["counties"]}
    tol_deg = min(p.radius_m / 50, 50.0) / 111_000  # keeps R-circles round, drops sub-pixel detail

    county_features = []
    for c in data["counties"]:
        geom = shapely.simplify(st.counties.geometry(c["adcode"]), 0.0005, preserve_topology=True)
        geom = shapely.set_precision(_display_geom(geom, crs), 1e-6)
        county_features.append({"type": "Feature", "geometry": mapping(geom), "properties": {
            "adcode": c["adcode"], "fill": classes.colour(c["covered_share"]), "name": c["name"],
            "share": fmt_number(c["covered_share"] * 100, classes.decimals + 1, "%"),
            "worst": "–" if c["worst_case_m"] is None else translate("km", lang, n=f"{c['worst_case_m'] / 1000:.1f}"),
            "rest": f"{c['rest_stations']} / {c['target']['rest_stations']['target']}",
        }})

    gap_features = []
    for f in gaps["features"]:
        geom = shapely.simplify(shape(f["geometry"]), tol_deg, preserve_topology=True)
        geom = shapely.set_precision(_display_geom(geom, crs), 1e-6)
        if not geom.is_empty:
            gap_features.append({"type": "Feature", "geometry": mapping(geom),
                                 "properties": {"adcode": f["properties"]["adcode"]}})

    stations = [{**_display_point(s.lon, s.lat, crs), "kind": s.kind, "status": s.status, "name": s.name}
                for s in considered_stations(p)]
    worst = [{**_display_point(*c["worst_case_point"], crs),  # worst_case_point is (lon, lat)
              "tip": translate("worst_tip", lang, county=c["name"], km=f"{c['worst_case_m'] / 1000:.1f}")}
             for c in data["counties"] if c["worst_case_point"]]
    suggestions = [{**_display_point(s["lon"], s["lat"], crs), "rank": rank, "radius_m": p.radius_m,
                    "tip": translate("suggestion_tip", lang, rank=rank, county=names.get(s["county_code"], ""),
                                     gain=f"{s['gain']:.2f}")}
                   for rank, s in enumerate(data["suggestions"], start=1)]
    return {
        "crs": crs,
        "style": {"gapFill": GAP_HATCH, "suggestion": SUGGESTION_COLOUR},
        "labels": {key: translate(f"county_tip_{key}", lang) for key in ("share", "worst", "rest")},
        "counties": {"type": "FeatureCollection", "features": county_features},
        "gaps": {"type": "FeatureCollection", "features": gap_features},
        "stations": stations, "worst": worst, "suggestions": suggestions,
    }


def svg_map(p: CoverageParams, data: dict, gaps: dict, classes: ShareClasses, lang: str,
            width: int = 800) -> dict[str, Any]:
    """A static map (for print and the SVG download): paths in a local equirectangular frame, y down."""
    st = state()
    codes = [c["adcode"] for c in data["counties"]]
    minlon, minlat, maxlon, maxlat = shapely.union_all([st.counties.geometry(c) for c in codes]).bounds
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

    counties = []
    for c in data["counties"]:
        geom = st.counties.geometry(c["adcode"])
        lx, ly = xy(*shapely.point_on_surface(geom).coords[0])
        counties.append({"d": path(geom), "fill": classes.colour(c["covered_share"]), "name": c["name"],
                         "x": round(lx, 1), "y": round(ly, 1),
                         "share": fmt_number(c["covered_share"] * 100, classes.decimals + 1, "%")})
    gap_paths = [path(shape(f["geometry"])) for f in gaps["features"]]
    stations = []
    for s in considered_stations(p):
        x, y = xy(s.lon, s.lat)
        if -pad <= x <= width + pad and -pad <= y <= height + pad:
            stations.append({"x": round(x, 1), "y": round(y, 1), "rest": s.kind == "rest_station",
                             "planned": s.status != "open"})
    worst = [dict(zip(("x", "y"), (round(v, 1) for v in xy(*c["worst_case_point"]))))
             for c in data["counties"] if c["worst_case_point"]]
    suggestions = [dict(zip(("x", "y"), (round(v, 1) for v in xy(s["lon"], s["lat"]))), rank=i)
                   for i, s in enumerate(data["suggestions"], start=1)]
    legend_y = height + 10
    return {"width": width, "height": height, "full_height": legend_y + 24 * 4 + 4, "legend_y": legend_y,
            "counties": counties, "gaps": gap_paths, "stations": stations, "worst": worst,
            "suggestions": suggestions, "legend": classes.legend(),
            "labels": {key: translate(f"legend_{key}", lang) for key in
                       ("share", "gap", "station", "other", "worst", "suggestion", "breaks")},
            "title": translate("map_title", lang, r=fmt_radius(p.radius_m, lang))}


def key_figures(data: dict) -> dict[str, Any]:
    city = data["city"]
    target = city["target"]
    worst_name = next((c["name"] for c in data["counties"] if c["adcode"] == city.get("worst_case_county")), "")
    rest = target["rest_stations"]
    return {
        "covered_pct": city["covered_share"] * 100,
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


# ---- routes -------------------------------------------------------------------------------------

@bp.get("/planning")
def planning():
    """The planner page: controls, key figures, map, chart, table, suggested sites, downloads."""
    lang = i18n.get_lang()
    st = state()
    p = parse_coverage(request.args, st.counties)
    if (moved := canonical_redirect(p)) is not None:
        return moved
    data = coverage_dict(p)
    gaps = coverage_gaps(p)
    classes = ShareClasses.for_shares([c["covered_share"] for c in data["counties"]])
    static_url = current_app.static_url_path or "/static"

    def build_map():  # the skeleton and its layers together: the layers name the skeleton's map variable
        parts = maps.render_map(build_planning_map(p))
        layers = planning_layers(p, data, gaps, classes, lang)
        return parts, pages.page_json({"mapVar": parts.name, **layers})

    parts, layers_json = st.cached(("planning.map", p.key, lang, static_url), build_map)
    with_after = bool(data["suggestions"]) or p.new_sites > 0
    rows = report.table_rows(data, lang=lang)
    names = {c["adcode"]: c["name"] for c in data["counties"]}
    return render_template(
        "planning.html", p=p, data=data, rows=rows[:-1], city_row=rows[-1],
        columns=table_columns(lang, with_after), chart=bar_chart(rows[:-1], with_after),
        classes=classes, figures=key_figures(data), names=names, map_parts=parts, layers_json=layers_json,
        assets=assets.page_assets(static_url), radius_text=fmt_radius(p.radius_m, lang),
        county_options=[(code, st.counties.name(code)) for code in st.counties.codes],
        presets=RADIUS_PRESETS_M, max_new_sites=current_limits().max_new_sites, radius_range=RADIUS_RANGE_M,
        radius_step=f"{current_limits().radius_step_m:g}",
        fmt_number=fmt_number, any_sample=any(s.sample for s in st.store.all()),
        describe=report.describe(data, lang), now=pages.now_shanghai().strftime("%Y-%m-%d %H:%M"),
        gain_unit=(data.get("siting") or {}).get("gain_unit", "km2"),
        download=lambda fmt: url_for("planning.download", fmt=fmt, **p.query(lang=lang)),
        self_url=lambda **kw: url_for("planning.planning", **p.query(**kw)),
    )


@bp.get("/planning/download.<fmt>")
def download(fmt: str):
    """The analysis as CSV (UTF-8 with BOM), XLSX, GeoJSON (gaps, suggestions, worst cases) or an SVG map."""
    if fmt not in FORMATS:
        abort(404, f"no download format {fmt!r}; allowed: {', '.join(FORMATS)}")
    lang = i18n.get_lang()
    p = parse_coverage(request.args, state().counties)

    def build() -> Response:
        data = coverage_dict(p)
        if fmt == "csv":
            body: Any = report.to_csv(data, lang)
        elif fmt == "xlsx":
            body = report.to_xlsx(data, lang)
        elif fmt == "geojson":
            body = json.dumps(report.to_geojson(data, coverage_gaps(p)), ensure_ascii=False, allow_nan=False)
        else:
            gaps = coverage_gaps(p)
            classes = ShareClasses.for_shares([c["covered_share"] for c in data["counties"]])
            body = render_template("planning_map_svg.html", m=svg_map(p, data, gaps, classes, lang),
                                   standalone=True)
        response = Response(body, mimetype=FORMATS[fmt].split(";")[0])
        if fmt == "csv":
            response.charset = "utf-8"
        name = f"yizhan-coverage-{p.radius_str}m" + (f"-{p.county}" if p.county else "") \
            + (f"-new{p.new_sites}" if p.new_sites else "") + ("-planned" if p.include_planned else "")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    return conditional(_etag("download", fmt, lang, p.key), build)


@bp.get("/api/coverage")
def api_coverage() -> Response:
    """Coverage by county (``CoverageResult.to_dict()``): figures, worst cases, targets, suggested sites."""
    p = parse_coverage(request.args, state().counties)
    return conditional(_etag("api.coverage", p.key), lambda: json_response(coverage_dict(p)))


@bp.get("/api/coverage/gaps")
def api_coverage_gaps() -> Response:
    """The uncovered area of each county as GeoJSON (``after=1``: once the suggested sites are built)."""
    p = parse_coverage(request.args, state().counties)
    after = parse_bool(request.args, "after")
    return conditional(_etag("api.gaps", p.key, after),
                        lambda: json_response(coverage_gaps(p, after and p.new_sites > 0), mimetype=GEOJSON))


# ---- OpenAPI (merged into /api/openapi.json by web.openapi.build_openapi) ------------------------

def _q(name: str, schema: dict, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_BOOL = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"], "default": "0"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_POINT = {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
          "description": "[lon, lat], WGS-84"}
_FIGURES = {
    "stations": {"type": "integer", "minimum": 0, "description": "stations counted (open, or also planned)"},
    "rest_stations": {"type": "integer", "minimum": 0},
    "area_km2": {"type": "number", "minimum": 0, "description": "geodesic area, km²"},
    "population": {"type": ["integer", "null"], "minimum": 0, "description": "residents (persons)"},
    "covered_km2": {"type": "number", "minimum": 0},
    "covered_share": {"type": "number", "minimum": 0, "maximum": 1,
                      "description": "share of the area within radius_m (geodesic) of a rest station"},
    "worst_case_m": {**_NUM_OR_NULL, "description": "distance from the farthest point to its nearest station, m"},
    "worst_case_point": _POINT,
    "target": {"type": "object", "description": "progress against the targets (rest stations, bases, palaces)"},
    "by_kind": {"type": "object", "additionalProperties": {"type": "integer"}},
    "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
    "rest_per_100km2": _NUM_OR_NULL,
    "rest_per_100k_residents": _NUM_OR_NULL,
    "covered_km2_after": {"type": "number"},
    "covered_share_after": _NUM_OR_NULL,
}
_REQUIRED = ["stations", "rest_stations", "area_km2", "population", "covered_share", "worst_case_m",
             "worst_case_point", "target"]
_COVERAGE_PARAMS = [
    _q("radius_m", {"type": "number", "minimum": RADIUS_RANGE_M[0], "maximum": RADIUS_RANGE_M[1],
                    "default": DEFAULT_RADIUS_M},
       "Service radius, geodesic metres (100 to 20,000), rounded to the nearest multiple of {step} m "
       "(halves up); the answer's `radius_m` is the rounded value."),
    _q("county", {"type": "string"}, "One county only: its 6-digit adcode or exact name (see /api/counties)."),
    _q("new_sites", {"type": "integer", "minimum": 0, "maximum": MAX_NEW_SITES, "default": 0},
       "Suggest this many new sites (maximal covering, existing stations kept)."),
    _q("include_planned", _BOOL, "Also count stations under construction and planned."),
]
OPENAPI_PATHS: dict[str, Any] = {
    "/api/coverage": {"get": {
        "operationId": "coverage",
        "summary": "Coverage of each county by stations within a radius",
        "description": "Per county and for the whole city: station counts, stations per 100 km² and per "
                       "100,000 residents, covered share of the area, the worst case (farthest point from "
                       "any station), progress against targets; with `new_sites`, suggested new sites and "
                       "the shares after them. Slow the first time (seconds), then cached until the data change.",
        "parameters": [*_COVERAGE_PARAMS, IF_NONE_MATCH],
        "responses": {
            "200": {"description": "The analysis.", "headers": CACHED_HEADERS, "content": {"application/json": {
                "schema": {
                    "type": "object",
                    "required": ["radius_m", "include_planned", "city", "counties", "suggestions"],
                    "properties": {
                        "radius_m": {"type": "number"},
                        "include_planned": {"type": "boolean"},
                        "city": {"type": "object", "required": _REQUIRED,
                                 "properties": {**_FIGURES, "counties": {"type": "integer"},
                                                "worst_case_county": {"type": ["string", "null"]}}},
                        "counties": {"type": "array", "items": {
                            "type": "object", "required": ["adcode", "name", *_REQUIRED],
                            "properties": {"adcode": {"type": "string", "pattern": r"^\d{6}$"},
                                           "name": {"type": "string"}, **_FIGURES}}},
                        "suggestions": {"type": "array", "items": {
                            "type": "object", "required": ["lon", "lat", "county_code", "gain"],
                            "properties": {"lon": {"type": "number"}, "lat": {"type": "number"},
                                           "county_code": {"type": "string"},
                                           "gain": {"type": "number", "description": "added coverage, km²"}}}},
                        "siting": {"type": "object"},
                    },
                }}}},
            "304": NOT_MODIFIED,
            **COMMON_ERRORS,
        },
    }},
    "/api/coverage/gaps": {"get": {
        "operationId": "coverageGaps",
        "summary": "The uncovered area of each county as GeoJSON",
        "description": "One (Multi)Polygon feature per county with uncovered area (WGS-84), with the gap's "
                       "area_km2, the county's area and its covered share.",
        "parameters": [*_COVERAGE_PARAMS,
                       _q("after", _BOOL, "With new_sites: the gaps left once the suggested sites are built."),
                       IF_NONE_MATCH],
        "responses": {
            "200": {"description": "The gaps.", "headers": CACHED_HEADERS, "content": {GEOJSON: {"schema": {
                "type": "object", "required": ["type", "features"],
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "features": {"type": "array", "items": {
                        "type": "object", "required": ["type", "geometry", "properties"],
                        "properties": {
                            "type": {"const": "Feature"},
                            "geometry": {"type": "object", "required": ["type", "coordinates"],
                                         "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}}},
                            "properties": {"type": "object",
                                           "required": ["adcode", "name", "area_km2", "covered_share"],
                                           "properties": {"adcode": {"type": "string"}, "name": {"type": "string"},
                                                          "area_km2": {"type": "number", "minimum": 0},
                                                          "county_area_km2": {"type": "number"},
                                                          "covered_share": {"type": "number"}}},
                        }}},
                }}}}},
            "304": NOT_MODIFIED,
            **COMMON_ERRORS,
        },
    }},
}


_BOUNDED = {
    "429": {"description": "This client started too many analyses (`COVERAGE_RATE_LIMIT`, counted per client "
                           "on the planner's endpoints; answers already computed do not count); `Retry-After` "
                           "says when to ask again.",
            "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "The analysis is being computed (it took longer than the time budget) or the "
                           "server is busy with other analyses; it goes on and is kept, so asking again "
                           "after `Retry-After` seconds gets it.",
            "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}


def openapi_paths(limits: Limits) -> dict[str, Any]:
    """``OPENAPI_PATHS`` with the configured bounds (radius step, most new sites) and the 429/503 answers."""
    paths = copy.deepcopy(OPENAPI_PATHS)
    for item in paths.values():
        operation = item["get"]
        for param in operation["parameters"]:
            if param.get("name") == "radius_m":
                param["description"] = param["description"].replace("{step}", f"{limits.radius_step_m:g}")
            elif param.get("name") == "new_sites":
                param["schema"]["maximum"] = limits.max_new_sites
        operation["responses"].update(copy.deepcopy(_BOUNDED))
    return paths
