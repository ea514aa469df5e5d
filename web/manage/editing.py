"""The station form: ``/manage/stations/new`` and ``/manage/stations/<id>``; confirm still true; delete.

Every write goes through ``web.permissions`` (the county before and after, the version the form
started from). A form that does not make a valid record is shown again with every problem next to
its field (422) and nothing saved; one saved over a newer version is shown again with both versions
side by side (409, :mod:`web.manage.conflicts`), the user's typing kept; a move across the account's
county line is refused (403) next to the position. "Look up this address" (``action=lookup``) asks
the server's geocoder (``web.geocoding``) and fills the position without saving.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from stations.errors import InvalidRecord, NotFound, Problem, StaleVersion
from stations.geocoding import GeocodingFailed
from stations.hours import SHANGHAI
from stations.model import Station
from stations.store import record_version

from .. import ago, i18n, maps, permissions
from ..auth import current_account
from ..geocoding import geocoding_service
from ..permissions import NotAllowed, can_edit, editable_counties
from ..requests import ParameterError, pages
from ..requests.queries import PageQuery
from ..settings import SettingError
from ..state import state
from ..templating import page_json
from . import bp, conflicts, forms
from .problems import problem_texts
from .queries import ConfirmQuery, EditQuery, StationForm, VersionForm

log = logging.getLogger(__name__)

#: the strings the form's script shows (web/static/js/manage-edit.js)
JS_KEYS = ("manage.county_live", "manage.county_none", "manage.county_checking", "manage.hours.error_at",
           "manage.hours.error_end", "open_now", "closed_now", "open_24h", "manage.position.wgs84",
           "manage.position.moved")


def get_station(station_id: str) -> Station:
    try:
        return state().store.get(station_id)
    except NotFound:
        abort(404, f"no station with id {station_id!r}")


def county_label(code: str | None) -> dict[str, str] | None:
    counties = state().counties
    return {"code": code, "name": counties.name(code)} if code and code in counties else None


def map_config(station: Station | None, account, editable: bool) -> dict[str, Any]:
    """What the form's map script needs: tiles and drawing CRS as the public map has them, the
    county outlines, where to look first, the lookups' URLs and its strings."""
    config = current_app.config
    st = state()
    crs = maps.display_crs(config)
    codes = sorted(editable_counties(account, st.counties)) or list(st.counties.codes)
    boxes = [st.counties.geometry(code).bounds for code in codes if code in st.counties]
    bounds = None
    if boxes:
        minlon, minlat = min(b[0] for b in boxes), min(b[1] for b in boxes)
        maxlon, maxlat = max(b[2] for b in boxes), max(b[3] for b in boxes)
        (w, e), (s, n) = zip(*(maps.to_display(lon, lat, crs) for lon, lat in ((minlon, minlat), (maxlon, maxlat))))
        bounds = [[s, w], [n, e]]  # Leaflet's (lat, lon) order
    lang = i18n.get_lang()
    return {
        "crs": crs, "tiles": maps.tile_layers(config), "bounds": bounds, "editable": editable,
        "outlines": st.cached(("manage.outlines", crs), lambda: maps.county_outlines(st.counties, crs))
        if len(st.counties) else None,
        "locateUrl": url_for("editing_api.locate_county"), "hoursUrl": url_for("editing_api.hours_preview"),
        "lang": lang, "strings": {key: i18n.translate(key, lang) for key in JS_KEYS},
    }


def render_form(station: Station | None, values: dict[str, Any], *, status: int = 200,
                problems: dict[str, list[Any]] | None = None, conflict: conflicts.Conflict | None = None,
                notice: str | None = None, version: str | None = None, highlight=()) -> Response:
    account = current_account()
    editable = can_edit(account, station) if station is not None else account.role in ("admin", "editor")
    lang = i18n.get_lang()
    county = county_label(station.county_code) if station is not None else None
    html = render_template(
        "manage/edit.html", station=station, values=values, editable=editable, county=county,
        problems=problem_texts(problems or {}, values, lang), conflict=conflict, notice=notice,
        highlight=set(highlight),
        version=version if version is not None else (record_version(station) if station is not None else ""),
        may_delete=station is not None and account.is_admin,
        verified=ago.verified_text(station.last_verified_on, lang) if station is not None else "",
        map_data=page_json(map_config(station, account, editable)),
        hours=forms.hours_preview(values.get("opening_hours") or "", lang), tz=SHANGHAI)
    return Response(html, status=status, mimetype="text/html")


# ---- look up this address ------------------------------------------------------------------------

def _geocoder():
    app = current_app._get_current_object()
    key = "yizhan.manage.geocoder"
    if key not in app.extensions:
        app.extensions[key] = geocoding_service(app.config)
    return app.extensions[key]


def look_up(station: Station | None, form: StationForm) -> Response:
    """Fill the position from the address (the server's geocoder); nothing is saved."""
    values = forms.submitted_values(form)
    problems: dict[str, list[Any]] = {}
    notice = None
    if not form.address:
        problems["address"] = ["lookup_no_address"]
    else:
        try:
            service = _geocoder()
            result = service.geocode(form.address, city=current_app.config.get("CITY_NAME") or None) \
                if service is not None else None
            if service is None:
                problems["address"] = ["lookup_off"]
            elif result is None:
                problems["address"] = ["lookup_not_found"]
            elif result.precision != "exact":
                problems["address"] = ["lookup_imprecise"]
            else:
                values.update(lon=forms.coord_text(result.lon), lat=forms.coord_text(result.lat), crs="wgs84")
                notice = i18n.translate("manage.lookup.found", i18n.get_lang(), address=result.address or form.address)
        except (GeocodingFailed, SettingError) as exc:
            log.warning("address lookup failed: %s", exc)
            problems["address"] = ["lookup_failed"]
    return render_form(station, values, problems=problems, notice=notice, version=form.version or None)


# ---- views -----------------------------------------------------------------------------------------

@bp.get("/stations/new")
@login_required
@pages.route(query=PageQuery)
def new_station(query: PageQuery) -> Response:
    """An empty station form (editors and admins)."""
    permissions.require_editor(current_account())
    return render_form(None, forms.form_values(None))


@bp.post("/stations/new")
@login_required
@pages.route(query=PageQuery, form=StationForm)
def add_station(query: PageQuery, form: StationForm) -> Response:
    """Add the station the form describes, if valid and in one of the account's counties."""
    account = permissions.require_editor(current_account())
    if form.action == "lookup":
        return look_up(None, form)
    draft = forms.read_form(form)
    values = forms.submitted_values(form)
    if draft.problems:
        problems = forms.problems_by_field(forms.property_problems(draft), dict(draft.problems))
        return render_form(None, values, status=422, problems=problems)
    try:
        station = permissions.add_station(account, forms.new_feature(draft), note=form.note or None)
    except InvalidRecord as exc:
        return render_form(None, values, status=422, problems=forms.problems_by_field(exc.problems))
    except NotAllowed:
        return render_form(None, values, status=403, problems={"position": ["not_yours"]})
    flash(i18n.translate("manage.saved.added", i18n.get_lang(), id=station.id), "success")
    return redirect(url_for("manage.edit_station", station_id=station.id, lang=query.lang), 303)


@bp.get("/stations/<station_id>")
@login_required
@pages.route(query=EditQuery)
def edit_station(station_id: str, query: EditQuery) -> Response:
    """The station's form (read-only for an account that may not change it), with a suggested change
    typed in when the query carries one (an accepted workers' report)."""
    station = get_station(station_id)
    values = forms.form_values(station)
    suggested = [key for key in ("status", "status_reason", "reopens_on") if getattr(query, key)]
    for key in suggested:
        values[key] = getattr(query, key)
    if "amenity" in request.args:  # `amenity=` alone: none remain
        values["amenity"] = list(query.amenity)
        suggested.append("amenities")
    notice = None
    if query.from_report is not None:
        notice = i18n.translate("manage.suggested", i18n.get_lang(), report=query.from_report)
    return render_form(station, values, notice=notice, highlight=[*suggested, *query.check])


@bp.post("/stations/<station_id>")
@login_required
@pages.route(query=PageQuery, form=StationForm)
def save_station(station_id: str, query: PageQuery, form: StationForm) -> Response:
    """Save the form over the version it started from: 303 to the form; 422 with every problem; 409 with
    both versions when someone saved meanwhile; 403 outside the account's counties."""
    account = permissions.require_editor(current_account())
    current = get_station(station_id)
    if not can_edit(account, current):
        permissions.require_county(account, current.county_code)  # NotAllowed, 403
    if form.action == "lookup":
        return look_up(current, form)
    if not form.version:
        raise ParameterError([_version_missing()])
    draft = forms.read_form(form)
    values = forms.submitted_values(form)
    if draft.problems:
        problems = forms.problems_by_field(forms.property_problems(draft, current.id), dict(draft.problems))
        return render_form(current, values, status=422, problems=problems, version=form.version)
    changes = forms.changes_from(draft, current)
    try:
        saved = permissions.edit_station(account, station_id, changes, expected_version=form.version,
                                         note=form.note or None)
    except StaleVersion as exc:
        conflict = conflicts.compare(state().store, exc.current or current, form.version, draft, values)
        return render_form(conflict.current, conflict.values, status=409, conflict=conflict,
                           version=record_version(conflict.current))
    except InvalidRecord as exc:
        return render_form(current, values, status=422, problems=forms.problems_by_field(exc.problems),
                           version=form.version)
    except NotAllowed:  # the county before is the account's (checked above): this is a move across the line
        return render_form(current, values, status=403, problems={"position": ["not_yours"]}, version=form.version)
    lang = i18n.get_lang()
    key = "manage.saved.changed" if record_version(saved) != form.version else "manage.saved.unchanged"
    flash(i18n.translate(key, lang, id=saved.id), "success")
    return redirect(url_for("manage.edit_station", station_id=saved.id, lang=query.lang), 303)


def _version_missing() -> Problem:
    return Problem("form", "version", None, "the record version the form started from (a hidden field of the form)")


@bp.post("/stations/<station_id>/confirm")
@login_required
@pages.route(query=ConfirmQuery, form=VersionForm)
def confirm_station(station_id: str, query: ConfirmQuery, form: VersionForm) -> Response:
    """Confirm still true: ``last_verified_on`` becomes today (Asia/Shanghai), one click."""
    account = current_account()
    lang = i18n.get_lang()
    today = ago.today_shanghai().isoformat()
    back = url_for("manage.stations", lang=query.lang) if query.next == "list" else \
        url_for("manage.edit_station", station_id=station_id, lang=query.lang)
    try:
        permissions.edit_station(account, station_id, {"last_verified_on": today},
                                 expected_version=form.version or None, note=form.note or None)
    except StaleVersion:
        flash(i18n.translate("manage.confirm.stale", lang, id=station_id), "error")
        return redirect(url_for("manage.edit_station", station_id=station_id, lang=query.lang), 303)
    except InvalidRecord as exc:  # a stored record that no longer passes (e.g. written before a new rule)
        flash(i18n.translate("manage.confirm.invalid", lang, id=station_id) + " " + exc.summary(), "error")
        return redirect(url_for("manage.edit_station", station_id=station_id, lang=query.lang), 303)
    flash(i18n.translate("manage.confirm.done", lang, id=station_id, date=today), "success")
    return redirect(back, 303)


@bp.post("/stations/<station_id>/delete")
@login_required
@pages.route(query=PageQuery, form=VersionForm)
def delete_station(station_id: str, query: PageQuery, form: VersionForm) -> Response:
    """Delete a station (admins); its journal entries stay, and a revert brings it back."""
    account = permissions.require_admin(current_account())
    lang = i18n.get_lang()
    try:
        permissions.delete_station(account, station_id, expected_version=form.version or None,
                                   note=form.note or None)
    except StaleVersion:
        flash(i18n.translate("manage.delete.stale", lang, id=station_id), "error")
        return redirect(url_for("manage.edit_station", station_id=station_id, lang=query.lang), 303)
    flash(i18n.translate("manage.delete.done", lang, id=station_id), "success")
    return redirect(url_for("manage.station_history", station_id=station_id, lang=query.lang), 303)

