"""Station files: GeoJSON -> CSV / XLSX / KML / GeoPackage / Shapefile -> back gives the same stations.

Each file is read back by another program's reader (GDAL through pyogrio and geopandas, openpyxl,
the csv module), never by our own code; the metadata (attribution, licence, date, the word sample)
must be inside each file, and no CSV or XLSX cell may start a formula.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest

from conftest import STATION_FEATURES
from stations.exporting import FORMATS, METADATA_COLUMNS, SHAPEFILE_FIELDS, ExportInfo, export_stations, filename
from stations.model import Station

INJECTION = "=HYPERLINK(\"http://evil.example\",\"点我\")"
INJECTION_FEATURE = {
    "type": "Feature", "id": "JN-RS-0099", "geometry": {"type": "Point", "coordinates": [116.6123456, 35.4234567]},
    "properties": {"id": "JN-RS-0099", "name": INJECTION, "kind": "rest_station", "county_code": "370811",
                   "address": "+86 济宁市任城区", "phone": "-1", "host": "@工会", "status": "open",
                   "amenities": ["toilet"], "sample": True, "source": "\tcmd"},
}


def _stations(features=STATION_FEATURES) -> list[Station]:
    return sorted((Station.from_feature(f) for f in features), key=lambda s: s.id)


def _info(stations) -> ExportInfo:
    return ExportInfo.of(stations, title="济宁市 驿站 stations", attribution="驿站地图 (Yizhan) 测试",
                         license="CC-BY-4.0", source_url="http://127.0.0.1/api/stations",
                         now=datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc))


def _expected() -> dict[str, tuple[float, float, str]]:
    """id -> (lon, lat, name), from the fixture features themselves."""
    return {f["properties"]["id"]: (f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1],
                                    f["properties"]["name"]) for f in STATION_FEATURES}


def _check_same(found: dict[str, tuple[float, float, str]]) -> None:
    expected = _expected()
    assert sorted(found) == sorted(expected)
    for sid, (lon, lat, name) in expected.items():
        got_lon, got_lat, got_name = found[sid]
        assert got_lon == pytest.approx(lon, abs=1e-7) and got_lat == pytest.approx(lat, abs=1e-7), sid
        assert got_name == name, sid


def _write(tmp_path, fmt: str, features=STATION_FEATURES, lang: str = "zh"):
    stations = _stations(features)
    data = export_stations(stations, fmt, _info(stations), lang=lang)
    path = tmp_path / filename(fmt)
    path.write_bytes(data)
    return path, data


def test_info_dates_and_sample():
    stations = _stations()
    info = _info(stations)
    assert info.data_date == "2026-10-01"  # every fixture station was last verified then
    assert info.sample is True
    assert info.exported_at == "2026-11-26T16:00:00+08:00"  # Asia/Shanghai
    assert "sample" in info.notice and "CC-BY-4.0" in info.notice
    real = [Station(id="X-RS-0001", name="a", kind="rest_station", lon=1.0, lat=2.0)]
    assert ExportInfo.of(real, title="t").sample is False
    assert ExportInfo.of(real, title="t").data_date is None


def test_geojson_keeps_everything_and_carries_the_metadata(tmp_path):
    path, data = _write(tmp_path, "geojson")
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["sample"] is True and doc["license"] == "CC-BY-4.0" and doc["data_date"] == "2026-10-01"
    assert "sample" in doc["notice"] and doc["attribution"] == "驿站地图 (Yizhan) 测试"
    import geopandas as gpd
    frame = gpd.read_file(path)
    _check_same({r.id: (r.geometry.x, r.geometry.y, r["name"]) for _, r in frame.iterrows()})


@pytest.mark.parametrize("lang, id_col, name_col, lon_col, lat_col, sample_value", [
    ("zh", "编号", "名称", "经度", "纬度", "是"),
    ("en", "id", "name", "lon", "lat", "yes"),
])
def test_csv_round_trip(tmp_path, lang, id_col, name_col, lon_col, lat_col, sample_value):
    path, data = _write(tmp_path, "csv", lang=lang)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    header = list(rows[0])
    assert header[0] == id_col and header[-3:] == list(METADATA_COLUMNS)  # the header is the first row
    _check_same({r[id_col]: (float(r[lon_col]), float(r[lat_col]), r[name_col]) for r in rows})
    assert {r["license"] for r in rows} == {"CC-BY-4.0"}
    assert {r["data_date"] for r in rows} == {"2026-10-01"}
    assert {r["attribution"] for r in rows} == {"驿站地图 (Yizhan) 测试"}
    assert {r["sample" if lang == "en" else "示例数据"] for r in rows} == {sample_value}
    # GDAL reads it as a table with the same header
    import pyogrio
    frame = pyogrio.read_dataframe(path, X_POSSIBLE_NAMES=lon_col, Y_POSSIBLE_NAMES=lat_col)
    _check_same({r[id_col]: (r.geometry.x, r.geometry.y, r[name_col]) for _, r in frame.iterrows()})


def test_csv_export_imports_again_unchanged(tmp_path, app):
    """The API's CSV is the import's round-trip table: importing it changes nothing, and its metadata
    columns are read past (info, not warnings)."""
    from stations.importing import ImportOptions, plan_import, read_table
    from web.state import state

    with app.app_context():
        store, counties = state().store, state().counties
        stations = store.all()
        path = tmp_path / "again.csv"
        path.write_bytes(export_stations(stations, "csv", _info(stations), counties=counties))
        plan = plan_import(read_table(str(path)), store, counties, ImportOptions())
    assert plan.can_apply and not plan.has_changes
    codes = {p.code: p.severity for p in plan.file_problems}
    assert codes.get("metadata_header") == "info" and "unknown_header" not in codes
    assert not [p for p in plan.problems if p.severity != "info"]


def test_xlsx_round_trip_with_a_readme_sheet(tmp_path):
    from openpyxl import load_workbook

    path, _ = _write(tmp_path, "xlsx")
    wb = load_workbook(path)
    table, readme = wb.worksheets
    rows = list(table.iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    _check_same({r[col["编号"]]: (r[col["经度"]], r[col["纬度"]], r[col["名称"]]) for r in rows[1:]})
    meta = dict(list(readme.iter_rows(values_only=True))[1:])
    assert meta["license"] == "CC-BY-4.0" and meta["data_date"] == "2026-10-01"
    assert meta["attribution"] == "驿站地图 (Yizhan) 测试" and "sample" in meta["sample"]
    assert readme.title == "说明 README"


def test_kml_round_trip_with_document_metadata(tmp_path):
    path, data = _write(tmp_path, "kml")
    import pyogrio
    frame = pyogrio.read_dataframe(path)
    _check_same({r.id: (r.geometry.x, r.geometry.y, r["Name"]) for _, r in frame.iterrows()})
    from xml.etree import ElementTree as ET
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    doc = ET.fromstring(data).find("k:Document", ns)
    assert "sample" in doc.find("k:name", ns).text
    description = doc.find("k:description", ns).text
    assert "CC-BY-4.0" in description and "2026-10-01" in description and "驿站地图 (Yizhan) 测试" in description
    extended = {d.get("name"): d.find("k:value", ns).text for d in doc.find("k:ExtendedData", ns)}
    assert extended["license"] == "CC-BY-4.0" and extended["data_date"] == "2026-10-01"


def test_geopackage_round_trip_with_layer_metadata(tmp_path):
    path, _ = _write(tmp_path, "gpkg")
    import geopandas as gpd
    import pyogrio
    frame = gpd.read_file(path, layer="stations")
    _check_same({r.id: (r.geometry.x, r.geometry.y, r["name"]) for _, r in frame.iterrows()})
    assert frame.crs.to_epsg() == 4326
    info = pyogrio.read_info(path, layer="stations")
    assert "sample" in info["layer_metadata"]["DESCRIPTION"]
    assert info["layer_metadata"]["license"] == "CC-BY-4.0"
    assert info["layer_metadata"]["data_date"] == "2026-10-01"
    by_id = {r.id: r for _, r in frame.iterrows()}
    assert by_id["JN-CB-0001"]["beds"] == 120 and bool(by_id["JN-CB-0001"]["sample"]) is True


def test_shapefile_zip_round_trip_utf8_and_readme(tmp_path):
    path, data = _write(tmp_path, "shp")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"stations.shp", "stations.shx", "stations.dbf", "stations.prj", "stations.cpg",
                "README.txt"} <= names
        assert archive.read("stations.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        readme = archive.read("README.txt").decode("utf-8")
    assert "CC-BY-4.0" in readme and "2026-10-01" in readme and "sample" in readme
    for long, short in SHAPEFILE_FIELDS.items():
        assert len(short) <= 10 and f"{short:<10} {long}" in readme
    import geopandas as gpd
    frame = gpd.read_file(f"zip://{path}!stations.shp")
    assert all(len(c) <= 10 for c in frame.columns)
    _check_same({r.id: (r.geometry.x, r.geometry.y, r["name"]) for _, r in frame.iterrows()})
    assert {r.id: r["county"] for _, r in frame.iterrows()}["JN-RS-0005"] == "370812"


def test_formula_injection_is_neutralised_in_csv_and_xlsx(tmp_path):
    features = [*STATION_FEATURES, INJECTION_FEATURE]
    _, data = _write(tmp_path, "csv", features, lang="en")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    bad = rows["JN-RS-0099"]
    assert bad["name"] == "'" + INJECTION
    assert bad["address"].startswith("'+") and bad["phone"] == "'-1" and bad["host"] == "'@工会"
    assert bad["source"] == "'\tcmd"
    assert float(bad["lon"]) == pytest.approx(116.6123456, abs=1e-7)

    from openpyxl import load_workbook
    path, _ = _write(tmp_path, "xlsx", features, lang="en")
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
        if row[header.index("id")].value == "JN-RS-0099":
            assert row[header.index("name")].value == "'" + INJECTION


def test_a_control_character_is_refused_by_the_store_and_the_export_is_unchanged(client):
    """A vertical tab or a NUL pasted into an address is refused on the way in (issues 9, 10): no XLSX cell could
    hold it (XML 1.0), and an export -> import round trip would report a change."""
    from stations.errors import InvalidRecord

    store = client.application.extensions["yizhan"].store
    before = client.get("/api/stations?format=csv").data
    with pytest.raises(InvalidRecord) as caught:
        store.update("JN-RS-0001", {"address": "古槐路\x0b18号\x00"})
    assert [(p.record, p.field) for p in caught.value.problems] == [("JN-RS-0001", "address")]
    assert "without control characters" in caught.value.problems[0].allowed
    assert client.get("/api/stations?format=csv").data == before


def test_a_control_character_xlsx_cannot_hold_is_a_replacement_character_not_a_failed_export(tmp_path):
    """What the store refuses may still reach a spreadsheet unvalidated (an import report shows the cells as
    read): XLSX writes it as U+FFFD instead of failing, CSV as it is."""
    from openpyxl import load_workbook

    feature = json.loads(json.dumps(STATION_FEATURES[0]))
    feature["properties"]["address"] = "古槐路\x0b18号\x00"
    features = [feature, *STATION_FEATURES[1:]]
    for lang in ("zh", "en"):
        path, _ = _write(tmp_path, "xlsx", features, lang=lang)
        sheet = load_workbook(path).worksheets[0]
        header = [c.value for c in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == feature["properties"]["id"])
        assert row[header.index("地址" if lang == "zh" else "address")] == "古槐路\ufffd18号\ufffd"
    _, data = _write(tmp_path, "csv", features, lang="en")
    assert "古槐路\x0b18号\x00" in data.decode("utf-8-sig")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="geojson"):
        export_stations(_stations(), "dxf", _info(_stations()))
    assert set(FORMATS) == {"geojson", "csv", "xlsx", "kml", "gpkg", "shp"}
