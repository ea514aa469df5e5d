"""`yizhan coverage`: formats, bad input, skipped demand rows reported."""
import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from yizhan.cli import main

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--stations", str(ROOT / "geodata" / "stations.geojson"),
        "--counties", str(ROOT / "geodata" / "counties.geojson")]


def run(*args):
    return CliRunner().invoke(main, ["coverage", *args, *ARGS])


def test_json_counties_add_up_to_city():
    result = run("--radius", "2000", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["radius_m"] == 2000 and len(data["counties"]) == 11
    assert sum(c["rest_stations"] for c in data["counties"]) == data["city"]["rest_stations"]
    covered = sum(c["covered_share"] * c["area_km2"] for c in data["counties"])
    assert abs(covered - data["city"]["covered_share"] * data["city"]["area_km2"]) < 0.01


def test_one_county_csv_has_bom_and_chinese_headers():
    result = CliRunner().invoke(main, ["coverage", "--county", "370883", "--format", "csv", *ARGS])
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][1] == "县市区" and rows[1][1] == "邹城市"


def test_bad_radius_and_county_are_named():
    bad = run("--radius", "50")
    assert bad.exit_code == 1 and "radius_m" in bad.output and "50" in bad.output
    unknown = run("--county", "999999")
    assert unknown.exit_code == 1 and "999999" in unknown.output


def test_demand_rows_skipped_are_reported(tmp_path):
    demand = tmp_path / "demand.csv"
    demand.write_text("lon,lat,weight\n116.59,35.41,3\nabc,35.4,1\n116.6,35.42,-2\n", encoding="utf-8")
    result = run("--demand", str(demand), "--format", "json")
    assert result.exit_code == 0, result.output
    assert "skipped" in result.stderr and "row 3" in result.stderr and "row 4" in result.stderr


def test_table_lists_suggestions():
    result = run("--new-sites", "3", "--county", "370811")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("new site") == 3


def test_geojson_is_the_planners_download(tmp_path):
    """`--format geojson` and /planning/download.geojson are one document (stations.report.to_geojson)."""
    from web import create_app

    config = {"STATIONS_PATH": ARGS[1], "COUNTIES_PATH": ARGS[3], "INSTANCE_PATH": str(tmp_path), "TESTING": True,
              "COVERAGE_EXECUTOR": "thread", "COVERAGE_TIME_BUDGET_S": 120, "RATELIMIT_ENABLED": False,
              "GEOCODER": "none"}  # no addresses: the command line asks no geocoder
    client = create_app(config).test_client()
    for query, args in [("radius_m=2000&county=370883&new_sites=2", ["--radius", "2000", "--county", "370883",
                                                                     "--new-sites", "2"]),
                        ("radius_m=1000", ["--radius", "1000"])]:
        web = client.get(f"/planning/download.geojson?{query}")
        assert web.status_code == 200, web.get_data(as_text=True)[:300]
        result = run(*args, "--format", "geojson")
        assert result.exit_code == 0, result.output
        cli, page = json.loads(result.stdout), json.loads(web.get_data(as_text=True))
        for doc in (cli, page):  # made a moment apart
            assert doc.pop("made_at") and doc.pop("notice")
        assert cli == page
        kinds = {f["properties"]["kind"] for f in cli["features"]}
        assert {"gap", "worst_case"} <= kinds and ("suggestion" in kinds) == ("new_sites" in query)


def test_kinds_and_a_water_mask_on_the_command_line(tmp_path):
    """--kinds water counts every site offering drinking water; --water-mask takes the lake out (its area from
    the test's own box, measured with pyproj.Geod)."""
    import shapely
    from pyproj import Geod

    lake = shapely.segmentize(shapely.box(117.15, 34.6, 117.2, 34.65), 0.002)  # inside 微山县 (370826)
    counties = json.loads((ROOT / "geodata" / "counties.geojson").read_text(encoding="utf-8"))
    outline = next(shapely.geometry.shape(f["geometry"]) for f in counties["features"]
                   if f["properties"]["adcode"] == "370826")
    assert outline.contains(lake)
    path = tmp_path / "lake.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(lake)}),
                    encoding="utf-8")
    lake_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.geometry.polygon.orient(lake))[0]) / 1e6
    plain = json.loads(run("--county", "370826", "--format", "json").stdout)
    masked = run("--county", "370826", "--kinds", "water", "--water-mask", str(path), "--format", "json")
    assert masked.exit_code == 0, masked.output
    data = json.loads(masked.stdout)
    assert data["kinds"] == ["water"] and data["area_basis"] == "land" and data["water_mask"]["name"] == "lake.geojson"
    row = data["counties"][0]
    assert row["land_km2"] == pytest.approx(plain["counties"][0]["area_km2"] - lake_km2, abs=0.01)
    bad = run("--kinds", "teahouse")
    assert bad.exit_code == 1 and "teahouse" in bad.output


def test_the_csv_carries_when_from_what_and_how(tmp_path):
    result = run("--radius", "1500", "--kinds", "rest_station,cultural_palace", "--format", "csv", "--lang", "en")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    col = {name: i for i, name in enumerate(rows[0])}
    for row in rows[1:]:
        assert row[col["Radius (m)"]] == "1500" and row[col["Sample data"]].startswith("yes")
        assert row[col["Sites counting towards coverage"]] == "Outdoor workers' rest station, Workers' cultural palace"
