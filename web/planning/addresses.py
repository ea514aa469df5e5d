"""The suggested sites' nearest address or road, from the site's reverse geocoder (``GEOCODER``).

Asked on the server (the key stays there) and kept in the geocoder's cache on disk
(``GEOCODER_CACHE_PATH``), so each site is asked once. A page or file waits for new answers at most
:data:`ADDRESS_BUDGET_S` in all: the sites not answered by then say "being looked up" and are asked
on the next request. After a failure (no answer, a refused key, a spent quota) nothing is asked for
:data:`PAUSE_AFTER_FAILURE_S`. Without a geocoder the suggestions carry no address, and the page
shows their county and nearest station only.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from flask import current_app

from stations.geocoding import GeocodingFailed
from stations.geocoding.cache import MISSING

from ..geocoding import geocoding_service
from ..settings import SettingError

log = logging.getLogger(__name__)

#: seconds a request may spend asking the geocoder for new addresses
ADDRESS_BUDGET_S = 2.0
#: seconds without asking after the geocoder failed
PAUSE_AFTER_FAILURE_S = 600.0
_PAUSE_KEY = "yizhan.planning.address_pause_until"


def planning_geocoder():
    """The site's geocoding service (``GEOCODER``), built once per app; None when there is none."""
    extensions = current_app.extensions
    if "yizhan.planning.geocoder" not in extensions:
        try:
            extensions["yizhan.planning.geocoder"] = geocoding_service(current_app.config)
        except (SettingError, ValueError) as exc:
            log.error("no geocoder for the suggested sites' addresses: %s", exc)
            extensions["yizhan.planning.geocoder"] = None
    return extensions["yizhan.planning.geocoder"]


def _address_text(found) -> str | None:
    if found is None:
        return None
    return found.address or found.road or None


def with_addresses(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``data`` (``/api/coverage``'s answer) whose suggestions each carry ``address`` (text or None) and
    ``address_state`` (``found``, ``none``: the geocoder knows nothing there, ``pending``: not asked yet);
    and ``{"provider", "pending"}``, or None without a geocoder (the suggestions then carry neither)."""
    suggestions = data.get("suggestions") or []
    service = planning_geocoder() if suggestions else None
    if service is None:
        return data, None
    extensions = current_app.extensions
    deadline = time.monotonic() + ADDRESS_BUDGET_S
    out, pending = [], 0
    for s in suggestions:
        found = service.reverse_cached(s["lon"], s["lat"])
        if found is MISSING and time.monotonic() < deadline \
                and extensions.get(_PAUSE_KEY, 0.0) <= time.monotonic():
            try:
                found = service.reverse(s["lon"], s["lat"])
            except GeocodingFailed as exc:
                log.warning("suggested sites' addresses: %s; not asking for %.0f s", exc, PAUSE_AFTER_FAILURE_S)
                extensions[_PAUSE_KEY] = time.monotonic() + PAUSE_AFTER_FAILURE_S
        if found is MISSING:
            pending += 1
            out.append({**s, "address": None, "address_state": "pending"})
        else:
            text = _address_text(found)
            out.append({**s, "address": text, "address_state": "found" if text else "none"})
    return {**data, "suggestions": out}, {"provider": service.provider, "pending": pending}


def addresses_digest(data: dict[str, Any]) -> str:
    """A short digest of the suggestions' addresses (a cache key and ETag part: a new answer, a new file)."""
    found = [(s.get("address"), s.get("address_state")) for s in data.get("suggestions") or []]
    return hashlib.sha256(json.dumps(found, ensure_ascii=False).encode()).hexdigest()[:12]
