"""Geocoders (Tianditu, AMap, Baidu, Nominatim) against a local stub server answering in each provider's
real response format: success (converted to WGS-84, precision kept), no result, quota exceeded, bad key,
timeout; the cache on disk; reverse geocoding. Never the internet."""
from __future__ import annotations

import time

import pytest

from coord_reference import CHECK, gcj_to_bd, metres_apart, wgs_to_bd, wgs_to_gcj
from stations.geocoding import GeocodeCache, GeocodingFailed, choose_provider, make_geocoding

pytest_plugins = ["geocoder_stub"]

PLACE = (116.5870, 35.4150)  # WGS-84 (lon, lat) in 任城区
ADDRESS = "山东省济宁市任城区古槐路18号"


def test_the_reference_formulas_are_the_published_ones():
    assert wgs_to_gcj(*CHECK[0]) == pytest.approx(CHECK[1], abs=1e-12)
    assert gcj_to_bd(*CHECK[0]) == pytest.approx(CHECK[2], abs=1e-12)


# ---- each provider's answers, in its own format -------------------------------------------------

def amap_answer(level="门牌号", point=PLACE):
    lon, lat = wgs_to_gcj(*point)
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
        "formatted_address": "山东省济宁市任城区古槐路18号", "country": "中国", "province": "山东省",
        "citycode": "0537", "city": "济宁市", "district": "任城区", "township": [], "adcode": "370811",
        "street": "古槐路", "number": "18号", "location": f"{lon:.6f},{lat:.6f}", "level": level}]}


AMAP_EMPTY = {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
AMAP_BAD_KEY = {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
AMAP_QUOTA = {"status": "0", "info": "USER_DAILY_QUERY_OVER_LIMIT", "infocode": "10044"}


def tianditu_answer(level="门址", point=PLACE):
    return {"msg": "ok", "location": {"score": 100, "level": level, "lon": point[0], "lat": point[1],
                                      "keyWord": ADDRESS}, "searchVersion": "6.4.9V", "status": "0"}


TIANDITU_EMPTY = {"msg": "无结果", "searchVersion": "6.4.9V", "status": "101"}
TIANDITU_BAD_KEY = (403, {"code": 301001, "msg": "非法key", "resolve": "请到API控制台重新申请Key"})
TIANDITU_QUOTA = (403, {"code": 301004, "msg": "超过当日访问量", "resolve": "请到API控制台提升配额"})


def baidu_answer(level="门址", point=PLACE, precise=1, confidence=80):
    lon, lat = wgs_to_bd(*point)
    return {"status": 0, "result": {"location": {"lng": lon, "lat": lat}, "precise": precise,
                                    "confidence": confidence, "comprehension": 100, "level": level}}


BAIDU_EMPTY = {"status": 1, "msg": "Internal Service Error:无相关结果", "results": []}
BAIDU_BAD_KEY = {"status": 200, "message": "APP不存在，AK有误请检查再重试"}
BAIDU_QUOTA = {"status": 302, "message": "天配额超限，限制访问"}


def nominatim_answer(rank=30, point=PLACE):
    return [{"place_id": 1, "licence": "ODbL", "osm_type": "node", "osm_id": 1, "lat": str(point[1]),
             "lon": str(point[0]), "class": "amenity", "type": "shelter", "place_rank": rank,
             "addresstype": "amenity", "display_name": "古槐路驿站, 任城区, 济宁市", "boundingbox": []}]


PATHS = {"amap": "/v3/geocode/geo", "tianditu": "/geocoder", "baidu": "/geocoding/v3/", "nominatim": "/search"}
SUCCESS = {"amap": amap_answer(), "tianditu": tianditu_answer(), "baidu": baidu_answer(),
           "nominatim": nominatim_answer()}
EMPTY = {"amap": AMAP_EMPTY, "tianditu": TIANDITU_EMPTY, "baidu": BAIDU_EMPTY, "nominatim": []}
BAD_KEY = {"amap": (200, AMAP_BAD_KEY), "tianditu": TIANDITU_BAD_KEY, "baidu": (200, BAIDU_BAD_KEY)}
QUOTA = {"amap": (200, AMAP_QUOTA), "tianditu": TIANDITU_QUOTA, "baidu": (200, BAIDU_QUOTA),
         "nominatim": (429, {"error": "Too Many Requests"})}
PROVIDERS = sorted(PATHS)


def service(stub, provider, tmp_path=None, timeout_s=2.0):
    return make_geocoding(provider, None if provider == "nominatim" else "KEY", base_url=stub.url, min_delay_s=0,
                          timeout_s=timeout_s, max_retries=0, error_wait_s=0,
                          cache_path=tmp_path / "cache" if tmp_path else None)


def answer(stub, path, status, body, delay=0.0):
    stub.answer = lambda p, params: (status, body, delay) if p == path else (404, {"error": "no such path"}, 0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_found_address_comes_back_in_wgs84_with_its_precision(stub, provider):
    answer(stub, PATHS[provider], 200, SUCCESS[provider])
    result = service(stub, provider).geocode(ADDRESS, city="370800")
    assert metres_apart((result.lon, result.lat), PLACE) < 0.5  # converted from GCJ-02 / BD-09
    assert result.provider == provider and result.precision == "exact"
    path, params = stub.requests[-1]
    assert path == PATHS[provider]
    sent = {"amap": params.get("address"), "baidu": params.get("address"), "nominatim": params.get("q"),
            "tianditu": params.get("ds", "")}[provider]
    assert ADDRESS in sent
    if provider == "amap":
        assert params["key"] == "KEY" and params["city"] == "370800" and result.adcode == "370811"
        assert result.level == "门牌号"
    if provider == "tianditu":
        assert params["tk"] == "KEY" and result.level == "门址"


@pytest.mark.parametrize("provider, body, level", [
    ("amap", amap_answer("道路"), "road"), ("amap", amap_answer("区县"), "area"), ("amap", amap_answer("未知"), "unknown"),
    ("tianditu", tianditu_answer("道路"), "road"), ("tianditu", tianditu_answer("区县"), "area"),
    ("baidu", baidu_answer("道路", precise=0, confidence=30), "road"),
    ("baidu", baidu_answer("区县", precise=0, confidence=20), "area"),
    ("nominatim", nominatim_answer(rank=26), "road"), ("nominatim", nominatim_answer(rank=12), "area"),
])
def test_a_result_that_only_found_the_road_or_the_county_says_so(stub, provider, body, level):
    answer(stub, PATHS[provider], 200, body)
    assert service(stub, provider).geocode(ADDRESS).precision == level


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_result_is_none(stub, provider):
    answer(stub, PATHS[provider], 200, EMPTY[provider])
    assert service(stub, provider).geocode("不存在的地方") is None


@pytest.mark.parametrize("provider", sorted(BAD_KEY))
def test_a_refused_key_stops_geocoding(stub, provider):
    answer(stub, PATHS[provider], *BAD_KEY[provider])
    with pytest.raises(GeocodingFailed, match="key") as caught:
        service(stub, provider).geocode(ADDRESS)
    assert caught.value.fatal and caught.value.http_status == 503
    assert len(stub.requests) == 1  # not retried


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_spent_quota_stops_geocoding(stub, provider):
    answer(stub, PATHS[provider], *QUOTA[provider])
    with pytest.raises(GeocodingFailed) as caught:
        service(stub, provider).geocode(ADDRESS)
    assert caught.value.fatal
    assert "quota" in caught.value.reason or "too many" in caught.value.reason


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_slower_than_the_timeout_times_out(stub, provider):
    answer(stub, PATHS[provider], 200, SUCCESS[provider], delay=0.6)
    started = time.monotonic()
    with pytest.raises(GeocodingFailed, match="timed out") as caught:
        service(stub, provider, timeout_s=0.2).geocode(ADDRESS)
    assert not caught.value.fatal  # one row fails; the next may be answered
    assert time.monotonic() - started < 0.6


def test_the_cache_on_disk_answers_a_rerun_without_asking(stub, tmp_path):
    answer(stub, PATHS["amap"], 200, SUCCESS["amap"])
    first = service(stub, "amap", tmp_path).geocode(ADDRESS)
    answer(stub, PATHS["amap"], 200, AMAP_EMPTY)
    assert service(stub, "amap", tmp_path).geocode("不存在的地方") is None
    asked = len(stub.requests)
    again = service(stub, "amap", tmp_path)  # a new process: a new service on the same folder
    assert again.geocode(ADDRESS) == first and again.geocode("不存在的地方") is None
    assert len(stub.requests) == asked and again.cached == 2 and again.asked == 0
    assert len(GeocodeCache(tmp_path / "cache")) == 2


def test_errors_are_not_cached(stub, tmp_path):
    answer(stub, PATHS["amap"], 200, AMAP_QUOTA)
    with pytest.raises(GeocodingFailed):
        service(stub, "amap", tmp_path).geocode(ADDRESS)
    answer(stub, PATHS["amap"], 200, SUCCESS["amap"])
    assert service(stub, "amap", tmp_path).geocode(ADDRESS) is not None


def test_requests_are_spaced_by_the_rate_limit(stub):
    answer(stub, PATHS["nominatim"], 200, SUCCESS["nominatim"])
    polite = make_geocoding("nominatim", base_url=stub.url, min_delay_s=0.15, max_retries=0)
    started = time.monotonic()
    for i in range(3):
        polite.geocode(f"{ADDRESS}{i}")
    assert time.monotonic() - started >= 0.3


# ---- reverse: the nearest address or road ------------------------------------------------------

AMAP_REGEO = {"status": "1", "info": "OK", "infocode": "10000", "regeocode": {
    "formatted_address": "山东省济宁市任城区古槐街道古槐路18号",
    "addressComponent": {"country": "中国", "province": "山东省", "city": "济宁市", "district": "任城区",
                         "adcode": "370811", "township": "古槐街道",
                         "streetNumber": {"street": "古槐路", "number": "18号", "location": "116.593,35.416",
                                          "direction": "东", "distance": "23.5"}}}}
TIANDITU_REVERSE = {"result": {"formatted_address": "山东省济宁市任城区古槐路18号",
                               "location": {"lon": PLACE[0], "lat": PLACE[1]},
                               "addressComponent": {"address": "古槐路18号", "city": "济宁市", "county_code": "156370811",
                                                    "county": "任城区", "road": "古槐路", "road_distance": 31,
                                                    "poi": "古槐路驿站", "poi_distance": 12}},
                    "msg": "ok", "status": "0"}
BAIDU_REVERSE = {"status": 0, "result": {"location": {"lng": 116.6, "lat": 35.42},
                                         "formatted_address": "山东省济宁市任城区古槐路",
                                         "addressComponent": {"district": "任城区", "adcode": "370811",
                                                              "street": "古槐路", "distance": "40"}}}


@pytest.mark.parametrize("provider, path, body", [
    ("amap", "/v3/geocode/regeo", AMAP_REGEO), ("tianditu", "/geocoder", TIANDITU_REVERSE),
    ("baidu", "/reverse_geocoding/v3/", BAIDU_REVERSE),
])
def test_reverse_gives_the_nearest_address_and_road(stub, provider, path, body):
    answer(stub, path, 200, body)
    result = service(stub, provider).reverse(*PLACE)
    assert result.road == "古槐路" and result.road_distance_m > 0 and "古槐路" in result.address
    assert result.adcode == "370811"
    _, params = stub.requests[-1]
    if provider == "amap":  # AMap is asked in GCJ-02, "lon,lat"
        lon, lat = (float(v) for v in params["location"].split(","))
        assert metres_apart((lon, lat), wgs_to_gcj(*PLACE)) < 0.2
    if provider == "tianditu":  # Tianditu in WGS-84 (CGCS2000)
        assert f'"lon": {PLACE[0]}' in params["postStr"] and params["type"] == "geocode"
    if provider == "baidu":  # Baidu in BD-09, "lat,lng"
        lat, lon = (float(v) for v in params["location"].split(","))
        assert metres_apart((lon, lat), wgs_to_bd(*PLACE)) < 0.2


def test_the_provider_is_chosen_from_the_keys_given():
    assert choose_provider("auto", {"tianditu": "", "amap": "A", "baidu": "B"}) == ("amap", "A")
    assert choose_provider("auto", {}) == ("nominatim", None)
    assert choose_provider("baidu", {"baidu": "B"}) == ("baidu", "B")
    assert make_geocoding("none") is None
    with pytest.raises(ValueError, match="needs a key"):
        make_geocoding("amap")
