"""What the public sees of workers' reports: "<date> 有人报告问题 / reported on <date>", nothing more.

A station with open reports shows the date (Asia/Shanghai) of its newest open report on its page,
in its map popup and in the list, until staff have handled them all. No note, no kind, no count.

The stations with open reports are read from the accounts database at most every
:data:`BADGE_TTL_S` seconds per server process (and at once after this process filed or handled
a report): the map and the list do not ask the database on every request. A database that cannot
be read (not migrated yet, out of reach) shows no badges and is logged, never an error page: the
public pages do not depend on it.
"""
from __future__ import annotations

import logging
import threading
import time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from .. import db
from .records import newest_open_dates

log = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
#: seconds a server process keeps the stations with open reports before reading them again
BADGE_TTL_S = 10.0
_KEY = "yizhan.reports.badges"
_LOCK = threading.Lock()


def reported_dates() -> dict[str, str]:
    """Station id -> ``YYYY-MM-DD`` (Asia/Shanghai) of its newest open report, for the stations with any."""
    cached = current_app.extensions.get(_KEY)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    with _LOCK:
        try:
            with db.database().session() as session:
                dates = {sid: when.astimezone(TZ).date().isoformat()
                         for sid, when in newest_open_dates(session).items()}
        except sa.exc.SQLAlchemyError as exc:
            log.warning("workers' reports cannot be read (%s): no station shows \"reported on\" now",
                        str(exc).splitlines()[0][:200])
            dates = {}
        current_app.extensions[_KEY] = (now + BADGE_TTL_S, dates)
    return dates


def reported_on(station_id: str) -> str | None:
    """``YYYY-MM-DD`` of the station's newest open report, or ``None``."""
    return reported_dates().get(station_id)


def forget() -> None:
    """Read the open reports again at the next request (this process filed or handled one)."""
    current_app.extensions.pop(_KEY, None)


def county_counts() -> dict | None:
    """The planner's figures: per county (the site's, in order), its reports open, open over 7 days,
    handled, handled within 7 days of being made, and the total; ``None`` if the database cannot be
    read. Aggregate numbers only: no report, note or station is named."""
    from stations.worker_reports import CountyCounts

    from ..state import state
    from .records import counts_by_county

    st = state()
    county_of = {s.id: s.county_code for s in st.store.all()}
    try:
        with db.database().session() as session:
            counts = counts_by_county(session, county_of)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("workers' reports cannot be counted (%s)", str(exc).splitlines()[0][:200])
        return None
    rows = [{"code": code, "name": st.counties.name(code), **counts.get(code, CountyCounts()).to_dict()}
            for code in st.counties.codes]
    elsewhere = CountyCounts()
    for code, found in counts.items():
        if code not in st.counties:
            for key, value in found.to_dict().items():
                setattr(elsewhere, key, getattr(elsewhere, key) + value)
    total = {key: sum(row[key] for row in rows) + getattr(elsewhere, key) for key in elsewhere.to_dict()}
    return {"rows": rows, "elsewhere": elsewhere.to_dict() if any(elsewhere.to_dict().values()) else None,
            "total": total}
