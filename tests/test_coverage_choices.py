"""The planner's choices in the analysis: which kinds cover, and water taken out of the land.

Expected figures come from the test's own geometry: circles of πR² inside the county, box areas from
``pyproj.Geod``, distances from ``Geod.inv``; never from the code under test.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import mapping

from stations.counties import Counties
from stations.coverage import analyse, covering_kinds
from stations.errors import ValidationError
from stations.model import Station
from stations.water import load_water, water_from_geometry

GEOD = Geod(ellps="WGS84")
R = 1000.0


def box(lon0, lat0, lon1, lat1):
    """A lon/lat box densified so that its straight and geodesic edges coincide (to well under a metre)."""
    return shapely.segmentize(shapely.box(lon0, lat0, lon1, lat1), 0.002)


def area_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(geom))[0]) / 1e6


def one_county(tmp_path, geom) -> Counties:
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"adcode": "370826", "name": "湖县", "population": 100_000},
        "geometry": mapping(geom)}]}), encoding="utf-8")
    return Counties.load(path)


def st(i, lon, lat, kind="rest_station", amenities=()) -> Station:
    return Station(id=f"S{i:03d}", name=f"站{i}", kind=kind, lon=lon, lat=lat, status="open",
                   amenities=tuple(amenities))


# ---- which kinds count ------------------------------------------------------------------------

COUNTY = box(116.0, 35.0, 116.3, 35.2)
# far apart (> 2R) and far from the border (> R): each covers a full circle of πR² inside the county
STATIONS = [
    st(1, 116.05, 35.05, "rest_station", ["drinking_water"]),
    st(2, 116.10, 35.05, "rest_station", ["seating"]),
    st(3, 116.15, 35.05, "cultural_palace", ["drinking_water", "toilet"]),
    st(4, 116.20, 35.05, "convalescence_base", ["drinking_water"]),
    st(5, 116.25, 35.05, "convalescence_base", []),
]


@pytest.mark.parametrize("kinds, covering", [
    (None, 2),                                    # rest stations only (1, 2)
    ("water", 3),                                 # every site offering drinking water (1, 3, 4)
    (("cultural_palace",), 1),                    # chosen kinds (3)
    ("convalescence_base,cultural_palace", 3),    # (3, 4, 5)
])
def test_the_chosen_kinds_decide_the_covered_share(tmp_path, kinds, covering):
    counties = one_county(tmp_path, COUNTY)
    out = analyse(counties, STATIONS, radius_m=R, kinds=kinds).to_dict()
    expected = covering * math.pi * R * R / 1e6 / area_km2(COUNTY)
    row = out["counties"][0]
    assert row["covered_share"] == pytest.approx(expected, abs=5e-4 * expected)
    assert row["covering_stations"] == covering and row["stations"] == 5
    assert out["kinds"] == list(covering_kinds(kinds))


def test_kinds_are_checked_and_ordered():
    assert covering_kinds(None) == ("rest_station",)
    assert covering_kinds(["convalescence_base", "rest_station"]) == ("rest_station", "convalescence_base")
    assert covering_kinds("water") == ("water",)
    with pytest.raises(ValidationError, match="kinds"):
        covering_kinds("teahouse")
    with pytest.raises(ValidationError, match="alone"):
        covering_kinds("water,rest_station")


# ---- water out of the land --------------------------------------------------------------------

BIG = box(116.0, 35.0, 116.4, 35.3)
LAKE = box(116.25, 35.15, 116.4, 35.3)  # the county's far corner is lake
HOME = (116.05, 35.05)


def test_a_water_mask_takes_its_area_out_of_the_land_and_the_worst_case_onto_land(tmp_path):
    counties = one_county(tmp_path, BIG)
    stations = [st(1, *HOME)]
    plain = analyse(counties, stations, radius_m=R).to_dict()
    lake = water_from_geometry(LAKE, name="lake-box")
    masked = analyse(counties, stations, radius_m=R, water=lake).to_dict()

    county_km2, lake_km2 = area_km2(BIG), area_km2(LAKE)
    row, before = masked["counties"][0], plain["counties"][0]
    assert row["area_km2"] == pytest.approx(county_km2, rel=1e-6) == before["area_km2"]
    assert row["land_km2"] == pytest.approx(county_km2 - lake_km2, rel=1e-5)
    assert row["water_km2"] == pytest.approx(lake_km2, rel=1e-4)
    circle_km2 = math.pi * R * R / 1e6
    assert row["covered_share"] == pytest.approx(circle_km2 / (county_km2 - lake_km2), rel=5e-4)
    assert row["covered_share_land"] == row["covered_share"]
    assert row["covered_share_all_area"] == pytest.approx(circle_km2 / county_km2, rel=5e-4)
    assert masked["area_basis"] == "land" and plain["area_basis"] == "all" and plain["water_mask"] is None
    assert masked["water_mask"]["name"] == "lake-box"
    assert before["land_km2"] is None and before["covered_share_land"] is None

    # without the mask the worst case is the lake's far corner; with it, the farthest point of the land
    far = (116.4, 35.3)
    assert before["worst_case_point"] == pytest.approx(list(far), abs=1e-5)
    land = shapely.difference(BIG, LAKE)
    xy = shapely.get_coordinates(land)  # the distance from one station is largest at a vertex
    _, _, d = GEOD.inv(np.full(len(xy), HOME[0]), np.full(len(xy), HOME[1]), xy[:, 0], xy[:, 1])
    assert row["worst_case_m"] == pytest.approx(float(np.max(d)), rel=1e-3)
    point = shapely.Point(row["worst_case_point"])
    assert not LAKE.buffer(-1e-6).contains(point) and land.buffer(1e-6).contains(point)
    assert masked["city"]["worst_case_m"] < plain["city"]["worst_case_m"]


def test_gaps_and_new_sites_stay_on_land(tmp_path):
    counties = one_county(tmp_path, BIG)
    lake = water_from_geometry(LAKE)
    result = analyse(counties, [st(1, *HOME)], radius_m=2000, new_sites=5, water=lake)
    gaps = result.gaps_geojson()
    gap = shapely.geometry.shape(gaps["features"][0]["geometry"])
    assert shapely.intersection(gap, LAKE.buffer(-1e-6)).is_empty
    assert area_km2(gap) == pytest.approx(area_km2(BIG) - area_km2(LAKE) - math.pi * 4, rel=2e-3)
    for s in result.to_dict()["suggestions"]:
        assert not LAKE.contains(shapely.Point(s["lon"], s["lat"]))


def test_a_water_mask_file_geojson_or_geopackage_in_another_crs(tmp_path):
    path = tmp_path / "water.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "name": "测试水面", "license": "CC0-1.0",
                                "features": [{"type": "Feature", "properties": {},
                                              "geometry": mapping(LAKE)}]}), encoding="utf-8")
    mask = load_water(path)
    assert mask.name == "测试水面" and mask.license == "CC0-1.0" and mask.polygons == 1
    assert area_km2(mask.geometry) == pytest.approx(area_km2(LAKE), rel=1e-9)

    geopandas = pytest.importorskip("geopandas")
    gpkg = tmp_path / "water.gpkg"
    geopandas.GeoDataFrame({"name": ["lake"]}, geometry=[LAKE], crs=4326).to_crs(3857).to_file(gpkg)
    from_gpkg = load_water(gpkg)
    assert area_km2(from_gpkg.geometry) == pytest.approx(area_km2(LAKE), rel=1e-6)

    bad = tmp_path / "points.geojson"
    bad.write_text(json.dumps({"type": "Point", "coordinates": [116.1, 35.1]}), encoding="utf-8")
    with pytest.raises(ValidationError, match="polygon"):
        load_water(bad)


def test_build_geodata_water_clips_a_source_to_the_counties_and_the_site_uses_it(tmp_path):
    from click.testing import CliRunner

    from yizhan.cli import main

    counties_path = tmp_path / "counties.geojson"
    counties_path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"adcode": "370826", "name": "湖县", "population": 1},
        "geometry": mapping(BIG)}]}), encoding="utf-8")
    source = tmp_path / "lakes.geojson"
    half_out = box(116.3, 35.2, 116.5, 35.4)  # half of it outside the county
    source.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(half_out)}),
                      encoding="utf-8")
    out = tmp_path / "water.geojson"
    result = CliRunner().invoke(main, ["build-geodata", "--water", str(source), "--counties", str(counties_path),
                                       "--out", str(out), "--water-license", "CC0-1.0",
                                       "--water-source-name", "test boxes"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["license"] == "CC0-1.0" and doc["source"] == "test boxes" and doc["name"] == "water.geojson"
    mask = load_water(out)
    assert area_km2(mask.geometry) == pytest.approx(area_km2(shapely.intersection(half_out, BIG)), rel=1e-5)
