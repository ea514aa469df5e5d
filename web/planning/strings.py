"""The planner's UI strings, one table per language, and ``translate()``.

Kept in one place per language until the site's strings move to gettext catalogues; callers use
:func:`translate` only, which stays the interface then. A key missing here falls back to the site's
strings (``web.i18n``).
"""
from __future__ import annotations

from typing import Any

from web import i18n

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
