"""Walking routes to stations: a routing provider's distance and time, else the straight line.

A straight line says little in a city of rivers, railways and walled compounds: where a routing
provider is configured, the nearest stations get the walking route's distance and time. The
provider is AMap's walking route (v3, ``/v3/direction/walking``; 100 km at most), which takes and
answers GCJ-02 coordinates: positions are converted from WGS-84 on the way out and the route's
line back to WGS-84 on the way in (``stations.coords``). Tianditu's route service plans driving
and public transport only, so it is no walking router.

:class:`Router` asks the provider with a polite gap between requests (``min_delay_s``), keeps the
answers on disk (SQLite, ``stations.geocoding.GeocodeCache``) per origin rounded to
:data:`ORIGIN_DECIMALS` decimals (about 100 m: a worker's next question from nearly the same place is
answered from the cache) and per station position, and never fails: when the provider has no route,
refuses the key, is out of quota or times out, the answer is the straight line (geodesic metres,
walking time at :data:`WALK_SPEED_KMH`) with the reason. After a refused key or a spent quota it asks
nothing for :data:`PAUSE_AFTER_FATAL_S` seconds.

AMap's answer (https://lbs.amap.com/api/webservice/guide/api/direction)::

    {"status": "1", "info": "OK", "infocode": "10000", "count": "1",
     "route": {"origin": "lon,lat", "destination": "lon,lat",
               "paths": [{"distance": "1234", "duration": "987",
                          "steps": [{"instruction": "...", "road": "...", "distance": "120",
                                     "duration": "96", "polyline": "lon,lat;lon,lat;..."}, ...]}]}}

and on failure ``{"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}`` (10003/10044
daily quota, 10004/10019-10021 too many requests, 20800-20803 no route: out of service area, no road
nearby, route failed, too far).
"""
from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from pyproj import Geod

from .coords import gcj02_to_wgs84, wgs84_to_gcj02

log = logging.getLogger(__name__)

__all__ = ["PROVIDERS", "REASONS", "WalkingRoute", "Router", "AMapWalking", "RoutingFailed", "make_router",
           "straight_line", "choose_router"]

PROVIDERS = ("amap",)
WALK_SPEED_KMH = 4.5          # a steady walk, as the pages' straight-line estimate
MAX_ROUTE_M = 10_000          # beyond this straight-line distance nobody walks: no route is asked for
ORIGIN_DECIMALS = 3           # origins rounded to 0.001° (about 100 m) for asking and caching
PAUSE_AFTER_FATAL_S = 600.0   # a refused key or a spent quota: ask nothing for ten minutes
CACHE_KIND = "walk"
CACHE_MAX_AGE_DAYS = 30       # roads change: routes are asked again after a month
#: why an answer is the straight line: no provider, too far to walk, the provider found no route, it refused
#: the key, its quota is spent, it asked us to slow down, it did not answer in time, another error, a pause
#: after a refused key or spent quota, or the client has asked for too many routes (``may_ask=False``)
REASONS = ("not_configured", "too_far", "no_route", "bad_key", "quota", "rate", "timeout", "error", "paused",
           "rate_limited")
_FATAL = {"bad_key", "quota"}
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class WalkingRoute:
    """How far and how long a walk is: ``source`` ``route`` (the provider's walking route) or
    ``straight_line`` (geodesic metres at :data:`WALK_SPEED_KMH`; ``reason`` says why, one of
    :data:`REASONS`). ``path``: the route's line as WGS-84 ``[lon, lat]`` pairs, where the provider gave it."""

    distance_m: float
    duration_s: float
    source: str
    provider: str | None = None
    reason: str | None = None
    path: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["distance_m"] = round(self.distance_m, 1)
        out["duration_s"] = round(self.duration_s)
        out["path"] = [list(p) for p in self.path]
        return out


class RoutingFailed(Exception):
    """The provider gave no route: ``reason`` one of :data:`REASONS` (``bad_key``, ``quota``, ``rate``,
    ``timeout``, ``error``); ``detail`` its own words."""

    def __init__(self, provider: str, reason: str, detail: str = ""):
        super().__init__(f"{provider}: {reason} {detail}".strip())
        self.provider, self.reason, self.detail = provider, reason, detail

    @property
    def fatal(self) -> bool:
        """Asking again soon will fail too (a refused key, a spent quota)."""
        return self.reason in _FATAL


def geodesic_m(origin: tuple[float, float], destination: tuple[float, float]) -> float:
    """Geodesic metres between two WGS-84 (lon, lat) points."""
    return float(_GEOD.inv(origin[0], origin[1], destination[0], destination[1])[2])


def straight_line(origin: tuple[float, float], destination: tuple[float, float], reason: str,
                  speed_kmh: float = WALK_SPEED_KMH) -> WalkingRoute:
    """The straight line from ``origin`` to ``destination`` (WGS-84 lon, lat) walked at ``speed_kmh``."""
    metres = geodesic_m(origin, destination)
    return WalkingRoute(metres, metres / (speed_kmh * 1000 / 3600), "straight_line", None, reason)


class AMapWalking:
    """AMap's walking route (v3). ``key``: an AMap web service key (Web服务, the ``AMAP_KEY`` of geocoding);
    ``base_url`` replaces ``https://restapi.amap.com`` (a proxy, a test server)."""

    name = "amap"
    path = "/v3/direction/walking"
    AUTH_CODES = {"10001", "10002", "10005", "10006", "10007", "10008", "10009", "10011", "10012", "10013",
                  "10026", "10041"}
    QUOTA_CODES = {"10003", "10010", "10014", "10044", "10045"}
    RATE_CODES = {"10004", "10015", "10019", "10020", "10021", "10029"}
    NO_ROUTE_CODES = {"20800", "20801", "20802", "20803"}

    def __init__(self, key: str, *, base_url: str | None = None, timeout_s: float = 5.0,
                 user_agent: str = "yizhan"):
        self.key, self.timeout_s, self.user_agent = key, timeout_s, user_agent
        self.url = (base_url or "https://restapi.amap.com").rstrip("/") + self.path

    def __repr__(self) -> str:
        return f"AMapWalking({self.url!r})"

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> WalkingRoute | None:
        """The walking route between two WGS-84 (lon, lat) points, or None when AMap finds none.
        :class:`RoutingFailed` when it cannot answer."""
        glon, glat = wgs84_to_gcj02(*origin)  # AMap takes GCJ-02 "lon,lat", at most 6 decimals
        dlon, dlat = wgs84_to_gcj02(*destination)
        query = urllib.parse.urlencode({"origin": f"{glon:.6f},{glat:.6f}", "destination": f"{dlon:.6f},{dlat:.6f}",
                                        "key": self.key, "output": "JSON"})
        page = self._get(f"{self.url}?{query}")
        return self._parse(page)

    def _get(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (https or a set URL)
                body = response.read()
        except urllib.error.HTTPError as exc:
            reason = "rate" if exc.code == 429 else "bad_key" if exc.code in (401, 403) else "error"
            raise RoutingFailed(self.name, reason, f"HTTP {exc.code}") from None
        except (socket.timeout, TimeoutError):
            raise RoutingFailed(self.name, "timeout", f"no answer within {self.timeout_s:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                raise RoutingFailed(self.name, "timeout", f"no answer within {self.timeout_s:g} s") from None
            raise RoutingFailed(self.name, "error", str(exc.reason)) from None
        except OSError as exc:
            raise RoutingFailed(self.name, "error", str(exc)) from None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise RoutingFailed(self.name, "error", "the answer is not JSON") from None

    def _parse(self, page: Any) -> WalkingRoute | None:
        if not isinstance(page, dict):
            raise RoutingFailed(self.name, "error", "the answer is not a JSON object")
        if str(page.get("status")) != "1":
            code, info = str(page.get("infocode") or ""), str(page.get("info") or "")
            detail = f"{code} {info}".strip()
            if code in self.NO_ROUTE_CODES:
                return None
            if code in self.AUTH_CODES or "KEY" in info:
                raise RoutingFailed(self.name, "bad_key", detail)
            if code in self.QUOTA_CODES or "OVER_LIMIT" in info:
                raise RoutingFailed(self.name, "quota", detail)
            if code in self.RATE_CODES or "TOO_FREQUENT" in info:
                raise RoutingFailed(self.name, "rate", detail)
            raise RoutingFailed(self.name, "error", detail)
        route = page.get("route") if isinstance(page.get("route"), dict) else {}
        paths = route.get("paths") if isinstance(route.get("paths"), list) else []
        if not paths or not isinstance(paths[0], dict):
            return None
        best = paths[0]
        try:
            distance, duration = float(best["distance"]), float(best["duration"])
        except (KeyError, TypeError, ValueError):
            raise RoutingFailed(self.name, "error", "a path without distance or duration") from None
        if not (math.isfinite(distance) and math.isfinite(duration) and distance >= 0 and duration >= 0):
            raise RoutingFailed(self.name, "error", f"distance {distance!r}, duration {duration!r}")
        return WalkingRoute(distance, duration, "route", self.name, None, _path(best.get("steps")))


def _path(steps: Any) -> tuple[tuple[float, float], ...]:
    """The steps' ``polyline`` texts (GCJ-02 ``lon,lat;lon,lat``) joined, in WGS-84, rounded to 6 decimals."""
    points: list[tuple[float, float]] = []
    for step in steps if isinstance(steps, list) else ():
        line = step.get("polyline") if isinstance(step, dict) else None
        for pair in line.split(";") if isinstance(line, str) else ():
            try:
                lon, lat = (float(v) for v in pair.split(","))
            except ValueError:
                continue
            wlon, wlat = gcj02_to_wgs84(lon, lat)
            point = (round(wlon, 6), round(wlat, 6))
            if not points or points[-1] != point:
                points.append(point)
    return tuple(points)


class Router:
    """A provider (:class:`AMapWalking`) behind a cache, a gap between requests and a pause after fatal errors.

    ``walk(origin, destination)`` always answers: the route, or the straight line with the reason.
    ``asked`` counts the requests sent to the provider, ``cached`` the answers from the cache.
    """

    def __init__(self, provider: AMapWalking, *, cache=None, min_delay_s: float = 0.2,
                 speed_kmh: float = WALK_SPEED_KMH, max_route_m: float = MAX_ROUTE_M):
        self.provider, self.cache = provider, cache
        self.min_delay_s, self.speed_kmh, self.max_route_m = min_delay_s, speed_kmh, max_route_m
        self.asked = 0
        self.cached = 0
        self._lock = threading.Lock()
        self._last = 0.0
        self._paused_until = 0.0

    def __repr__(self) -> str:
        return f"Router({self.provider!r}, cache={self.cache!r})"

    @staticmethod
    def question(origin: tuple[float, float], destination: tuple[float, float]) -> str:
        """The cache's key: the rounded origin and the destination (WGS-84)."""
        return (f"{origin[0]:.{ORIGIN_DECIMALS}f},{origin[1]:.{ORIGIN_DECIMALS}f}|"
                f"{destination[0]:.6f},{destination[1]:.6f}")

    def walk(self, origin: tuple[float, float], destination: tuple[float, float],
             may_ask: bool = True) -> WalkingRoute:
        """The walk from ``origin`` to ``destination`` (WGS-84 lon, lat): the provider's route (asked from the
        origin rounded to :data:`ORIGIN_DECIMALS` decimals), else the straight line from the exact origin with
        the reason. ``may_ask=False``: the cache's answer only (else the straight line, ``rate_limited``)."""
        if geodesic_m(origin, destination) > self.max_route_m:
            return straight_line(origin, destination, "too_far", self.speed_kmh)
        rounded = (round(origin[0], ORIGIN_DECIMALS), round(origin[1], ORIGIN_DECIMALS))
        question = self.question(rounded, destination)
        name = self.provider.name
        if self.cache is not None:
            from .geocoding.cache import MISSING
            hit = self.cache.get(name, CACHE_KIND, question)
            if hit is not MISSING:
                self.cached += 1
                if hit is None:
                    return straight_line(origin, destination, "no_route", self.speed_kmh)
                return WalkingRoute(hit["distance_m"], hit["duration_s"], "route", name, None,
                                    tuple(tuple(p) for p in hit.get("path") or ()))
        if not may_ask:
            return straight_line(origin, destination, "rate_limited", self.speed_kmh)
        if time.monotonic() < self._paused_until:
            return straight_line(origin, destination, "paused", self.speed_kmh)
        try:
            route = self._ask(rounded, destination)
        except RoutingFailed as exc:
            log.warning("walking route not available: %s", exc)
            if exc.fatal:
                self._paused_until = time.monotonic() + PAUSE_AFTER_FATAL_S
            return straight_line(origin, destination, exc.reason, self.speed_kmh)
        if self.cache is not None:
            self.cache.put(name, CACHE_KIND, question, None if route is None else {
                "distance_m": route.distance_m, "duration_s": route.duration_s, "path": [list(p) for p in route.path]})
        if route is None:
            return straight_line(origin, destination, "no_route", self.speed_kmh)
        return route

    def _ask(self, origin: tuple[float, float], destination: tuple[float, float]) -> WalkingRoute | None:
        with self._lock:  # one request at a time, min_delay_s apart
            wait = self._last + self.min_delay_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.asked += 1
            try:
                return self.provider.route(origin, destination)
            finally:
                self._last = time.monotonic()


def choose_router(setting: str, amap_key: str | None) -> str:
    """The provider a ``ROUTING`` setting names: ``auto`` AMap when its key is set, else ``none``."""
    if setting == "auto":
        return "amap" if amap_key else "none"
    return setting


def make_router(provider: str | None, key: str | None, *, cache_path=None, base_url: str | None = None,
                timeout_s: float = 5.0, min_delay_s: float = 0.2, user_agent: str = "yizhan") -> Router | None:
    """A :class:`Router` for ``provider`` (``amap``; ``none`` or None: no router, returns None). ``cache_path``:
    an SQLite file for the answers (None: no cache). ``ValueError`` for an unknown provider or a missing key."""
    if provider in (None, "", "none"):
        return None
    if provider not in PROVIDERS:
        raise ValueError(f"unknown walking router {provider!r}; allowed: none, {', '.join(PROVIDERS)}")
    if not key:
        raise ValueError(f"the {provider} walking router needs a key")
    cache = None
    if cache_path:
        from .geocoding.cache import GeocodeCache
        cache = GeocodeCache(cache_path, max_age_days=CACHE_MAX_AGE_DAYS)
    return Router(AMapWalking(key, base_url=base_url, timeout_s=timeout_s, user_agent=user_agent), cache=cache,
                  min_delay_s=min_delay_s)
