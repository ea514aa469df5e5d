"""Demand layers as GIS files (GeoPackage, Shapefile): read with geopandas, reprojected to WGS-84.

Every layer is written here with geopandas from known points; what a test expects is computed from
those points (geodesic distances with pyproj), never through the reader under test.
"""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import geopandas
import pytest
from pyproj import Geod

from stations.coverage import analyse
from stations.demand import load_candidates, load_demand
from stations.errors import ValidationError
from test_coverage import square, station, write_counties

GEOD = Geod(ellps="WGS84")
# (lon, lat, weight), WGS-84; two points within RADIUS_M of STATION, one 2.8 km away
POINTS = [(116.521, 35.421, 10.0), (116.5205, 35.4215, 5.0), (116.54, 35.44, 5.0)]
STATION = (116.52, 35.42)
RADIUS_M = 500
UTM_50N = 32650


def expected_share() -> float:
    covered = sum(w for lon, lat, w in POINTS if GEOD.inv(*STATION, lon, lat)[2] <= RADIUS_M)
    return covered / sum(w for *_, w in POINTS)


def points_frame(epsg: int | None = 4326, weight_field: str = "weight") -> geopandas.GeoDataFrame:
    """POINTS as a GeoDataFrame in ``epsg`` (None: no CRS, coordinates left in degrees)."""
    frame = geopandas.GeoDataFrame(
        {weight_field: [w for *_, w in POINTS]},
        geometry=geopandas.points_from_xy([p[0] for p in POINTS], [p[1] for p in POINTS]),  # x = lon
        crs=4326)
    if epsg is None:
        return frame.set_crs(None, allow_override=True)
    return frame if epsg == 4326 else frame.to_crs(epsg)


def assert_points(layer) -> None:
    assert layer.lons.tolist() == pytest.approx([p[0] for p in POINTS], abs=1e-7)
    assert layer.lats.tolist() == pytest.approx([p[1] for p in POINTS], abs=1e-7)
    assert layer.weights.tolist() == [p[2] for p in POINTS]
    assert layer.rows_read == 3 and layer.skipped == []


@pytest.mark.parametrize("epsg", [4326, UTM_50N], ids=["wgs84", "utm50n"])
@pytest.mark.parametrize("name", ["demand.gpkg", "demand.shp"])
def test_geopackage_and_shapefile_demand_give_the_points_and_their_share(tmp_path, name, epsg):
    path = tmp_path / name
    points_frame(epsg).to_file(path, engine="pyogrio")
    assert_points(load_demand(path))
    counties = write_counties(tmp_path, [square(116.5, 35.4, 0.05, 0.05)])
    out = analyse(counties, [station(1, *STATION)], radius_m=RADIUS_M, demand=path).to_dict()
    assert out["counties"][0]["demand_share"] == pytest.approx(expected_share())
    assert out["demand"]["source"] == name and out["demand"]["points"] == 3


def test_zipped_shapefile_is_read_like_the_shapefile(tmp_path):
    points_frame(UTM_50N).to_file(tmp_path / "demand.shp", engine="pyogrio")
    archive = tmp_path / "demand.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("demand.*"):
            if part != archive:
                z.write(part, part.name)
    assert_points(load_demand(archive))


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the writer's warning: the point here
def test_layer_without_crs_is_wgs84_only_when_its_coordinates_are_degrees(tmp_path):
    degrees = tmp_path / "degrees.shp"
    points_frame(None).to_file(degrees, engine="pyogrio")
    assert not (tmp_path / "degrees.prj").exists()
    assert_points(load_demand(degrees))

    metres = tmp_path / "metres.shp"
    points_frame(UTM_50N).set_crs(None, allow_override=True).to_file(metres, engine="pyogrio")
    with pytest.raises(ValidationError) as err:
        load_demand(metres)
    [problem] = err.value.problems
    assert (problem.record, problem.field, problem.value) == ("metres.shp", "crs", None)
    assert ".prj" in problem.allowed and "not degrees" in problem.allowed


def test_bad_features_are_named_by_fid_with_field_and_reason(tmp_path):
    from shapely.geometry import LineString, Point

    frame = geopandas.GeoDataFrame(
        {"weight": [2.0, None, 1.0, -2.0, 1.0]},
        geometry=[Point(116.52, 35.42), Point(116.53, 35.43), LineString([(116.5, 35.4), (116.6, 35.5)]),
                  Point(116.54, 35.44), Point(116.55, 95.0)],
        crs=4326)
    path = tmp_path / "bad.gpkg"
    frame.to_file(path, engine="pyogrio")  # a GeoPackage numbers its features from fid 1
    layer = load_demand(path)
    assert len(layer) == 1 and layer.rows_read == 5
    assert {(p.record, p.field, p.value) for p in layer.skipped} == {
        ("bad.gpkg fid 2", "weight", None),
        ("bad.gpkg fid 3", "geometry.type", "LineString"),
        ("bad.gpkg fid 4", "weight", -2.0),
        ("bad.gpkg fid 5", "geometry.y", 95.0),
    }
    json.dumps(layer.report(), allow_nan=False)  # a missing weight is null, not NaN
    with pytest.raises(ValidationError) as err:
        load_demand(path, strict=True)
    assert "fid 3" in str(err.value) and "'Point'" in str(err.value)


def test_weight_field_layers_and_candidates(tmp_path):
    path = tmp_path / "workers.gpkg"
    points_frame(UTM_50N, weight_field="workers").to_file(path, engine="pyogrio")
    with pytest.raises(ValidationError, match="a field named 'weight'"):
        load_demand(path)
    assert_points(load_demand(path, weight_field="workers"))
    candidates = load_candidates(path)
    assert candidates.weights.tolist() == [1.0, 1.0, 1.0]

    two = tmp_path / "two.gpkg"
    points_frame().to_file(two, layer="depots", engine="pyogrio")
    points_frame().to_file(two, layer="hubs", engine="pyogrio")
    with pytest.raises(ValidationError) as err:
        load_demand(two)
    assert err.value.problems[0].value == ["depots", "hubs"]

    broken = tmp_path / "broken.gpkg"
    broken.write_text("not a GeoPackage", encoding="utf-8")
    with pytest.raises(ValidationError, match="GeoPackage"):
        load_demand(broken)
    with pytest.raises(ValidationError, match="an existing file"):
        load_demand(tmp_path / "missing.shp")


def test_gcj02_degrees_in_a_geopackage_are_converted(tmp_path):
    from stations.coords import wgs84_to_gcj02

    frame = points_frame()
    shifted = [wgs84_to_gcj02(lon, lat) for lon, lat, _ in POINTS]
    frame.geometry = geopandas.points_from_xy([s[0] for s in shifted], [s[1] for s in shifted], crs=4326)
    path = tmp_path / "amap.gpkg"
    frame.to_file(path, engine="pyogrio")
    assert_points(load_demand(path, crs="gcj02"))


def test_the_web_starts_without_importing_geopandas(app_config):
    code = ("import sys, web; web.create_app(%r); "
            "print('geopandas' in sys.modules, 'pyogrio' in sys.modules)" % app_config)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
