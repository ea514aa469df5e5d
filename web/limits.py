"""Bounds on the work one request may cause: settings, URL length, rate limits of the planner.

Settings (config keys; environment ``YIZHAN_<KEY>``), read and checked once at start-up by
:func:`register` (a bad value stops the app naming the key, the value and what is allowed):

=============================  ===========  ==================================================================
key                            default      meaning
=============================  ===========  ==================================================================
``RADIUS_STEP_M``              100          coverage radii are rounded to a multiple of this (metres), so the
                                            cache holds one analysis per step, not one per typed number
``COVERAGE_MAX_NEW_SITES``     100          most new sites a web request may ask to suggest (the CLI: 1,000)
``COVERAGE_MAX_CANDIDATES``    10000        candidate grid of the siting; past it the grid gets coarser
``COVERAGE_MAX_DEMAND_POINTS`` 50000        demand grid of the siting; past it the grid gets coarser
``COVERAGE_TIME_BUDGET_S``     8            a request waits this long for an analysis, then answers 503 with
                                            ``Retry-After`` while the analysis goes on (``web.background``)
``COVERAGE_QUEUE_MAX``         2            per server process: analyses queued or running, and requests
                                            waiting for them; more answer 503 at once
``COVERAGE_WORKERS``           1            processes (or threads) per server process that run analyses
``COVERAGE_EXECUTOR``          ``process``  ``process`` (a niced child process: the CPU-bound work neither
                                            holds the server's GIL nor outranks cheap requests) or ``thread``
``COVERAGE_RATE_LIMIT``        20/minute    per client: analyses started (cache misses) on the planner's
                                            endpoints; beyond it 429 with ``Retry-After`` (Flask-Limiter syntax,
                                            e.g. ``20/minute;200/day``)
``RATELIMIT_STORAGE_URI``      memory://    where the counts live (Flask-Limiter's own key): per process by
                                            default; ``redis://host:6379`` shares them between servers
``MAX_URL_LENGTH``             4096         longest path + query string in bytes; longer answers 414
``PROXY_COUNT``                0            reverse proxies in front (nginx: 1): the client address for the
                                            rate limits and the scheme come from their X-Forwarded-For/-Proto
=============================  ===========  ==================================================================

``RATELIMIT_ENABLED`` (Flask-Limiter's key, default true) switches the rate limits off.
The cheap endpoints (map, list, station pages, ``/api/nearest``, ``/api/stations``, ...) are never
rate limited: only :data:`EXPENSIVE_ENDPOINTS` are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from stations.coverage import MAX_NEW_SITES, RADIUS_RANGE_M

from . import errors

#: The planner's endpoints: an analysis per new set of parameters (the rest of the site is cheap).
EXPENSIVE_ENDPOINTS = ("planning.planning", "planning.download", "planning.api_coverage",
                       "planning.api_coverage_gaps")
#: gunicorn's hard ceiling for a request line (``--limit-request-line``); ``MAX_URL_LENGTH`` stays below it.
SERVER_REQUEST_LINE_MAX = 8190


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    check: Callable[[Any], Any]  # the value as used, or ValueError with the allowed values
    meaning: str


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def check(raw: Any) -> int:
        if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit())):
            raise ValueError
        value = int(raw)
        if not low <= value <= high:
            raise ValueError
        return value
    check.allowed = f"a whole number from {low} to {high}"  # type: ignore[attr-defined]
    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(raw: Any) -> float:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError
        return value
    check.allowed = f"a number from {low:g} to {high:g}"  # type: ignore[attr-defined]
    return check


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(raw: Any) -> str:
        if raw not in choices:
            raise ValueError
        return raw
    check.allowed = "one of " + ", ".join(choices)  # type: ignore[attr-defined]
    return check


def _rate(raw: Any) -> str:
    from limits import parse_many
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError
    parse_many(raw)  # ValueError on bad syntax
    return raw


_rate.allowed = "a rate such as 20/minute or 20/minute;200/day"  # type: ignore[attr-defined]


def _storage_uri(raw: Any) -> str:
    if not isinstance(raw, str) or "://" not in raw:
        raise ValueError
    return raw


_storage_uri.allowed = "a Flask-Limiter storage URI such as memory:// or redis://host:6379"  # type: ignore[attr-defined]


SETTINGS: tuple[Setting, ...] = (
    Setting("RADIUS_STEP_M", 100, _number(1, 5000), "coverage radii are rounded to a multiple of this (m)"),
    Setting("COVERAGE_MAX_NEW_SITES", 100, _whole(0, MAX_NEW_SITES), "most new sites a web request may ask for"),
    Setting("COVERAGE_MAX_CANDIDATES", 10_000, _whole(100, 1_000_000), "candidate grid bound of the siting"),
    Setting("COVERAGE_MAX_DEMAND_POINTS", 50_000, _whole(100, 5_000_000), "demand grid bound of the siting"),
    Setting("COVERAGE_TIME_BUDGET_S", 8, _number(0, 600), "seconds a request waits for an analysis, then 503"),
    Setting("COVERAGE_QUEUE_MAX", 2, _whole(1, 100), "analyses queued and requests waiting, per process"),
    Setting("COVERAGE_WORKERS", 1, _whole(1, 32), "processes (or threads) running analyses, per process"),
    Setting("COVERAGE_EXECUTOR", "process", _choice("process", "thread"), "where analyses run"),
    Setting("COVERAGE_RATE_LIMIT", "20/minute", _rate, "analyses started per client (429 beyond)"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", _storage_uri, "where rate-limit counts live"),
    Setting("MAX_URL_LENGTH", 4096, _whole(256, SERVER_REQUEST_LINE_MAX - 20), "longest path + query (bytes)"),
    Setting("PROXY_COUNT", 0, _whole(0, 5), "reverse proxies in front whose X-Forwarded-* are trusted"),
)


@dataclass(frozen=True)
class Limits:
    """The checked values of :data:`SETTINGS` (``app.extensions["yizhan.limits"]``)."""

    radius_step_m: float
    max_new_sites: int
    max_candidates: int
    max_demand_points: int
    time_budget_s: float
    queue_max: int
    workers: int
    executor: str
    rate_limit: str
    storage_uri: str
    max_url_length: int
    proxy_count: int


def read_settings(config) -> Limits:
    """Every setting of :data:`SETTINGS` from ``config`` (defaults filled in), checked."""
    values = []
    for setting in SETTINGS:
        raw = config.get(setting.name)
        if raw is None:
            raw = setting.default
        try:
            values.append(setting.check(raw))
        except (TypeError, ValueError):
            raise ValueError(f"{setting.name}={str(raw)[:100]!r} is not allowed; allowed: "
                             f"{setting.check.allowed}") from None  # type: ignore[attr-defined]
    return Limits(*values)


def current_limits() -> Limits:
    return current_app.extensions["yizhan.limits"]


def snap_radius_m(radius_m: float, step_m: float) -> float:
    """``radius_m`` rounded to the nearest multiple of ``step_m`` (halves up), kept in ``RADIUS_RANGE_M``."""
    lo, hi = RADIUS_RANGE_M
    snapped = math.floor(radius_m / step_m + 0.5) * step_m
    return float(min(max(round(snapped, 6), lo), hi))


# ---- URL length ------------------------------------------------------------------------------

def request_uri_length(environ) -> int:
    """Bytes of the request target (path and query string) as the client sent it."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return len(raw.encode("latin-1", "replace"))
    query = environ.get("QUERY_STRING", "")
    return len(environ.get("PATH_INFO", "").encode("latin-1", "replace")) + (len(query) + 1 if query else 0)


def check_url_length() -> None:
    """414 in the app's own format when the URL is longer than ``MAX_URL_LENGTH``."""
    limit = current_limits().max_url_length
    length = request_uri_length(request.environ)
    if length > limit:
        raise RequestURITooLarge(f"the URL is {length} bytes long; allowed: at most {limit} bytes "
                                 "(path and query string)")


# ---- rate limits (Flask-Limiter) ---------------------------------------------------------------

def client_address() -> str:
    """The rate limit's key: the client's address (after ``PROXY_COUNT`` proxies, see ProxyFix)."""
    return request.remote_addr or "unknown"


def note_analysis_started() -> None:
    """Called when a request starts an analysis: only such requests count against the rate limit."""
    g.yizhan_analysis_started = True


def _analysis_started(_response) -> bool:
    return bool(g.get("yizhan_analysis_started"))


def _rate_limited(exc):
    """429 in the app's format with ``Retry-After`` (seconds until the window frees a request)."""
    import time
    limiter = current_app.extensions["yizhan.limiter"]
    retry_after = 60
    try:
        current = limiter.current_limit
        if current is not None:  # seconds to the end of the window, at most the window's length
            retry_after = max(1, min(math.ceil(current.reset_at - time.time()), current.limit.get_expiry()))
    except Exception:  # the storage may be unreachable: a fixed hint is good enough
        pass
    exc.retry_after = retry_after
    exc.description = (f"too many analyses from this client ({exc.description}); "
                       f"retry in {retry_after} s. Answers already computed are not limited.")
    return errors.handle_http_error(exc)


def _init_rate_limits(app: Flask, lim: Limits) -> None:
    from flask_limiter import Limiter
    from flask_limiter.errors import RateLimitExceeded

    limiter = Limiter(client_address, app=app, storage_uri=lim.storage_uri, headers_enabled=False,
                      strategy="fixed-window")
    # Every other endpoint is exempt before any limit is looked up: the limiter's per-request hooks
    # cost /api/health ~185 µs per request without this filter, ~60 µs with it.
    limiter.request_filter(lambda: request.endpoint not in EXPENSIVE_ENDPOINTS)
    shared = limiter.shared_limit(lim.rate_limit, scope="coverage", deduct_when=_analysis_started)
    for endpoint in EXPENSIVE_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.extensions["yizhan.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)


def register(app: Flask) -> None:
    """Check the settings; install ProxyFix, the URL length check and the planner's rate limits.

    Call after the blueprints are registered (the rate limits wrap their views).
    """
    lim = read_settings(app.config)
    app.extensions["yizhan.limits"] = lim
    if lim.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=lim.proxy_count, x_proto=lim.proxy_count)  # type: ignore
    app.before_request(check_url_length)
    _init_rate_limits(app, lim)
