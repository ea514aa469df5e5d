"""A station's history, ``/manage/stations/<id>/history``, and reverting one of its changes.

Every change from the store's journal (``store.history(id)``, newest first, the imports that touched
the station too): who, when (Asia/Shanghai), which fields, before → after, the note, what it
reverted. An admin, or an editor of the station's county (before, after and now:
``web.permissions.revert_change``), can revert a change: a POST with the CSRF token; the revert is a
change of its own in the journal. A revert the data no longer allows (a field changed again since,
an id taken) is refused with the store's reason, and nothing changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from stations.errors import Conflict, InvalidRecord, NotFound
from stations.hours import SHANGHAI
from stations.store import JournalEntry
from stations.store.records import changed_fields, field_value

from .. import i18n, permissions
from ..auth import current_account
from ..permissions import can_edit_county
from ..requests import pages
from ..requests.queries import PageQuery
from ..state import state
from . import ROW_ID, bp
from .conflicts import _feature_of
from .queries import HistoryQuery, RevertForm

PER_PAGE = 50
REVERTIBLE = ("add", "update", "delete")


@dataclass(frozen=True)
class FieldChange:
    field: str  # "geometry" for the position, else a property name
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryRow:
    entry: JournalEntry
    when: datetime  # Asia/Shanghai
    changes: list[FieldChange]
    may_revert: bool


def field_changes(entry: JournalEntry, station_id: str) -> list[FieldChange]:
    """The fields this change changed on the station, each with its value before and after."""
    if entry.action == "import":
        before = _feature_of(entry.before, station_id)
        after = _feature_of(entry.after, station_id)
        names = list(changed_fields(before, after))
    elif entry.action in ("add", "delete"):
        before, after = entry.before, entry.after
        names = list(changed_fields(before, after))
    else:
        before, after = entry.before, entry.after
        names = list(entry.changed)
    return [FieldChange(name, field_value(before, name) if before else None,
                        field_value(after, name) if after else None) for name in names]


def may_revert(account, entry: JournalEntry, current_county: str | None, exists: bool) -> bool:
    """What ``web.permissions.revert_change`` will allow (shown as a button; the POST checks again)."""
    if account is None or account.role == "viewer":
        return False
    if entry.action not in REVERTIBLE or entry.station_id is None:
        return account.is_admin and entry.action == "import"
    counties = [field_value(f, "county_code") for f in (entry.before, entry.after) if f is not None]
    if exists:
        counties.append(current_county)
    return all(can_edit_county(account, code) for code in counties)


@bp.get("/stations/<station_id>/history")
@login_required
@pages.route(query=HistoryQuery)
def station_history(station_id: str, query: HistoryQuery) -> Response:
    """Every change of a station, newest first, with revert buttons where the account may revert."""
    account = current_account()
    store = state().store
    try:
        station = store.get(station_id)
    except NotFound:
        station = None
    entries = store.history(station_id, before=query.before, limit=PER_PAGE + 1)
    if station is None and not entries and query.before is None:
        abort(404, f"no station with id {station_id!r} and no change of one")
    more = len(entries) > PER_PAGE
    entries = entries[:PER_PAGE]
    rows = [HistoryRow(e, e.when.astimezone(SHANGHAI), field_changes(e, station_id),
                       may_revert(account, e, station.county_code if station else None, station is not None))
            for e in entries]
    html = render_template("manage/history.html", station=station, station_id=station_id, rows=rows,
                           older=url_for("manage.station_history", station_id=station_id, before=entries[-1].id,
                                         lang=query.lang) if more else None)
    return Response(html, mimetype="text/html")


@bp.post(f"/stations/<station_id>/history/<{ROW_ID}:entry_id>/revert")
@login_required
@pages.route(query=PageQuery, form=RevertForm)
def revert_entry(station_id: str, entry_id: int, query: PageQuery, form: RevertForm) -> Response:
    """Undo one change (as a new change in the journal); a conflict is explained and changes nothing."""
    account = current_account()
    lang = i18n.get_lang()
    store = state().store
    try:
        entry = store.journal_entry(entry_id)
    except NotFound:
        abort(404, f"no change {entry_id}")
    if not entry.concerns(station_id):
        abort(404, f"change {entry_id} did not change station {station_id!r}")
    back = url_for("manage.station_history", station_id=station_id, lang=query.lang)
    try:
        permissions.revert_change(account, entry_id, note=form.note or None)
    except (Conflict, InvalidRecord) as exc:
        flash(i18n.translate("manage.revert.conflict", lang, entry=entry_id) + " " + str(exc), "error")
        return redirect(back, 303)
    flash(i18n.translate("manage.revert.done", lang, entry=entry_id), "success")
    return redirect(back, 303)
