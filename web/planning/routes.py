"""The planners' routes: ``/planning`` (choropleth, table, chart), its downloads, and ``/api/coverage``.

Every route declares its parameters in the request layer (``web.planning.parameters``: a bad one is
a 400 naming it; the radius is rounded to ``RADIUS_STEP_M``) and its work class, :data:`ANALYSIS`:
it gets ``stations.coverage.analyse``'s answers from the cache or the background pool
(:func:`coverage_result`: one analysis per store version, water mask (``WATER_MASK_PATH``) and (radius,
include_planned, new_sites, county, kinds), within the class's time budget, else 503; rate limited by
``web.limits``). The suggested sites' addresses come from the site's reverse geocoder
(``web.planning.addresses``); every file says when, from which data and with which settings it was
made (``web.planning.info.report_info``). The figures shown,
downloaded and served as JSON are the same ``CoverageResult.to_dict()``; the table and the files come
from ``stations.report``, the drawings from ``web.planning.charts`` and ``web.planning.map``.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from stations import report
from stations.coverage import OPEN_STATUSES, PLANNED_STATUSES, RADIUS_RANGE_M
from stations.hours import now_shanghai
from stations.model import Station

from .. import assets, coverage_files, i18n, maps, templating
from ..background import Computing, CoverageJob, background, run_coverage
from ..caching import conditional, etag_of
from ..errors import json_response
from ..limits import current_limits, note_analysis_started
from ..requests import ANALYSIS, GEOJSON, Answer, api, current_endpoint, pages
from ..reports import public as reports_public
from ..state import state
from .charts import ShareClasses, bar_chart, fmt_number, fmt_radius, key_figures, svg_map, table_columns
from .addresses import addresses_digest, with_addresses
from .info import kinds_options, report_info, water_key
from .map import build_planning_map, detailed, planning_layers
from . import precompute
from .parameters import RADIUS_PRESETS_M, CoverageQuery, GapsQuery, PlanningQuery
from .schemas import COVERAGE, COVERAGE_GAPS

bp = Blueprint("planning", __name__)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "svg": "image/svg+xml",
}


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return templating.page_globals()


bp.after_request(templating.finish_html)
bp.record_once(lambda setup: precompute.register(setup.app))  # the default view computed ahead of the planners


# ---- cached results ------------------------------------------------------------------------------

def coverage_key(p: CoverageQuery) -> tuple:
    """The cache key of the analysis ``p`` asks for (with the store's version: one per version)."""
    return ("coverage", p.key, water_key())


def coverage_job(p: CoverageQuery) -> CoverageJob:
    """What the background pool runs for ``p`` (plain values: it goes to a child process)."""
    limits = current_limits()
    config = current_app.config
    return CoverageJob(stations_path=config["STORE_URL"], counties_path=config["COUNTIES_PATH"],
                       radius_m=p.radius_m, new_sites=p.new_sites, include_planned=p.include_planned,
                       county=p.county, max_candidates=limits.max_candidates,
                       max_demand_points=limits.max_demand_points, kinds=p.kinds,
                       water_mask_path=config.get("WATER_MASK_PATH"), processes=precompute.processes(),
                       cache_dir=coverage_files.folder(current_app.instance_path) if state().serving else None)


def from_files(p: CoverageQuery, version: str, stale_ok: bool = False) -> dict[str, Any] | None:
    """The answers of store ``version`` from the instance folder's files (``web.coverage_files``: another
    worker or an earlier start of this server computed them), kept in memory too; else ``None``. With
    ``stale_ok``, the newest file of earlier store versions becomes the last answers (shown with its age)."""
    job = coverage_job(p)
    if job.cache_dir is None:
        return None
    st, key = state(), coverage_key(p)
    found = coverage_files.load(job.cache_dir, job, version)
    if found is not None:
        st.offer(version, key, found[0], made_at=found[1])
        return found[0]
    if stale_ok and st.last(key) is None and (found := coverage_files.newest(job.cache_dir, job)) is not None:
        st.offer(found[0], key, found[2], made_at=found[1])
    return None


def coverage_result(p: CoverageQuery, stale_ok: bool = False) -> dict[str, Any]:
    """The analysis's answers (``data``, ``gaps``, ``gaps_after``), once per store version and parameters.

    A cache hit answers at once. A miss runs the analysis in the background pool (``web.background``)
    within the time budget of the endpoint's declared work class (``COVERAGE_TIME_BUDGET_S``), else
    raises ``Computing`` (503, Retry-After) while it goes on; its answers are cached when it ends, so the
    retry is served. Starting an analysis counts against the client's rate limit (``COVERAGE_RATE_LIMIT``).
    With ``stale_ok`` (the planner's page), when the store has changed since the last answers to ``p``
    and the new ones are not ready within ``precompute.STALE_WAIT_S``, the last answers come back instead
    while the new ones are computed, and the page says how old they are (``precompute.stale_notice``).
    """
    st = state()
    key = coverage_key(p)
    version = st.store.version  # reads (and checks) the store here: bad data is this request's error
    hit = st.peek(key)
    if hit is None:
        hit = from_files(p, version, stale_ok)
    if hit is not None:
        return hit
    declared = current_endpoint()
    budget_s = declared.work.time_budget_s(current_limits()) if declared is not None else None
    if budget_s is None:  # a route declared cheap must never start an analysis
        raise RuntimeError(f"{request.endpoint} starts an analysis but is not declared work=ANALYSIS")
    kept = st.last(key) if stale_ok else None
    try:
        _, answers = background().run(
            (version, key), run_coverage, coverage_job(p),
            budget_s if kept is None else min(budget_s, precompute.STALE_WAIT_S),
            on_done=lambda done: st.offer(done[0], key, done[1]), on_start=note_analysis_started)
    except Computing:
        if kept is None:
            raise
        return precompute.stale(kept)
    return answers


def coverage_dict(p: CoverageQuery) -> dict[str, Any]:
    return coverage_result(p)["data"]


def coverage_gaps(p: CoverageQuery, after: bool = False) -> dict[str, Any]:
    return coverage_files.gaps(coverage_result(p), after)  # from the answers, or the file that holds them


def considered_stations(p: CoverageQuery) -> list[Station]:
    """The stations the analysis counts: open ones, and with ``include_planned`` the coming ones."""
    statuses = PLANNED_STATUSES if p.include_planned else OPEN_STATUSES
    return [s for s in state().store.all() if s.status in statuses]


def canonical_redirect(p: CoverageQuery) -> Response | None:
    """A redirect to the page of the rounded radius when the URL asks for another (1234 -> 1200)."""
    raw = request.args.get("radius_m", "").strip()  # valid: the request layer has parsed it
    if not raw or float(raw) == p.radius_m:
        return None
    args = request.args.to_dict(flat=False)
    args["radius_m"] = [p.radius_str]
    return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))


def _etag(*parts: Any) -> str:
    return etag_of(state().store.version, water_key(), *parts)


# ---- routes -------------------------------------------------------------------------------------

@bp.get("/planning")
@pages.route(query=PlanningQuery, work=ANALYSIS)
def planning(query: PlanningQuery):
    """The planner page: controls, key figures, map, chart, table, suggested sites, downloads."""
    p = query
    lang = i18n.get_lang()
    st = state()
    if (moved := canonical_redirect(p)) is not None:
        return moved
    answers = coverage_result(p, stale_ok=True)  # a large store's last answers while new ones are computed
    data, addresses = with_addresses(answers["data"])
    detail = detailed(data)  # a province or the country: no gaps on the map (nor read from their file)
    classes = ShareClasses.for_shares([c["covered_share"] for c in data["counties"]])
    static_url = current_app.static_url_path or "/static"
    config = current_app.config

    def build_map():  # the skeleton and its layers together: the layers name the skeleton's map variable
        parts = maps.render_map(build_planning_map(p, st.counties, config, static_url))
        gaps = coverage_files.gaps(answers) if detail else {"type": "FeatureCollection", "features": []}
        layers = planning_layers(p, data, gaps, classes, lang, st.counties,
                                 considered_stations(p) if detail else [], maps.display_crs(config))
        return parts, templating.page_json({"mapVar": parts.name, **layers})

    parts, layers_json = st.cached(("planning.map", p.key, water_key(), addresses_digest(data), lang, static_url),
                                   build_map)
    with_after = bool(data["suggestions"]) or p.new_sites > 0
    rows = report.table_rows(data, lang=lang)
    names = {c["adcode"]: c["name"] for c in data["counties"]}
    limits = current_limits()
    return render_template(
        "planning.html", p=p, data=data, rows=rows[:-1], city_row=rows[-1],
        columns=table_columns(lang, with_after, data.get("area_basis") == "land"),
        chart=bar_chart(rows[:-1], with_after), info=report_info(p, data, answers.get("facts")), addresses=addresses,
        kinds_options=kinds_options(p.kinds, lang), suggestion_rows=report.suggestion_rows(data, lang),
        classes=classes, figures=key_figures(data), names=names, map_parts=parts, layers_json=layers_json,
        map_detailed=detail, assets=assets.page_assets(static_url), radius_text=fmt_radius(p.radius_m, lang),
        county_options=[(code, st.counties.name(code)) for code in st.counties.codes],
        presets=RADIUS_PRESETS_M, max_new_sites=limits.max_new_sites, radius_range=RADIUS_RANGE_M,
        radius_step=f"{limits.radius_step_m:g}",
        fmt_number=fmt_number, any_sample=st.store.table().any_sample(),  # the columns: no records made
        describe=report.describe(data, lang), now=now_shanghai().strftime("%Y-%m-%d %H:%M"),
        kinds_text=report.kinds_text(p.kinds, lang),
        gain_unit=(data.get("siting") or {}).get("gain_unit", "km2"),
        download=lambda fmt: url_for("planning.download", fmt=fmt, **p.query(lang=lang)),
        self_url=lambda **kw: url_for("planning.planning", **p.query(**kw)),
        report_counts=reports_public.county_counts(),  # workers' reports per county: aggregate numbers only
    )


@bp.get("/planning/download.<fmt>")
@pages.route(query=PlanningQuery, work=ANALYSIS)
def download(fmt: str, query: PlanningQuery):
    """The analysis as CSV (UTF-8 with BOM), XLSX, GeoJSON (gaps, suggestions, worst cases) or an SVG map."""
    if fmt not in FORMATS:
        abort(404, f"no download format {fmt!r}; allowed: {', '.join(FORMATS)}")
    p = query
    lang = i18n.get_lang()

    answers = coverage_result(p)
    data, _ = with_addresses(answers["data"])

    def build() -> Response:
        info = report_info(p, data, answers.get("facts"))  # when, from which data, with which settings
        if fmt == "csv":
            body: Any = report.to_csv(data, lang, info)
        elif fmt == "xlsx":
            body = report.to_xlsx(data, lang, info)
        elif fmt == "geojson":
            body = json.dumps(report.to_geojson(data, coverage_gaps(p), info), ensure_ascii=False, allow_nan=False)
        else:
            detail = detailed(data)  # a province or the country: the counties' shares only, as on the page
            gaps = coverage_gaps(p) if detail else {"type": "FeatureCollection", "features": []}
            classes = ShareClasses.for_shares([c["covered_share"] for c in data["counties"]])
            drawing = svg_map(p, data, gaps, classes, lang, state().counties,
                              considered_stations(p) if detail else [], info=info)
            body = render_template("planning_map_svg.html", m=drawing, standalone=True)
        response = Response(body, mimetype=FORMATS[fmt].split(";")[0])
        if fmt == "csv":
            response.charset = "utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{p.file_stem()}.{fmt}"'
        return response

    return conditional(_etag("download", fmt, lang, p.key, addresses_digest(data)), build)


@bp.get("/api/coverage")
@api.route(query=CoverageQuery, work=ANALYSIS, conditional=True, operation_id="coverage", tags=("coverage",),
           answers={200: Answer("The analysis.", COVERAGE)})
def api_coverage(query: CoverageQuery) -> Response:
    """Coverage of each county by stations within a radius

    Per county and for the whole city: station counts, stations per 100 km² and per 100,000 residents,
    covered share of the area, the worst case (farthest point from any station), progress against
    targets; with `new_sites`, suggested new sites and the shares after them. Slow the first time
    (seconds), then cached until the data change.
    """
    data, _ = with_addresses(coverage_dict(query))
    return conditional(_etag("api.coverage", query.key, addresses_digest(data)), lambda: json_response(data))


@bp.get("/api/coverage/gaps")
@api.route(query=GapsQuery, work=ANALYSIS, conditional=True, operation_id="coverageGaps", tags=("coverage",),
           answers={200: Answer("The gaps.", COVERAGE_GAPS, GEOJSON)})
def api_coverage_gaps(query: GapsQuery) -> Response:
    """The uncovered area of each county as GeoJSON

    One (Multi)Polygon feature per county with uncovered area (WGS-84), with the gap's area_km2, the
    county's area and its covered share; with `after=1` and `new_sites`, what is left once the
    suggested sites are built.
    """
    after = query.after and query.new_sites > 0
    return conditional(_etag("api.gaps", query.key, query.after),
                       lambda: json_response(coverage_gaps(query, after), mimetype=GEOJSON))
