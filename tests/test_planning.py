"""The planners' view over HTTP: /api/coverage(+/gaps), /planning and its downloads.

Expectations come from the fixture data (``tests/conftest.py``) and independent computations
(geographiclib areas and distances, brute-force grids), never from the code under test; where a
file is checked against the JSON, the JSON is the one the API served.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET

import pytest
import shapely
from geographiclib.geodesic import Geodesic
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from shapely.geometry import shape

from conftest import COUNTY_BOXES, STATION_FEATURES, XSS_NAME, county_of

GEOD = Geodesic.WGS84
CODES = sorted(COUNTY_BOXES)
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
CSV_HEADERS_ZH = ["行政区划代码", "县市区", "站点总数", "驿站数", "面积(km²)", "常住人口", "每百平方公里驿站",
                  "每十万人驿站", "覆盖率(%)", "最远距离(km)", "驿站目标", "目标完成(%)", "疗休养基地",
                  "新增后覆盖率(%)", "陆地面积(km²)", "全部面积覆盖率(%)"]


# ---- independent references ------------------------------------------------------------------

def box_area_km2(code: str) -> float:
    """Geodesic area of a fixture county box (geographiclib, edges as geodesics)."""
    minlon, minlat, maxlon, maxlat = COUNTY_BOXES[code][1]
    poly = GEOD.Polygon()
    for lon, lat in [(minlon, minlat), (maxlon, minlat), (maxlon, maxlat), (minlon, maxlat)]:
        poly.AddPoint(lat, lon)  # geographiclib takes (lat, lon)
    _, _, area_m2 = poly.Compute(False, True)
    return abs(area_m2) / 1e6


def fixture_stations(statuses=("open",), kind=None):
    """(id, kind, lon, lat, county) of fixture stations with a status in ``statuses``."""
    out = []
    for f in STATION_FEATURES:
        p = f["properties"]
        if p["status"] not in statuses or (kind and p["kind"] != kind):
            continue
        lon, lat = f["geometry"]["coordinates"]
        out.append((p["id"], p["kind"], lon, lat, p.get("county_code") or county_of(lon, lat)))
    return out


def nearest_m(lon, lat, points) -> float:
    return min(GEOD.Inverse(lat, lon, plat, plon)["s12"] for _, _, plon, plat, _ in points)


def expected_counts(statuses=("open",)):
    counts = {code: {"stations": 0, "rest_stations": 0} for code in CODES}
    for _, kind, _, _, code in fixture_stations(statuses):
        counts[code]["stations"] += 1
        counts[code]["rest_stations"] += kind == "rest_station"
    return counts


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()


# ---- /api/coverage -------------------------------------------------------------------------------

def test_coverage_api_has_the_shape_of_the_issue(client):
    body = get_json(client, "/api/coverage?radius_m=1000")
    assert body["radius_m"] == 1000 and body["include_planned"] is False
    assert isinstance(body["city"], dict) and body["suggestions"] == []
    assert [c["adcode"] for c in body["counties"]] == CODES
    for c in body["counties"]:
        for key in ("adcode", "name", "stations", "rest_stations", "area_km2", "population", "covered_share",
                    "worst_case_m", "worst_case_point", "target"):
            assert key in c, key
        assert c["name"] == COUNTY_BOXES[c["adcode"]][0]
        assert c["population"] == COUNTY_BOXES[c["adcode"]][2]
        assert 0 <= c["covered_share"] <= 1
        lon, lat = c["worst_case_point"]  # [lon, lat]
        minlon, minlat, maxlon, maxlat = COUNTY_BOXES[c["adcode"]][1]
        assert minlon - 1e-6 <= lon <= maxlon + 1e-6 and minlat - 1e-6 <= lat <= maxlat + 1e-6
        assert {"rest_stations", "convalescence_bases", "palaces_class_1_2"} <= set(c["target"])


@pytest.mark.parametrize("include_planned,statuses", [
    ("0", ("open",)), ("1", ("open", "under_construction", "planned"))])
def test_station_counts_follow_the_fixture_and_the_planned_switch(client, include_planned, statuses):
    body = get_json(client, f"/api/coverage?include_planned={include_planned}")
    expected = expected_counts(statuses)
    for c in body["counties"]:
        assert c["stations"] == expected[c["adcode"]]["stations"], c["adcode"]
        assert c["rest_stations"] == expected[c["adcode"]]["rest_stations"], c["adcode"]


def test_per_county_figures_add_up_to_the_city(client):
    body = get_json(client, "/api/coverage?radius_m=3000&new_sites=2")
    city, counties = body["city"], body["counties"]
    for key in ("stations", "rest_stations", "population"):
        assert city[key] == sum(c[key] for c in counties), key
    assert city["area_km2"] == pytest.approx(sum(c["area_km2"] for c in counties), abs=0.01)
    assert city["covered_km2"] == pytest.approx(sum(c["covered_km2"] for c in counties), abs=0.01)
    assert city["covered_share"] == pytest.approx(city["covered_km2"] / city["area_km2"], abs=1e-5)
    assert city["covered_km2_after"] == pytest.approx(sum(c["covered_km2_after"] for c in counties), abs=0.01)
    assert city["worst_case_m"] == max(c["worst_case_m"] for c in counties)
    assert city["target"]["rest_stations"]["target"] == 100  # the default city target, split over counties
    assert sum(c["target"]["rest_stations"]["target"] for c in counties) == 100
    assert sum(c["target"]["rest_stations"]["actual"] for c in counties) == city["rest_stations"]
    by_kind = {}
    for c in counties:
        for kind, n in c["by_kind"].items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    assert city["by_kind"] == by_kind


def test_covered_share_and_densities_match_an_independent_computation(client):
    # 兖州区 (370812) has one open rest station, 5.5 km from any border and 25 km from any other:
    # its 1 km circle lies wholly inside, so the covered area is that of a geodesic circle.
    body = get_json(client, "/api/coverage?radius_m=1000")
    c = next(c for c in body["counties"] if c["adcode"] == "370812")
    area = box_area_km2("370812")
    circle_km2 = math.pi * 1.0 ** 2  # a 1 km geodesic circle: pi R^2 within 1e-6 relative
    assert c["rest_stations"] == 1
    assert c["area_km2"] == pytest.approx(area, rel=1e-3)
    assert c["covered_share"] * 100 == pytest.approx(circle_km2 / area * 100, abs=0.05)
    assert c["rest_per_100km2"] == pytest.approx(100 / area, abs=6e-4)  # rounded to 0.001
    assert c["rest_per_100k_residents"] == pytest.approx(1e5 / COUNTY_BOXES["370812"][2], abs=6e-4)


def test_worst_case_matches_a_dense_grid(client):
    body = get_json(client, "/api/coverage?radius_m=1000")
    covering = fixture_stations(kind="rest_station")
    for c in body["counties"]:
        minlon, minlat, maxlon, maxlat = COUNTY_BOXES[c["adcode"]][1]
        n = 24
        grid = max(nearest_m(minlon + (maxlon - minlon) * i / n, minlat + (maxlat - minlat) * j / n, covering)
                   for i in range(n + 1) for j in range(n + 1))
        cell_m = math.hypot((maxlon - minlon) / n * 91_000, (maxlat - minlat) / n * 111_000)
        assert grid - 1.0 <= c["worst_case_m"] <= grid + cell_m, c["adcode"]
        lon, lat = c["worst_case_point"]
        assert nearest_m(lon, lat, covering) == pytest.approx(c["worst_case_m"], abs=1.0)


def test_one_county_by_adcode_or_by_name(client):
    by_code = get_json(client, "/api/coverage?county=370883")
    by_name = get_json(client, "/api/coverage?county=邹城市")
    assert [c["adcode"] for c in by_code["counties"]] == ["370883"]
    assert by_name["counties"] == by_code["counties"]
    assert by_code["city"]["rest_stations"] == by_code["counties"][0]["rest_stations"]


def test_new_sites_are_suggested_inside_the_counties_and_raise_coverage(client):
    body = get_json(client, "/api/coverage?radius_m=2000&new_sites=3")
    assert len(body["suggestions"]) == 3
    for s in body["suggestions"]:
        assert set(s) >= {"lon", "lat", "county_code", "gain"}
        assert county_of(s["lon"], s["lat"]) == s["county_code"]
        assert s["gain"] > 0
    assert body["city"]["covered_share_after"] > body["city"]["covered_share"]
    # each new 2 km circle adds at most its own area
    added = body["city"]["covered_km2_after"] - body["city"]["covered_km2"]
    assert 0 < added <= 3 * math.pi * 2.0 ** 2 + 0.01


BAD_PARAMS = [
    ("radius_m", "99"), ("radius_m", "20001"), ("radius_m", "-5"), ("radius_m", "abc"), ("radius_m", "nan"),
    ("radius_m", "inf"), ("radius_m", "1e9"), ("radius_m", "0x10"),
    ("county", "999999"), ("county", "<script>"), ("county", "济南市"),
    ("new_sites", "-1"), ("new_sites", "201"), ("new_sites", "1000000"), ("new_sites", "abc"), ("new_sites", "1.5"),
    ("new_sites", "1e2"), ("include_planned", "maybe"),
]
CASES = [(path, name, value) for path in ("/api/coverage", "/api/coverage/gaps") for name, value in BAD_PARAMS] \
    + [("/api/coverage/gaps", "after", "perhaps")]


@pytest.mark.parametrize("path,name,value", CASES)
def test_bad_parameters_get_a_400_json_naming_them(client, path, name, value):
    response = client.get(path, query_string={name: value})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == name and error["value"] == value
    assert name in error["message"] and "allowed" in error["message"]


def test_a_parameter_given_twice_is_refused(client):
    response = client.get("/api/coverage?radius_m=500&radius_m=1000")
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "radius_m"


@pytest.mark.parametrize("path", ["/planning", "/planning/download.csv", "/planning/download.xlsx"])
def test_bad_parameters_on_pages_and_downloads_are_a_400_page_naming_them(client, path):
    response = client.get(path + "?radius_m=50")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "radius_m" in response.get_data(as_text=True)


def test_an_unknown_download_format_is_a_404(client):
    response = client.get("/planning/download.pdf")
    assert response.status_code == 404 and "pdf" in response.get_data(as_text=True)


def test_coverage_is_cached_per_store_version(app_config, monkeypatch):
    import web.background as background
    from web import create_app

    app = create_app({**app_config, "COVERAGE_EXECUTOR": "thread"})  # analyses in this process: countable
    client = app.test_client()
    calls = []
    real = background.analyse

    def counting(*args, **kwargs):
        calls.append(kwargs.get("radius_m"))
        return real(*args, **kwargs)

    monkeypatch.setattr(background, "analyse", counting)
    first = get_json(client, "/api/coverage?radius_m=1500")
    assert client.get("/planning?radius_m=1500").status_code == 200
    assert client.get("/planning/download.csv?radius_m=1500").status_code == 200
    assert client.get("/api/coverage/gaps?radius_m=1500").status_code == 200
    assert calls == [1500.0]
    # a new station changes the store's version: the next request sees it
    store = app.extensions["yizhan"].store
    feature = json.loads(json.dumps(STATION_FEATURES[0]))
    feature["id"] = feature["properties"]["id"] = "JN-RS-0099"
    feature["geometry"]["coordinates"] = [116.90, 35.20]
    feature["properties"]["county_code"] = "370883"
    store.add(feature)
    second = get_json(client, "/api/coverage?radius_m=1500")
    assert len(calls) == 2
    zou = lambda body: next(c for c in body["counties"] if c["adcode"] == "370883")  # noqa: E731
    assert zou(second)["rest_stations"] == zou(first)["rest_stations"] + 1


def test_etag_gives_304(client):
    first = client.get("/api/coverage?radius_m=800")
    assert first.headers.get("ETag")
    again = client.get("/api/coverage?radius_m=800", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data


# ---- /api/coverage/gaps ------------------------------------------------------------------------------

def geodesic_area_km2(geom) -> float:
    total = 0.0
    for poly in shapely.get_parts(geom):
        for i, ring in enumerate([poly.exterior, *poly.interiors]):
            p = GEOD.Polygon()
            for lon, lat in list(ring.coords)[:-1]:
                p.AddPoint(lat, lon)
            area = abs(p.Compute(False, True)[2]) / 1e6
            total += area if i == 0 else -area
    return total


def test_gaps_are_valid_polygons_inside_their_counties_that_complement_coverage(client):
    coverage = get_json(client, "/api/coverage?radius_m=2000")
    gaps = get_json(client, "/api/coverage/gaps?radius_m=2000")
    assert gaps["type"] == "FeatureCollection"
    by_code = {c["adcode"]: c for c in coverage["counties"]}
    assert sorted(f["properties"]["adcode"] for f in gaps["features"]) == CODES
    for f in gaps["features"]:
        code = f["properties"]["adcode"]
        geom = shape(f["geometry"])
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon") and geom.is_valid
        assert shapely.box(*COUNTY_BOXES[code][1]).buffer(1e-6).contains(geom)
        uncovered = by_code[code]["area_km2"] - by_code[code]["covered_km2"]
        assert geodesic_area_km2(geom) == pytest.approx(uncovered, rel=2e-3, abs=0.05)
        assert f["properties"]["area_km2"] == pytest.approx(uncovered, abs=0.01)
        # a station's own position is never in a gap
        for sid, _, lon, lat, where in fixture_stations(kind="rest_station"):
            if where == code:
                assert not geom.contains(shapely.Point(lon, lat)), sid


def test_gaps_after_new_sites_are_smaller(client):
    before = get_json(client, "/api/coverage/gaps?radius_m=2000&new_sites=2")
    after = get_json(client, "/api/coverage/gaps?radius_m=2000&new_sites=2&after=1")
    area = lambda fc: sum(f["properties"]["area_km2"] for f in fc["features"])  # noqa: E731
    assert area(after) < area(before)


def test_gaps_geojson_has_the_geojson_media_type(client):
    response = client.get("/api/coverage/gaps?radius_m=1000&county=370812")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert [f["properties"]["adcode"] for f in response.get_json()["features"]] == ["370812"]


# ---- downloads -----------------------------------------------------------------------------------

def test_csv_download_has_a_bom_chinese_headers_and_the_api_figures(client):
    api = get_json(client, "/api/coverage?radius_m=2000&new_sites=2")
    response = client.get("/planning/download.csv?radius_m=2000&new_sites=2&lang=zh")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert re.search(r'filename="[\w.-]+\.csv"', response.headers["Content-Disposition"])
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:len(CSV_HEADERS_ZH)] == CSV_HEADERS_ZH  # then the report's metadata (test_planning_exports)
    assert len(rows) == 1 + len(CODES) + 1
    col = {name: i for i, name in enumerate(rows[0])}
    for row, c in zip(rows[1:], api["counties"]):
        assert row[col["行政区划代码"]] == c["adcode"] and row[col["县市区"]] == c["name"]
        assert int(row[col["驿站数"]]) == c["rest_stations"]
        assert float(row[col["覆盖率(%)"]]) == pytest.approx(c["covered_share"] * 100, abs=0.006)
        assert float(row[col["新增后覆盖率(%)"]]) == pytest.approx(c["covered_share_after"] * 100, abs=0.006)
        assert float(row[col["最远距离(km)"]]) == pytest.approx(c["worst_case_m"] / 1000, abs=0.006)
    city = rows[-1]
    assert city[col["县市区"]] == "全市合计"
    assert int(city[col["驿站数"]]) == api["city"]["rest_stations"] == sum(int(r[col["驿站数"]]) for r in rows[1:-1])


def test_csv_in_english(client):
    response = client.get("/planning/download.csv?lang=en")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["adcode", "county"] and rows[-1][1] == "City total"


def test_xlsx_download_opens_and_matches_the_json(client):
    openpyxl = pytest.importorskip("openpyxl")
    api = get_json(client, "/api/coverage?radius_m=2000&new_sites=3")
    response = client.get("/planning/download.xlsx?radius_m=2000&new_sites=3")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    table, sites, readme = wb.worksheets  # the README sheet: test_planning_exports
    assert "2000" in str(table.cell(row=1, column=1).value)
    head = [cell.value for cell in table[2]]
    assert head == CSV_HEADERS_ZH
    col = {name: i for i, name in enumerate(head)}
    body = [[cell.value for cell in row] for row in table.iter_rows(min_row=3)]
    assert len(body) == len(CODES) + 1
    for row, c in zip(body, api["counties"]):
        assert row[col["行政区划代码"]] == c["adcode"]
        assert row[col["驿站数"]] == c["rest_stations"] and row[col["站点总数"]] == c["stations"]
        assert row[col["面积(km²)"]] == pytest.approx(c["area_km2"])
        assert row[col["覆盖率(%)"]] == pytest.approx(c["covered_share"] * 100, abs=0.006)
        assert row[col["最远距离(km)"]] == pytest.approx(c["worst_case_m"] / 1000, abs=0.006)
        assert row[col["驿站目标"]] == c["target"]["rest_stations"]["target"]
    assert body[-1][col["县市区"]] == "全市合计" and body[-1][col["驿站数"]] == api["city"]["rest_stations"]
    site_rows = [[cell.value for cell in row] for row in sites.iter_rows(min_row=2)]
    assert len(site_rows) == len(api["suggestions"]) == 3
    for rank, (row, s) in enumerate(zip(site_rows, api["suggestions"]), start=1):
        assert row[0] == rank and row[1] == pytest.approx(s["lon"]) and row[2] == pytest.approx(s["lat"])
        assert row[3] == s["county_code"] and row[4] == COUNTY_BOXES[s["county_code"]][0]


def test_geojson_download_holds_gaps_suggestions_and_worst_cases(client):
    api = get_json(client, "/api/coverage?radius_m=2000&new_sites=2")
    response = client.get("/planning/download.geojson?radius_m=2000&new_sites=2")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data.decode("utf-8"))
    assert data["type"] == "FeatureCollection"
    kinds = {}
    for f in data["features"]:
        assert f["type"] == "Feature" and shape(f["geometry"]).is_valid
        kinds.setdefault(f["properties"]["kind"], []).append(f)
    assert sorted(f["properties"]["adcode"] for f in kinds["gap"]) == CODES
    assert [(f["geometry"]["coordinates"], f["properties"]["rank"]) for f in kinds["suggestion"]] == \
        [([s["lon"], s["lat"]], i) for i, s in enumerate(api["suggestions"], start=1)]
    assert {f["properties"]["adcode"]: f["properties"]["distance_m"] for f in kinds["worst_case"]} == \
        {c["adcode"]: c["worst_case_m"] for c in api["counties"]}


def test_svg_map_download_is_well_formed_with_one_path_per_county(client):
    response = client.get("/planning/download.svg?radius_m=2000&new_sites=2")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    ns = {"s": "http://www.w3.org/2000/svg"}
    county_paths = root.findall("s:g[@class='counties']/s:path", ns)
    assert len(county_paths) == len(CODES) and all(p.get("fill") in PALETTE for p in county_paths)
    assert len(root.findall("s:g[@class='suggestions']/s:rect", ns)) == 2
    assert XSS_NAME not in response.get_data(as_text=True)


# ---- the page ------------------------------------------------------------------------------------

def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def map_layers(html: str) -> dict:
    """The planning map's layers: the JSON block the page script draws."""
    raw = html.split('<script type="application/json" id="yz-planning-data">', 1)[1].split("</script>", 1)[0]
    return json.loads(raw)


def test_planning_page_is_chinese_first_with_table_chart_and_map(client):
    html = page_text(client, "/planning")
    assert '<html lang="zh-CN">' in html and "驿站覆盖分析" in html
    table = html.split('id="county-table"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr ") == len(CODES)
    assert "全市合计" in table.split("<tfoot>", 1)[1]
    for name, *_ in COUNTY_BOXES.values():
        assert name in body
    assert "覆盖率(%)" in table and "最远距离(km)" in table and "目标完成(%)" in table
    assert 'class="bar-chart"' in html and html.count('class="bar"') == len(CODES)
    layers = map_layers(html)
    assert [f["properties"]["adcode"] for f in layers["counties"]["features"]] == CODES
    assert all(f["properties"]["fill"] in PALETTE for f in layers["counties"]["features"])
    assert sorted(f["properties"]["adcode"] for f in layers["gaps"]["features"]) == CODES
    assert layers["style"]["gapFill"] == "url(#yz-gap-hatch)" and 'id="yz-gap-hatch"' in html
    assert "/static/js/planning-map.js" in html
    for fmt in ("csv", "xlsx", "geojson", "svg"):
        assert f"/planning/download.{fmt}?" in html


def test_a_view_of_many_counties_draws_their_shares_only_and_one_county_everything(client, monkeypatch):
    """A province's or the country's view (more than DETAIL_MAX_COUNTIES counties) draws each county's
    share from coarse outlines, without gaps or stations, and says so; one county's view draws them all."""
    from web.planning import map as planning_map

    monkeypatch.setattr(planning_map, "DETAIL_MAX_COUNTIES", len(CODES) - 1)
    html = page_text(client, "/planning")
    layers = map_layers(html)
    assert [f["properties"]["adcode"] for f in layers["counties"]["features"]] == CODES
    assert layers["gaps"]["features"] == [] and layers["stations"] == [] and layers["detailed"] is False
    assert f"本视图含 {len(CODES)} 个县，地图只按覆盖率为各县着色" in html
    assert "choose a county above to see its gaps and stations" in page_text(client, "/planning?lang=en")
    svg = client.get("/planning/download.svg").get_data(as_text=True)
    assert svg.split('<g class="counties"', 1)[1].split("</g>", 1)[0].count("<path") == len(CODES)
    assert "<path" not in svg.split('<g class="gaps"', 1)[1].split("</g>", 1)[0]
    assert "<circle" not in svg.split('<g class="stations"', 1)[1].split("</g>", 1)[0]

    one = page_text(client, "/planning?county=370811")
    layers = map_layers(one)
    from stations.coverage import OPEN_STATUSES

    counted = [f["properties"]["name"] for f in STATION_FEATURES if f["properties"]["status"] in OPEN_STATUSES]
    assert layers["detailed"] is True and "本视图含" not in one
    assert sorted(s["name"] for s in layers["stations"]) == sorted(counted) and counted
    assert [f["properties"]["adcode"] for f in layers["gaps"]["features"]] == ["370811"]


def test_planning_page_in_english(client):
    html = page_text(client, "/planning?lang=en")
    assert '<html lang="en">' in html and "Station coverage" in html and "City total" in html


def test_planning_page_with_new_sites_lists_them(client):
    html = page_text(client, "/planning?radius_m=2000&new_sites=2&include_planned=1&county=370811")
    assert 'id="sug-title"' in html
    suggestions = map_layers(html)["suggestions"]
    assert [s["rank"] for s in suggestions] == [1, 2] and all(s["radius_m"] == 2000 for s in suggestions)
    table = html.split('<table class="suggestions">', 1)[1].split("</table>", 1)[0]
    assert table.split("<tbody>", 1)[1].count("<tr>") == 2
    assert 'name="include_planned" value="1" checked' in html
    assert '<option value="370811" selected>' in html


def test_planning_page_escapes_station_names_and_keeps_scripts_behind_the_csp(client):
    response = client.get("/planning")
    html = response.get_data(as_text=True)
    assert XSS_NAME not in html and "<img src=x" not in html
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r'<(?:script|img)[^>]+src="(?:https?:)?//', html)
    assert not re.search(r'<link[^>]+href="(?:https?:)?//', html)
    assert " on" + "click=" not in html and "javascript:" not in html


# ---- OpenAPI -------------------------------------------------------------------------------------

@pytest.fixture
def openapi_doc(client):
    return get_json(client, "/api/openapi.json")


def validator(doc, path, status, media):
    registry = Registry().with_resource("urn:yizhan:openapi", Resource(contents=doc, specification=DRAFT202012))
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1")
                       for part in ["paths", path, "get", "responses", str(status), "content", media, "schema"])
    return Draft202012Validator({"$ref": f"urn:yizhan:openapi#/{pointer}"}, registry=registry)


@pytest.mark.parametrize("url,path", [
    ("/api/coverage", "/api/coverage"),
    ("/api/coverage?radius_m=2500&new_sites=2&include_planned=1", "/api/coverage"),
    ("/api/coverage?county=370883", "/api/coverage"),
    ("/api/coverage?radius_m=5", "/api/coverage"),
    ("/api/coverage/gaps?radius_m=2000", "/api/coverage/gaps"),
    ("/api/coverage/gaps?new_sites=x", "/api/coverage/gaps"),
])
def test_coverage_answers_match_the_documented_schemas(client, openapi_doc, url, path):
    response = client.get(url)
    documented = openapi_doc["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented
    assert response.mimetype in documented[str(response.status_code)]["content"]
    errors = [e.message for e in validator(openapi_doc, path, response.status_code, response.mimetype)
              .iter_errors(response.get_json())]
    assert not errors, errors[:5]
    names = {p["name"] for p in openapi_doc["paths"][path]["get"]["parameters"]}
    assert {"radius_m", "county", "new_sites", "include_planned"} <= names


def test_on_amap_tiles_the_map_layers_are_drawn_in_gcj02(app_config):
    from stations.coords import wgs84_to_gcj02
    from web import create_app

    client = create_app({**app_config, "BASEMAP": "amap"}).test_client()
    data = get_json(client, "/api/coverage?radius_m=2000")  # the API stays WGS-84
    html = page_text(client, "/planning?radius_m=2000")
    drawn = [(w["lat"], w["lon"]) for w in map_layers(html)["worst"]]
    assert len(drawn) == len(CODES)  # one worst-case marker per county
    for c in data["counties"]:
        lon, lat = c["worst_case_point"]
        glon, glat = wgs84_to_gcj02(lon, lat)
        assert abs(glon - lon) > 0.003  # the offset is real: drawing WGS-84 would be ~500 m off
        assert any(abs(dlat - glat) < 2e-6 and abs(dlon - glon) < 2e-6 for dlat, dlon in drawn), c["adcode"]


@pytest.fixture
def empty_client(tmp_path, counties_path):
    from web import create_app

    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    return create_app({"STATIONS_PATH": str(path), "COUNTIES_PATH": str(counties_path), "TESTING": True,
                       "GEOCODER": "none"}).test_client()  # suggested sites' addresses: never the network


def test_without_any_station_everything_still_answers(empty_client):
    body = get_json(empty_client, "/api/coverage?new_sites=2&radius_m=5000")
    assert body["city"]["rest_stations"] == 0 and body["city"]["covered_share"] == 0
    assert all(c["worst_case_m"] is None for c in body["counties"])
    assert len(body["suggestions"]) == 2
    html = page_text(empty_client, "/planning?new_sites=2&radius_m=5000")
    assert html.count('class="bar"') == len(CODES)
    for fmt in ("csv", "xlsx", "geojson", "svg"):
        assert empty_client.get(f"/planning/download.{fmt}").status_code == 200, fmt


def test_an_odd_radius_is_rounded_to_the_100_m_step_in_links_files_and_answers(client):
    moved = client.get("/planning?radius_m=1234.56&new_sites=2&lang=en")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/planning?radius_m=1200&new_sites=2&lang=en"
    html = page_text(client, "/planning?radius_m=1200&new_sites=2")
    assert 'value="1200"' in html and "download.csv?radius_m=1200" in html and 'step="100"' in html
    assert get_json(client, "/api/coverage?radius_m=1234.56")["radius_m"] == 1200
    assert get_json(client, "/api/coverage?radius_m=1250")["radius_m"] == 1300  # halves round up
    response = client.get("/planning/download.xlsx?radius_m=1234.56")
    assert "1200m" in response.headers["Content-Disposition"]
