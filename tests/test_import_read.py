"""Reading station lists as staff keep them: GBK and UTF-8-BOM CSV, XLSX with a title, merged header
cells and blank lines, GeoJSON; Chinese and English headers and values; DMS, GCJ-02 and BD-09
positions; swapped latitude/longitude. Every fixture file is written by the test, in ``tmp_path``."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from coord_reference import metres_apart, wgs_to_bd, wgs_to_gcj
from stations.counties import Counties
from stations.importing import ImportFileError, ImportOptions, plan_import, read_table
from stations.importing.hours_text import to_opening_hours
from stations.importing.positions import parse_degrees
from stations.store import GeoJSONStore

CSV_HEADER = "名称,类型,区县,地址,经度,纬度,电话,开放时间,设施,状态\n"


@pytest.fixture
def counties(counties_path):
    return Counties.load(counties_path)


@pytest.fixture
def store(stations_path, counties):
    return GeoJSONStore(stations_path, counties=counties)


def plan_of(path, store, counties, **options):
    return plan_import(read_table(path), store, counties, ImportOptions(**options))


def added(plan) -> dict:
    """name -> the Station a plan adds."""
    return {s.after.name: s.after for s in plan.added}


def codes(plan, row) -> list[str]:
    return [p.code for r in plan.rows if r.number == row for p in r.problems]


# ---- files and encodings ----------------------------------------------------------------------

def test_a_gbk_csv_with_chinese_headers_and_values(tmp_path, store, counties):
    path = tmp_path / "驿站.csv"
    text = CSV_HEADER + ("新世纪广场爱心驿站,爱心驿站,任城区,太白楼中路9号,116.6100,35.4300,0537-2211000,全天,饮水、卫生间、微波炉,正常\n"
                         "汽车站驿站,户外劳动者驿站,兖州区,建设路1号,116.8200,35.4700,0537-3300000,8:00—18:00,饮用水，手机充电,开放\n")
    path.write_bytes(text.encode("gbk"))
    plan = plan_of(path, store, counties)
    assert plan.table.encoding == "gb18030" and plan.can_apply, plan.problems
    a, b = added(plan)["新世纪广场爱心驿站"], added(plan)["汽车站驿站"]
    assert (a.kind, a.county_code, a.opening_hours, a.amenities, a.status) == (
        "rest_station", "370811", "24/7", ("drinking_water", "toilet", "microwave"), "open")
    assert (b.county_code, b.opening_hours, b.amenities) == ("370812", "08:00-18:00", ("drinking_water", "phone_charging"))
    assert a.id == "JN-RS-0011" and b.id == "JN-RS-0012"  # the next ids of their kind, as the store numbers them


def test_a_utf8_bom_csv_with_english_headers(tmp_path, store, counties):
    path = tmp_path / "stations.csv"
    path.write_bytes("name,kind,county,lon,lat,opening_hours,amenities\n"
                     "East gate,rest_station,370883,117.1000,35.2000,Mo-Fr 08:00-18:00,drinking_water;toilet\n"
                     .encode("utf-8-sig"))
    plan = plan_of(path, store, counties)
    assert plan.table.encoding == "utf-8-sig" and plan.table.headers[0] == "name"  # the BOM is not in the header
    station = added(plan)["East gate"]
    assert (station.county_code, station.opening_hours, station.amenities) == (
        "370883", "Mo-Fr 08:00-18:00", ("drinking_water", "toilet"))


def test_an_encoding_can_be_forced(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(CSV_HEADER.encode("gbk"))
    assert read_table(path, encoding="gbk").headers[0] == "名称"
    with pytest.raises(ImportFileError, match="not utf-8"):
        read_table(path, encoding="utf-8")


def write_workbook(path):
    """A list as a union office keeps it: a title merged across the top, a header of two rows (坐标
    merged over 经度 and 纬度, the other headers merged down both rows), blank lines, a county merged
    down two rows, a running number and a remarks column."""
    book = Workbook()
    ws = book.active
    ws.title = "驿站名单"
    ws.append(["济宁市户外劳动者驿站名单（2026年）"])
    ws.merge_cells("A1:K1")
    ws.append(["序号", "名称", "类型", "区县", "地址", "坐标", None, "电话", "开放时间", "服务设施", "备注"])
    ws.append([None, None, None, None, None, "经度", "纬度"])
    for col in "ABCDEHIJK":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("F2:G2")
    ws.append([1, "古槐路爱心驿站", "户外劳动者驿站", "任城区", "古槐路18号", "116°35'24\"E", "35°24′36″N", "05372345678",
               "周一至周五 8:00-18:00", "饮水、卫生间", "新建"])
    ws.append([])
    ws.append([2, "火炬路驿站", "爱心驿站", "任城区", "火炬路1号", 116.5000, 35.5000, "0537-1234567", "24小时", "热水 座椅", None])
    ws.append([3, "红星路驿站", "爱心驿站", None, "红星路2号", 116.5100, 35.5100, None, None, "饮用水", None])
    ws.merge_cells("D6:D7")
    ws.append([])
    ws.append([])
    book.create_sheet("填写说明").append(["项目", "说明"])
    book.save(path)


def test_an_xlsx_with_a_title_merged_header_cells_and_blank_lines(tmp_path, store, counties):
    path = tmp_path / "名单.xlsx"
    write_workbook(path)
    plan = plan_of(path, store, counties)
    table = plan.table
    assert table.sheet == "驿站名单" and table.header_rows == (2, 3)
    assert table.headers[:7] == ["序号", "名称", "类型", "区县", "地址", "经度", "纬度"]
    assert [r.number for r in table.rows] == [4, 6, 7]  # as the spreadsheet shows them; blank lines skipped
    assert plan.can_apply, [p.text("en") for p in plan.problems]
    got = added(plan)
    first = got["古槐路爱心驿站"]
    assert (first.lon, first.lat) == pytest.approx((116 + 35 / 60 + 24 / 3600, 35 + 24 / 60 + 36 / 3600))  # DMS
    assert first.opening_hours == "Mo-Fr 08:00-18:00" and first.phone == "05372345678"
    assert got["红星路驿站"].county_code == "370811"  # the county merged down two rows fills both
    assert got["火炬路驿站"].amenities == ("hot_water", "seating")
    file_codes = {p.code: p for p in plan.file_problems}
    assert file_codes["unknown_header"].value == "备注" and file_codes["unknown_header"].severity == "warning"
    assert file_codes["ignored_header"].value == "序号"  # a running number is not taken for an id


def test_a_sheet_can_be_chosen_and_an_unknown_one_is_named(tmp_path):
    path = tmp_path / "名单.xlsx"
    write_workbook(path)
    assert read_table(path, sheet="驿站名单").sheet == "驿站名单"
    with pytest.raises(ImportFileError) as caught:
        read_table(path, sheet="Sheet9")
    assert caught.value.row_problems[0].code == "unknown_sheet" and "驿站名单" in str(caught.value)
    with pytest.raises(ImportFileError, match="no header"):
        read_table(path, sheet="填写说明")


def test_a_geojson_file(tmp_path, store, counties):
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.95, 35.25]},
         "properties": {"name": "GIS驿站", "kind": "rest_station", "amenities": ["drinking_water", "wifi"]}}]},
        ensure_ascii=False), encoding="utf-8")
    station = added(plan_of(path, store, counties))["GIS驿站"]
    assert (station.lon, station.lat, station.county_code, station.amenities) == (
        116.95, 35.25, "370883", ("drinking_water", "wifi"))


def test_an_unreadable_file_is_named_briefly(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ImportFileError, match="not an XLSX"):
        read_table(tmp_path / "a.xlsx")
    with pytest.raises(ImportFileError, match="unsupported file type"):
        read_table(b"x", filename="a.doc")
    lone = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x\\ud800"}}]}'
    with pytest.raises(ImportFileError, match=r"lone surrogate in features\[0\]\.properties\.name"):
        read_table(lone, filename="a.geojson")


# ---- values -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, osm", [
    ("全天", "24/7"), ("24小时", "24/7"), ("8:00-18:00", "08:00-18:00"), ("8:00—18:00", "08:00-18:00"),
    ("周一至周五 8:00-18:00", "Mo-Fr 08:00-18:00"), ("9：00～17：30", "09:00-17:30"),
    ("周一至周五 8:00-18:00，周六 9:00-12:00", "Mo-Fr 08:00-18:00; Sa 09:00-12:00"),
    ("工作日 8:30-17:30；节假日休息", "Mo-Fr 08:30-17:30; PH off"), ("8:00-12:00、14:00-18:00", "08:00-12:00,14:00-18:00"),
    ("下午2点-6点", "14:00-18:00"), ("晚上8点-次日6点", "20:00-06:00"),
    ("Mo-Fr 08:00-18:00; PH off", "Mo-Fr 08:00-18:00; PH off"),  # OSM text is kept as written
])
def test_opening_hours_as_staff_write_them(text, osm):
    assert to_opening_hours(text) == osm


@pytest.mark.parametrize("text", ["看情况", "8:00", "周八 8:00-18:00", "25:00-26:00"])
def test_opening_hours_that_cannot_be_read_are_not_guessed(text):
    assert to_opening_hours(text) is None


@pytest.mark.parametrize("cell, degrees", [
    ("116.587", 116.587), (116.587, 116.587), ("116°35'24\"E", 116.59), ("35°24′36″N", 35.41), ("116 35 24", 116.59),
    ("北纬35度24分36秒", 35.41), ("E116.587", 116.587), ("35°24'36\"S", -35.41),
])
def test_degrees_decimal_or_dms(cell, degrees):
    assert parse_degrees(cell)[0] == pytest.approx(degrees, abs=1e-9)


def test_bad_values_reject_their_row_naming_row_column_value_and_reason(tmp_path, store, counties):
    path = tmp_path / "bad.csv"
    path.write_text(CSV_HEADER +
                    "好驿站,爱心驿站,任城区,a,116.61,35.43,,全天,饮水,开放\n"
                    "坏设施,爱心驿站,任城区,b,116.62,35.43,,全天,饮水、按摩椅,开放\n"
                    "坏时间,爱心驿站,任城区,c,116.63,35.43,,看情况,饮水,开放\n"
                    "坏类型,小卖部,任城区,d,116.64,35.43,,全天,饮水,开放\n"
                    "坏区县,爱心驿站,泰山区,e,116.65,35.43,,全天,饮水,开放\n"
                    "不符区县,爱心驿站,邹城市,f,116.66,35.43,,全天,饮水,开放\n"
                    "坏坐标,爱心驿站,任城区,g,东经一百,35.43,,全天,饮水,开放\n"
                    ",爱心驿站,任城区,h,116.67,35.43,,全天,饮水,开放\n", encoding="utf-8")
    plan = plan_of(path, store, counties)
    assert [r.number for r in plan.rejected] == [3, 4, 5, 6, 7, 8, 9] and not plan.can_apply
    problem = next(p for p in plan.problems if p.code == "unknown_amenity")
    assert (problem.row, problem.column, problem.value) == (3, "设施", "按摩椅")
    assert "按摩椅" in problem.message("zh") and "修理工具" not in problem.message("zh")
    assert "维修工具 (repair_kit)" in problem.message("zh")  # every allowed value, the last one too
    assert codes(plan, 4) == ["bad_hours"] and codes(plan, 5) == ["unknown_kind"]
    assert codes(plan, 6) == ["unknown_county"]
    mismatch = next(p for p in plan.problems if p.code == "county_mismatch")
    assert mismatch.row == 7 and "任城区" in mismatch.message("zh") and "邹城市" in mismatch.message("zh")
    assert codes(plan, 8) == ["bad_degrees"] and codes(plan, 9) == ["required"]


# ---- positions: DMS, GCJ-02, BD-09, swapped ---------------------------------------------------------

WGS = (116.6123456, 35.4321234)  # in the fixture county 370811


@pytest.mark.parametrize("crs, to_crs, within_m", [("wgs84", lambda lon, lat: (lon, lat), 0.01),
                                                   ("gcj02", wgs_to_gcj, 0.01), ("bd09", wgs_to_bd, 0.3)])
def test_gcj02_and_bd09_positions_are_converted_to_wgs84(tmp_path, store, counties, crs, to_crs, within_m):
    lon, lat = to_crs(*WGS)  # computed by the published formula, independently of the code under test
    path = tmp_path / "p.csv"
    path.write_text(f"名称,类型,经度,纬度\n换算驿站,爱心驿站,{lon:.10f},{lat:.10f}\n", encoding="utf-8")
    station = added(plan_of(path, store, counties, crs=crs))["换算驿站"]
    assert metres_apart((station.lon, station.lat), WGS) < within_m  # BD-09's standard inverse is ~0.2 m off
    if crs != "wgs84":
        assert metres_apart((lon, lat), WGS) > 300  # the offset really was there


def test_swapped_latitude_and_longitude_are_reported_and_fixed_only_when_asked(tmp_path, store, counties):
    path = tmp_path / "swapped.csv"
    path.write_text("名称,类型,经度,纬度\n颠倒驿站,爱心驿站,35.45,116.85\n远方驿站,爱心驿站,100.0,20.0\n", encoding="utf-8")
    plan = plan_of(path, store, counties)
    swapped = next(p for p in plan.problems if p.row == 2)
    assert swapped.code == "swapped" and swapped.is_error and "兖州区" in swapped.message("zh")
    assert codes(plan, 3) == ["outside"] and not plan.can_apply
    fixed = plan_of(path, store, counties, fix_swapped=True, skip_bad=True)
    station = added(fixed)["颠倒驿站"]
    assert (station.lon, station.lat, station.county_code) == (116.85, 35.45, "370812")
    assert codes(fixed, 2) == ["swapped_fixed"] and [r.number for r in fixed.rejected] == [3]


def test_hemisphere_letters_that_say_the_cells_are_exchanged_count_as_swapped(tmp_path, store, counties):
    path = tmp_path / "dms.csv"
    path.write_text("名称,类型,经度,纬度\n字母驿站,爱心驿站,35°27'N,116°51'E\n", encoding="utf-8")
    assert codes(plan_of(path, store, counties), 2) == ["swapped"]


def test_a_geopackage_in_another_crs_is_reprojected_to_wgs84(tmp_path, store, counties):
    geopandas = pytest.importorskip("geopandas")
    from shapely.geometry import Point

    frame = geopandas.GeoDataFrame({"名称": ["图层驿站"], "类型": ["爱心驿站"], "设施": ["饮水"]},
                                   geometry=[Point(116.95, 35.25)], crs=4326).to_crs(3857)  # Web Mercator metres
    frame.to_file(tmp_path / "stations.gpkg", layer="驿站", driver="GPKG")
    station = added(plan_of(tmp_path / "stations.gpkg", store, counties))["图层驿站"]
    assert (station.lon, station.lat) == pytest.approx((116.95, 35.25), abs=1e-7)
    assert station.county_code == "370883" and station.amenities == ("drinking_water",)
