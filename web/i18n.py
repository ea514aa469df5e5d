"""A small dictionary-based translation layer: zh-CN first, English via ``?lang=en``.

The language comes from ``?lang=`` (remembered in a cookie), else the cookie, else
``DEFAULT_LANG``. Vocabulary labels (kinds, amenities, statuses) come from
``stations.model``, the one place they are defined.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import current_app, request

from stations.model import AMENITIES, KINDS, STATUSES

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "site_title": "驿站地图",
        "site_tagline": "{city}户外劳动者驿站",
        "switch_to": "English",
        "map": "地图",
        "list": "列表", "planning": "规划",
        "find_nearest": "找最近的驿站",
        "locating": "正在获取您的位置……",
        "searching": "正在查找附近的驿站……",
        "pick_on_map": "在地图上点选位置",
        "pick_hint": "请在地图上点按您所在的位置。",
        "search_label": "搜索驿站",
        "search_placeholder": "名称、地址、区县或乡镇",
        "filters": "筛选",
        "kind": "类型",
        "all_kinds": "全部类型", "all_counties": "全部区县",
        "amenities": "设施",
        "open_now": "营业中",
        "open_now_filter": "只看营业中",
        "closed_now": "未营业",
        "hours_unknown": "开放时间未知",
        "open_24h": "24小时",
        "straight_line": "直线",
        "walk_minutes": "步行约 {n} 分钟",
        "walk_hours": "步行约 {h} 小时 {m} 分钟",
        "walk_hours_even": "步行约 {h} 小时",
        "you_are_here": "您的位置",
        "nearest_title": "离您最近的驿站",
        "search_results": "搜索结果",
        "no_results": "没有符合条件的驿站。请放宽筛选条件。",
        "no_match": "没有找到“{q}”。",
        "geo_denied": "无法获取您的位置：您没有允许本页使用定位。",
        "geo_unavailable": "无法获取您的位置：定位暂时不可用。",
        "geo_timeout": "无法获取您的位置：定位超时。",
        "geo_unsupported": "无法获取您的位置：此浏览器或此页面（需 HTTPS）不提供定位。",
        "geo_fallback": "请在地图上点按您所在的位置，或在上方搜索驿站名称、地址、区县或乡镇。",
        "api_error": "查询失败，请稍后再试。",
        "details": "详情",
        "navigate": "步行导航",
        "navigate_amap": "高德地图步行导航",
        "navigate_baidu": "百度地图",
        "navigate_geo": "用其他地图应用打开",
        "address": "地址",
        "opening_hours": "开放时间",
        "phone": "电话",
        "phone_extension": "{main} 转 {ext}",
        "host": "承办单位",
        "status": "状态",
        "last_verified": "最近核实",
        "county": "区县",
        "position": "位置（WGS-84）",
        "sample_data": "示例数据",
        "sample_notice": "这条记录是演示用的虚构数据，不是真实的驿站信息。",
        "sample_notice_short": "本站目前显示的是示例数据，不是真实的驿站名录。",
        "qr_caption": "扫码打开本页",
        "share_link": "本页链接",
        "back_to_map": "返回地图",
        "not_given": "暂无",
        "stations_count": "共 {n} 处",
        "use_my_position": "按离我远近排序",
        "sort_nearest": "按距离从近到远排列，起点：{lat}, {lon}",
        "clear_position": "改为按区县排列",
        "by_county": "按区县排列",
        "unknown_county": "区县未知",
        "apply": "应用",
        "legend": "图例",
        "status_dashed": "虚线：在建或规划中",
        "skip_to_list": "跳到驿站列表",
        "meters": "{n} 米",
        "kilometers": "{n} 公里",
        "results_for": "{n} 个结果",
        "map_label": "驿站地图",
        "close": "关闭",
        "print": "打印",
        "open_24_7": "全天开放",
        "now_local": "北京时间 {t}",
        "open_full_map": "在驿站地图中打开",
        "zoom_in_hint": "放大地图以显示驿站",
        "search_enter": "按回车键在驿站列表中搜索全部驿站",
    },
    "en": {
        "site_title": "Rest Station Map",
        "site_tagline": "Outdoor workers' rest stations in {city}",
        "switch_to": "中文",
        "map": "Map",
        "list": "List", "planning": "Planning",
        "find_nearest": "Find the nearest station",
        "locating": "Finding your position…",
        "searching": "Looking for nearby stations…",
        "pick_on_map": "Pick a point on the map",
        "pick_hint": "Tap the map where you are.",
        "search_label": "Search stations",
        "search_placeholder": "Name, address, county, town",
        "filters": "Filters",
        "kind": "Kind",
        "all_kinds": "All kinds", "all_counties": "All counties",
        "amenities": "Amenities",
        "open_now": "Open now",
        "open_now_filter": "Open now only",
        "closed_now": "Closed now",
        "hours_unknown": "Hours unknown",
        "open_24h": "24 h",
        "straight_line": "straight line",
        "walk_minutes": "about {n} min walk",
        "walk_hours": "about {h} h {m} min walk",
        "walk_hours_even": "about {h} h walk",
        "you_are_here": "Your position",
        "nearest_title": "Nearest stations",
        "search_results": "Search results",
        "no_results": "No station matches. Try fewer filters.",
        "no_match": "Nothing found for “{q}”.",
        "geo_denied": "Could not get your position: this page is not allowed to use location.",
        "geo_unavailable": "Could not get your position: location is unavailable.",
        "geo_timeout": "Could not get your position: the location request timed out.",
        "geo_unsupported": "Could not get your position: this browser or page (HTTPS needed) gives no location.",
        "geo_fallback": "Tap the map where you are, or search by station name, address, county or town above.",
        "api_error": "The search failed. Please try again later.",
        "details": "Details",
        "navigate": "Walk there",
        "navigate_amap": "Walking route in AMap",
        "navigate_baidu": "Baidu Maps",
        "navigate_geo": "Open in another map app",
        "address": "Address",
        "opening_hours": "Opening hours",
        "phone": "Phone",
        "phone_extension": "{main} ext. {ext}",
        "host": "Host",
        "status": "Status",
        "last_verified": "Last verified",
        "county": "County",
        "position": "Position (WGS-84)",
        "sample_data": "Sample data",
        "sample_notice": "This record is made up for demonstration; it is not a real station.",
        "sample_notice_short": "This site shows sample data, not a real directory of stations.",
        "qr_caption": "Scan to open this page",
        "share_link": "Link to this page",
        "back_to_map": "Back to the map",
        "not_given": "Not given",
        "stations_count": "{n} sites",
        "use_my_position": "Sort by distance from me",
        "sort_nearest": "Nearest first, from {lat}, {lon}",
        "clear_position": "Group by county instead",
        "by_county": "By county",
        "unknown_county": "County unknown",
        "apply": "Apply",
        "legend": "Legend",
        "status_dashed": "Dashed: under construction or planned",
        "skip_to_list": "Skip to the station list",
        "meters": "{n} m",
        "kilometers": "{n} km",
        "results_for": "{n} results",
        "map_label": "Map of stations",
        "close": "Close",
        "print": "Print",
        "open_24_7": "Open 24/7",
        "now_local": "Beijing time {t}",
        "open_full_map": "Open full map",
        "zoom_in_hint": "Zoom in to see stations",
        "search_enter": "Press Enter to search all stations in the list",
    },
}

# The strings the map page's script needs (sent as JSON, never spliced into JS source).
JS_KEYS = (
    "locating", "searching", "pick_hint", "open_now", "closed_now", "hours_unknown", "open_24h",
    "straight_line", "walk_minutes", "walk_hours", "walk_hours_even", "you_are_here", "nearest_title", "search_results", "no_results",
    "no_match", "geo_denied", "geo_unavailable", "geo_timeout", "geo_unsupported", "geo_fallback",
    "api_error", "details", "navigate_amap", "address", "opening_hours", "phone", "phone_extension", "status",
    "sample_data", "meters", "kilometers", "results_for", "close", "legend", "amenities",
    "zoom_in_hint", "search_enter",
)

VOCABULARIES: dict[str, Mapping[str, Mapping[str, str]]] = {
    "kind": KINDS, "amenity": AMENITIES, "status": STATUSES,
}


def get_lang() -> str:
    """The language of this request: ``?lang=``, else the cookie, else ``DEFAULT_LANG``."""
    asked = request.args.get("lang", "")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGS:
        return cookie
    default = current_app.config.get("DEFAULT_LANG", "zh")
    return default if default in LANGS else "zh"


def translate(key: str, lang: str, **values: Any) -> str:
    """The text for ``key`` in ``lang`` (falling back to Chinese, then the key), formatted."""
    text = STRINGS.get(lang, {}).get(key) or STRINGS["zh"].get(key) or key
    return text.format(**values) if values else text


def label(vocab: str, key: str | None, lang: str) -> str:
    """Label of a kind, amenity or status in ``lang``; the raw key if it is not in the vocabulary."""
    if key is None:
        return ""
    entry = VOCABULARIES[vocab].get(key)
    if not entry:
        return key
    return entry.get(lang) or entry.get("zh") or key


def js_strings(lang: str) -> dict[str, str]:
    return {key: translate(key, lang) for key in JS_KEYS}


def remember_lang(response):
    """``after_request``: keep an explicit ``?lang=`` choice in a cookie."""
    asked = request.args.get("lang", "")
    if asked in LANGS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response
