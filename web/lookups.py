"""The worker's lookups: a place search (``/api/places``) and walking routes (``/api/route``).

Both may ask an outside service with the site's key, which never reaches the browser: the geocoder
(``GEOCODER``, ``web.geocoding``) and the walking router (``ROUTING``, ``stations.routing``). Each
keeps its answers on disk, waits between requests, and counts what it asks against the client's
``LOOKUP_RATE_LIMIT`` (answers from the cache do not count). Past it, ``/api/places`` answers 429 with
``Retry-After``, ``/api/route`` the cached routes and otherwise the straight line (reason
``rate_limited``), and the list page skips the place search.

The site's geocoder and router are built once per app from the settings (:func:`site_geocoder`,
:func:`site_router`); a provider named without its key is logged and counts as none.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Blueprint, Response, current_app
from werkzeug.exceptions import TooManyRequests

from stations import routing
from stations.geocoding import GeocodingFailed, GeocodeResult
from stations.search import find

from .errors import json_response
from .geocoding import geocoding_service
from .requests import LOOKUP, Answer, api, schema
from .requests.answers import ERROR, RETRY_AFTER
from .requests.lookups import ROUTE_MAX_STATIONS, PlacesQuery, RouteQuery
from .settings import SettingError
from .state import state

log = logging.getLogger(__name__)

bp = Blueprint("lookups", __name__, url_prefix="/api")

#: stations a place search lists at most
PLACE_STATIONS_MAX = 10
#: a place further than this outside the counties' bounds is not the city's (degrees, about 20 km)
AREA_MARGIN_DEG = 0.2
#: why a place search has no place: no geocoder, the geocoder found nothing, what it found is outside the
#: city's counties, it could not answer, or the client asked for too many
PLACE_REASONS = ("not_configured", "not_found", "outside_area", "unavailable", "rate_limited")

# ---- answer bodies ----------------------------------------------------------------------------------

_STATION_BRIEF = schema("StationBrief", {
    "type": "object", "required": ["id", "name", "kind", "lon", "lat", "status"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                   "lon": {"type": "number"}, "lat": {"type": "number"}, "status": {"type": "string"},
                   "address": {"type": ["string", "null"]}, "county_code": {"type": ["string", "null"]}},
})
PLACES_RESPONSE = schema("PlacesResponse", {
    "type": "object", "required": ["q", "stations", "place", "reason"],
    "properties": {
        "q": {"type": "string", "description": "the text searched for"},
        "stations": {"type": "array", "items": _STATION_BRIEF, "maxItems": PLACE_STATIONS_MAX,
                     "description": "stations whose name, address, county, host or id hold every word"},
        "place": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["name", "lon", "lat", "precision", "provider"],
            "properties": {
                "name": {"type": "string", "description": "the text searched for: the place's name to show"},
                "address": {"type": "string", "description": "where the geocoder put it, in its words"},
                "lon": {"type": "number", "description": "WGS-84"}, "lat": {"type": "number", "description": "WGS-84"},
                "precision": {"enum": ["exact", "road", "area", "unknown"]},
                "provider": {"type": "string"},
                "county_code": {"type": ["string", "null"]}, "county": {"type": ["string", "null"]}}}]},
        "reason": {"oneOf": [{"type": "null"}, {"enum": list(PLACE_REASONS)}],
                   "description": "why there is no place (null when there is one, or when stations matched)"},
    },
})
ROUTE_RESPONSE = schema("RouteResponse", {
    "type": "object", "required": ["origin", "routes"],
    "properties": {
        "origin": {"type": "object", "required": ["lat", "lon"],
                   "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
        "routes": {"type": "array", "maxItems": ROUTE_MAX_STATIONS, "items": {
            "type": "object", "required": ["station", "source", "distance_m", "duration_s", "reason"],
            "properties": {
                "station": {"type": "string"},
                "source": {"enum": ["route", "straight_line"],
                           "description": "`route`: the provider's walking route; `straight_line`: the geodesic "
                                          "distance walked at 4.5 km/h"},
                "provider": {"type": ["string", "null"]},
                "reason": {"oneOf": [{"type": "null"}, {"enum": list(routing.REASONS)}],
                           "description": "why the straight line: no router configured, too far to walk (over "
                                          "10 km), no route found, the key refused, the quota spent, too many "
                                          "requests, no answer in time, another error, a pause after one of those"},
                "distance_m": {"type": "number", "minimum": 0},
                "duration_s": {"type": "number", "minimum": 0},
                "path": {"type": "array", "items": {"type": "array", "items": {"type": "number"}},
                         "description": "the route's line, WGS-84 [lon, lat] pairs (empty for the straight line)"},
            }}},
    },
})


# ---- the site's geocoder and router ------------------------------------------------------------------

def _built(name: str, build):
    extensions = current_app.extensions
    key = f"yizhan.{name}"
    if key not in extensions:
        try:
            extensions[key] = build()
        except (SettingError, ValueError) as exc:
            log.error("no %s: %s", name, exc)
            extensions[key] = None
    return extensions[key]


def site_geocoder():
    """The site's geocoding service (``GEOCODER``), built once; None when there is none."""
    return _built("geocoder", lambda: geocoding_service(current_app.config))


def site_router() -> routing.Router | None:
    """The site's walking router (``ROUTING``), built once; None when there is none."""
    config = current_app.config

    def build():
        name = routing.choose_router(config["ROUTING"], config.get("AMAP_KEY"))
        site = config.get("PUBLIC_URL") or "station map"
        return routing.make_router(name, config.get("AMAP_KEY"), cache_path=config["ROUTING_CACHE_PATH"],
                                   base_url=config.get("ROUTING_URL"), timeout_s=config["ROUTING_TIMEOUT_S"],
                                   min_delay_s=config["ROUTING_MIN_DELAY_S"], user_agent=f"yizhan ({site})")

    return _built("router", build)


# ---- the client's lookups ----------------------------------------------------------------------------

def _window():
    """(the limiter's strategy, the rate, the client's key) or None when rate limits are off."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    from limits import parse

    from .limits import client_address
    limiter = current_app.extensions.get("yizhan.limiter")
    if limiter is None:
        return None
    return limiter.limiter, parse(current_app.config["LOOKUP_RATE_LIMIT"]), ("lookup", client_address())


def lookup_allowed() -> bool:
    """Whether this client may still ask an outside service (``LOOKUP_RATE_LIMIT``)."""
    window = _window()
    if window is None:
        return True
    strategy, item, key = window
    try:
        return strategy.test(item, *key)
    except Exception:  # noqa: BLE001 - an unreachable counter store must not stop the search
        log.warning("rate-limit storage unavailable; allowing the lookup")
        return True


def count_lookups(n: int) -> None:
    """Count ``n`` requests this client made an outside service answer."""
    window = _window()
    if window is None or n <= 0:
        return
    strategy, item, key = window
    try:
        strategy.hit(item, *key, cost=n)
    except Exception:  # noqa: BLE001 - as lookup_allowed
        log.warning("rate-limit storage unavailable; a lookup went uncounted")


def too_many_lookups() -> TooManyRequests:
    """The 429 of a client past ``LOOKUP_RATE_LIMIT``, with ``Retry-After``."""
    retry_after = 60
    window = _window()
    if window is not None:
        strategy, item, key = window
        try:
            reset_at = strategy.get_window_stats(item, *key).reset_time
            retry_after = max(1, min(math.ceil(reset_at - time.time()), item.get_expiry()))
        except Exception:  # noqa: BLE001 - a fixed hint will do
            pass
    return TooManyRequests(f"too many new place searches or routes from this client "
                           f"({current_app.config['LOOKUP_RATE_LIMIT']}); retry in {retry_after} s. "
                           "Answers already found are not limited.", retry_after=retry_after)


# ---- places ------------------------------------------------------------------------------------------

def geocode_place(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the place ``text`` names, why none) through the site's geocoder, within the city's counties.

    Asks only within the client's ``LOOKUP_RATE_LIMIT`` (reason ``rate_limited`` past it)."""
    service = site_geocoder()
    if service is None:
        return None, "not_configured"
    if not lookup_allowed():
        return None, "rate_limited"
    st = state()
    asked = service.asked
    try:
        found: GeocodeResult | None = service.geocode(text, city=current_app.config.get("CITY_NAME") or None)
    except GeocodingFailed as exc:
        log.warning("place search %r: %s", text, exc)
        return None, "unavailable"
    finally:
        count_lookups(service.asked - asked)
    if found is None:
        return None, "not_found"
    code = st.counties.locate(found.lon, found.lat) if len(st.counties) else None
    if code is None and len(st.counties):
        minlon, minlat, maxlon, maxlat = st.counties.bounds
        if not (minlon - AREA_MARGIN_DEG <= found.lon <= maxlon + AREA_MARGIN_DEG
                and minlat - AREA_MARGIN_DEG <= found.lat <= maxlat + AREA_MARGIN_DEG):
            return None, "outside_area"
    return {"name": text, "address": found.address, "lon": found.lon, "lat": found.lat,
            "precision": found.precision, "provider": found.provider, "county_code": code,
            "county": st.counties.name(code) if code else None}, None


def _brief(station) -> dict[str, Any]:
    return {"id": station.id, "name": station.name, "kind": station.kind, "lon": station.lon, "lat": station.lat,
            "status": station.status, "address": station.address, "county_code": station.county_code}


@bp.get("/places")
@api.route(query=PlacesQuery, work=LOOKUP, operation_id="places", tags=("stations",),
           answers={200: Answer("Stations matching the text, else the place it names.", PLACES_RESPONSE),
                    429: Answer("This client asked the geocoder too often (`LOOKUP_RATE_LIMIT`; answers from the "
                                "cache do not count); `Retry-After` says when to ask again.", ERROR,
                                headers=RETRY_AFTER)})
def places(query: PlacesQuery) -> Response:
    """Stations, else a place, for what was typed in the search box

    Stations first: those whose name, address, county, host or id hold every word (those still to be
    seen; closed ones are left out). When none match, the site's geocoder is asked where the text is
    (济宁火车站, a road, a township), within the city's counties; the map then lists the stations
    nearest to that place (`/api/nearest` with the place's `lat` and `lon`). The geocoder's key stays on
    the server; its answers are cached, and asking it counts against `LOOKUP_RATE_LIMIT`.
    """
    st = state()
    counties = st.counties
    names = {code: counties.name(code) for code in counties.codes}
    visible = [s for s in st.store.all() if s.status != "closed"]
    stations = find(visible, query.q, names, limit=PLACE_STATIONS_MAX)
    place, reason = (None, None) if stations else geocode_place(query.q)
    if reason == "rate_limited":
        raise too_many_lookups()
    response = json_response({"q": query.q, "stations": [_brief(s) for s in stations], "place": place,
                              "reason": reason})
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- walking routes ----------------------------------------------------------------------------------

@bp.get("/route")
@api.route(query=RouteQuery, work=LOOKUP, operation_id="walkingRoutes", tags=("stations",),
           answers={200: Answer("The walk to each station: the routed distance and time, or the straight line.",
                                ROUTE_RESPONSE),
                    404: Answer("No station with one of those ids.", ERROR)})
def route(query: RouteQuery) -> Response:
    """Walking distance and time to a few stations

    For each station (at most three), the walking route from the position given, where a routing provider
    is configured (`ROUTING`: AMap's walking route, asked in GCJ-02 and answered in WGS-84), else, or when it
    has no route or cannot answer, the straight line (geodesic metres at 4.5 km/h) with the reason. The
    origin is rounded to 0.001° (about 100 m) for asking and caching; routes are kept 30 days. Asking the
    provider counts against `LOOKUP_RATE_LIMIT`; past it, routes come from the cache or are the straight
    line (reason `rate_limited`). The key stays on the server.
    """
    st = state()
    targets = [st.store.get(station_id) for station_id in query.station]  # NotFound -> 404
    router = site_router()
    origin = query.origin
    if router is None:
        walks = [routing.straight_line(origin, (s.lon, s.lat), "not_configured") for s in targets]
    else:
        may_ask = lookup_allowed()
        asked = router.asked
        try:
            walks = [router.walk(origin, (s.lon, s.lat), may_ask=may_ask) for s in targets]
        finally:
            count_lookups(router.asked - asked)
    routes = [{"station": s.id, **walk.to_dict()} for s, walk in zip(targets, walks)]
    response = json_response({"origin": {"lat": query.lat, "lon": query.lon}, "routes": routes})
    response.headers["Cache-Control"] = "no-store"
    return response
