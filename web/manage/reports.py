"""The staff's workers' reports: ``/manage/reports`` (the open ones), accept, dismiss.

The list: the open reports about the stations of the account's counties (an admin's, and a viewer's
without counties: every county; an admin also sees reports about stations no longer in the store),
newest first, each with its station, kind, note (escaped, as every text), when it was made and, when
the worker sent a position, its geodesic distance from the station. Accept and dismiss are forms
(``POST``, CSRF token) for the accounts that may edit the station's county (``web.permissions``): a
viewer sees no buttons, and an editor of another county posting anyway gets 403. Accepting marks the
report accepted and opens the station's edit form (``/manage/stations/<id>``) with the change the
report suggests (``stations.worker_reports.suggestion_for``) as the form's query parameters:
``status=temporarily_closed`` and ``status_reason``, ``amenity`` (the amenities without drinking
water; ``amenity=`` alone when none remain), ``check=position``, and always ``from_report=<id>``.
Nothing is written to the station until the editor saves the form.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, render_template, url_for
from flask_login import login_required
from pydantic import Field

from stations.errors import NotFound
from stations.model import Station
from stations.worker_reports import Suggestion, distance_m, suggestion_for

from .. import db, i18n
from ..auth import current_account
from ..db.models import Report
from ..permissions import can_edit_county, require_county, visible_counties
from ..reports import public
from ..reports.forms import HandleForm
from ..reports.records import get_report, handle_report, open_reports
from ..requests import fields, pages
from ..requests.queries import PageQuery
from ..state import state
from . import ROW_ID, bp

TZ = ZoneInfo("Asia/Shanghai")
EDIT_FORM_RULE = "/manage/stations/<station_id>"


class ReportsQuery(PageQuery):
    """``/manage/reports``: ``dismissed=<id>`` after a report was dismissed (the page says so)."""

    dismissed: fields.whole(1, 2**53) = Field(None, description="The report just dismissed.")


@dataclass(frozen=True)
class ReportRow:
    report: Report
    station: Station | None
    county: str
    editable: bool
    created: str          # "2026-11-02 08:15" Asia/Shanghai
    distance_m: float | None
    suggests: str         # what accepting it suggests, in words ("" when the station is gone)


def suggestion_text(suggestion: Suggestion, lang: str) -> str:
    """"状态改为“暂停开放”" / "status → temporarily closed"; several joined; "no change to the record"."""
    names = [*suggestion.changes, *suggestion.check]
    if not names:
        return i18n.translate("problem.suggest.none", lang)
    return " · ".join(i18n.translate(f"problem.suggest.{name}", lang) for name in names)


def _local(when: datetime) -> datetime:
    return when.astimezone(TZ)


def _station(station_id: str) -> Station | None:
    try:
        return state().store.get(station_id)
    except NotFound:
        return None


def _rows(account) -> list[ReportRow]:
    st = state()
    mine = visible_counties(account, st.counties)
    stations = {s.id: s for s in st.store.all()}
    lang = i18n.get_lang()
    session = db.session()
    if account.is_admin:
        reports = open_reports(session)  # every report, also about stations gone from the store
    else:
        reports = open_reports(session, lambda sid: sid in stations and stations[sid].county_code in mine)
    rows = []
    for report in reports:
        station = stations.get(report.station_id)
        code = station.county_code if station is not None else None
        distance = distance_m(station, report.lon, report.lat) \
            if station is not None and report.lon is not None and report.lat is not None else None
        suggests = suggestion_text(suggestion_for(report.kind, station), lang) if station is not None else ""
        rows.append(ReportRow(report, station, st.counties.name(code) if code in st.counties else "",
                              can_edit_county(account, code), _local(report.created_at).strftime("%Y-%m-%d %H:%M"),
                              distance, suggests))
    return rows


@bp.get("/reports")
@login_required
@pages.route(query=ReportsQuery)
def reports(query: ReportsQuery) -> Response:
    """The open workers' reports of the account's counties, newest first, with accept and dismiss."""
    from ..pages import format_distance

    account = current_account()
    rows = _rows(account)
    html = render_template("manage/reports.html", rows=rows, dismissed=query.dismissed, fmt_distance=format_distance,
                           all_counties=account.is_admin or not account.counties,
                           may_handle=account.role in ("admin", "editor"))
    return Response(html, mimetype="text/html")


def _handled(report_id: int, outcome: str, note: str | None) -> tuple[Report, Station | None]:
    """Mark the report ``outcome`` if the account may edit its station's county (403 otherwise)."""
    account = current_account()
    session = db.session()
    report = get_report(session, report_id)  # NotFound: 404
    station = _station(report.station_id)
    require_county(account, station.county_code if station is not None else None)  # NotAllowed: 403
    report = handle_report(session, report_id, outcome, account.id, note)  # Conflict (409): handled already
    session.commit()
    public.forget()
    return report, station


def edit_form_url(station_id: str, params: dict[str, Any]) -> str:
    """The staff edit form of ``station_id`` with ``params`` (the staff pages' route when it is there)."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == EDIT_FORM_RULE and "GET" in (rule.methods or ()):
            return url_for(rule.endpoint, station_id=station_id, **params)
    return f"{url_for('manage.home')}/stations/{quote(station_id, safe='')}?{urlencode(params, doseq=True)}"


def suggestion_params(report: Report, station: Station | None, lang: str) -> dict[str, Any]:
    """The edit form's query parameters for what ``report`` suggests (see the module doc)."""
    params: dict[str, Any] = {"from_report": report.id}
    if station is None:
        return params
    suggestion = suggestion_for(report.kind, station)
    if "status" in suggestion.changes:
        params["status"] = suggestion.changes["status"]
        params["status_reason"] = i18n.translate(
            "problem.reason", lang, id=report.id, date=_local(report.created_at).date().isoformat(),
            kind=i18n.translate(f"problem.kind.{report.kind}", lang))
    if "amenities" in suggestion.changes:
        params["amenity"] = list(suggestion.changes["amenities"]) or [""]
    if suggestion.check:
        params["check"] = list(suggestion.check)
    return params


@bp.post(f"/reports/<{ROW_ID}:report_id>/accept")
@login_required
@pages.route(query=PageQuery, form=HandleForm)
def accept_report(report_id: int, query: PageQuery, form: HandleForm) -> Response:
    """Accept a report: marked accepted, then on to the station's edit form with the suggested change."""
    report, station = _handled(report_id, "accepted", form.note)
    params = suggestion_params(report, station, i18n.get_lang())
    if query.lang:
        params["lang"] = query.lang
    if station is None:  # nothing left to edit
        return redirect(url_for("manage.reports", lang=query.lang), 303)
    return redirect(edit_form_url(station.id, params), 303)


@bp.post(f"/reports/<{ROW_ID}:report_id>/dismiss")
@login_required
@pages.route(query=PageQuery, form=HandleForm)
def dismiss_report(report_id: int, query: PageQuery, form: HandleForm) -> Response:
    """Dismiss a report (with an optional note); back to the list, which says so."""
    _handled(report_id, "dismissed", form.note)
    return redirect(url_for("manage.reports", dismissed=report_id, lang=query.lang), 303)
