"""The planner's page and files (issue 11): which kinds cover, water out of the land, the suggested sites'
places, and what every export says about itself.

A county box with a lake box in its corner and five stations of known kinds and amenities, far enough
apart that each covers a whole circle: expected shares are πR² per covering station over areas measured
here with ``pyproj.Geod``; distances with ``Geod.inv``. The geocoder is a local stub (``geocoder_stub``).
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely
from pyproj import Geod

from conftest import _station
from web import create_app
from web.settings import SettingError

pytest_plugins = ["geocoder_stub"]

GEOD = Geod(ellps="WGS84")
R = 1000.0
CODE = "370826"
COUNTY = (116.0, 35.0, 116.4, 35.3)
LAKE = (116.25, 35.15, 116.4, 35.3)  # the county's far corner is lake
STATIONS = [  # (id, kind, lon, lat, amenities)
    ("JN-RS-0001", "rest_station", 116.05, 35.05, ("drinking_water",)),
    ("JN-RS-0002", "rest_station", 116.10, 35.05, ("seating",)),
    ("JN-CP-0001", "cultural_palace", 116.15, 35.05, ("drinking_water", "toilet")),
    ("JN-CP-0002", "cultural_palace", 116.10, 35.12, ("drinking_water",)),
    ("JN-CB-0001", "convalescence_base", 116.20, 35.05, ()),
]
AMAP_REGEO = {"status": "1", "info": "OK", "infocode": "10000", "regeocode": {
    "formatted_address": "山东省济宁市微山县湖滨路8号",
    "addressComponent": {"district": "微山县", "adcode": CODE,
                         "streetNumber": {"street": "湖滨路", "number": "8号", "distance": "35"}}}}


def dense_box(minlon, minlat, maxlon, maxlat):
    return shapely.segmentize(shapely.box(minlon, minlat, maxlon, maxlat), 0.002)


def area_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(geom))[0]) / 1e6


CIRCLE_KM2 = math.pi * R * R / 1e6


@pytest.fixture
def counties_path(tmp_path):
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(dense_box(*COUNTY)),
        "properties": {"adcode": CODE, "name": "微山县", "area_km2": None, "population": 603_200}}]},
        ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def station_features():
    return [_station(sid, f"测试站{sid[-1]}{kind[:2]}", kind, lon, lat, CODE, hours="24/7", amenities=amenities)
            for sid, kind, lon, lat, amenities in STATIONS]


@pytest.fixture
def lake_path(tmp_path):
    path = tmp_path / "lake.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "name": "测试湖", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(dense_box(*LAKE))}]},
        ensure_ascii=False), encoding="utf-8")
    return path


def make_client(app_config, **config):
    return create_app({**app_config, "COVERAGE_EXECUTOR": "thread", "COVERAGE_TIME_BUDGET_S": 120,
                       "RATELIMIT_ENABLED": False, **config}).test_client()


def get_json(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return response.get_json()


# ---- which kinds count ------------------------------------------------------------------------

@pytest.mark.parametrize("query, covering", [
    ("", 2),                               # rest stations only: RS-1, RS-2
    ("kinds=water", 3),                    # every site offering drinking water: RS-1, CP-1, CP-2
    ("kinds=convalescence_base", 1),       # CB-1
    ("kinds=cultural_palace,rest_station", 4),
])
def test_the_kinds_chosen_change_the_covered_share_on_the_api_and_the_gaps(app_config, query, covering):
    client = make_client(app_config)
    data = get_json(client, f"/api/coverage?{query}")
    county_km2 = area_km2(dense_box(*COUNTY))
    expected = covering * CIRCLE_KM2 / county_km2
    assert data["counties"][0]["covered_share"] == pytest.approx(expected, rel=5e-4)
    assert data["counties"][0]["covering_stations"] == covering
    gaps = get_json(client, f"/api/coverage/gaps?{query}")
    assert gaps["features"][0]["properties"]["area_km2"] == pytest.approx(county_km2 - covering * CIRCLE_KM2,
                                                                          rel=1e-4)


def test_kinds_are_one_analysis_however_written_and_bad_ones_are_named(app_config):
    client = make_client(app_config)
    a = client.get("/api/coverage?kinds=rest_station,cultural_palace")
    b = client.get("/api/coverage?kinds=cultural_palace&kinds=rest_station")
    plain = client.get("/api/coverage")
    assert a.get_json()["kinds"] == b.get_json()["kinds"] == ["rest_station", "cultural_palace"]
    assert a.headers["ETag"] == b.headers["ETag"] != plain.headers["ETag"]
    assert client.get("/api/coverage", headers={"If-None-Match": a.headers["ETag"]}).status_code == 200
    assert client.get("/api/coverage?kinds=cultural_palace,rest_station",
                      headers={"If-None-Match": a.headers["ETag"]}).status_code == 304
    for bad, words in (("teahouse", "teahouse"), ("water,rest_station", "alone")):
        response = client.get(f"/api/coverage?kinds={bad}")
        assert response.status_code == 400 and "kinds" in response.get_data(as_text=True)
        assert words in response.get_data(as_text=True)
    spec = get_json(client, "/api/openapi.json")
    names = {p["name"] for p in spec["paths"]["/api/coverage"]["get"]["parameters"]}
    assert "kinds" in names


def test_the_page_states_the_kinds_and_keeps_them_in_its_links(app_config):
    client = make_client(app_config)
    html = client.get("/planning?kinds=water&lang=zh").get_data(as_text=True)
    assert "计入覆盖：提供饮水的所有站点" in html
    assert re.search(r'<option value="water" selected>提供饮水的所有站点</option>', html)
    assert "download.csv?radius_m=1000&amp;kinds=water" in html
    english = client.get("/planning?kinds=convalescence_base&lang=en").get_data(as_text=True)
    assert "covering: Convalescence base for model workers" in english


# ---- water out of the land --------------------------------------------------------------------

def test_a_water_mask_setting_takes_the_lake_out_of_the_land_and_the_worst_case(app_config, lake_path):
    plain = get_json(make_client(app_config), "/api/coverage")
    client = make_client(app_config, WATER_MASK_PATH=str(lake_path))
    data = get_json(client, "/api/coverage")
    county_km2, lake_km2 = area_km2(dense_box(*COUNTY)), area_km2(dense_box(*LAKE))
    row = data["counties"][0]
    assert data["area_basis"] == "land" and data["water_mask"]["name"] == "测试湖"
    assert row["area_km2"] == pytest.approx(county_km2, rel=1e-6)
    assert row["land_km2"] == pytest.approx(county_km2 - lake_km2, rel=1e-5)
    assert row["covered_share"] == pytest.approx(2 * CIRCLE_KM2 / (county_km2 - lake_km2), rel=5e-4)
    assert row["covered_share_all_area"] == pytest.approx(2 * CIRCLE_KM2 / county_km2, rel=5e-4)
    lake = shapely.box(*LAKE)
    assert lake.contains(shapely.Point(plain["counties"][0]["worst_case_point"]).buffer(-1e-9)) or \
        lake.boundary.distance(shapely.Point(plain["counties"][0]["worst_case_point"])) < 1e-6
    assert not lake.buffer(-1e-6).contains(shapely.Point(row["worst_case_point"]))
    # the farthest land vertex from the open rest stations, measured here
    land = shapely.difference(dense_box(*COUNTY), dense_box(*LAKE))
    xy = shapely.get_coordinates(land)
    dist = np.min([GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2]
                   for _, kind, lon, lat, _ in STATIONS if kind == "rest_station"], axis=0)
    assert row["worst_case_m"] == pytest.approx(float(dist.max()), rel=1e-3)

    html = client.get("/planning?lang=zh").get_data(as_text=True)
    assert "按陆地面积（已扣除水面" in html and "测试湖" in html


def test_a_mask_that_cannot_be_used_stops_the_start(app_config, tmp_path):
    bad = tmp_path / "water.geojson"
    bad.write_text(json.dumps({"type": "Point", "coordinates": [116.1, 35.1]}), encoding="utf-8")
    with pytest.raises(SettingError, match="WATER_MASK_PATH"):
        create_app({**app_config, "WATER_MASK_PATH": str(bad)})
    with pytest.raises(SettingError, match="does not exist"):
        create_app({**app_config, "WATER_MASK_PATH": str(tmp_path / "missing.geojson")})


# ---- the suggested sites' places ---------------------------------------------------------------

def nearest_rest_station(lon, lat):
    best = min((GEOD.inv(lon, lat, slon, slat)[2], sid) for sid, kind, slon, slat, _ in STATIONS
               if kind == "rest_station")
    return best[1], best[0]


def test_suggested_sites_carry_county_nearest_station_and_the_geocoders_address(app_config, stub, tmp_path):
    stub.answer = lambda path, params: (200, AMAP_REGEO, 0) if path == "/v3/geocode/regeo" else (404, {}, 0)
    client = make_client(app_config, GEOCODER="amap", AMAP_KEY="KEY", GEOCODER_URL=stub.url,
                         GEOCODER_MIN_DELAY_S=0, GEOCODER_TIMEOUT_S=2,
                         GEOCODER_CACHE_PATH=str(tmp_path / "geocode.sqlite3"))
    data = get_json(client, "/api/coverage?new_sites=2")
    assert len(data["suggestions"]) == 2 and len(stub.requests) == 2  # one question per site
    names = {f["properties"]["id"]: f["properties"]["name"] for f in json.loads(
        open(app_config["STATIONS_PATH"], encoding="utf-8").read())["features"]}
    for s in data["suggestions"]:
        assert s["county_code"] == CODE and s["county"] == "微山县"
        assert s["address"] == "山东省济宁市微山县湖滨路8号" and s["address_state"] == "found"
        sid, metres = nearest_rest_station(s["lon"], s["lat"])
        assert s["nearest_station"]["id"] == sid and s["nearest_station"]["name"] == names[sid]
        assert s["nearest_station"]["distance_m"] == pytest.approx(metres, abs=0.5)

    html = client.get("/planning?new_sites=2&lang=zh").get_data(as_text=True)
    assert len(stub.requests) == 2  # answered from the cache
    assert html.count("山东省济宁市微山县湖滨路8号") >= 2 and names[data["suggestions"][0]["nearest_station"]["id"]] in html
    layers = json.loads(re.search(r'id="yz-planning-data">(.*?)</script>', html, re.S).group(1))
    lines = layers["suggestions"][0]["lines"]
    assert any("湖滨路8号" in line for line in lines) and any("最近已有站点" in line for line in lines)

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/planning/download.xlsx?new_sites=2").data))
    sites = wb.worksheets[1]
    head = [c.value for c in sites[1]]
    first = {h: c.value for h, c in zip(head, sites[2])}
    assert first["最近地址或道路"] == "山东省济宁市微山县湖滨路8号" and first["县市区"] == "微山县"
    assert first["最近已有站点"] == data["suggestions"][0]["nearest_station"]["name"]
    geo = json.loads(client.get("/planning/download.geojson?new_sites=2").data)
    sug = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "suggestion"]
    assert sug[0]["address"] == "山东省济宁市微山县湖滨路8号" and sug[0]["county"] == "微山县"
    assert sug[0]["nearest_station_m"] == data["suggestions"][0]["nearest_station"]["distance_m"]


def test_without_a_geocoder_suggestions_still_say_county_and_nearest_station(app_config):
    client = make_client(app_config)
    data = get_json(client, "/api/coverage?new_sites=1")
    s = data["suggestions"][0]
    assert "address" not in s and s["county"] == "微山县" and s["nearest_station"]["distance_m"] > 0
    html = client.get("/planning?new_sites=1&lang=zh").get_data(as_text=True)
    assert "最近已有站点" in html and "最近地址或道路" not in html


# ---- every export says when, from what and how ------------------------------------------------

def expected_version(app_config) -> str:
    app = create_app(app_config)
    with app.app_context():
        from web.state import state
        return state().store.version


def test_every_export_says_when_from_which_data_and_with_which_settings(app_config, lake_path):
    (lake_path.parent / "evil.geojson").write_text(lake_path.read_text(encoding="utf-8").replace(
        '"测试湖"', '"=HYPERLINK(\\"http://x\\")"'), encoding="utf-8")
    config = {**app_config, "WATER_MASK_PATH": str(lake_path.parent / "evil.geojson")}
    client = make_client(config)
    version = expected_version(config)
    query = "radius_m=1500&kinds=water&new_sites=1&county=370826&include_planned=1"
    made = re.compile(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\)")

    raw = client.get(f"/planning/download.csv?{query}&lang=zh").data
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    col = {name: i for i, name in enumerate(rows[0])}
    assert rows[0][:2] == ["行政区划代码", "县市区"]  # still one table, header first
    for row in rows[1:]:
        assert made.fullmatch(row[col["制作时间（北京时间）"]])
        assert row[col["数据版本"]] == version and row[col["数据日期（最近核实）"]] == "2026-10-01"
        assert row[col["数据中的站点数"]] == str(len(STATIONS))
        assert row[col["示例数据"]] == "是：示例数据，非真实站点"
        assert row[col["服务半径（米）"]] == "1500" and row[col["计入覆盖的站点"]] == "提供饮水的所有站点"
        assert row[col["含在建和规划站点"]] == "是" and row[col["建议新增站点数"]] == "1"
        assert row[col["分析范围"]] == "微山县 (370826)"
        assert row[col["水面图层"]] == "'=HYPERLINK(\"http://x\")"  # never a formula
        assert row[col["覆盖率的面积口径"]] == "陆地面积（扣除水面）"

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/planning/download.xlsx?{query}&lang=en").data))
    readme = {r[0].value: r[1].value for r in wb["README"].iter_rows(min_row=2)}
    assert made.fullmatch(readme["Made (Beijing time)"]) and readme["Data version"] == version
    assert readme["Sample data"].startswith("yes") and readme["Radius (m)"] == "1500"
    assert readme["Sites counting towards coverage"] == "every site offering drinking water"
    cell = next(r[1] for r in wb["README"].iter_rows(min_row=2) if r[0].value == "Water mask")
    assert cell.value.startswith("'=") and cell.data_type == "s"

    geo = json.loads(client.get(f"/planning/download.geojson?{query}").data)
    assert geo["store_version"] == version and geo["sample"] is True and geo["kinds"] == ["water"]
    assert geo["radius_m"] == 1500 and geo["include_planned"] is True and geo["new_sites"] == 1
    assert geo["county"] == CODE and geo["data_date"] == "2026-10-01" and geo["stations_in_data"] == len(STATIONS)
    assert geo["area_basis"] == "land" and geo["water_mask"].startswith("=HYPERLINK")
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", geo["made_at"])

    svg = client.get(f"/planning/download.svg?{query}&lang=zh").get_data(as_text=True)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    meta = json.loads(root.find("s:metadata", ns).text)
    assert meta["store_version"] == version and meta["sample"] is True and meta["kinds"] == ["water"]
    assert "示例数据" in root.find("s:desc", ns).text
    footer = " ".join(t.text for t in root.findall("s:g[@class='footer']/s:text", ns))
    assert "服务半径（米）: 1500" in footer and "示例数据: 是" in footer and made.search(footer)
