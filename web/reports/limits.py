"""How many reports a client, and a station, may get: ``REPORT_RATE_LIMIT`` and ``REPORT_STATION_RATE_LIMIT``.

Counted in Flask-Limiter's storage (``web.limits``' limiter: ``RATELIMIT_STORAGE_URI``; off with
``RATELIMIT_ENABLED=false``), fixed windows. The page and the API share the counts. Only reports that
are filed count (a refused form costs nothing). The client is counted under a keyed hash of its
address (HMAC-SHA-256 with the site's secret key), so that not even a shared storage such as Redis
holds the addresses of the workers who report; nothing about the client is written anywhere else.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import time

from flask import current_app

from ..limits import client_address

CLIENT_SCOPE = "worker-report-client"
STATION_SCOPE = "worker-report-station"


class ReportsLimited(Exception):
    """Too many reports from this client (``which == "client"``) or about this station (``"station"``);
    ``retry_after_s``: seconds until the window frees one."""

    def __init__(self, which: str, retry_after_s: int, limit: str):
        super().__init__(f"too many reports {'from this client' if which == 'client' else 'about this station'}"
                         f" ({limit}); retry in {retry_after_s} s")
        self.which, self.retry_after_s, self.limit = which, retry_after_s, limit


def client_key(address: str | None = None) -> str:
    """The client's key in the counts: a keyed hash of its address (not the address)."""
    address = client_address() if address is None else address
    secret = str(current_app.config.get("SECRET_KEY") or "").encode("utf-8")
    return hmac.new(secret, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def _limiter():
    limiter = current_app.extensions.get("yizhan.limiter")
    return limiter if limiter is not None and limiter.enabled else None


def _checks(station_id: str):
    from limits import parse

    config = current_app.config
    return [("client", config["REPORT_RATE_LIMIT"], parse(config["REPORT_RATE_LIMIT"]), (CLIENT_SCOPE, client_key())),
            ("station", config["REPORT_STATION_RATE_LIMIT"], parse(config["REPORT_STATION_RATE_LIMIT"]),
             (STATION_SCOPE, station_id))]


def check(station_id: str) -> None:
    """:class:`ReportsLimited` if this client, or this station, has had its reports for now."""
    limiter = _limiter()
    if limiter is None:
        return
    strategy = limiter.limiter
    for which, text, item, key in _checks(station_id):
        if not strategy.test(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            wait = max(1, min(math.ceil(reset_at - time.time()), item.get_expiry()))
            raise ReportsLimited(which, wait, text)


def count(station_id: str) -> None:
    """Count one report filed by this client about ``station_id``."""
    limiter = _limiter()
    if limiter is None:
        return
    for _which, _text, item, key in _checks(station_id):
        limiter.limiter.hit(item, *key)
