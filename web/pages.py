"""HTML pages: the map (``/``), the directory (``/list``) and one page per station.

Each view declares its parameters in the request layer (``web.requests``: the same models and rules
as the API, so a bad value is a 400 naming it on a page as in the API), asks ``stations`` (through
``web.state``) and renders a Jinja template; station fields reach the HTML only through autoescaping
or ``tojson``.
"""
from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from stations.errors import NotFound, quote_value
from stations import hours, routing
from stations.model import AMENITIES, KINDS, STATUSES, Station, phone_parts
from stations.search import matches_text, words
from stations.serves import SERVES

from . import assets, i18n, maps, templating
from .requests import LOOKUP
from .requests import pages as page_routes
from .requests.lookups import MARKERS_LIMIT_MAX
from .requests.queries import CONTROLS, EmbedQuery, ListQuery, MapQuery, PositionQuery
from .security import embeddable
from .state import state
from .templating import page_json

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

TZ = ZoneInfo("Asia/Shanghai")
WALK_SPEED_KMH = routing.WALK_SPEED_KMH  # a steady walk (4.5 km/h); the estimate is for the straight line
MAX_WALK_M = routing.MAX_ROUTE_M        # beyond this (10 km) nobody walks: no walking time is shown
NEAREST_K = 5
#: what the map's "find the nearest" asks for by default: open now first, the kinds a passing worker needs
MAP_RANK = "open_first"
MAP_SERVES = "passing_worker"
#: the map asks for the walking route of this many of its first results (where a router is configured)
ROUTED_RESULTS = 3
# Filters offered on the map and the list: the amenities workers ask for first.
FILTER_AMENITIES = ("drinking_water", "toilet", "microwave", "phone_charging", "ebike_charging")
VISIBLE_STATUSES = tuple(s for s in STATUSES if s != "closed")


@bp.record_once
def _setup(setup_state) -> None:
    assets.init_app(setup_state.app)


def map_limits(config) -> tuple[int, int]:
    """(``MAP_INLINE_MAX``, ``MAP_REMOTE_MIN_ZOOM``), checked by ``web.settings``.

    Up to ``MAP_INLINE_MAX`` stations the map page carries them all; above it the page carries
    none and loads the visible area's stations from ``/api/stations?bbox=`` from zoom
    ``MAP_REMOTE_MIN_ZOOM`` on.
    """
    return config["MAP_INLINE_MAX"], config["MAP_REMOTE_MIN_ZOOM"]


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {**templating.page_globals(), "FILTER_AMENITIES": FILTER_AMENITIES}


bp.after_request(templating.finish_html)


# ---- helpers ----------------------------------------------------------------------------------

def now_shanghai() -> datetime:
    return datetime.now(TZ)


def open_state(station: Station, at: datetime) -> bool | None:
    return hours.open_state(station.opening_hours, at)


def always_open(station: Station) -> bool:
    return hours.open_around_the_clock(station.opening_hours)


def describe_hours(station: Station, lang: str) -> str:
    return hours.describe_text(station.opening_hours, lang)


def status_notice(station: Station, lang: str) -> dict[str, str] | None:
    """What a station that cannot be used now (any status but ``open``) says about it: ``meaning`` of its
    status, and where known ``reason`` and ``reopens`` (None for an open station).

    The reason and the reopening date are the record's ``status_reason`` and ``reopens_on`` (issue 9's
    properties; read with ``getattr`` so that a record without them shows the status's meaning only).
    """
    if station.status == "open":
        return None
    reason = getattr(station, "status_reason", None)
    reopens = getattr(station, "reopens_on", None)  # YYYY-MM-DD
    notice = {"meaning": i18n.translate(f"status_meaning.{station.status}", lang)}
    if reason:
        notice["reason"] = i18n.translate("status_reason", lang, reason=reason)
    if reopens and station.status != "closed":
        notice["reopens"] = i18n.translate("reopens_on", lang, date=str(reopens))
    return notice


def results_note(lang: str, serves: str | None = MAP_SERVES, kind: str | None = None) -> str:
    """What the map's list holds, e.g. "营业中的优先；含户外劳动者驿站和提供饮水的工人文化宫；其他类型见“筛选”"."""
    if kind:
        which = i18n.translate("results_note.kind", lang, kind=i18n.label("kind", kind, lang))
    elif serves:
        which = i18n.translate(f"results_note.serves.{serves}", lang)
    else:
        which = i18n.translate("results_note.all_kinds", lang)
    return i18n.translate("results_note.open_first", lang) + i18n.translate("results_note.joiner", lang) + which


def walk_minutes(distance_m: float) -> int:
    """Minutes to walk a distance at ``WALK_SPEED_KMH`` (at least 1)."""
    return max(1, math.ceil(distance_m / (WALK_SPEED_KMH * 1000 / 60)))


def walk_text(distance_m: float, lang: str) -> str:
    """"步行约 N 分钟" (hours and minutes from one hour on; "" beyond ``MAX_WALK_M``)."""
    if distance_m > MAX_WALK_M:
        return ""
    minutes = walk_minutes(distance_m)
    if minutes < 60:
        return i18n.translate("walk_minutes", lang, n=minutes)
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return i18n.translate("walk_hours_even", lang, h=hours)
    return i18n.translate("walk_hours", lang, h=hours, m=rest)


def format_distance(distance_m: float, lang: str) -> str:
    """"4 米", "990 米", "1.0 公里": whole metres under 10 m, tens of metres under 1 km, then
    tenths of a kilometre; halves round up. The unit is chosen after rounding, so 996 m is
    "1.0 公里", never "1000 米". The page script's ``formatDistance`` does the same sums.
    """
    metres = math.floor(distance_m + 0.5)
    if metres < 10:
        return i18n.translate("meters", lang, n=metres)
    tens = math.floor(distance_m / 10 + 0.5) * 10
    if tens < 1000:
        return i18n.translate("meters", lang, n=tens)
    tenths_km = math.floor(distance_m / 100 + 0.5)
    return i18n.translate("kilometers", lang, n=f"{tenths_km // 10}.{tenths_km % 10}")


def tel_uri(phone: str) -> str:
    """The ``tel:`` URI of a phone text: the main number only (an extension is shown, not dialled;
    RFC 3966's ``;ext=`` is not handled alike by phones' dialers)."""
    main, _ = phone_parts(phone)
    return "tel:" + "".join(ch for ch in main if ch.isdigit() or ch in "+-")


def phone_text(phone: str, lang: str) -> str:
    """The phone as shown: "0537-2345678 转 123" (zh) / "0537-2345678 ext. 123" (en)."""
    main, ext = phone_parts(phone)
    return i18n.translate("phone_extension", lang, main=main, ext=ext) if ext else main


def county_names() -> dict[str, str]:
    counties = state().counties
    return {code: counties.name(code) for code in counties.codes}


def page_url(endpoint: str, **values: Any) -> str:
    """An absolute URL; ``PUBLIC_URL`` (e.g. https://yizhan.example.cn) wins over the request's host."""
    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


# ---- the map ----------------------------------------------------------------------------------

def _map_summary(stations: list[Station]) -> tuple[int, bool]:
    """(how many stations the map shows, whether any is sample data)."""
    return sum(1 for s in stations if s.status != "closed"), any(s.sample for s in stations)


def _restricted_stations(query: EmbedQuery) -> list[Station]:
    """An embed's stations: its county's, of its kinds (every kind when none is given)."""
    st = state()
    return list(st.store.query(county=query.county, kind=query.kind or None))


def render_map_page(template: str, query: MapQuery | EmbedQuery, embed: bool = False, export: bool = False):
    """The worker map (``/``), its embeddable twin (``/embed``) or the static export's page, optionally
    fitted to ``?county=`` (an adcode such as ``370883`` or a county's exact name; an unknown one is a
    400 naming it).

    An embed restricted to a county or kinds (``EmbedQuery.restricted``) carries only those stations, all
    of them, and its "find the nearest" searches them in the browser (``localNearest``). The static export
    (``export``: ``yizhan export-html``) does too, and asks nothing of the site: no API URL, no link to a
    page of ours unless ``PUBLIC_URL`` says where the site is; open now is not known in a file written once,
    so it ranks by distance only.
    """
    from . import embeds, security

    lang = i18n.get_lang()
    county = query.county
    st = state()
    config = current_app.config
    options = query if isinstance(query, EmbedQuery) else None
    basemap = options.basemap if options and options.basemap else config["BASEMAP"]
    map_config = embeds.basemap_config(config, basemap)
    if map_config is not config:
        security.use_tiles_of(map_config)
    crs = maps.display_crs(map_config)
    inline_max, remote_min_zoom = map_limits(config)
    static_url = current_app.static_url_path or "/static"
    parts: maps.MapParts = st.cached(
        ("pages.map", static_url, basemap),
        lambda: maps.render_map(maps.build_map(map_config, st.counties, static_url)),
    )
    local = export or bool(options and options.restricted)
    if local:
        stations = _restricted_stations(options) if options else st.store.all()
        count, any_sample = _map_summary(stations)
    else:
        stations = st.store.all()
        count, any_sample = st.cached("pages.map.summary", lambda: _map_summary(stations))
    remote = not local and len(stations) > inline_max
    if remote:  # too many to inline: the page script asks the API for the visible area
        records: list[dict[str, Any]] = []
    else:
        at = now_shanghai()
        flags = {s.id: None if export else open_state(s, at) for s in stations}
        records = maps.marker_records(stations, crs, flags, [s.id for s in stations if always_open(s)],
                                      county_names(), {s.id: describe_hours(s, lang) for s in stations})
        if local and not export:  # what /api/nearest's answer would say of each: "22:00 开放", "18:00 停止营业"
            changes = {s.id: hours.change_text(*hours.state_at(s.opening_hours, at, s.status), at, lang)
                       for s in stations}
            for rec in records:
                rec["change"] = changes.get(rec["id"], "")
    from .lookups import site_router
    controls = list(options.shown_controls) if options else list(CONTROLS)
    kinds = list(options.kind) if options and options.kind else list(KINDS)
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    site_links = not export or bool(public)
    data = {
        "config": {
            "mapVar": parts.name, "crs": crs, "lang": lang, "k": NEAREST_K,
            "walkSpeedKmh": WALK_SPEED_KMH, "maxWalkM": MAX_WALK_M, "nearestUrl": None if export else "/api/nearest",
            # "find the nearest": open now first, the kinds a passing worker needs (a filter away: the rest)
            "rank": "distance" if export else MAP_RANK, "serves": MAP_SERVES,
            "notes": {"serves": results_note(lang, MAP_SERVES), "all": results_note(lang, None),
                      "kind": {k: results_note(lang, None, k) for k in KINDS}},
            "placesUrl": None if export else url_for("lookups.places"),
            # the walking route of the first results, where a router is configured (else the straight line)
            "routeUrl": url_for("lookups.route") if site_router() is not None and not export else None,
            "routed": ROUTED_RESULTS,
            "stationUrl": page_url("pages.station", station_id="__ID__") if export and site_links
            else None if export else url_for("pages.station", station_id="__ID__"),
            "listUrl": None if export else url_for("pages.directory"),
            "embed": embed,
            "county": st.cached(("pages.county", county, crs), lambda: maps.county_view(st.counties, county, crs))
            if county else None,
            # Drawn by the page script: data never go through folium (see web.maps).
            "outlines": st.cached(("pages.outlines", crs), lambda: maps.county_outlines(st.counties, crs))
            if len(st.counties) else None,
            # the area's markers as the inline ones (hours, open now), the script following `next_offset`
            "remote": {"url": url_for("markers.markers"), "minZoom": remote_min_zoom, "limit": MARKERS_LIMIT_MAX}
            if remote else None,
            # an embed's or an export's own stations, searched in the browser (each serves-set's members)
            "localNearest": local,
            "serving": {name: [s.id for s in stations if test(s)] for name, test in SERVES.items()} if local else None,
            "controls": controls,
            # an embed zooms with ctrl + wheel or two fingers: the host page keeps its scrolling
            "gesture": {key: i18n.translate(f"gesture.{key}", lang) for key in ("touch", "scroll", "scrollMac")}
            if embed else None,
            # offline, "find the nearest" ranks the data the service worker kept (web.offline); a large store: none
            "offline": {"url": url_for("offline.stations")} if not remote and not embed else None,
        },
        "strings": i18n.js_strings(lang),
        "labels": {
            "kind": {k: i18n.label("kind", k, lang) for k in KINDS},
            "status": {k: i18n.label("status", k, lang) for k in STATUSES},
            "statusMeaning": {k: i18n.translate(f"status_meaning.{k}", lang) for k in STATUSES},
            "amenity": {k: i18n.label("amenity", k, lang) for k in AMENITIES},
            "days": [i18n.translate(f"hours.{d}", lang) for d in hours.WEEKDAYS],
            "months": [i18n.translate(f"hours.{m}", lang) for m in hours.MONTHS],
        },
        "stations": records,
    }
    if export:
        full_map_url = public + url_for("pages.index", county=county, lang=lang) if public else None
    else:
        full_map_url = url_for("pages.index", county=county, lang=lang)
    oembed = None
    if embed and not export:
        oembed = embeds.oembed_discovery_url(embeds.embed_url(options) if options else page_url("pages.embed"))
    elif not embed:
        oembed = embeds.oembed_discovery_url(page_url("pages.index", **({"county": county} if county else {})))
    return render_template(
        template, map_parts=parts, data_json=page_json(data),
        assets=assets.page_assets(static_url, gestures=embed), any_sample=any_sample, count=count,
        county=data["config"]["county"], map_serves=MAP_SERVES, full_map_url=full_map_url, controls=set(controls),
        filter_kinds=kinds, offer_serves=not (options and options.kind), exported=export, oembed_url=oembed,
    )


@bp.get("/")
@page_routes.route(query=MapQuery)
def index(query: MapQuery):
    return render_map_page("index.html", query)


@bp.get("/embed")
@embeddable
@page_routes.route(query=EmbedQuery)
def embed(query: EmbedQuery):
    """The map for an ``<iframe>`` on county and union websites: no top bar, links open a new tab.

    Options (``EmbedQuery``): ``county``, ``kind``, ``lang``, ``basemap``, ``controls``; the builder
    (``/embed/builder``) writes the code. Framing is governed by ``EMBED_ALLOWED_ORIGINS``
    (``frame-ancestors``, see ``web.security``); every other page may be framed by the site only.
    """
    return render_map_page("embed.html", query, embed=True)


# ---- one station ------------------------------------------------------------------------------

def _get_station(station_id: str) -> Station:
    try:
        return state().store.get(station_id)
    except NotFound:
        abort(404, f"no station with id {quote_value(station_id)}")


def qr_svg(url: str) -> str:
    """An SVG QR code of ``url`` (error correction M: still reads with a scuffed print)."""
    return segno.make(url, error="m", micro=False).svg_inline(
        scale=4, border=2, dark="#000", light="#fff", omitsize=True, title=url)


@bp.get("/stations/<station_id>")
@page_routes.route(query=PositionQuery)
def station(station_id: str, query: PositionQuery):
    lang = i18n.get_lang()
    s = _get_station(station_id)
    origin = query.origin
    at = now_shanghai()
    share_url = page_url("pages.station", station_id=s.id)
    county = ""
    if s.county_code and s.county_code in state().counties:
        county = state().counties.name(s.county_code)
    open_now, change = hours.state_at(s.opening_hours, at, s.status)
    # opened from the map or the list with ?lat=&lon=: how far the station is from there (geodesic, WGS-84)
    distance_m = routing.geodesic_m(origin, (s.lon, s.lat)) if origin is not None else None
    return render_template(
        "station.html", s=s, county=county,
        distance=format_distance(distance_m, lang) if distance_m is not None else None,
        walk=walk_text(distance_m, lang) if distance_m is not None else None,
        # no walking directions to a station that cannot be used now: its notice says why instead
        links=maps.navigation_links(s, origin) if s.status == "open" else None, notice=status_notice(s, lang),
        change_text=hours.change_text(open_now, change, at, lang),
        open_now=open_state(s, at), is_24_7=always_open(s), hours_text=describe_hours(s, lang),
        now=at, share_url=share_url, qr=Markup(qr_svg(share_url)),  # segno output: our own markup
        phone_uri=tel_uri(s.phone) if s.phone else None,
        phone_text=phone_text(s.phone, lang) if s.phone else None,
    )


@bp.get("/stations/<station_id>/qr.svg")
@page_routes.route()
def station_qr(station_id: str):
    s = _get_station(station_id)
    buf = io.BytesIO()
    segno.make(page_url("pages.station", station_id=s.id), error="m", micro=False).save(
        buf, kind="svg", scale=8, border=4, dark="#000", light="#fff", xmldecl=True)
    response = Response(buf.getvalue(), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'inline; filename="{s.id}-qr.svg"'
    return response


# ---- the directory ----------------------------------------------------------------------------

@dataclass
class Row:
    station: Station
    county: str
    open_now: bool | None
    is_24_7: bool
    distance_m: float | None = None
    change: str = ""  # "07:00 开放" / "18:00 停止营业"


def matches(row: Row, f: ListQuery) -> bool:
    s = row.station
    if f.kind and s.kind != f.kind:
        return False
    if f.county and s.county_code != f.county:
        return False
    if f.amenities and not set(f.amenities).issubset(s.amenities):
        return False
    if f.open_now and row.open_now is not True:
        return False
    if f.h24 and not row.is_24_7:
        return False
    if f.q and not matches_text(s, words(f.q), row.county):
        return False
    return True


def group_by_county(rows: Iterable[Row]) -> list[tuple[str, list[Row]]]:
    counties = state().counties
    order = {code: i for i, code in enumerate(counties.codes)}
    groups: dict[str | None, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.station.county_code if row.station.county_code in order else None, []).append(row)
    out = []
    for code in sorted(groups, key=lambda c: order.get(c, len(order))):
        name = counties.name(code) if code else i18n.translate("unknown_county", i18n.get_lang())
        out.append((name, sorted(groups[code], key=lambda r: (r.station.kind != "rest_station", r.station.name))))
    return out


@bp.get("/list")
@page_routes.route(query=ListQuery, work=LOOKUP)
def directory(query: ListQuery):
    """The directory: every station still to be seen, by county, or nearest first from ``lat``/``lon``.

    ``q`` searches the stations; when none matches, the site's geocoder is asked where ``q`` is (济宁火车站)
    and the list is sorted by distance from that place (``web.lookups.geocode_place``)."""
    from .lookups import geocode_place

    origin = query.origin
    filters = query
    st = state()
    names = county_names()
    at = now_shanghai()
    lang = i18n.get_lang()
    stations = [s for s in st.store.all() if s.status in VISIBLE_STATUSES]
    rows: list[Row] = []
    changes: dict[tuple, str] = {}  # stations share a few hours texts: each worked out once
    for s in stations:
        key = (s.opening_hours, s.status)
        if key not in changes:
            changes[key] = hours.change_text(*hours.state_at(s.opening_hours, at, s.status), at, lang)
        rows.append(Row(s, names.get(s.county_code or "", ""), open_state(s, at), always_open(s), change=changes[key]))
    place = place_reason = None
    if filters.q and not any(matches(r, filters) for r in rows):
        place, place_reason = geocode_place(filters.q)  # no station is called that: perhaps a place
        if place is not None:
            origin = (place["lon"], place["lat"])
            filters = filters.model_copy(update={"q": ""})
    if origin is not None and rows:
        hits = st.nearest_index().query(origin[0], origin[1], k=len(rows), statuses=VISIBLE_STATUSES)
        distance = {h.station.id: h.distance_m for h in hits}
        for row in rows:
            row.distance_m = distance.get(row.station.id)
        rows.sort(key=lambda r: (r.distance_m is None, r.distance_m or 0.0, r.station.id))
    rows = [r for r in rows if matches(r, filters)]
    return render_template(
        "list.html", rows=rows, groups=None if origin else group_by_county(rows), origin=origin,
        place=place, place_reason=place_reason, searched=query.q,
        filters=filters, total=len(rows), now=at, county_options=list(names.items()),
        any_sample=any(r.station.sample for r in rows),
        fmt_distance=format_distance, walk_text=walk_text,
        clear_position_url=url_for("pages.directory", **{k: v for k, v in request.args.to_dict(flat=False).items()
                                                          if k not in ("lat", "lon")}),
    )


@bp.get("/favicon.ico")
@page_routes.route()
def favicon():
    return current_app.send_static_file("img/icon.svg")
