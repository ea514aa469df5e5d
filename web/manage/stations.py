"""The staff's station list: ``/manage/stations`` (the stations an account may see, filtered, sorted).

An editor sees the stations of their counties, an admin and a viewer without counties every station.
Edit buttons only where ``web.permissions.can_edit`` says so (a viewer: none).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, render_template, request, url_for
from flask_login import login_required

from stations.model import Station
from stations.store import record_version

from .. import ago, i18n
from ..auth import current_account
from ..permissions import can_edit, visible_counties
from ..requests import pages
from ..state import state
from . import bp
from .queries import PER_PAGE, StationListQuery


@dataclass(frozen=True)
class ListRow:
    station: Station
    county: str
    editable: bool
    verified: str  # "3 天前核实"
    verified_days: int | None
    version: str  # the record version the list shows (confirm still true is pinned to it)


def visible_stations(account, query: StationListQuery) -> list[Station]:
    """The stations ``account`` sees on the list, filtered by ``query`` (county, kind, status, words)."""
    st = state()
    mine = visible_counties(account, st.counties)
    everything = account.is_admin or not account.counties
    if query.county:
        codes = [query.county] if query.county in mine else []
    else:
        codes = None if everything else sorted(mine)
    if codes == []:
        return []
    if codes is None and not query.kind and not query.status:
        stations = list(st.store.all())  # admins see the stations outside every county too
    else:
        stations = list(st.store.query(county=codes, kind=query.kind, status=query.status))
    if query.q:
        words = query.q.casefold().split()
        stations = [s for s in stations
                    if all(w in " ".join([s.id, s.name, s.address or "", s.host or ""]).casefold() for w in words)]
    return stations


def sort_stations(stations: list[Station], sort: str) -> list[Station]:
    """By id, name, or ``last_verified_on`` (oldest first: never verified first; newest first)."""
    if sort == "name":
        return sorted(stations, key=lambda s: (s.name, s.id))
    if sort == "verified_oldest":
        return sorted(stations, key=lambda s: (s.last_verified_on or "", s.id))
    if sort == "verified_newest":
        return sorted(stations, key=lambda s: (s.last_verified_on or "", s.id), reverse=True)
    return sorted(stations, key=lambda s: s.id)


@bp.get("/stations")
@login_required
@pages.route(query=StationListQuery)
def stations(query: StationListQuery) -> Response:
    """The stations the account may see, with search, filters and sorting; edit buttons where it may edit."""
    account = current_account()
    st = state()
    lang = i18n.get_lang()
    found = sort_stations(visible_stations(account, query), query.sort)
    pages_total = max(1, -(-len(found) // PER_PAGE))
    page = min(query.page, pages_total)
    shown = found[(page - 1) * PER_PAGE: page * PER_PAGE]
    today = ago.today_shanghai()
    rows = [ListRow(s, st.counties.name(s.county_code) if s.county_code in st.counties else "",
                    can_edit(account, s), ago.verified_text(s.last_verified_on, lang, today),
                    ago.days_since(s.last_verified_on, today), record_version(s)) for s in shown]
    mine = visible_counties(account, st.counties)
    county_options = [(code, st.counties.name(code)) for code in st.counties.codes if code in mine]
    args = request.args.to_dict()

    def page_link(n: int) -> str:
        return url_for("manage.stations", **{**args, "page": n})

    html = render_template("manage/stations.html", rows=rows, filters=query, total=len(found), page=page,
                           pages_total=pages_total, page_link=page_link, county_options=county_options,
                           may_add=account.role in ("admin", "editor"))
    return Response(html, mimetype="text/html")
