"""What the map needs to answer "find the nearest" offline, as the server answers it.

The site's service worker keeps this document (``/offline/stations.json``, ``web.offline``); with no
network the map's script (``web/static/js/offline.js``) ranks its stations as
:meth:`stations.nearest.NearestIndex.query_open_first` does for the map's question (status ``open``,
the filters kind, amenities, ``serves``, 24/7 and open now): those open at the moment first, nearest
first, then the others, nearest first; ties by id; geodesic metres on the WGS-84 ellipsoid.

Opening hours are not evaluated in the browser. Each distinct hours text comes as its open spans over
the ``days`` days from the document's first day (``OpeningHours.open_spans``: the official calendar
and its make-up days already applied), in minutes since 1970-01-01 UTC; a station is open at a moment
when one of its spans holds it. Within that window the browser's answer is the server's; after it, no
station is known to be open (the page says how old its data is). Whether a station is in a ``serves``
set and open around the clock are the server's own tests, sent as flags.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Iterable

from . import hours
from .model import Station
from .serves import SERVES

__all__ = ["OFFLINE_DAYS", "offline_document"]

#: days of opening spans the document carries (from the day it is made)
OFFLINE_DAYS = 14


def _minutes(local: datetime) -> int:
    """Minutes since 1970-01-01 UTC of a naive Asia/Shanghai time."""
    return int(local.replace(tzinfo=hours.SHANGHAI).timestamp()) // 60


def _spans(text: str | None, first, days: int) -> list[list[int]] | None:
    """Open spans as [start, end) minute pairs, or None for no or unreadable hours (never open)."""
    if not text:
        return None
    try:
        parsed = hours.parse_opening_hours(text)
    except ValueError:
        return None
    return [[_minutes(s), _minutes(e)] for s, e in parsed.open_spans(first, days)]


def offline_document(stations: Iterable[Station], at: datetime, days: int = OFFLINE_DAYS) -> dict[str, Any]:
    """The offline ranking's data for the stations with status ``open``, valid from ``at``'s day (Asia/Shanghai;
    naive = Shanghai time) for ``days`` days.

    Returns ``{"window": [first minute, end minute], "schedules": [[[start, end], ...], ...],
    "stations": [{"id", "name", "kind", "lon", "lat" (WGS-84), "address", "opening_hours", "amenities",
    "h24", "serves", "schedule" (index into schedules, or null: never open)}, ...]}`` in id order.
    """
    local = at.astimezone(hours.SHANGHAI).replace(tzinfo=None) if at.tzinfo else at
    first = local.date()
    start = datetime.combine(first, time())
    schedules: list[list[list[int]]] = []
    index: dict[str | None, int | None] = {}
    records = []
    for s in sorted(stations, key=lambda s: s.id):
        if s.status != "open":  # the map asks for open stations only (/api/nearest's default status)
            continue
        text = s.opening_hours
        if text not in index:
            spans = _spans(text, first, days)
            if spans is None:
                index[text] = None
            else:
                index[text] = len(schedules)
                schedules.append(spans)
        records.append({
            "id": s.id, "name": s.name, "kind": s.kind, "lon": s.lon, "lat": s.lat,
            "address": s.address or "", "opening_hours": text, "amenities": list(s.amenities),
            "h24": hours.open_around_the_clock(text),
            "serves": [name for name, test in SERVES.items() if test(s)],
            "schedule": index[text],
        })
    return {
        "window": [_minutes(start), _minutes(start + timedelta(days=days))],
        "schedules": schedules,
        "stations": records,
    }
