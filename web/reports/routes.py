"""Filing a report: the page ``/stations/<id>/report`` (GET the form, POST it) and ``POST /api/stations/<id>/reports``.

No account needed. The page's form carries the CSRF token like every form of the site (``web.auth``);
after filing it answers with a redirect to the thanks (``?sent=1``), so reloading files nothing twice.
The API route is for apps: a JSON body, 201. It takes no CSRF token, on purpose: it acts for nobody
(it reads no session; a staff member's cookie sent along changes nothing: the report is as anonymous
as any other) and what it does, anyone may do anyway, so a page on another site that makes a
browser post to it gains nothing a direct request would not give; the rate limits bound it. Writes
are never answered with CORS headers (``web.security``): scripts of other sites cannot read the answer.

Both are limited per client (``REPORT_RATE_LIMIT``) and per station (``REPORT_STATION_RATE_LIMIT``):
429 with ``Retry-After`` (``web.reports.limits``). A report stores the kind, the note and the position
as sent, and when: no address, no user agent, no account (``web.reports.records``).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests

from stations.errors import NotFound, quote_value
from stations.model import Station
from stations.validate import has_controls
from stations.worker_reports import NOTE_MAX_CHARS, REPORT_KINDS

from .. import db, i18n, templating
from ..errors import json_response
from ..requests import Answer, ParameterError, api, error, pages, schema
from ..requests.answers import ERROR, RETRY_AFTER
from ..requests.queries import PageQuery
from ..state import state
from . import limits, public
from .forms import ReportBody, ReportForm, ReportPageQuery
from .records import file_report

log = logging.getLogger(__name__)

bp = Blueprint("reports", __name__)

FILED = schema("WorkerReportFiled", {
    "type": "object",
    "description": "The report was filed; staff will look at it. Reports are shown to staff only.",
    "required": ["station_id", "kind", "status", "created_at"],
    "additionalProperties": False,
    "properties": {
        "station_id": {"type": "string"},
        "kind": {"type": "string", "enum": list(REPORT_KINDS)},
        "status": {"const": "open"},
        "created_at": {"type": "string", "format": "date-time", "description": "when it was filed (UTC)"},
        "with_position": {"type": "boolean", "description": "whether a position came with it"},
    },
})
LIMITED = Answer("Too many reports from this client (`REPORT_RATE_LIMIT`, default 5 an hour) or about this station "
                 "(`REPORT_STATION_RATE_LIMIT`, default 30 an hour); `Retry-After` says when to try again.",
                 ERROR, headers=RETRY_AFTER)


@bp.record_once
def _template_functions(setup_state) -> None:
    """``reported_on(id)`` and ``reported_dates()`` in every template: the public badge (station page, list, map)."""
    setup_state.app.jinja_env.globals.update(reported_on=public.reported_on, reported_dates=public.reported_dates)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return templating.page_globals()


@bp.after_request
def _finish(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # the form carries this browser's CSRF token
    return templating.finish_html(response)


def _station(station_id: str) -> Station:
    try:
        return state().store.get(station_id)
    except NotFound:
        raise NotFound(f"no station with id {quote_value(station_id)}") from None


def _file(station: Station, kind: str, note: str | None, position: tuple[float, float] | None):
    """Check the limits, file the report, count it; :class:`~web.reports.limits.ReportsLimited` beyond them."""
    limits.check(station.id)
    session = db.session()
    report = file_report(session, station.id, kind, note, position)
    session.commit()
    limits.count(station.id)
    public.forget()
    log.info("report %s about %s filed%s", kind, station.id, " with a position" if position else "")
    return report


# ---- the page -------------------------------------------------------------------------------------

def _page(station: Station, status: int = 200, *, sent: bool = False, values: dict[str, Any] | None = None,
          problems: dict[str, str] | None = None, limited: int | None = None) -> Response:
    html = render_template("report.html", s=station, kinds=REPORT_KINDS, sent=sent, values=values or {},
                           problems=problems or {}, limited_minutes=limited, note_max=NOTE_MAX_CHARS)
    return Response(html, status=status, mimetype="text/html")


def _problem_key(problem) -> str:
    """The catalogue's words for a bad form field: a note's control character is said as such."""
    if problem.field == "note" and isinstance(problem.value, str) and has_controls(problem.value, multi_line=True):
        return "problem.invalid.note_control"
    return f"problem.invalid.{problem.field}"


@bp.get("/stations/<station_id>/report")
@pages.route(query=ReportPageQuery)
def report_page(station_id: str, query: ReportPageQuery) -> Response:
    """The report form (no account needed), or the thanks after filing (``?sent=1``)."""
    return _page(_station(station_id), sent=query.sent)


@bp.post("/stations/<station_id>/report")
@pages.route(query=PageQuery)
def report_submit(station_id: str, query: PageQuery) -> Response:
    """File the form's report: on to the thanks; the form again, naming each bad field (400), or saying
    when to try again (429)."""
    station = _station(station_id)
    values = {key: request.form.get(key, "") for key in ("kind", "note", "lon", "lat")}
    try:
        form = ReportForm.from_args(request.form, where="form")
    except ParameterError as exc:
        lang = i18n.get_lang()
        problems = {p.field: i18n.translate(_problem_key(p), lang, n=NOTE_MAX_CHARS)
                    if p.field in ("kind", "note", "lon", "lat") else p.allowed for p in exc.problems}
        return _page(station, 400, values=values, problems=problems)
    try:
        _file(station, form.kind, form.note, form.position)
    except limits.ReportsLimited as exc:
        response = _page(station, 429, values=values, limited=max(1, -(-exc.retry_after_s // 60)))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    return redirect(url_for("reports.report_page", station_id=station.id, sent=1, lang=query.lang), 303)


# ---- the API --------------------------------------------------------------------------------------

@bp.post("/api/stations/<station_id>/reports")
@api.route(json=ReportBody, operation_id="createReport", tags=("reports",),
           path_parameters={"station_id": "The station's id, e.g. JN-RS-0001."},
           path_examples={"station_id": "JN-RS-0001"},
           answers={201: Answer("Filed: staff will look at it.", FILED),
                    404: error("No station with that id."),
                    413: error("The body is over 64 KiB."),
                    415: error("The body's `Content-Type` is not `application/json`."),
                    429: LIMITED})
def create_report(station_id: str, body: ReportBody) -> Response:
    """Report a problem with a station

    What a worker found: the station `closed`, `no_water`, `moved`, `dirty` or `other`, with an
    optional note (at most 500 characters) and, optionally, where the worker stood (`lon` and `lat`,
    WGS-84 degrees, both or neither). No account and no CSRF token: the route acts for nobody, and
    a report holds nothing about who sent it (no address, no device). Reports are shown to staff
    only; the public sees "reported on <date>" on a station with open reports. Limited per client
    and per station (429 with `Retry-After`).
    """
    station = _station(station_id)
    try:
        report = _file(station, body.kind, body.note, body.position)
    except limits.ReportsLimited as exc:
        raise TooManyRequests(str(exc), retry_after=exc.retry_after_s) from None
    payload = {"station_id": station.id, "kind": report.kind, "status": "open",
               "created_at": report.created_at.isoformat().replace("+00:00", "Z"),
               "with_position": report.lon is not None}
    response = json_response(payload, 201)
    response.headers["Cache-Control"] = "no-store"
    return response
