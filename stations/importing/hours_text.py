"""Opening hours as staff write them (``全天``, ``8:00—18:00``, ``周一至周五 8:00-18:00``) -> OpenStreetMap's
``opening_hours`` syntax (``24/7``, ``08:00-18:00``, ``Mo-Fr 08:00-18:00``), which the store keeps.

A value that already is valid OSM syntax is kept exactly as written (so an export read back is
unchanged). Otherwise the text is read as a list of parts separated by ``；`` ``;`` ``，`` ``,`` or a
line break, each an optional day part (``周一至周五``, ``星期六、星期日``, ``工作日``, ``周末``, ``每天``,
``节假日``) and a time part (``8:00-18:00``, ``8点至18点``, several joined by ``、`` or ``和``), or
``全天``/``24小时`` (all day) or ``休息``/``闭馆``/``不开放`` (closed). Anything else is refused
(:func:`to_opening_hours` returns None): the import reports the value, it never guesses.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..hours import parse_opening_hours

_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
         "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ALWAYS = ("全天", "24小时", "24h", "全天候", "全天24小时", "24小时开放", "全天开放", "7*24小时", "7x24小时",
           "7×24小时", "24小时营业", "全年无休", "全天24小时开放", "24/7")
_EVERY_DAY = ("每天", "每日", "天天", "全年", "全周", "周一至周日", "周一到周日", "一周七天")
_WORKDAYS = ("工作日", "周一至周五", "周一到周五")
_WEEKEND = ("周末", "双休日", "周六日", "周六、周日", "周六至周日", "星期六、星期日")
_HOLIDAYS = ("节假日", "法定节假日", "法定假日", "节日", "假日", "节假日期间")
_CLOSED = ("休息", "闭馆", "关闭", "不开放", "停止开放", "暂停开放", "休馆", "闭站", "off", "closed")
_DASH = r"(?:-|~|至|到)"
_WEEKDAY = r"(?:周|星期|礼拜)([一二三四五六日天七1-7])"
_DAY_RANGE = re.compile(rf"{_WEEKDAY}{_DASH}(?:周|星期|礼拜)?([一二三四五六日天七1-7])")
_DAY_ONE = re.compile(_WEEKDAY)
_SIDE = r"(上午|早上?|中午|下午|晚上?)?(\d{1,2})(?:[:.](\d{2})|[点时](?:(\d{1,2})分?|(半))?)?"
_SPAN = re.compile(rf"{_SIDE}{_DASH}(次日|第二天)?{_SIDE}")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"[—–－―‐~～〜]+", "-", text)  # every dash and tilde to "-"
    return re.sub(r"\s*-\s*", "-", text)


def _hhmm(when: str | None, hour: str, minute: str | None, minute_zh: str | None, half: str | None) -> str | None:
    """One side of a span as HH:MM; ``下午6点`` is 18:00."""
    h = int(hour)
    m = int(minute or minute_zh or 0) + (30 if half else 0)
    if when in ("下午", "晚", "晚上") and h < 12:
        h += 12
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        return None
    return f"{h:02d}:{m:02d}"


def _times(text: str) -> str | None:
    """``8:00-12:00、14:00-18:00`` -> ``08:00-12:00,14:00-18:00``; None unless the whole text is times."""
    spans = []
    rest = text
    while rest:
        match = _SPAN.match(rest)
        if not match:
            return None
        g = match.groups()
        pm = ("下午", "晚", "晚上")
        # 下午2:00-6:00: the end is in the afternoon too (unless it says 次日, the next day)
        end_when = g[6] or ("下午" if g[0] in pm and not g[5] else None)
        start, end = _hhmm(*g[:5]), _hhmm(end_when, *g[7:])
        if start is None or end is None:
            return None
        spans.append(f"{start}-{end}")
        rest = re.sub(r"^(?:、|和|及|,|/)", "", rest[match.end():])
    return ",".join(spans) if spans else None


def _days(text: str) -> str | None:
    """``周一至周五`` -> ``Mo-Fr``, ``周六、周日`` -> ``Sa,Su``, ``节假日`` -> ``PH``; None if not days."""
    if text in _EVERY_DAY:
        return "Mo-Su"
    if text in _WORKDAYS:
        return "Mo-Fr"
    if text in _WEEKEND:
        return "Sa,Su"
    if text in _HOLIDAYS:
        return "PH"
    parts = []
    for piece in re.split(r"[、,/和及]", text):
        if not piece:
            continue
        if piece in _HOLIDAYS:
            parts.append("PH")
            continue
        if piece in _WEEKEND:
            parts.append("Sa,Su")
            continue
        match = _DAY_RANGE.fullmatch(piece)
        if match:
            parts.append(f"{_OSM_DAYS[_DAYS[match.group(1)]]}-{_OSM_DAYS[_DAYS[match.group(2)]]}")
            continue
        match = _DAY_ONE.fullmatch(piece)
        if not match:
            return None
        parts.append(_OSM_DAYS[_DAYS[match.group(1)]])
    return ",".join(parts) or None


def _rule(part: str) -> str | None:
    """One part (``周一至周五8:00-18:00``, ``周日休息``, ``全天``) as an OSM rule, or None."""
    part = part.strip().rstrip("。.")
    if part in _ALWAYS:
        return "24/7"
    match = re.match(r"^((?:(?:周|星期|礼拜)[一二三四五六日天七1-7]|[至到、,/和及-]|工作日|周末|双休日|每天|每日|天天|"
                     r"全年|全周|法定节假日|法定假日|节假日期间|节假日|节日|假日)+)[:]?(.*)$", part)
    days, rest = (match.group(1), match.group(2).strip()) if match else (None, part)
    if days is not None and days.endswith("-") and rest[:1].isdigit():
        days, rest = days[:-1], rest  # "周一至周五-8:00" is not a day range
    osm_days = _days(days) if days else None
    if days and osm_days is None:
        return None
    if rest in _CLOSED or rest.rstrip("日") in _CLOSED:
        return f"{osm_days or 'Mo-Su'} off"
    if not rest or rest in _ALWAYS or rest in ("全天", "开放", "营业"):
        if osm_days is None:
            return "24/7" if rest else None
        return osm_days  # OSM: the days named, all day
    times = _times(rest.removeprefix("开放").removesuffix("开放").removesuffix("营业"))
    if times is None:
        return None
    return f"{osm_days} {times}" if osm_days else times


@lru_cache(maxsize=4096)
def to_opening_hours(text: str) -> str | None:
    """OSM ``opening_hours`` for ``text``: the text itself when already valid OSM, else its reading
    (see the module docstring), else None. Whatever is returned parses (``stations.hours``)."""
    text = text.strip()
    if not text:
        return None
    try:
        parse_opening_hours(text)
        return text
    except ValueError:
        pass
    normal = _normalise(text)
    parts = [p for p in re.split(r"[;；\n]|[,，](?=\D)|(?<=\d)[,，](?=\s*(?:周|星期|礼拜|工作日|周末|节|法定|每))", normal)
             if p.strip()]
    rules = [_rule(p) for p in parts]
    if not rules or any(r is None for r in rules):
        return None
    osm = "; ".join(rules)
    try:
        parse_opening_hours(osm)
    except ValueError:
        return None
    return osm
