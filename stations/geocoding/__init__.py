"""Addresses to positions and back, through China's geocoders and Nominatim (geopy), in WGS-84.

- ``providers``: :class:`Tianditu`, :class:`AMap` (geopy ``Geocoder`` subclasses), :class:`Baidu`
  (geopy's ``BaiduV3``, converted), and geopy's ``Nominatim``; :func:`make_geocoder`; precision levels.
- ``cache``: :class:`GeocodeCache`, answers kept on disk (SQLite).
- ``service``: :class:`GeocodingService` (rate limit, cache, plain results), :func:`make_geocoding`.
"""
from .cache import GeocodeCache
from .providers import PRECISIONS, PROVIDERS, AMap, Baidu, Tianditu, make_geocoder, precision_of
from .service import (
    GeocodeResult, GeocodingFailed, GeocodingService, ReverseResult, choose_provider, make_geocoding,
)

__all__ = [
    "PRECISIONS", "PROVIDERS", "AMap", "Baidu", "GeocodeCache", "GeocodeResult", "GeocodingFailed",
    "GeocodingService", "ReverseResult", "Tianditu", "choose_provider", "make_geocoder", "make_geocoding",
    "precision_of",
]
