"""How long ago a record was verified, in words: "3 天前核实" / "verified 3 days ago" (Asia/Shanghai days).

Used by the public station page and the staff pages; the words are the catalogue's ``verified.*``.
"""
from __future__ import annotations

from datetime import date, datetime

from stations.hours import SHANGHAI

from .i18n import translate


def today_shanghai() -> date:
    """Today's date in Asia/Shanghai (what "confirm still true" writes)."""
    return datetime.now(SHANGHAI).date()


def days_since(day_iso: str | None, today: date | None = None) -> int | None:
    """Whole days from ``day_iso`` (YYYY-MM-DD) to ``today`` (default: today in Asia/Shanghai); None if
    not given or unreadable; negative for a date ahead."""
    if not day_iso:
        return None
    try:
        day = date.fromisoformat(day_iso)
    except ValueError:
        return None
    return ((today or today_shanghai()) - day).days


def verified_text(day_iso: str | None, lang: str, today: date | None = None) -> str:
    """``今天核实`` / ``昨天核实`` / ``3 天前核实`` (``verified 3 days ago``); ``未核实`` when never."""
    days = days_since(day_iso, today)
    if days is None:
        return translate("verified.never", lang)
    if days < 0:
        return translate("verified.on", lang, date=day_iso)
    if days == 0:
        return translate("verified.today", lang)
    if days == 1:
        return translate("verified.yesterday", lang)
    return translate("verified.days_ago", lang, n=days)
