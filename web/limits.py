"""Bounds on the work one request may cause: URL length, radius steps, rate limits of the planner.

The settings (``RADIUS_STEP_M``, ``COVERAGE_*``, ``RATELIMIT_*``, ``MAX_URL_LENGTH``) are declared,
documented and checked in ``web.settings``; :class:`Limits` is a typed view of the checked values
(``current_limits()``). The cheap endpoints (map, list, station pages, ``/api/nearest``,
``/api/stations``, ...) are never rate limited: only the endpoints whose declared work class is
(``work=ANALYSIS`` in their ``web.requests`` declaration: :func:`rate_limited_endpoints`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestURITooLarge

from stations.coverage import RADIUS_RANGE_M

from . import errors


def rate_limited_endpoints(app: Flask) -> frozenset[str]:
    """The endpoints declared with a rate-limited work class (the planner's: an analysis per new set of
    parameters); the rest of the site is cheap."""
    from .requests import declared_endpoints
    return frozenset(name for name, declared in declared_endpoints(app).items() if declared.work.rate_limited)


@dataclass(frozen=True)
class Limits:
    """The checked limit settings (``app.extensions["yizhan.limits"]``), typed."""

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


def limits_of(config) -> Limits:
    """The limit settings of ``config`` (already checked by ``web.settings``)."""
    return Limits(
        radius_step_m=config["RADIUS_STEP_M"], max_new_sites=config["COVERAGE_MAX_NEW_SITES"],
        max_candidates=config["COVERAGE_MAX_CANDIDATES"], max_demand_points=config["COVERAGE_MAX_DEMAND_POINTS"],
        time_budget_s=config["COVERAGE_TIME_BUDGET_S"], queue_max=config["COVERAGE_QUEUE_MAX"],
        workers=config["COVERAGE_WORKERS"], executor=config["COVERAGE_EXECUTOR"],
        rate_limit=config["COVERAGE_RATE_LIMIT"], storage_uri=config["RATELIMIT_STORAGE_URI"],
        max_url_length=config["MAX_URL_LENGTH"])


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
    """The rate limit's key: the client's address (behind ``PROXY_COUNT`` proxies: ``web.hosts.trust_proxies``)."""
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
    limited = rate_limited_endpoints(app)
    limiter.request_filter(lambda: request.endpoint not in limited)
    shared = limiter.shared_limit(lim.rate_limit, scope="coverage", deduct_when=_analysis_started)
    for endpoint in limited:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.extensions["yizhan.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)


def register(app: Flask) -> None:
    """Install the URL length check and the planner's rate limits.

    Call after the blueprints are registered (the rate limits wrap their views).
    """
    lim = limits_of(app.config)
    app.extensions["yizhan.limits"] = lim
    app.before_request(check_url_length)
    _init_rate_limits(app, lim)
