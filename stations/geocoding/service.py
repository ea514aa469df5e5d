"""Geocoding for the rest of the domain: one provider, a polite rate limit, a cache on disk, and plain
answers (:class:`GeocodeResult`, :class:`ReverseResult`, WGS-84 lon/lat by name).

:func:`make_geocoding` builds a :class:`GeocodingService` from plain parameters (the site reads them
from its settings). Errors come as :class:`GeocodingFailed`: ``fatal`` when asking again is pointless
(a bad key, a spent daily quota, rate-limited even after waiting), otherwise for that one question
(a timeout, a server error).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from geopy.exc import (
    GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges, GeocoderQuotaExceeded, GeocoderRateLimited,
    GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable, GeopyError,
)
from geopy.extra.rate_limiter import RateLimiter

from ..errors import YizhanError
from .cache import MISSING, GeocodeCache
from .providers import PROVIDERS, make_geocoder, precision_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address is: ``lon``/``lat`` WGS-84 degrees; ``precision`` ``exact``, ``road``, ``area``
    or ``unknown`` (from the provider's ``level`` text); ``address`` as the provider wrote it;
    ``adcode`` where the provider gives one."""

    lon: float
    lat: float
    provider: str
    precision: str
    level: str = ""
    address: str = ""
    adcode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeocodeResult":
        return cls(**data)


@dataclass(frozen=True)
class ReverseResult:
    """The address nearest to a point: ``address`` as the provider writes it, the nearest ``road`` and
    its distance (metres) where given, the county's name and ``adcode`` where given."""

    address: str
    provider: str
    road: str | None = None
    road_distance_m: float | None = None
    county: str | None = None
    adcode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GeocodingFailed(YizhanError):
    """The geocoder gave no answer: ``reason`` in words; ``fatal`` when further questions would fail too
    (bad key, quota spent), so a batch stops. HTTP 503: the service, not the request, is at fault."""

    http_status = 503

    def __init__(self, provider: str, reason: str, fatal: bool = False):
        super().__init__(f"{provider}: {reason}")
        self.provider, self.reason, self.fatal = provider, reason, fatal


class _RateLimiter(RateLimiter):
    # geopy retries every GeocoderServiceError; a bad key or a spent quota will not mend in seconds
    _retry_exceptions = (GeocoderTimedOut, GeocoderUnavailable, GeocoderRateLimited)


class GeocodingService:
    """One provider's geocoder (a geopy ``Geocoder`` answering in WGS-84, ``stations.geocoding.providers``)
    behind a rate limit (``min_delay_s`` between requests, geopy's ``RateLimiter``; ``max_retries`` after
    a timeout or "too many requests", waiting ``error_wait_s``) and a :class:`GeocodeCache`.

    ``asked`` counts the questions sent to the provider, ``cached`` those answered from the cache.
    """

    def __init__(self, provider: str, geocoder, *, cache: GeocodeCache | None = None, min_delay_s: float = 1.0,
                 max_retries: int = 1, error_wait_s: float = 2.0):
        self.provider, self.geocoder, self.cache = provider, geocoder, cache
        limits = {"min_delay_seconds": min_delay_s, "max_retries": max_retries, "error_wait_seconds": error_wait_s,
                  "swallow_exceptions": False}
        self._geocode = _RateLimiter(geocoder.geocode, **limits)
        self._reverse = _RateLimiter(geocoder.reverse, **limits)
        self.asked = 0
        self.cached = 0

    def __repr__(self) -> str:
        return f"GeocodingService({self.provider!r}, cache={self.cache!r})"

    def _ask(self, call, *args: Any, **kwargs: Any):
        self.asked += 1
        try:
            return call(*args, **kwargs)
        except (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges) as exc:
            raise GeocodingFailed(self.provider, f"the key was refused ({exc})", fatal=True) from None
        except GeocoderRateLimited as exc:
            raise GeocodingFailed(self.provider, f"too many requests ({exc})", fatal=True) from None
        except GeocoderQuotaExceeded as exc:
            raise GeocodingFailed(self.provider, f"quota exceeded ({exc})", fatal=True) from None
        except GeocoderTimedOut:
            raise GeocodingFailed(self.provider, "timed out") from None
        except (GeocoderServiceError, GeopyError) as exc:
            raise GeocodingFailed(self.provider, f"{type(exc).__name__}: {exc}") from None

    def geocode(self, address: str, *, city: str | None = None) -> GeocodeResult | None:
        """Where ``address`` is (``city``: a city name or code to search in, where the provider takes
        one), or None when the provider finds nothing. :class:`GeocodingFailed` when it cannot answer."""
        question = f"{address}|{city or ''}"
        if self.cache is not None:
            hit = self.cache.get(self.provider, "geocode", question)
            if hit is not MISSING:
                self.cached += 1
                return None if hit is None else GeocodeResult.from_dict(hit)
        kwargs = {"city": city} if city and self.provider == "amap" else {}
        location = self._ask(self._geocode, address, **kwargs)
        result = None
        if location is not None:
            precision, level = precision_of(self.provider, location)
            raw = location.raw if isinstance(location.raw, dict) else {}
            adcode = raw.get("adcode") if isinstance(raw.get("adcode"), str) else None
            result = GeocodeResult(round(location.longitude, 7), round(location.latitude, 7), self.provider,
                                   precision, level, location.address or "", adcode)
        if self.cache is not None:
            self.cache.put(self.provider, "geocode", question, None if result is None else result.to_dict())
        return result

    def reverse_cached(self, lon: float, lat: float) -> Any:
        """The cached answer of :meth:`reverse` for this point without asking anyone: a ReverseResult,
        None (asked before: nothing there), or ``stations.geocoding.cache.MISSING`` (never asked)."""
        if self.cache is None:
            return MISSING
        hit = self.cache.get(self.provider, "reverse", f"{lon:.6f},{lat:.6f}")
        if hit is MISSING or hit is None:
            return hit
        self.cached += 1
        return ReverseResult(**hit)

    def reverse(self, lon: float, lat: float) -> ReverseResult | None:
        """The address nearest to a WGS-84 point (``lon``, ``lat`` degrees), or None."""
        question = f"{lon:.6f},{lat:.6f}"
        if self.cache is not None:
            hit = self.cache.get(self.provider, "reverse", question)
            if hit is not MISSING:
                self.cached += 1
                return None if hit is None else ReverseResult(**hit)
        location = self._ask(self._reverse, (lat, lon))  # geopy's order is (lat, lon)
        result = None if location is None else _reverse_result(self.provider, location)
        if self.cache is not None:
            self.cache.put(self.provider, "reverse", question, None if result is None else result.to_dict())
        return result


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _reverse_result(provider: str, location) -> ReverseResult:
    raw = location.raw if isinstance(location.raw, dict) else {}
    address = location.address or ""
    if provider == "amap":
        parts = raw.get("addressComponent") or {}
        street = parts.get("streetNumber") or {}
        return ReverseResult(address, provider, _text(street.get("street")), _number(street.get("distance")),
                             _text(parts.get("district")), _text(parts.get("adcode")))
    if provider == "tianditu":
        parts = raw.get("addressComponent") or {}
        code = str(parts.get("county_code") or "")
        return ReverseResult(address, provider, _text(parts.get("road")), _number(parts.get("road_distance")),
                             _text(parts.get("county")), code[-6:] if len(code) == 9 else None)
    if provider == "baidu":
        parts = raw.get("addressComponent") or {}
        return ReverseResult(address, provider, _text(parts.get("street")), _number(parts.get("distance")),
                             _text(parts.get("district")), _text(parts.get("adcode")))
    parts = raw.get("address") or {}
    return ReverseResult(address, provider, _text(parts.get("road")), None,
                         _text(parts.get("county") or parts.get("city_district")), None)


def make_geocoding(provider: str, key: str | None = None, *, cache_path=None, min_delay_s: float = 1.0,
                   timeout_s: float = 10.0, base_url: str | None = None, user_agent: str | None = None,
                   max_retries: int = 1, error_wait_s: float = 2.0) -> GeocodingService | None:
    """A :class:`GeocodingService` for ``provider`` (``tianditu``, ``amap``, ``baidu``, ``nominatim``;
    ``none`` or ``None``: no geocoding, returns None). ``cache_path``: a folder (or file) for the
    :class:`GeocodeCache` (None: no cache). ``base_url`` replaces the provider's host (a proxy, a
    test server). ``ValueError`` for an unknown provider or a missing key."""
    if provider in (None, "", "none"):
        return None
    if provider not in PROVIDERS:
        raise ValueError(f"unknown geocoder {provider!r}; allowed: none, {', '.join(PROVIDERS)}")
    geocoder = make_geocoder(provider, key, timeout_s=timeout_s, base_url=base_url, user_agent=user_agent)
    cache = GeocodeCache(cache_path) if cache_path else None
    return GeocodingService(provider, geocoder, cache=cache, min_delay_s=min_delay_s, max_retries=max_retries,
                            error_wait_s=error_wait_s)


def choose_provider(setting: str, keys: dict[str, str | None]) -> tuple[str, str | None]:
    """(provider, key) from a ``GEOCODER`` setting: a provider's name, ``none``, or ``auto`` (the first of
    Tianditu, AMap, Baidu with a key in ``keys``, else Nominatim, which needs none)."""
    if setting != "auto":
        return setting, keys.get(setting)
    for name in ("tianditu", "amap", "baidu"):
        if keys.get(name):
            return name, keys[name]
    return "nominatim", None
