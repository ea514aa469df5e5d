"""The staff pages under ``/manage`` (signed-in accounts only).

The landing page (who is signed in, their role and counties, the sign-out button) is here; each
section of the staff pages is a module of this package registering its views on :data:`bp`:
``stations`` (the station list), ``editing`` (the station form: new, edit, confirm still
true, delete), ``history`` (a station's journal and reverts); ``editing_api`` is the form's two JSON
lookups under ``/api`` (its own blueprint). What each account may do is ``web.permissions``'s to say (views
call its guarded writes). Every staff page extends ``templates/manage/base.html`` (the staff nav:
stations, reports, import, account), which gets ``current_account`` from :func:`_template_globals`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template
from flask_login import login_required

from .. import templating
from ..auth import current_account
from ..permissions import editable_counties, visible_counties
from ..requests import pages
from ..requests.queries import PageQuery
from ..state import state

bp = Blueprint("manage", __name__, url_prefix="/manage")

#: the URL converter of a database row's id (a report, a journal entry): a whole number a BIGINT holds, so
#: that a longer one is a 404 like any id that names nothing, not an overflow in the database driver
ROW_ID = "int(max=9223372036854775807)"


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {**templating.page_globals(), "current_account": current_account()}


@bp.after_request
def _finish(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a staff page is for the account that asked, never cached
    return templating.finish_html(response)


@bp.get("")
@login_required
@pages.route(query=PageQuery)
def home(query: PageQuery) -> Response:
    """The staff landing page: the account, its role and counties."""
    account = current_account()
    counties = state().counties
    shown = sorted(visible_counties(account, counties))
    editable = editable_counties(account, counties)
    rows = [{"code": code, "name": counties.name(code), "editable": code in editable} for code in shown]
    html = render_template("manage.html", account=account, counties=rows,
                           all_counties=account.is_admin or not account.counties)
    return Response(html, mimetype="text/html")


from . import editing, history, stations  # noqa: E402,F401  (register their views on bp)
from . import reports  # noqa: E402,F401  (/manage/reports: the workers' reports)
from . import imports  # noqa: E402,F401  (/manage/import: the station lists' import)
