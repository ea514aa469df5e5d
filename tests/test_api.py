"""The JSON API: parameters, filters, nearest search, errors, headers, OpenAPI, caching.

Expected answers are computed here from the fixture data (``conftest.STATION_FEATURES``) with
independent code: plain Python filters and GeographicLib's geodesic for distances.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from geographiclib.geodesic import Geodesic
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from stations.model import AMENITIES, KINDS, STATUSES
from conftest import COUNTY_BOXES, STATION_FEATURES, XSS_NAME

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_IDS = sorted(f["properties"]["id"] for f in STATION_FEATURES)


def props(sid: str) -> dict:
    return next(f["properties"] for f in STATION_FEATURES if f["properties"]["id"] == sid)


def position(sid: str) -> tuple[float, float]:
    lon, lat = next(f["geometry"]["coordinates"] for f in STATION_FEATURES if f["properties"]["id"] == sid)
    return lon, lat


def county_code(sid: str) -> str:
    """The fixture county of a station, from the boxes (not from the store's derivation)."""
    lon, lat = position(sid)
    return next(c for c, (_, (x0, y0, x1, y1), _) in COUNTY_BOXES.items() if x0 <= lon <= x1 and y0 <= lat <= y1)


def ids_of(collection: dict) -> list[str]:
    return [f["properties"]["id"] for f in collection["features"]]


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    return body["error"]


# ---- bad parameters: 400 JSON naming the parameter ---------------------------------------------

BAD_NEAREST = [
    ("lon=116.6", "lat", None),                       # missing
    ("lat=&lon=116.6", "lat", ""),                    # empty
    ("lat=abc&lon=116.6", "lat", "abc"),
    ("lat=91&lon=116.6", "lat", "91"),
    ("lat=-90.5&lon=116.6", "lat", "-90.5"),
    ("lat=35.4", "lon", None),
    ("lat=35.4&lon=NaN", "lon", "NaN"),
    ("lat=35.4&lon=inf", "lon", "inf"),
    ("lat=35.4&lon=181", "lon", "181"),
    ("lat=35.4&lon=0x10", "lon", "0x10"),
    ("lat=35.4&lon=1e999", "lon", "1e999"),
    ("lat=35.4&lat=35.5&lon=116.6", "lat", ["35.4", "35.5"]),
    ("lat=35.4&lon=116.6&k=0", "k", "0"),
    ("lat=35.4&lon=116.6&k=-1", "k", "-1"),
    ("lat=35.4&lon=116.6&k=1e9", "k", "1e9"),
    ("lat=35.4&lon=116.6&k=1000000000", "k", "1000000000"),
    ("lat=35.4&lon=116.6&k=51", "k", "51"),
    ("lat=35.4&lon=116.6&k=2.5", "k", "2.5"),
    ("lat=35.4&lon=116.6&kind=unknown", "kind", "unknown"),
    ("lat=35.4&lon=116.6&amenity=unknown", "amenity", "unknown"),
    ("lat=35.4&lon=116.6&amenity=toilet,sauna", "amenity", "sauna"),
    ("lat=35.4&lon=116.6&amenity=toilet&amenity=sauna", "amenity", "sauna"),
    ("lat=35.4&lon=116.6&open_now=maybe", "open_now", "maybe"),
    ("lat=35.4&lon=116.6&open_24_7=maybe", "open_24_7", "maybe"),
    ("lat=35.4&lon=116.6&open_24_7=2", "open_24_7", "2"),
    ("lat=35.4&lon=116.6&open_24_7=1&open_24_7=0", "open_24_7", ["1", "0"]),
    ("lat=35.4&lon=116.6&status=bogus", "status", "bogus"),
    ("lat=35.4&lon=116.6&max_distance_m=-1", "max_distance_m", "-1"),
    ("lat=35.4&lon=116.6&max_distance_m=abc", "max_distance_m", "abc"),
    ("lat=35.4&lon=116.6&at=yesterday", "at", "yesterday"),
    ("lat=35.4&lon=116.6&open_now=1&at=2026-01-01T10:00", "at", "2026-01-01T10:00"),
    ("lat=35.4&lon=116.6&at=2026-02-30T10:00", "at", "2026-02-30T10:00"),
    ("lat=35.4&lon=116.6&at=0001-01-01T00:00", "at", "0001-01-01T00:00"),
    ("lat=35.4&lon=116.6&at=0001-01-01T00:00%2B14:00", "at", "0001-01-01T00:00+14:00"),
    ("lat=35.4&lon=116.6&at=9999-12-31T23:59-12:00", "at", "9999-12-31T23:59-12:00"),
    ("lat=35.4&lon=116.6&crs=utm", "crs", "utm"),
]

BAD_STATIONS = [
    ("kind=unknown", "kind", "unknown"),
    ("county=123", "county", "123"),
    ("county=999999", "county", "999999"),
    ("county=北京市", "county", "北京市"),
    ("status=bogus", "status", "bogus"),
    ("status=open&status=closed", "status", ["open", "closed"]),
    ("amenity=unknown", "amenity", "unknown"),
    ("bbox=1,2,3", "bbox", "1,2,3"),
    ("bbox=a,b,c,d", "bbox", "a,b,c,d"),
    ("bbox=1,2,3,4,5", "bbox", "1,2,3,4,5"),
    ("bbox=117,35,116,36", "bbox", "117,35,116,36"),      # minlon > maxlon
    ("bbox=116,36,117,35", "bbox", "116,36,117,35"),      # minlat > maxlat
    ("bbox=0,0,200,10", "bbox", "0,0,200,10"),
    ("bbox=116,nan,117,36", "bbox", "116,nan,117,36"),
    ("crs=epsg4326", "crs", "epsg4326"),
]


@pytest.mark.parametrize("query,parameter,value", BAD_NEAREST)
def test_nearest_bad_parameter_answers_400_naming_it(client, query, parameter, value):
    error = error_of(client.get(f"/api/nearest?{query}"))
    assert error["parameter"] == parameter
    assert error.get("value") == value
    assert "allowed" in error["message"]


@pytest.mark.parametrize("query,parameter,value", BAD_STATIONS)
def test_stations_bad_parameter_answers_400_naming_it(client, query, parameter, value):
    error = error_of(client.get(f"/api/stations?{query}"))
    assert error["parameter"] == parameter
    assert error.get("value") == value
    assert "allowed" in error["message"]


def test_station_bad_crs_answers_400(client):
    error = error_of(client.get("/api/stations/JN-RS-0001?crs=mars"))
    assert error["parameter"] == "crs"


def test_unknown_kind_message_lists_the_allowed_values(client):
    message = error_of(client.get("/api/stations?kind=hotel"))["message"]
    for kind in KINDS:
        assert kind in message


def test_empty_optional_parameters_count_as_absent(client):
    body = client.get("/api/stations?kind=&county=&status=&amenity=&bbox=&crs=").get_json()
    assert ids_of(body) == ALL_IDS


def test_unknown_parameters_are_ignored(client):
    assert client.get("/api/stations?_=12345").status_code == 200


def test_fuzzed_query_strings_never_answer_500(app):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    names = ["lat", "lon", "k", "kind", "amenity", "open_now", "open_24_7", "max_distance_m", "status", "at",
             "crs", "county", "bbox"]
    offsets = st.sampled_from(["", "Z", "+14:00", "-12:00", "+08:00"])
    values = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                       st.integers().map(str), st.sampled_from(list(AMENITIES) + list(KINDS) + list(STATUSES)),
                       st.builds(lambda d, o: d.isoformat() + o, st.datetimes(), offsets),
                       st.lists(st.floats(), min_size=4, max_size=4).map(lambda xs: ",".join(map(str, xs))))
    pairs = st.lists(st.tuples(st.sampled_from(names), values), max_size=6)
    client = app.test_client()

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(pairs=pairs, path=st.sampled_from(["/api/nearest", "/api/stations", "/api/stations/JN-RS-0001"]))
    def check(pairs, path):
        response = client.get(path, query_string=pairs)
        assert response.status_code in (200, 400), (path, pairs, response.get_data(as_text=True))
        assert response.is_json

    check()


# ---- /api/stations filters --------------------------------------------------------------------

def expected_ids(kind=None, county=None, status=None, amenities=(), bbox=None) -> list[str]:
    out = []
    for f in STATION_FEATURES:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        if kind and p["kind"] != kind:
            continue
        if county and county_code(p["id"]) != county:
            continue
        if status and p["status"] != status:
            continue
        if not set(amenities) <= set(p.get("amenities", [])):
            continue
        if bbox and not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
            continue
        out.append(p["id"])
    return sorted(out)


def test_stations_unfiltered_is_every_station_as_geojson(client):
    response = client.get("/api/stations")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert ids_of(body) == ALL_IDS
    for feature in body["features"]:
        sid = feature["properties"]["id"]
        assert feature["geometry"]["coordinates"] == list(position(sid))
        assert feature["properties"]["county_code"] == county_code(sid)  # derived where missing


@pytest.mark.parametrize("kind", list(KINDS))
def test_stations_filter_kind(client, kind):
    body = client.get(f"/api/stations?kind={kind}").get_json()
    assert ids_of(body) == expected_ids(kind=kind) and ids_of(body)


@pytest.mark.parametrize("county", list(COUNTY_BOXES))
def test_stations_filter_county_by_code_and_by_name(client, county):
    by_code = ids_of(client.get(f"/api/stations?county={county}").get_json())
    by_name = ids_of(client.get("/api/stations", query_string={"county": COUNTY_BOXES[county][0]}).get_json())
    assert by_code == by_name == expected_ids(county=county)
    assert by_code


@pytest.mark.parametrize("status", list(STATUSES))
def test_stations_filter_status(client, status):
    body = client.get(f"/api/stations?status={status}").get_json()
    assert ids_of(body) == expected_ids(status=status) and ids_of(body)


@pytest.mark.parametrize("query,amenities", [
    ("amenity=toilet", ("toilet",)),
    ("amenity=toilet,microwave", ("toilet", "microwave")),
    ("amenity=toilet&amenity=microwave", ("toilet", "microwave")),
    ("amenity=drinking_water&amenity=toilet,first_aid_kit", ("drinking_water", "toilet", "first_aid_kit")),
    ("amenity=repair_kit", ("repair_kit",)),
])
def test_stations_filter_amenity_requires_all(client, query, amenities):
    body = client.get(f"/api/stations?{query}").get_json()
    assert ids_of(body) == expected_ids(amenities=amenities)


@pytest.mark.parametrize("bbox", [
    (116.57, 35.40, 116.60, 35.43),
    (116.0, 35.0, 118.0, 36.0),
    (116.97, 35.12, 116.97, 35.12),  # a degenerate box exactly on a station
    (100.0, 20.0, 101.0, 21.0),
])
def test_stations_filter_bbox(client, bbox):
    body = client.get("/api/stations?bbox=" + ",".join(map(str, bbox))).get_json()
    assert ids_of(body) == expected_ids(bbox=bbox)


def test_stations_filters_combine(client):
    body = client.get("/api/stations?kind=rest_station&county=370811&status=open&amenity=toilet"
                      "&bbox=116.5,35.3,116.7,35.5").get_json()
    expected = expected_ids(kind="rest_station", county="370811", status="open", amenities=("toilet",),
                            bbox=(116.5, 35.3, 116.7, 35.5))
    assert ids_of(body) == expected == ["JN-RS-0001", "JN-RS-0004"]


def test_station_by_id(client):
    response = client.get("/api/stations/JN-CP-0001")
    assert response.status_code == 200
    feature = response.get_json()
    assert feature["type"] == "Feature"
    assert feature["properties"]["name"] == props("JN-CP-0001")["name"]
    assert feature["properties"]["palace_class"] == 1


def test_unknown_station_is_404_json(client):
    error = error_of(client.get("/api/stations/JN-RS-9999"), 404)
    assert "JN-RS-9999" in error["message"]


def test_unknown_api_path_is_404_json(client):
    error_of(client.get("/api/nope"), 404)


def test_wrong_method_is_405_json_with_allow(client):
    response = client.put("/api/stations")  # POST adds a station (staff only: web.write_api)
    error_of(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_xss_name_is_returned_as_data_not_markup(client):
    body = client.get("/api/stations/JN-RS-0010").get_json()
    assert body["properties"]["name"] == XSS_NAME  # JSON carries it verbatim; pages escape it


def test_crs_gcj02_moves_positions_a_few_hundred_metres(client):
    from stations.coords import gcj02_to_wgs84

    wgs = {f["properties"]["id"]: f for f in client.get("/api/stations").get_json()["features"]}
    body = client.get("/api/stations?crs=gcj02").get_json()
    assert body["coordinate_system"] == "gcj02"
    for feature in body["features"]:
        sid = feature["properties"]["id"]
        lon, lat = feature["geometry"]["coordinates"]
        lon0, lat0 = wgs[sid]["geometry"]["coordinates"]
        shift = Geodesic.WGS84.Inverse(lat0, lon0, lat, lon)["s12"]
        assert 100 < shift < 1000, (sid, shift)
        back = gcj02_to_wgs84(lon, lat)
        assert abs(back[0] - lon0) < 1e-6 and abs(back[1] - lat0) < 1e-6
    nearest = client.get("/api/nearest?lat=35.41&lon=116.59&crs=bd09").get_json()
    assert nearest["coordinate_system"] == "bd09" and nearest["query"] == {"lat": 35.41, "lon": 116.59}
    one = client.get("/api/stations/JN-RS-0001?crs=gcj02").get_json()
    assert one["coordinate_system"] == "gcj02" and one["geometry"]["coordinates"] != list(position("JN-RS-0001"))


CRS84 = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


@pytest.mark.parametrize("url,crs", [
    ("/api/stations", "wgs84"), ("/api/stations?crs=gcj02", "gcj02"), ("/api/stations?kind=rest_station&crs=bd09", "bd09"),
    ("/api/stations/JN-RS-0001", "wgs84"), ("/api/stations/JN-RS-0001?crs=gcj02", "gcj02"),
    ("/api/nearest?lat=35.41&lon=116.59", "wgs84"), ("/api/nearest?lat=35.41&lon=116.59&crs=gcj02", "gcj02"),
    ("/api/nearest?lat=35.41&lon=116.59&crs=bd09", "bd09"),
])
def test_the_coordinate_system_is_a_header_and_a_member_never_a_geojson_crs_member(client, url, crs):
    # GDAL and QGIS read a GeoJSON "crs" member as the old CRS object: a string there breaks them.
    response = client.get(url)
    body = response.get_json()
    assert "crs" not in body and all("crs" not in f for f in body.get("features", []))
    expected = {"wgs84": CRS84, "gcj02": "<urn:yizhan:crs:gcj02>", "bd09": "<urn:yizhan:crs:bd09>"}[crs]
    assert response.headers["Content-Crs"] == expected
    if crs == "wgs84":
        assert "coordinate_system" not in body  # RFC 7946: WGS-84 goes without saying
    else:
        assert body["coordinate_system"] == crs


# ---- /api/nearest against a brute force ----------------------------------------------------------

def brute_force(lon, lat, k=5, kind=None, amenities=(), statuses=("open",), ids=None, max_m=None):
    """Every fixture station's geodesic distance (GeographicLib), filtered, nearest first, ties by id."""
    rows = []
    for f in STATION_FEATURES:
        p = f["properties"]
        slon, slat = f["geometry"]["coordinates"]
        if kind and p["kind"] != kind:
            continue
        if not set(amenities) <= set(p.get("amenities", [])):
            continue
        if statuses and p["status"] not in statuses:
            continue
        if ids is not None and p["id"] not in ids:
            continue
        d = Geodesic.WGS84.Inverse(lat, lon, slat, slon)["s12"]  # geographiclib order: (lat, lon)
        if max_m is not None and d > max_m:
            continue
        rows.append((d, p["id"]))
    rows.sort()
    return rows[:k]


def assert_matches(body, expected):
    got = [(r["distance_m"], r["id"]) for r in body["results"]]
    assert [sid for _, sid in got] == [sid for _, sid in expected]
    for (d_got, _), (d_exp, _) in zip(got, expected):
        assert abs(d_got - d_exp) <= 0.051  # the API rounds to 0.1 m


QUERY_POINTS = [(116.5870, 35.4150), (116.59, 35.41), (116.80, 35.35), (117.1, 35.2), (116.45, 35.54),
                (116.0, 36.0), (120.0, 30.0)]


@pytest.mark.parametrize("lon,lat", QUERY_POINTS)
def test_nearest_agrees_with_brute_force(client, lon, lat):
    response = client.get(f"/api/nearest?lat={lat}&lon={lon}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["query"] == {"lat": lat, "lon": lon}
    assert_matches(body, brute_force(lon, lat))
    first = body["results"][0]
    assert set(first) == {"id", "name", "kind", "lon", "lat", "distance_m", "county_code", "status",
                          "amenities", "opening_hours"}


@pytest.mark.parametrize("query,kwargs", [
    ("k=1", {"k": 1}),
    ("k=50", {"k": 50}),
    ("kind=cultural_palace", {"kind": "cultural_palace"}),
    ("kind=convalescence_base&k=3", {"kind": "convalescence_base", "k": 3}),
    ("amenity=toilet,microwave", {"amenities": ("toilet", "microwave")}),
    ("amenity=drinking_water&amenity=toilet&k=10", {"amenities": ("drinking_water", "toilet"), "k": 10}),
    ("status=open,temporarily_closed&k=20", {"statuses": ("open", "temporarily_closed"), "k": 20}),
    ("status=planned&status=under_construction", {"statuses": ("planned", "under_construction")}),
    ("max_distance_m=1500&k=20", {"max_m": 1500, "k": 20}),
    ("max_distance_m=0", {"max_m": 0}),
])
def test_nearest_filters_agree_with_brute_force(client, query, kwargs):
    lon, lat = 116.6, 35.4
    body = client.get(f"/api/nearest?lat={lat}&lon={lon}&{query}").get_json()
    assert_matches(body, brute_force(lon, lat, **kwargs))


# Open at each time, by reading the fixture's opening hours by hand (2026-11-25 is a Wednesday).
OPEN_AT = {
    "2026-11-25T12:00": {"JN-RS-0001", "JN-RS-0002", "JN-RS-0005", "JN-RS-0007", "JN-RS-0010",
                         "JN-CP-0001", "JN-CP-0002", "JN-CB-0001"},
    "2026-11-25T23:00": {"JN-RS-0001", "JN-RS-0004", "JN-RS-0005", "JN-RS-0010", "JN-CB-0001"},
    "2026-11-29T10:00": {"JN-RS-0001", "JN-RS-0005", "JN-RS-0010", "JN-CP-0001", "JN-CP-0002", "JN-CB-0001"},
    "2026-11-25T03:00+00:00": {"JN-RS-0001", "JN-RS-0002", "JN-RS-0005", "JN-RS-0007", "JN-RS-0010",
                               "JN-CP-0001", "JN-CP-0002", "JN-CB-0001"},  # 11:00 in Shanghai
    "2026-11-25T16:00+00:00": {"JN-RS-0001", "JN-RS-0004", "JN-RS-0005", "JN-RS-0010",
                               "JN-CB-0001"},  # 00:00 Thursday in Shanghai
}


@pytest.mark.parametrize("at", list(OPEN_AT))
def test_nearest_open_at_a_time(client, at):
    lon, lat = 116.6, 35.4
    body = client.get("/api/nearest", query_string={"lat": lat, "lon": lon, "k": 50, "at": at}).get_json()
    assert_matches(body, brute_force(lon, lat, k=50, ids=OPEN_AT[at]))


def test_nearest_open_now_uses_shanghai_time(client):
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0, tzinfo=None)
    for attempt in range(3):  # retry if the minute turns between the two requests
        a = client.get("/api/nearest?lat=35.4&lon=116.6&k=50&open_now=1").get_json()
        b = client.get("/api/nearest", query_string={"lat": 35.4, "lon": 116.6, "k": 50,
                                                     "at": now.isoformat()}).get_json()
        if a == b:
            break
        now = datetime.now(SHANGHAI).replace(second=0, microsecond=0, tzinfo=None)
    assert a == b
    everyone = client.get("/api/nearest?lat=35.4&lon=116.6&k=50&open_now=0").get_json()
    assert {r["id"] for r in a["results"]} <= {r["id"] for r in everyone["results"]}


# Open around the clock, by reading the fixture by hand: every 24/7 station writes it literally.
ALWAYS_OPEN = {f["properties"]["id"] for f in STATION_FEATURES if f["properties"].get("opening_hours") == "24/7"}


def test_always_open_fixture_set_is_what_we_think():
    assert ALWAYS_OPEN == {"JN-RS-0001", "JN-RS-0003", "JN-RS-0005", "JN-RS-0009", "JN-RS-0010", "JN-CB-0001"}


@pytest.mark.parametrize("lon,lat", QUERY_POINTS)
@pytest.mark.parametrize("query,kwargs", [
    ("open_24_7=1", {}),
    ("open_24_7=true&k=1", {"k": 1}),
    ("open_24_7=YES&k=50", {"k": 50}),
    ("open_24_7=on&k=50&status=open,temporarily_closed,closed",
     {"k": 50, "statuses": ("open", "temporarily_closed", "closed")}),
    ("open_24_7=1&kind=convalescence_base", {"kind": "convalescence_base"}),
    ("open_24_7=1&amenity=toilet&k=50", {"amenities": ("toilet",), "k": 50}),
    ("open_24_7=1&max_distance_m=20000&k=50", {"max_m": 20000, "k": 50}),
    ("open_24_7=1&at=2026-11-25T12:00&k=50", {"k": 50}),  # all 24/7 stations are open at noon
])
def test_nearest_open_24_7_agrees_with_brute_force(client, lon, lat, query, kwargs):
    body = client.get(f"/api/nearest?lat={lat}&lon={lon}&{query}").get_json()
    assert_matches(body, brute_force(lon, lat, ids=ALWAYS_OPEN, **kwargs))
    if "max_m" not in kwargs:
        assert body["results"], "every query point has some 24/7 station"


def test_nearest_open_24_7_finds_a_far_station_beyond_nearer_ones(client):
    # Next to 邹城 (JN-RS-0007, JN-CP-0002, JN-RS-0008 are nearer), the nearest 24/7 open one is far away.
    lon, lat = 116.975, 35.11
    body = client.get(f"/api/nearest?lat={lat}&lon={lon}&k=1&open_24_7=1").get_json()
    assert_matches(body, brute_force(lon, lat, k=1, ids=ALWAYS_OPEN))
    assert body["results"][0]["id"] not in {"JN-RS-0007", "JN-CP-0002"}


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_nearest_open_24_7_off_is_the_unfiltered_answer(client, value):
    body = client.get(f"/api/nearest?lat=35.4&lon=116.6&k=50&open_24_7={value}").get_json()
    assert_matches(body, brute_force(116.6, 35.4, k=50))


def test_nearest_shape_is_the_cli_json_shape(client):
    body = client.get("/api/nearest?lat=35.41&lon=116.59&k=2").get_json()
    assert list(body) == ["query", "results"]
    assert len(body["results"]) == 2


# ---- errors: one handler, JSON for /api, HTML elsewhere, no tracebacks ------------------------

@pytest.fixture
def boom_app(app):
    def boom():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/api/boom", "api_boom", boom)
    app.add_url_rule("/boom", "boom", boom)
    return app


def test_unexpected_error_is_generic_500_json_on_api(boom_app, caplog):
    response = boom_app.test_client().get("/api/boom")
    error = error_of(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert "RuntimeError" not in error["message"]
    assert any("secret internal detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_unexpected_error_is_generic_500_html_elsewhere(boom_app):
    response = boom_app.test_client().get("/boom")
    assert response.status_code == 500 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text


def test_html_404_page_elsewhere(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_domain_errors_map_to_status(app):
    from stations.errors import Conflict, NotFound, Problem, ValidationError

    def raiser(exc):
        def view():
            raise exc
        return view

    app.add_url_rule("/api/t400", "t400", raiser(ValidationError([Problem("query", "f", "<b>", "x"),
                                                                   Problem("query", "g", 1, "y")])),
                     methods=["GET", "POST"])
    app.add_url_rule("/api/t404", "t404", raiser(NotFound("no such thing")))
    app.add_url_rule("/api/t409", "t409", raiser(Conflict("already there")))
    app.add_url_rule("/t400", "t400html", raiser(ValidationError(Problem("query", "f", "<b>x</b>", "allowed: y"))))
    client = app.test_client()
    e400 = error_of(client.get("/api/t400"), 400)
    assert e400["parameter"] == "f" and e400["value"] == "<b>" and len(e400["problems"]) == 2
    assert error_of(client.post("/api/t400"), 400)["parameter"] == "f"
    error_of(client.get("/api/t404"), 404)
    assert error_of(client.get("/api/t409"), 409)["message"] == "already there"
    html = client.get("/t400")
    assert html.status_code == 400 and html.mimetype == "text/html"
    assert "<b>x</b>" not in html.get_data(as_text=True)  # escaped
    assert "&lt;b&gt;x&lt;/b&gt;" in html.get_data(as_text=True)


def test_invalid_data_on_disk_is_a_logged_500_not_the_clients_400(client, stations_path, caplog):
    collection = json.loads(stations_path.read_text(encoding="utf-8"))
    collection["features"][0]["properties"]["phone"] = "call me maybe"
    stations_path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    for url in ("/api/stations", "/api/nearest?lat=35.4&lon=116.6"):
        error = error_of(client.get(url), 500)
        assert "call me maybe" not in error["message"] and "parameter" not in error
    assert any("call me maybe" in r.getMessage() for r in caplog.records)


# ---- security headers and CORS -----------------------------------------------------------------

def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_security_headers(response):
    csp = csp_of(response)
    assert csp["default-src"] == ["'self'"]
    assert "'self'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]
    assert "data:" in csp["img-src"]
    assert "frame-ancestors" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/api/health", "/api/stations", "/api/nearest?lat=x", "/api/stations/nope",
                                  "/api/openapi.json", "/no/such/page", "/", "/list"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert_security_headers(response)


def test_csp_nonce_is_per_request_and_matches_the_template(app):
    from flask import render_template_string

    app.add_url_rule("/t-nonce", "t_nonce",
                     lambda: render_template_string('<script nonce="{{ csp_nonce() }}">1</script>'))
    client = app.test_client()
    nonces = []
    for _ in range(2):
        response = client.get("/t-nonce")
        nonce = re.search(r'nonce="([^"]+)"', response.get_data(as_text=True)).group(1)
        assert f"'nonce-{nonce}'" in csp_of(response)["script-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


def test_csp_tile_hosts_and_framing_follow_config(app_config):
    from web import create_app

    default = create_app(app_config).test_client().get("/api/health")
    assert csp_of(default)["frame-ancestors"] == ["'self'"]  # only the embed may be framed by other sites
    assert csp_of(create_app(app_config).test_client().get("/embed"))["frame-ancestors"] == ["*"]
    assert "https://tile.openstreetmap.org" in csp_of(default)["img-src"]

    app = create_app({**app_config, "TILE_URL": "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png",
                      "EMBED_ALLOWED_ORIGINS": ["https://www.jining.gov.cn"]})
    csp = csp_of(app.test_client().get("/embed"))
    assert "https://*.tiles.example.org:8443" in csp["img-src"]
    assert csp["frame-ancestors"] == ["'self'", "https://www.jining.gov.cn"]

    local = create_app({**app_config, "TILE_URL": "/test-tiles/{z}/{x}/{y}.png", "EMBED_ALLOWED_ORIGINS": []})
    csp = csp_of(local.test_client().get("/api/health"))
    assert csp["img-src"] == ["'self'", "data:", "blob:"] and csp["frame-ancestors"] == ["'self'"]

    hosts = create_app({**app_config, "TILE_HOSTS": "https://t0.example.cn https://t1.example.cn"})
    assert {"https://t0.example.cn", "https://t1.example.cn"} <= set(csp_of(hosts.test_client().get("/")
                                                                           )["img-src"])


# ---- ETag / 304 -----------------------------------------------------------------------------------

def test_stations_etag_and_304(client, stations_path, app):
    first = client.get("/api/stations")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/stations", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert_security_headers(again)

    filtered = client.get("/api/stations?kind=cultural_palace")
    assert filtered.headers["ETag"] != etag  # a different representation
    assert client.get("/api/stations?kind=cultural_palace",
                      headers={"If-None-Match": filtered.headers["ETag"]}).status_code == 304

    # A change to the data gives a new ETag and the new data, even for the cached whole-map answer.
    with app.app_context():
        from web.state import state
        state().store.update("JN-RS-0001", {"name": "改名驿站"}, who="test")
    changed = client.get("/api/stations", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    names = {f["properties"]["id"]: f["properties"]["name"] for f in changed.get_json()["features"]}
    assert names["JN-RS-0001"] == "改名驿站"
    nearest = client.get("/api/nearest?lat=35.415&lon=116.587&k=1").get_json()
    assert nearest["results"][0]["name"] == "改名驿站"  # the index follows the store version


@pytest.mark.parametrize("path", ["/api/stations/JN-RS-0001", "/api/counties", "/api/openapi.json"])
def test_other_etags_and_304(client, path):
    etag = client.get(path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_requests(client):
    response = client.head("/api/stations")
    assert response.status_code == 200 and response.get_data() == b""


# ---- counties and health ----------------------------------------------------------------------------

def test_counties_outlines(client):
    body = client.get("/api/counties").get_json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["adcode"] for f in body["features"]] == sorted(COUNTY_BOXES)
    assert {f["properties"]["name"] for f in body["features"]} == {v[0] for v in COUNTY_BOXES.values()}


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


# ---- OpenAPI -------------------------------------------------------------------------------------------

@pytest.fixture
def openapi_doc(client):
    return client.get("/api/openapi.json").get_json()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _pointer(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_document_is_well_formed(openapi_doc):
    doc = openapi_doc
    assert doc["openapi"].startswith("3.1.")
    assert doc["info"]["title"] and doc["info"]["version"]
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith(("/api/", "/ogc/")) or path == "/oembed"  # the JSON API, the OGC API, oEmbed
        for method, op in item.items():
            assert method in ("get", "post", "put", "patch", "delete", "head", "options")
            operation_ids.append(op["operationId"])
            assert op["responses"], path
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status) and response["description"]
                for media in response.get("content", {}).values():
                    Draft202012Validator.check_schema(media["schema"])
            templated = set(re.findall(r"{(\w+)}", path))
            for param in op.get("parameters", []):
                assert param["in"] in ("query", "path", "header") and param["description"]
                Draft202012Validator.check_schema(param["schema"])
                if param["in"] == "path":
                    assert param["required"] is True and param["name"] in templated
                    templated.discard(param["name"])
            assert not templated, f"{path}: undocumented path parameters {templated}"
    assert len(operation_ids) == len(set(operation_ids))
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for ref in set(_refs(doc)):
        _pointer(doc, ref)  # every reference resolves


def test_openapi_document_passes_the_openapi_31_schema(openapi_doc):
    validator = pytest.importorskip("openapi_spec_validator")  # in the [test] extras
    validator.validate(openapi_doc)


def test_openapi_enums_come_from_the_vocabulary(openapi_doc):
    params = {p["name"]: p for p in openapi_doc["paths"]["/api/nearest"]["get"]["parameters"]}
    assert params["kind"]["schema"]["enum"] == list(KINDS)
    assert params["amenity"]["schema"]["items"]["enum"] == list(AMENITIES)
    assert params["status"]["schema"]["items"]["enum"] == list(STATUSES)
    assert params["lat"]["required"] and params["lon"]["required"]
    assert params["open_24_7"]["schema"]["enum"] == params["open_now"]["schema"]["enum"]
    station_props = openapi_doc["components"]["schemas"]["StationFeature"]["properties"]["properties"]["properties"]
    assert station_props["kind"]["enum"] == list(KINDS)
    assert station_props["amenities"]["items"]["enum"] == list(AMENITIES)


def test_openapi_embeds_the_station_schema_file(openapi_doc):
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parent.parent / "stations" / "schema.json").read_text("utf-8"))
    schema.pop("$schema", None)
    schema.pop("$id", None)
    assert openapi_doc["components"]["schemas"]["StationFeature"] == schema


def test_every_api_route_is_documented_and_every_documented_route_exists(app, openapi_doc):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/ogc/")) or rule.rule == "/oembed":  # the JSON API, the OGC API, oEmbed
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {(path, method) for path, item in openapi_doc["paths"].items() for method in item}
    assert routes == documented


def response_validator(doc, path, method, status, media):
    registry = Registry().with_resource("urn:yizhan:openapi", Resource(contents=doc, specification=DRAFT202012))
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1")
                       for part in ["paths", path, method, "responses", str(status), "content", media, "schema"])
    return Draft202012Validator({"$ref": f"urn:yizhan:openapi#/{pointer}"}, registry=registry)


REAL_RESPONSES = [
    ("/oembed?url=http%3A%2F%2Flocalhost%2Fembed%3Fcounty%3D370883&maxwidth=400", "/oembed"),
    ("/oembed?url=http%3A%2F%2Fother.example%2Fembed", "/oembed"),
    ("/oembed?url=http%3A%2F%2Flocalhost%2Fembed&format=xml", "/oembed"),
    ("/oembed?url=http%3A%2F%2Flocalhost%2Fembed&maxheight=-1", "/oembed"),
    ("/api/nearest?lat=35.41&lon=116.59", "/api/nearest"),
    ("/api/nearest?lat=35.41&lon=116.59&k=50&status=open,closed,planned&amenity=drinking_water", "/api/nearest"),
    ("/api/nearest?lat=35.41&lon=116.59&crs=gcj02&at=2026-11-25T23:00", "/api/nearest"),
    ("/api/nearest?lat=35.41&lon=116.59&max_distance_m=1", "/api/nearest"),
    ("/api/nearest?lat=35.41&lon=116.59&open_24_7=1&k=3", "/api/nearest"),
    ("/api/nearest?lat=abc&lon=116.59", "/api/nearest"),
    ("/api/nearest?lat=35.41&lon=116.59&rank=open_first&serves=passing_worker&include=open_state,hours_text"
     "&now=2026-11-25T05:46", "/api/nearest"),
    ("/api/places?q=古槐路", "/api/places"),                  # web.lookups': stations first
    ("/api/places?q=济宁火车站", "/api/places"),              # no geocoder in the tests: no place, the reason
    ("/api/route?lat=35.41&lon=116.59&station=JN-RS-0001,JN-CP-0001", "/api/route"),
    ("/api/route?lat=35.41&lon=116.59&station=JN-XX-0000", "/api/route"),
    ("/api/map/markers?bbox=116.4,35.3,116.7,35.55&limit=3", "/api/map/markers"),  # web.markers'
    ("/api/stations", "/api/stations"),
    ("/api/stations?kind=cultural_palace&crs=bd09", "/api/stations"),
    ("/api/stations?bbox=1,2,3", "/api/stations"),
    ("/api/stations?limit=2&offset=2", "/api/stations"),
    ("/api/stations/JN-CP-0001", "/api/stations/{station_id}"),
    ("/api/stations/JN-CB-0001?crs=gcj02", "/api/stations/{station_id}"),
    ("/api/stations/JN-XX-0000", "/api/stations/{station_id}"),
    ("/api/counties", "/api/counties"),
    ("/api/counties/locate?lon=116.59&lat=35.41&crs=gcj02", "/api/counties/locate"),  # the staff form's lookups
    ("/api/counties/locate?lon=200&lat=35.41", "/api/counties/locate"),
    ("/api/hours/preview?text=Mo-Fr 08:00-18:00", "/api/hours/preview"),
    ("/api/hours/preview?text=Mo-Fr 25:00-18:00", "/api/hours/preview"),
    ("/api/health", "/api/health"),
    ("/api/openapi.json", "/api/openapi.json"),
    ("/api/coverage", "/api/coverage"),            # web.planning's, documented in the same document
    ("/api/coverage?radius_m=5", "/api/coverage"),
    ("/api/coverage/gaps", "/api/coverage/gaps"),
    ("/ogc/", "/ogc/"),                           # web.ogc's, documented in the same document
    ("/ogc/?f=xml", "/ogc/"),
    ("/ogc/conformance", "/ogc/conformance"),
    ("/ogc/collections", "/ogc/collections"),
    ("/ogc/collections/stations", "/ogc/collections/stations"),
    ("/ogc/collections/counties", "/ogc/collections/counties"),
    ("/ogc/collections/stations/items?limit=3&offset=3", "/ogc/collections/stations/items"),
    ("/ogc/collections/stations/items?limit=0", "/ogc/collections/stations/items"),
    ("/ogc/collections/counties/items?name=邹城市", "/ogc/collections/counties/items"),
    ("/ogc/collections/stations/items/JN-RS-0001", "/ogc/collections/stations/items/{item_id}"),
    ("/ogc/collections/stations/items/JN-XX-0000", "/ogc/collections/stations/items/{item_id}"),
    ("/ogc/collections/counties/items/370811", "/ogc/collections/counties/items/{item_id}"),
]


@pytest.mark.parametrize("url,path", REAL_RESPONSES)
def test_real_responses_match_the_documented_schemas(client, openapi_doc, url, path):
    response = client.get(url)
    responses = openapi_doc["paths"][path]["get"]["responses"]
    assert str(response.status_code) in responses, (url, response.status_code)
    content = responses[str(response.status_code)]["content"]
    assert response.mimetype in content, (url, response.mimetype)
    validator = response_validator(openapi_doc, path, "get", response.status_code, response.mimetype)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.get_json())]
    assert not errors, (url, errors[:5])


#: documented paths without a GET, whose real answers are checked against the document elsewhere
CHECKED_ELSEWHERE = {"/api/stations/{station_id}/reports"}  # POST: tests/test_reports.py


def test_every_documented_path_has_a_real_response_checked(openapi_doc):
    assert {path for _, path in REAL_RESPONSES} | CHECKED_ELSEWHERE == set(openapi_doc["paths"])


def test_schema_validation_catches_a_wrong_answer(openapi_doc):
    validator = response_validator(openapi_doc, "/api/nearest", "get", 200, "application/json")
    good = {"query": {"lat": 1, "lon": 2}, "results": []}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "results": [{"id": "x"}]})
    feature_validator = response_validator(openapi_doc, "/api/stations", "get", 200, "application/geo+json")
    assert not feature_validator.is_valid({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
         "properties": {"id": "JN-RS-0001", "name": "x", "kind": "hotel", "status": "open"}}]})
