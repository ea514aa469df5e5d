"""China's geocoders as geopy geocoders, each answering in WGS-84 with the provider's precision level.

geopy has Nominatim and Baidu (``BaiduV3``) but neither Tianditu nor AMap: :class:`Tianditu` and
:class:`AMap` are geopy ``Geocoder`` subclasses using its HTTP adapter, timeout and error classes
(``GeocoderAuthenticationFailure`` for a bad key, ``GeocoderQuotaExceeded`` for a spent quota,
``GeocoderRateLimited`` for too many requests, ``GeocoderTimedOut``, ``GeocoderServiceError``), so
geopy's ``RateLimiter`` and error handling apply to all four alike. :class:`Baidu` is ``BaiduV3``
with a configurable host and its answer converted.

Every ``geocode`` returns geopy ``Location`` objects whose point is WGS-84 (lat, lon), converted from
the provider's system: Tianditu answers in CGCS2000 (within about a metre of WGS-84, taken as is),
AMap in GCJ-02, Baidu in BD-09 (``stations.coords``). ``Location.raw`` is the provider's own answer
for that result; :func:`precision_of` reads its precision level (``门牌号``, ``道路``, ``区县``...) as
``exact``, ``road``, ``area`` or ``unknown``. ``reverse`` takes a WGS-84 (lat, lon) point (geopy's
order) and returns the nearest address.

Response formats (as documented by the providers):

- AMap ``/v3/geocode/geo?address=…&key=…``: ``{"status": "1", "info": "OK", "infocode": "10000",
  "count": "1", "geocodes": [{"formatted_address", "province", "city", "district", "adcode",
  "location": "lon,lat", "level": "门牌号"}]}``; errors ``{"status": "0", "info": "INVALID_USER_KEY",
  "infocode": "10001"}`` (10003/10044 daily quota, 10004/10019-10021 too frequent). Reverse
  ``/v3/geocode/regeo?location=lon,lat`` -> ``regeocode.formatted_address`` and ``addressComponent``
  (``streetNumber.street``/``distance``).
- Tianditu ``/geocoder?ds={"keyWord": "…"}&tk=…``: ``{"location": {"lon", "lat", "level", "score",
  "keyWord"}, "status": "0", "msg": "ok", "searchVersion": …}``; ``status`` ``"101"`` no result,
  ``"404"`` error; a bad key is HTTP 403 ``{"code": 301001, "msg": "非法key"}``, too many requests
  HTTP 429. Reverse ``/geocoder?postStr={"lon", "lat", "ver": 1}&type=geocode`` -> ``result``
  (``formatted_address``, ``addressComponent.road``/``road_distance``/``county``).
- Baidu ``/geocoding/v3/?address=…&ak=…&output=json``: ``{"status": 0, "result": {"location": {"lng",
  "lat"}, "precise": 1, "confidence": 80, "comprehension": 100, "level": "门址"}}``; no result
  ``{"status": 1, "msg": "Internal Service Error:无相关结果"}``; quota 4, 302, 4xx; key 101, 2xx.
"""
from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any
from urllib.parse import urlencode

from geopy.exc import (
    GeocoderAuthenticationFailure, GeocoderQueryError, GeocoderQuotaExceeded, GeocoderRateLimited,
    GeocoderServiceError,
)
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from ..coords import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02

log = logging.getLogger(__name__)

PRECISIONS = ("exact", "road", "area", "unknown")
_AREA_WORDS = ("国家", "省", "市", "城市", "区县", "区", "县", "开发区", "乡镇", "乡", "镇", "街道", "村庄", "村",
               "商圈", "热点商圈", "行政区划", "地名")
_ROAD_WORDS = ("道路", "道路交叉路口", "交叉路口", "路口", "桥")
_EXACT_WORDS = ("门牌号", "门址", "门牌", "兴趣点", "单元号", "楼栋", "poi", "公交站台、地铁站", "地铁站", "公交站",
                "地产小区", "商务大厦", "政府机构")


def precision_of_level(level: Any) -> str:
    """``exact``, ``road``, ``area`` or ``unknown`` for a provider's level word (``门牌号`` exact,
    ``道路`` road, ``区县`` area; anything unrecognised or ``未知`` unknown)."""
    if not isinstance(level, str) or not level.strip():
        return "unknown"
    word = level.strip().lower()
    if word in _EXACT_WORDS:
        return "exact"
    if word in _ROAD_WORDS:
        return "road"
    if word in _AREA_WORDS:
        return "area"
    return "unknown"


def precision_of(provider: str, location: Location) -> tuple[str, str]:
    """(precision, the provider's level text) of one geocoded ``location`` of ``provider``."""
    raw = location.raw if isinstance(location.raw, dict) else {}
    if provider == "amap":
        level = raw.get("level") or ""
        return precision_of_level(level), level
    if provider == "tianditu":
        level = raw.get("level") or ""
        return precision_of_level(level), level
    if provider == "baidu":
        level = raw.get("level") or ""
        confidence = raw.get("confidence")
        if raw.get("precise") == 1:
            return "exact", level or "precise"
        by_level = precision_of_level(level)
        if by_level == "unknown" and isinstance(confidence, (int, float)) and confidence >= 70:
            return "exact", f"{level} (confidence {confidence})".strip()  # within about 300 m
        return by_level, level
    if provider == "nominatim":
        rank = raw.get("place_rank")
        level = str(raw.get("addresstype") or raw.get("type") or "")
        if isinstance(rank, str) and rank.isdigit():
            rank = int(rank)
        if isinstance(rank, int):
            return ("exact" if rank >= 28 else "road" if rank >= 26 else "area"), level or f"rank {rank}"
        return "unknown", level
    return "unknown", ""


def _base_url(scheme: str, domain: str, path: str) -> str:
    return f"{scheme}://{domain.strip('/')}{path}"


class AMap(Geocoder):
    """AMap (高德) web service geocoder; answers converted from GCJ-02 to WGS-84.

    ``api_key``: an AMap web service key (Web服务). ``domain`` (default ``restapi.amap.com``) and
    ``scheme`` point it elsewhere (a proxy, a test server).
    """

    geocode_path = "/v3/geocode/geo"
    reverse_path = "/v3/geocode/regeo"
    AUTH_CODES = {"10001", "10002", "10005", "10006", "10007", "10008", "10009", "10011", "10012", "10013",
                  "10026", "10041"}
    QUOTA_CODES = {"10003", "10010", "10014", "10044", "10045"}
    RATE_CODES = {"10004", "10015", "10019", "10020", "10021", "10029"}

    def __init__(self, api_key: str, *, domain: str = "restapi.amap.com", scheme: str | None = None,
                 timeout=DEFAULT_SENTINEL, proxies=DEFAULT_SENTINEL, user_agent: str | None = None,
                 ssl_context=DEFAULT_SENTINEL, adapter_factory=None):
        super().__init__(scheme=scheme or "https", timeout=timeout, proxies=proxies, user_agent=user_agent,
                         ssl_context=ssl_context, adapter_factory=adapter_factory)
        self.api_key = api_key
        self.api = _base_url(self.scheme, domain, self.geocode_path)
        self.reverse_api = _base_url(self.scheme, domain, self.reverse_path)

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL, city: str | None = None):
        """Locations for an address (``city``: a city name or adcode to search in)."""
        params = {"key": self.api_key, "address": query, "output": "JSON"}
        if city:
            params["city"] = city
        url = f"{self.api}?{urlencode(params)}"
        return self._call_geocoder(url, partial(self._parse_geocode, exactly_one=exactly_one), timeout=timeout)

    def reverse(self, query, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL):
        """The address nearest to a WGS-84 point, ``query`` as (lat, lon) (geopy's order)."""
        lat, lon = _lat_lon(query)
        glon, glat = wgs84_to_gcj02(lon, lat)  # AMap takes GCJ-02 "lon,lat"
        params = {"key": self.api_key, "location": f"{glon:.6f},{glat:.6f}", "output": "JSON"}
        url = f"{self.reverse_api}?{urlencode(params)}"
        return self._call_geocoder(url, partial(self._parse_reverse, point=(lat, lon), exactly_one=exactly_one),
                                   timeout=timeout)

    def _check(self, page: Any) -> None:
        if not isinstance(page, dict):
            raise GeocoderServiceError("AMap: not a JSON object")
        if str(page.get("status")) == "1":
            return
        code, info = str(page.get("infocode") or ""), str(page.get("info") or "")
        message = f"AMap {code} {info}".strip()
        if code in self.AUTH_CODES or "KEY" in info:
            raise GeocoderAuthenticationFailure(message)
        if code in self.RATE_CODES:
            raise GeocoderRateLimited(message)
        if code in self.QUOTA_CODES or "OVER_LIMIT" in info:
            raise GeocoderQuotaExceeded(message)
        if code.startswith("200"):
            raise GeocoderQueryError(message)
        raise GeocoderServiceError(message)

    def _parse_geocode(self, page: Any, exactly_one: bool = True):
        self._check(page)
        found = []
        for item in page.get("geocodes") or []:
            try:
                lon, lat = (float(v) for v in str(item["location"]).split(","))
            except (KeyError, TypeError, ValueError):
                continue
            wlon, wlat = gcj02_to_wgs84(lon, lat)
            found.append(Location(item.get("formatted_address") or "", (wlat, wlon), item))
        if not found:
            return None
        return found[0] if exactly_one else found

    def _parse_reverse(self, page: Any, point: tuple[float, float], exactly_one: bool = True):
        self._check(page)
        regeo = page.get("regeocode")
        if not isinstance(regeo, dict) or not regeo.get("formatted_address"):
            return None
        address = regeo["formatted_address"] if isinstance(regeo["formatted_address"], str) else ""
        location = Location(address, point, regeo)
        return location if exactly_one else [location]


class Tianditu(Geocoder):
    """Tianditu (天地图) geocoder; its answers are CGCS2000, within about a metre of WGS-84 (used as is).

    ``api_key``: a Tianditu ``tk`` of the server type (服务器端). ``domain`` (default
    ``api.tianditu.gov.cn``) and ``scheme`` point it elsewhere.
    """

    path = "/geocoder"
    AUTH_CODES = {301001, 301002, 308011}

    def __init__(self, api_key: str, *, domain: str = "api.tianditu.gov.cn", scheme: str | None = None,
                 timeout=DEFAULT_SENTINEL, proxies=DEFAULT_SENTINEL, user_agent: str | None = None,
                 ssl_context=DEFAULT_SENTINEL, adapter_factory=None):
        super().__init__(scheme=scheme or "https", timeout=timeout, proxies=proxies, user_agent=user_agent,
                         ssl_context=ssl_context, adapter_factory=adapter_factory)
        self.api_key = api_key
        self.api = _base_url(self.scheme, domain, self.path)

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL):
        """The location of an address (Tianditu gives one)."""
        ds = json.dumps({"keyWord": query}, ensure_ascii=False)
        url = f"{self.api}?{urlencode({'ds': ds, 'tk': self.api_key})}"
        return self._call_geocoder(url, partial(self._parse_geocode, exactly_one=exactly_one), timeout=timeout)

    def reverse(self, query, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL):
        """The address nearest to a WGS-84 point, ``query`` as (lat, lon) (geopy's order)."""
        lat, lon = _lat_lon(query)
        post = json.dumps({"lon": round(lon, 7), "lat": round(lat, 7), "ver": 1})
        url = f"{self.api}?{urlencode({'postStr': post, 'type': 'geocode', 'tk': self.api_key})}"
        return self._call_geocoder(url, partial(self._parse_reverse, point=(lat, lon), exactly_one=exactly_one),
                                   timeout=timeout)

    def _geocoder_exception_handler(self, error) -> None:
        """An HTTP error: a bad key (403, code 301001) or a spent quota said in its JSON body."""
        try:
            body = json.loads(getattr(error, "text", "") or "{}")
        except ValueError:
            return
        self._raise_for_body(body)

    def _raise_for_body(self, body: Any) -> None:
        """Raise the geopy error a Tianditu error body names (a bad key, a spent quota), if any."""
        if not isinstance(body, dict):
            return
        msg = str(body.get("msg") or body.get("message") or "")
        message = f"Tianditu {body.get('code', body.get('status', ''))} {msg}".strip()
        if body.get("code") in self.AUTH_CODES or "key" in msg.lower():
            raise GeocoderAuthenticationFailure(message)
        if any(word in msg for word in ("超过", "超限", "配额", "次数")):
            raise GeocoderQuotaExceeded(message)

    def _check(self, page: Any) -> bool:
        """True when the page holds a result, False for "no result"; raises for errors."""
        if not isinstance(page, dict):
            raise GeocoderServiceError("Tianditu: not a JSON object")
        status = str(page.get("status", ""))
        if status == "0":
            return True
        if status == "101":
            return False
        self._raise_for_body(page)
        raise GeocoderServiceError(f"Tianditu status {status}: {page.get('msg', '')}")

    def _parse_geocode(self, page: Any, exactly_one: bool = True):
        if not self._check(page):
            return None
        loc = page.get("location")
        try:
            lon, lat = float(loc["lon"]), float(loc["lat"])
        except (KeyError, TypeError, ValueError):
            return None
        location = Location(str(loc.get("keyWord") or ""), (lat, lon), loc)  # CGCS2000 ≈ WGS-84
        return location if exactly_one else [location]

    def _parse_reverse(self, page: Any, point: tuple[float, float], exactly_one: bool = True):
        if not self._check(page):
            return None
        result = page.get("result")
        if not isinstance(result, dict) or not result.get("formatted_address"):
            return None
        location = Location(result["formatted_address"], point, result)
        return location if exactly_one else [location]


class Baidu(BaiduV3):
    """geopy's ``BaiduV3`` with a configurable host, answers converted from BD-09 to WGS-84, and Baidu's
    "no result" answer (status 1, ``无相关结果``) read as no result rather than a server error."""

    def __init__(self, api_key: str, *, domain: str = "api.map.baidu.com", scheme: str | None = None, **kwargs: Any):
        super().__init__(api_key, scheme=scheme or "https", **kwargs)
        self.api = _base_url(self.scheme, domain, self.api_path)
        self.reverse_api = _base_url(self.scheme, domain, self.reverse_path)

    def reverse(self, query, *, exactly_one: bool = True, timeout=DEFAULT_SENTINEL):
        """The address nearest to a WGS-84 point, ``query`` as (lat, lon) (geopy's order)."""
        lat, lon = _lat_lon(query)
        blon, blat = wgs84_to_bd09(lon, lat)  # Baidu takes BD-09 "lat,lng" by default
        found = super().reverse((blat, blon), exactly_one=exactly_one, timeout=timeout)
        if found is None:
            return None
        items = [found] if exactly_one else found
        out = [Location(i.raw.get("formatted_address") or i.address, (lat, lon), i.raw) for i in items]
        return out[0] if exactly_one else out

    def _parse_json(self, page, exactly_one=True):
        if isinstance(page, dict) and page.get("status") == 1 and "无相关结果" in str(page.get("msg", "")):
            return None
        found = super()._parse_json(page, exactly_one=exactly_one)
        if found is None:
            return None
        items = [found] if exactly_one else found
        out = []
        for item in items:
            wlon, wlat = bd09_to_wgs84(item.longitude, item.latitude)
            out.append(Location(str(item.raw.get("level") or ""), (wlat, wlon), item.raw))
        return out[0] if exactly_one else out


def _lat_lon(query) -> tuple[float, float]:
    """(lat, lon) floats from geopy's point forms (a ``Point``, a (lat, lon) pair or ``"lat, lon"``)."""
    from geopy.point import Point
    point = Point(query)
    return point.latitude, point.longitude


PROVIDERS = ("tianditu", "amap", "baidu", "nominatim")


def _adapter_factory():
    """geopy's HTTP adapter without its own retries: the rate limiter decides when to ask again."""
    try:
        from geopy.adapters import RequestsAdapter
        import requests  # noqa: F401  (RequestsAdapter needs it)
    except ImportError:  # pragma: no cover - geopy then uses urllib, which does not retry
        return None
    return partial(RequestsAdapter, max_retries=0)


def make_geocoder(provider: str, key: str | None = None, *, timeout_s: float = 10.0, base_url: str | None = None,
                  user_agent: str | None = None) -> Geocoder:
    """A geopy geocoder of ``provider`` (tianditu, amap, baidu, nominatim) answering in WGS-84.

    ``key``: the provider's key (Nominatim needs none). ``base_url`` (``http://127.0.0.1:8080``)
    replaces the provider's host, e.g. a proxy or a test server. ``user_agent`` names the site to the
    provider (Nominatim's usage policy asks for one).
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown geocoder {provider!r}; allowed: {', '.join(PROVIDERS)}")
    if provider != "nominatim" and not key:
        raise ValueError(f"the {provider} geocoder needs a key")
    where: dict[str, Any] = {}
    if base_url:
        scheme, _, domain = base_url.partition("://")
        where = {"scheme": scheme, "domain": domain.rstrip("/")}
    common = {"timeout": timeout_s, "user_agent": user_agent or "yizhan (station map)",
              "adapter_factory": _adapter_factory()}
    if provider == "amap":
        return AMap(key, **where, **common)
    if provider == "tianditu":
        return Tianditu(key, **where, **common)
    if provider == "baidu":
        return Baidu(key, **where, **common)
    return Nominatim(**where, **common)
