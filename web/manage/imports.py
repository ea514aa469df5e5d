"""The import from the site: ``/manage/import`` (upload, dry run, report, confirm, revert).

The same import as ``yizhan import`` (``stations.importing``): a staff member uploads a station list
with the import's options; the page shows its dry run (added, changed with their fields, unchanged,
removed, every problem row with its row number, field and reason, the points on a small map), the
report as XLSX or CSV, and a confirm button. The confirmation plans again from the kept upload and
writes only if that plan is the one shown (its ``digest``: the store unchanged, the same writes);
otherwise the page says so and shows the new dry run. The write is one ``import`` journal entry, whose
page reverts it as a whole.

Who: an admin imports for every county; an editor only rows of their counties
(``ImportOptions.allowed_counties``: rows elsewhere are rejected, ``replace`` removes only there); a
viewer sees the page and uploads nothing. Uploads are kept by :mod:`web.manage.uploads` (instance
folder, random names, ``IMPORT_MAX_BYTES``, ``IMPORT_KEEP_MIN``). The template workbook is public
(``/manage/import/template.xlsx``): it holds only the columns, the vocabulary and the county names.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import login_required
from pydantic import Field

from stations.coords import CRS_NAMES
from stations.errors import Conflict, YizhanError
from stations.importing import (ImportFileError, ImportOptions, ImportPlan, ImportRefused, RowProblem, apply_import,
                                plan_import, read_table, report_bytes, template)
from stations.importing.plan import MODES
from stations.importing.readers import FORMATS
from stations.importing.report import result_word

from .. import i18n, maps, templating
from ..auth import current_account
from ..geocoding import geocoding_service
from ..permissions import can_revert_import, editable_counties, require_editor, revert_change
from ..requests import fields, pages
from ..requests.layer import Access, QueryModel
from ..requests.queries import Lang, PageQuery
from ..settings import SettingError
from ..state import state
from . import ROW_ID, bp
from .uploads import Upload, Uploads

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: what an upload may be: every format the import reads, but a lone ``.shp`` (it needs its side files: zip them)
UPLOAD_EXTENSIONS = tuple(ext for ext in FORMATS if ext != ".shp")
#: a CSV's encodings offered (empty: detected)
ENCODINGS = ("utf-8", "gbk", "gb18030", "utf-16", "big5")
#: room for the form's other fields and the multipart framing above IMPORT_MAX_BYTES (MAX_CONTENT_LENGTH)
FORM_MARGIN_BYTES = 64 * 1024
#: at most this many problem rows and stations of each action are listed on the page (the report has all)
SHOWN_MAX = 500
#: at most this many points on the page's map
MAP_POINTS_MAX = 5000
MAP_ACTIONS = ("add", "change", "unchanged", "remove")
RECENT_IMPORTS = 10
RECENT_SCAN = 500  # journal entries looked through for the recent imports

EDITOR = Access("editor", lambda: require_editor(current_account()))


@bp.record_once
def _limit_bodies(setup) -> None:
    """Flask's ``MAX_CONTENT_LENGTH`` (unless set): no request body above an upload and its form (413)."""
    config = setup.app.config
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = config["IMPORT_MAX_BYTES"] + FORM_MARGIN_BYTES


# ---- the forms -------------------------------------------------------------------------------------

Sheet = fields.text(100)
Encoding = fields.choice(ENCODINGS)


class ImportOptionsForm(QueryModel):
    """The import's options, as the upload form and the dry-run page's options form send them."""

    crs: fields.choice(CRS_NAMES) = Field("wgs84", description="the file's coordinate system")
    sheet: Sheet = Field("", description="the XLSX sheet (empty: the first with a header)")
    mode: fields.choice(MODES) = Field("merge", description="merge: keep stations the file does not name; "
                                                            "replace: remove them")
    skip_bad: fields.yes_no() = Field(False, description="import the good rows even if some are rejected")
    fix_swapped: fields.yes_no() = Field(False, description="exchange latitude and longitude where only that "
                                                            "puts a point in a county")
    encoding: Encoding = Field(None, description="a CSV's encoding (empty: detected)")
    lang: Lang = Field(None, description="the page's language")

    def options(self) -> dict[str, Any]:
        return {"crs": self.crs, "sheet": self.sheet or None, "mode": self.mode, "skip_bad": self.skip_bad,
                "fix_swapped": self.fix_swapped, "encoding": self.encoding}


class UploadForm(ImportOptionsForm):
    """``POST /manage/import``: the file and its options."""

    file: fields.upload(UPLOAD_EXTENSIONS, "a station list") = Field(description="the station list")


class ConfirmForm(QueryModel):
    """``POST /manage/import/<token>/confirm``: the digest of the dry run shown, and skip-bad."""

    digest: fields.text(64) = Field("", description="the digest of the dry run the page showed")
    skip_bad: fields.yes_no() = Field(False, description="import the good rows, skip the rejected ones")
    lang: Lang = Field(None, description="the page's language")


class ReportQuery(PageQuery):
    """``/manage/import/<token>/report.<fmt>``: the report's language (``lang``)."""


class RevertForm(QueryModel):
    """``POST /manage/import/entries/<id>/revert``."""

    lang: Lang = Field(None, description="the page's language")


# ---- helpers -----------------------------------------------------------------------------------------

def uploads() -> Uploads:
    return Uploads.of(current_app.config, current_app.instance_path)


def _lang_args() -> dict[str, str]:
    lang = i18n.get_lang()
    return {"lang": lang} if lang != current_app.config.get("DEFAULT_LANG", "zh") else {}


def import_options(upload: Upload, account) -> ImportOptions:
    """The upload's options as ``ImportOptions``, limited to the account's counties (admins: all)."""
    chosen = upload.options
    counties = state().counties
    allowed = None if account.is_admin else tuple(sorted(editable_counties(account, counties)))
    return ImportOptions(crs=chosen.get("crs") or "wgs84", mode=chosen.get("mode") or "merge",
                         skip_bad=bool(chosen.get("skip_bad")), fix_swapped=bool(chosen.get("fix_swapped")),
                         region=current_app.config.get("CITY_NAME") or None, allowed_counties=allowed)


def _geocoding():
    try:
        return geocoding_service(current_app.config)
    except SettingError as exc:  # a provider named without its key: plan without, the rows say so
        log.warning("import without a geocoder: %s", exc)
        return None


def plan_upload(upload: Upload, account) -> tuple[ImportPlan | None, list[RowProblem]]:
    """(the dry run, None if the file cannot be read; the file's problems then)."""
    chosen = upload.options
    try:
        table = read_table(upload.path, filename=upload.filename, sheet=chosen.get("sheet") or None,
                           encoding=chosen.get("encoding") or None)
    except ImportFileError as exc:
        return None, exc.row_problems
    st = state()
    return plan_import(table, st.store, st.counties, import_options(upload, account), geocoding=_geocoding()), []


@dataclass(frozen=True)
class Listed:
    """A station of the dry run as the page lists it."""

    id: str
    name: str
    row: int | None
    county: str
    fields: tuple[str, ...]


def _listed(plan: ImportPlan, action: str) -> list[Listed]:
    counties = state().counties
    out = []
    for s in plan.stations:
        if s.action != action:
            continue
        shown = s.after or s.before
        code = shown.county_code
        out.append(Listed(s.station_id, shown.name, s.row, counties.name(code) if code in counties else "",
                          tuple(s.fields)))
    return out


def map_data(plan: ImportPlan, lang: str) -> dict[str, Any]:
    """The page map's JSON: the points added, changed, unchanged and removed (in the basemap's system),
    the tile layers, the county bounds and the words."""
    config = current_app.config
    crs = maps.display_crs(config)
    points = []
    for s in plan.stations:
        if s.action not in MAP_ACTIONS or len(points) >= MAP_POINTS_MAX:
            continue
        shown = s.after or s.before
        lon, lat = maps.to_display(shown.lon, shown.lat, crs)
        points.append({"id": s.station_id, "name": shown.name, "action": s.action, "row": s.row,
                       "lon": round(float(lon), 6), "lat": round(float(lat), 6)})
    minlon, minlat, maxlon, maxlat = state().counties.bounds
    west, south = maps.to_display(minlon, minlat, crs)
    east, north = maps.to_display(maxlon, maxlat, crs)
    return {"points": points, "tiles": maps.tile_layers(config),
            "bounds": [[float(south), float(west)], [float(north), float(east)]],  # Leaflet's (lat, lon) order
            "labels": {a: result_word(a, lang) for a in MAP_ACTIONS},
            "row": i18n.translate("import.page.map_row", lang, row="{row}")}


def render_report(upload: Upload, account, plan: ImportPlan | None, file_problems: list[RowProblem], *,
                  notice: str | None = None, status: int = 200) -> Response:
    """The dry-run page of ``upload``: the plan (or why the file cannot be read), the map, the forms."""
    lang = i18n.get_lang()
    context: dict[str, Any] = {"upload": upload, "options": upload.options, "notice": notice, "plan": plan,
                               "crs_names": CRS_NAMES, "modes": MODES, "encodings": ENCODINGS,
                               "accept": ",".join(UPLOAD_EXTENSIONS), "shown_max": SHOWN_MAX,
                               "file_problems": [p.to_dict(lang) for p in file_problems]}
    if plan is not None:
        problem_rows = [(r, [p.to_dict(lang) for p in r.problems]) for r in plan.rows if r.problems]
        context.update(
            counts=plan.counts(), digest=plan.digest, can_apply=plan.can_apply, has_changes=plan.has_changes,
            file_problems=[p.to_dict(lang) for p in plan.file_problems], problem_rows=problem_rows[:SHOWN_MAX],
            problem_rows_total=len(problem_rows), rejected=len(plan.rejected),
            listed={action: _listed(plan, action) for action in ("add", "change", "unchanged", "remove")},
            result_word=lambda action: result_word(action, lang), table=plan.table,
            restricted=plan.options.allowed_counties is not None,
            allowed_list=county_list(plan.options.allowed_counties or (), lang),
            map_json=templating.page_json(map_data(plan, lang)))
    html = render_template("manage/import_report.html", **context)
    return Response(html, status=status, mimetype="text/html")


def county_list(codes, lang: str) -> str:
    """``任城区、邹城市`` / ``任城区, 邹城市``: the names of ``codes`` (the site's counties)."""
    counties = state().counties
    return ("、" if lang == "zh" else ", ").join(counties.name(c) for c in sorted(codes) if c in counties)


def when_text(entry) -> str:
    """A journal entry's time in Asia/Shanghai, to the minute: ``2026-11-26 09:30``."""
    return entry.when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def attachment(name: str, fallback: str) -> str:
    """``Content-Disposition`` of a download named ``name`` (any text: RFC 6266's ``filename*``), with an
    ASCII ``fallback`` for old clients."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def recent_imports(limit: int = RECENT_IMPORTS) -> list:
    """The newest ``import`` journal entries (among the last :data:`RECENT_SCAN` entries)."""
    entries = [e for e in state().store.history(limit=RECENT_SCAN) if e.action == "import"]
    return entries[:limit]


def station_history_url(station_id: str) -> str | None:
    """The staff history page of a station, if the site has one (``/manage/stations/<id>/history``)."""
    for rule in current_app.url_map.iter_rules():
        if (rule.rule.startswith("/manage/stations/<") and rule.rule.endswith(">/history")
                and "GET" in (rule.methods or ()) and len(rule.arguments) == 1):
            (name,) = rule.arguments
            return url_for(rule.endpoint, **{name: station_id}, **_lang_args())
    return None


# ---- pages -------------------------------------------------------------------------------------------

@bp.get("/import")
@login_required
@pages.route(query=PageQuery)
def import_form(query: PageQuery) -> Response:
    """The upload form (editors and admins), the template link, the recent imports."""
    account = current_account()
    uploads().sweep()
    counties = state().counties
    may_import = account.role in ("admin", "editor")
    notice = request.args.get("notice")
    html = render_template("manage/import.html", may_import=may_import, all_counties=account.is_admin,
                           county_list=county_list(editable_counties(account, counties), i18n.get_lang()),
                           when=when_text, crs_names=CRS_NAMES, modes=MODES, encodings=ENCODINGS,
                           accept=",".join(UPLOAD_EXTENSIONS), recent=recent_imports(),
                           max_mb=round(current_app.config["IMPORT_MAX_BYTES"] / 1024 / 1024, 1),
                           notice=notice if notice in ("nothing_changed", "dropped") else None)
    return Response(html, mimetype="text/html")


@bp.post("/import")
@login_required
@pages.route(form=UploadForm, access=EDITOR)
def import_upload(form: UploadForm) -> Response:
    """Keep the uploaded list (at most ``IMPORT_MAX_BYTES``) and show its dry run."""
    account = current_account()
    name = form.file.filename.strip()
    suffix = next(ext for ext in UPLOAD_EXTENSIONS if name.lower().endswith(ext))
    upload = uploads().save(form.file.stream, name, suffix, account.id, form.options())
    return redirect(url_for("manage.import_report", token=upload.token, **_lang_args()), 303)


@bp.get("/import/<token>")
@login_required
@pages.route(query=PageQuery)
def import_report(query: PageQuery, token: str) -> Response:
    """The dry run of a kept upload: counts, problems, stations, map, report downloads, confirm."""
    account = current_account()
    upload = uploads().get(token, account.id)
    plan, problems = plan_upload(upload, account)
    return render_report(upload, account, plan, problems)


@bp.post("/import/<token>")
@login_required
@pages.route(form=ImportOptionsForm, access=EDITOR)
def import_options_change(form: ImportOptionsForm, token: str) -> Response:
    """Other options for the same upload (sheet, coordinate system, mode...): its dry run again."""
    account = current_account()
    store = uploads()
    store.update(store.get(token, account.id), form.options())
    return redirect(url_for("manage.import_report", token=token, **_lang_args()), 303)


@bp.get("/import/<token>/report.<any(xlsx, csv):fmt>")
@login_required
@pages.route(query=ReportQuery)
def import_report_file(query: ReportQuery, token: str, fmt: str) -> Response:
    """The dry run's report: the file's rows with their result, id and problems (XLSX or CSV)."""
    account = current_account()
    upload = uploads().get(token, account.id)
    plan, problems = plan_upload(upload, account)
    if plan is None:
        raise ImportFileError(problems, upload.filename)
    lang = i18n.get_lang()
    stem = upload.filename.rsplit(".", 1)[0] or "import"
    name = f"{stem}-{i18n.translate('import.page.report_file', lang)}.{fmt}"
    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
             else "text/csv; charset=utf-8")
    response = Response(report_bytes(plan, fmt, lang), mimetype=media)
    response.headers["Content-Disposition"] = attachment(name, f"import-report.{fmt}")
    return response


@bp.post("/import/<token>/confirm")
@login_required
@pages.route(form=ConfirmForm, access=EDITOR)
def import_confirm(form: ConfirmForm, token: str) -> Response:
    """Write the dry run shown (its digest), as one journal entry; a changed store shows the new dry run."""
    account = current_account()
    kept = uploads()
    upload = kept.get(token, account.id)
    if form.skip_bad and not upload.options.get("skip_bad"):
        upload = kept.update(upload, {**upload.options, "skip_bad": True})
    plan, problems = plan_upload(upload, account)
    lang = i18n.get_lang()
    if plan is None:
        return render_report(upload, account, None, problems, status=422)
    try:
        result = apply_import(plan, state().store, account.name, expected_digest=form.digest or "-")
    except ImportRefused:
        return render_report(upload, account, plan, [], status=422,
                             notice=i18n.translate("import.page.refused", lang, n=len(plan.rejected)))
    except Conflict:  # the store (or the plan) changed since the dry run shown: StaleVersion included
        plan, problems = plan_upload(upload, account)
        return render_report(upload, account, plan, problems, status=409,
                             notice=i18n.translate("import.page.stale", lang))
    kept.delete(token)
    log.info("import of %s by %s: journal %s", upload.filename, account.name, result.entry_ids)
    if not result.entry_ids:
        return redirect(url_for("manage.import_form", notice="nothing_changed", **_lang_args()), 303)
    return redirect(url_for("manage.import_entry", entry_id=result.entry_ids[0], **_lang_args()), 303)


@bp.post("/import/<token>/drop")
@login_required
@pages.route(form=RevertForm, access=EDITOR)
def import_drop(form: RevertForm, token: str) -> Response:
    """Forget an upload without importing it."""
    account = current_account()
    kept = uploads()
    kept.get(token, account.id)  # NotFound for another account's
    kept.delete(token)
    return redirect(url_for("manage.import_form", notice="dropped", **_lang_args()), 303)


# ---- an import done: its journal entry and the revert ------------------------------------------------

class NotAnImport(YizhanError):
    """A journal entry that is not an import (HTTP 404 on the import pages)."""

    http_status = 404

    def __init__(self, entry_id: int):
        super().__init__(f"journal entry {entry_id} is not an import")


@dataclass(frozen=True)
class Touched:
    id: str
    name: str
    action: str  # add, change, remove
    exists: bool
    history_url: str | None


def _entry_page(entry_id: int, *, error: str | None = None, status: int = 200) -> Response:
    account = current_account()
    store = state().store
    entry = store.journal_entry(entry_id)  # NotFound (404)
    if entry.action != "import":
        raise NotAnImport(entry_id)
    before = {f["properties"]["id"]: f for f in (entry.before or {}).get("features", ())}
    after = {f["properties"]["id"]: f for f in (entry.after or {}).get("features", ())}
    current = {s.id for s in store.all()} if entry.changed else set()
    touched = []
    for sid in entry.changed:
        feature = after.get(sid) or before.get(sid) or {"properties": {"name": sid}}
        action = "add" if sid not in before else "remove" if sid not in after else "change"
        touched.append(Touched(sid, feature["properties"].get("name") or sid, action, sid in current,
                               station_history_url(sid)))
    reverted_by = next((e for e in store.history(since=entry.when, limit=None) if e.reverts == entry.id), None)
    reverts = store.journal_entry(entry.reverts) if entry.reverts else None
    lang = i18n.get_lang()
    html = render_template("manage/import_entry.html", entry=entry, touched=touched, reverted_by=reverted_by,
                           reverts=reverts, error=error, when=when_text,
                           counts={a: sum(t.action == a for t in touched) for a in ("add", "change", "remove")},
                           may_revert=reverted_by is None and can_revert_import(account, entry, store),
                           result_word=lambda action: result_word(action, lang))
    return Response(html, status=status, mimetype="text/html")


@bp.get(f"/import/entries/<{ROW_ID}:entry_id>")
@login_required
@pages.route(query=PageQuery)
def import_entry(query: PageQuery, entry_id: int) -> Response:
    """An import as written: who, when, the stations it added, changed and removed; revert it as a whole."""
    return _entry_page(entry_id)


@bp.post(f"/import/entries/<{ROW_ID}:entry_id>/revert")
@login_required
@pages.route(form=RevertForm, access=EDITOR)
def import_revert(form: RevertForm, entry_id: int) -> Response:
    """Undo an import as a whole (admins, or an editor of every county it touched): a new journal entry."""
    account = current_account()
    entry = state().store.journal_entry(entry_id)
    if entry.action != "import":
        raise NotAnImport(entry_id)
    try:
        revert_change(account, entry_id, note=f"revert import {entry_id}")
    except Conflict as exc:  # stations changed since the import: say which, change nothing
        return _entry_page(entry_id, error=str(exc), status=409)
    return redirect(url_for("manage.import_entry", entry_id=entry_id, **_lang_args()), 303)


# ---- the template (public) ------------------------------------------------------------------------------

@bp.get("/import/template.xlsx")
@pages.route(query=PageQuery)
def import_template(query: PageQuery) -> Response:
    """The workbook to fill in: the columns, an example row, a sheet of instructions (no sign-in needed)."""
    lang = i18n.get_lang()
    response = Response(template(state().counties, lang),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = attachment(
        f"{i18n.translate('import.page.template_file', lang)}.xlsx", "station-import-template.xlsx")
    return response


__all__ = ["UPLOAD_EXTENSIONS", "import_options", "plan_upload", "uploads"]
