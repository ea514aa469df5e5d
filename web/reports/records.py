"""Workers' reports in the accounts database: file one, list the open ones, handle one, count them.

No Flask: a SQLAlchemy session in, the caller commits (as ``web.accounts``). A report holds what
the worker sent (kind, note, position) and nothing about them: no address, no device, no account.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stations.errors import Conflict, NotFound
from stations.worker_reports import NOTE_MAX_CHARS, REPORT_KINDS, CountyCounts, count_by_county

from ..db.models import Report, utcnow

#: most open reports a staff page lists at once (newest first)
LIST_MAX = 500


def file_report(session: Session, station_id: str, kind: str, note: str | None = None,
                position: tuple[float, float] | None = None, *, now: datetime | None = None) -> Report:
    """Add an open report about ``station_id``; ``position`` is the reporter's (lon, lat), WGS-84."""
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise ValueError(f"a note of {len(note)} characters; allowed: at most {NOTE_MAX_CHARS}")
    lon, lat = position if position is not None else (None, None)
    report = Report(station_id=station_id, kind=kind, note=note or None, lon=lon, lat=lat,
                    created_at=now or utcnow(), status="open")
    session.add(report)
    session.flush()
    return report


def open_reports(session: Session, wanted: Callable[[str], bool] | None = None, *,
                 limit: int = LIST_MAX) -> list[Report]:
    """The open reports, newest first, at most ``limit``: those whose station id ``wanted`` accepts, if given
    (read in batches and filtered here: a county's station ids may be too many for an ``IN`` list)."""
    query = (sa.select(Report).where(Report.status == "open")
             .order_by(Report.created_at.desc(), Report.id.desc()).execution_options(yield_per=200))
    out: list[Report] = []
    for report in session.scalars(query):
        if wanted is None or wanted(report.station_id):
            out.append(report)
            if len(out) >= limit:
                break
    return out


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    return report


def handle_report(session: Session, report_id: int, outcome: str, handled_by: int | None,
                  note: str | None = None, *, now: datetime | None = None) -> Report:
    """Mark an open report ``accepted`` or ``dismissed`` by the account ``handled_by``, with ``note``.

    One conditional UPDATE: of two staff members handling the same report at once, one does and the
    other gets :class:`~stations.errors.Conflict` (409); a report already handled is a Conflict too.
    """
    if outcome not in ("accepted", "dismissed"):
        raise ValueError(f"unknown outcome {outcome!r}; allowed: accepted, dismissed")
    report = get_report(session, report_id)
    done = session.execute(
        sa.update(Report).where(Report.id == report_id, Report.status == "open")
        .values(status=outcome, handled_by=handled_by, handled_at=now or utcnow(), handler_note=note or None)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(report)
        raise Conflict(f"report {report_id} was {report.status} already"
                       + (f" by {report.handler.name}" if report.handler is not None else ""))
    session.refresh(report)
    return report


def newest_open_dates(session: Session) -> dict[str, datetime]:
    """Station id -> when its newest open report was made (aware UTC): the stations with open reports."""
    rows = session.execute(sa.select(Report.station_id, sa.func.max(Report.created_at))
                           .where(Report.status == "open").group_by(Report.station_id))
    return {station_id: created_at for station_id, created_at in rows}  # max() keeps the column's type


def counts_by_county(session: Session, county_of: Mapping[str, str | None], now: datetime | None = None
                     ) -> dict[str | None, CountyCounts]:
    """Every report counted under its station's county (``county_of``: station id -> county code; a
    station not in it counts under ``None``): open, open for over 7 days, handled, handled within 7 days."""
    rows = session.execute(sa.select(Report.station_id, Report.status, Report.created_at, Report.handled_at))
    return count_by_county(((county_of.get(sid), status, created, handled) for sid, status, created, handled in rows),
                           now or utcnow())


__all__ = ["LIST_MAX", "counts_by_county", "file_report", "get_report", "handle_report", "newest_open_dates",
           "open_reports"]
