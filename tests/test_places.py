"""The place search: stations first, then a place through the server's geocoder (a local stub answering in
AMap's geocoding format; never the internet), and "the stations nearest to 济宁火车站" on the list page.
"""
from __future__ import annotations

import re

import pytest
from geographiclib.geodesic import Geodesic

from conftest import STATION_FEATURES
from coord_reference import metres_apart, wgs_to_gcj

pytest_plugins = ["geocoder_stub"]

GEOCODE_PATH = "/v3/geocode/geo"
STATION_PLACE = (116.6010, 35.4040)  # WGS-84 (lon, lat) of "济宁火车站" in these tests, in 任城区


def amap_found(point=STATION_PLACE, level="兴趣点", name="山东省济宁市任城区济宁站"):
    lon, lat = wgs_to_gcj(*point)
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
        "formatted_address": name, "country": "中国", "province": "山东省", "citycode": "0537", "city": "济宁市",
        "district": "任城区", "township": [], "adcode": "370811", "street": [], "number": [],
        "location": f"{lon:.6f},{lat:.6f}", "level": level}]}


AMAP_EMPTY = {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
AMAP_QUOTA = {"status": "0", "info": "USER_DAILY_QUERY_OVER_LIMIT", "infocode": "10044"}


def answer(stub, body):
    stub.answer = lambda path, params: (200, body, 0) if path == GEOCODE_PATH else (404, {"error": path}, 0)


@pytest.fixture
def geo_app(app_config, stub, tmp_path):
    from web import create_app

    return create_app({**app_config, "GEOCODER": "amap", "AMAP_KEY": "KEY", "GEOCODER_URL": stub.url,
                       "GEOCODER_MIN_DELAY_S": 0, "GEOCODER_TIMEOUT_S": 2,
                       "GEOCODER_CACHE_PATH": str(tmp_path / "geocode.sqlite3"), "LOOKUP_RATE_LIMIT": "2/minute"})


def places(client, q):
    return client.get("/api/places", query_string={"q": q})


def test_a_place_no_station_is_called_is_found_through_the_servers_geocoder(geo_app, stub):
    answer(stub, amap_found())
    response = places(geo_app.test_client(), "济宁火车站")
    assert response.status_code == 200
    body = response.get_json()
    assert body["stations"] == [] and body["reason"] is None
    place = body["place"]
    assert place["name"] == "济宁火车站" and place["provider"] == "amap" and place["precision"] == "exact"
    assert metres_apart((place["lon"], place["lat"]), STATION_PLACE) < 0.5  # GCJ-02 converted to WGS-84
    assert place["county_code"] == "370811" and place["county"] == "任城区"
    path, params = stub.requests[-1]
    assert params["address"] == "济宁火车站" and params["city"] == "济宁市" and params["key"] == "KEY"
    assert "KEY" not in response.get_data(as_text=True)


def test_stations_come_first_and_the_geocoder_is_not_asked(geo_app, stub):
    answer(stub, amap_found())
    body = places(geo_app.test_client(), "文化宫").get_json()
    assert [s["id"] for s in body["stations"]] == ["JN-CP-0001", "JN-CP-0002"]  # by name
    assert body["place"] is None and body["reason"] is None and stub.requests == []


@pytest.mark.parametrize(("body", "reason"), [(AMAP_EMPTY, "not_found"), (AMAP_QUOTA, "unavailable"),
                                              (amap_found(point=(121.47, 31.23)), "outside_area")])
def test_no_place_says_why(geo_app, stub, body, reason):
    answer(stub, body)
    result = places(geo_app.test_client(), "不存在的地方").get_json()
    assert result["place"] is None and result["reason"] == reason


def test_without_a_geocoder_the_reason_is_given(client):
    assert places(client, "济宁火车站").get_json() == {"q": "济宁火车站", "stations": [], "place": None,
                                                      "reason": "not_configured"}


def test_answers_are_cached_and_new_questions_are_limited_per_client(geo_app, stub):
    answer(stub, amap_found())
    client = geo_app.test_client()
    for q in ("济宁火车站", "济宁火车站", "济宁汽车站"):  # two questions asked (LOOKUP_RATE_LIMIT 2/minute)
        assert places(client, q).status_code == 200
    assert len(stub.requests) == 2
    limited = places(client, "济宁北站")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.get_json()["error"]["status"] == 429 and len(stub.requests) == 2


# ---- the list page: nearest stations to the place -------------------------------------------------------

def brute_nearest(point, statuses=("open", "temporarily_closed", "under_construction", "planned")):
    rows = []
    for f in STATION_FEATURES:
        p = f["properties"]
        if p["status"] not in statuses:
            continue
        lon, lat = f["geometry"]["coordinates"]
        rows.append((Geodesic.WGS84.Inverse(point[1], point[0], lat, lon)["s12"], p["id"]))
    return [sid for _, sid in sorted(rows)]


def test_the_list_falls_back_to_the_place_sorted_by_distance_from_it(geo_app, stub):
    answer(stub, amap_found())
    html = geo_app.test_client().get("/list", query_string={"q": "济宁火车站"}).get_data(as_text=True)
    assert "离“济宁火车站”最近的驿站" in html
    assert "按离“济宁火车站”的距离从近到远排列" in html
    listed = re.findall(r'href="/stations/([A-Z0-9-]+)\?lat=', html)
    assert listed == brute_nearest(STATION_PLACE)


def test_the_list_says_when_no_station_or_place_is_found(geo_app, stub):
    answer(stub, AMAP_EMPTY)
    html = geo_app.test_client().get("/list", query_string={"q": "火星基地"}).get_data(as_text=True)
    assert "没有找到驿站或地点“火星基地”" in html


def test_the_list_still_finds_stations_by_name_without_asking(geo_app, stub):
    answer(stub, amap_found())
    html = geo_app.test_client().get("/list", query_string={"q": "古槐路"}).get_data(as_text=True)
    assert "古槐路驿站" in html and stub.requests == []


def test_places_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/api/places"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "lang"}
    assert "429" in operation["responses"]
