"""Workers' reports about a station: what each kind suggests changing, how far the reporter was, counts.

A worker (no account) reports that a station is closed, out of water, moved, dirty, or something
else, with an optional note and, optionally, where they stood (WGS-84 lon, lat). Staff handle each
report: accept it (and make the change it suggests, in the edit form) or dismiss it. No Flask here:
the site keeps the reports in its accounts database (``web.reports``); this module says what they
mean.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from pyproj import Geod

from .model import Station

#: what a worker may report (the accounts database's CHECK constraint has the same list)
REPORT_KINDS: tuple[str, ...] = ("closed", "no_water", "moved", "dirty", "other")
#: what became of a report
REPORT_STATUSES: tuple[str, ...] = ("open", "accepted", "dismissed")
#: the longest note a worker (or the staff member handling the report) may write, characters
NOTE_MAX_CHARS = 500
#: a report handled within this long of being made counts as handled in time (the planner's figures)
HANDLED_IN_TIME = timedelta(days=7)

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Suggestion:
    """The change a report suggests: ``changes`` in the store's ``update`` form (``{"status":
    "temporarily_closed"}``), and ``check``: what staff should look at by hand (``("position",)``)."""

    changes: Mapping[str, Any] = field(default_factory=dict)
    check: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes or self.check)


def suggestion_for(kind: str, station: Station) -> Suggestion:
    """What accepting a report of ``kind`` about ``station`` suggests (nothing the station already is).

    - ``closed``: status ``temporarily_closed`` (an open, planned or being-built station; one already
      closed stays as it is);
    - ``no_water``: ``drinking_water`` removed from the amenities;
    - ``moved``: check the position (only staff can say where it went);
    - ``dirty``, ``other``: nothing to change in the record.
    """
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {kind!r}; allowed: {', '.join(REPORT_KINDS)}")
    if kind == "closed":
        if station.status in ("temporarily_closed", "closed"):
            return Suggestion()
        return Suggestion({"status": "temporarily_closed"})
    if kind == "no_water":
        if "drinking_water" not in station.amenities:
            return Suggestion()
        return Suggestion({"amenities": [a for a in station.amenities if a != "drinking_water"]})
    if kind == "moved":
        return Suggestion(check=("position",))
    return Suggestion()


def distance_m(station: Station, lon: float, lat: float) -> float:
    """Geodesic metres (WGS-84 ellipsoid) from ``station`` to the reporter's position (WGS-84 ``lon``, ``lat``)."""
    return float(_GEOD.inv(station.lon, station.lat, lon, lat)[2])


@dataclass
class CountyCounts:
    """The reports of one county: ``open`` now, of which ``open_overdue`` were made over
    :data:`HANDLED_IN_TIME` ago; ``handled`` (accepted or dismissed), of which ``handled_in_time``
    within :data:`HANDLED_IN_TIME` of being made."""

    open: int = 0
    open_overdue: int = 0
    handled: int = 0
    handled_in_time: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"open": self.open, "open_overdue": self.open_overdue, "handled": self.handled,
                "handled_in_time": self.handled_in_time}


def count_by_county(reports: Iterable[tuple[str | None, str, datetime, datetime | None]],
                    now: datetime) -> dict[str | None, CountyCounts]:
    """``(county_code, status, created_at, handled_at)`` of each report -> its county's counts.

    Times are aware datetimes; ``county_code`` is the station's (``None``: a station outside every
    county, or no longer in the store).
    """
    out: dict[str | None, CountyCounts] = {}
    for county, status, created_at, handled_at in reports:
        counts = out.setdefault(county, CountyCounts())
        if status == "open":
            counts.open += 1
            if now - created_at > HANDLED_IN_TIME:
                counts.open_overdue += 1
        else:
            counts.handled += 1
            if handled_at is not None and handled_at - created_at <= HANDLED_IN_TIME:
                counts.handled_in_time += 1
    return out


__all__ = ["HANDLED_IN_TIME", "NOTE_MAX_CHARS", "REPORT_KINDS", "REPORT_STATUSES", "CountyCounts", "Suggestion",
           "count_by_county", "distance_m", "suggestion_for"]
