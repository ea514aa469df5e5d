"""Coverage analysis: shares against independent geodesic computations, worst case, sums, input errors."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from stations.counties import Counties
from stations.coverage import DEFAULT_TARGETS, analyse
from stations.demand import PointLayer, load_demand
from stations.errors import NotFound, ValidationError
from stations.model import Station

GEOD = Geod(ellps="WGS84")
REPO = Path(__file__).resolve().parents[1]


# -- fixtures and independent reference computations ------------------------------------------
def square(lon0, lat0, dlon, dlat, step=0.002):
    """A lon/lat box, densified so that its straight edges and geodesic edges coincide."""
    box = shapely.box(lon0, lat0, lon0 + dlon, lat0 + dlat)
    return shapely.segmentize(box, step)


def write_counties(tmp_path, geoms, populations=None) -> Counties:
    """Counties from synthetic outlines written to a GeoJSON file in tmp_path."""
    features = []
    for i, geom in enumerate(geoms):
        code = f"3708{i + 11:02d}"
        features.append({"type": "Feature", "properties": {
            "adcode": code, "name": f"测试县{i}",
            "population": None if populations is None else populations[i]},
            "geometry": shapely.geometry.mapping(geom)})
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return Counties.load(path)


def station(i, lon, lat, kind="rest_station", status="open", county_code=None, **kw) -> Station:
    return Station(id=f"RS{i:04d}", name=f"驿站{i}", kind=kind, lon=lon, lat=lat, status=status,
                   county_code=county_code, **kw)


def geodesic_area_m2(geom) -> float:
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            total += abs(GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(part))[0])
    return total


def geodesic_circle(lon, lat, radius_m, n=720):
    """A 720-point polygon of true geodesic circle points (pyproj.Geod.fwd), lon/lat."""
    az = np.linspace(0, 360, n, endpoint=False)
    lons, lats, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return shapely.Polygon(np.column_stack([lons, lats]))


def reference_share(county_geom, points, radius_m) -> float:
    circles = shapely.union_all([geodesic_circle(lon, lat, radius_m) for lon, lat in points])
    return geodesic_area_m2(shapely.intersection(circles, county_geom)) / geodesic_area_m2(county_geom)


def grid_in(geom, n):
    """Centres of an n x n lon/lat grid of cells over the bounds, those inside the geometry."""
    minx, miny, maxx, maxy = geom.bounds
    dx, dy = (maxx - minx) / n, (maxy - miny) / n
    gx, gy = np.meshgrid(minx + dx * (np.arange(n) + 0.5), miny + dy * (np.arange(n) + 0.5))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(geom, gx, gy)
    return gx[inside], gy[inside]


def min_geodesic(lons, lats, points):
    best = np.full(lons.size, np.inf)
    for lon, lat in points:
        _, _, d = GEOD.inv(lons, lats, np.full(lons.size, lon), np.full(lons.size, lat))
        best = np.minimum(best, d)
    return best


# -- covered share ----------------------------------------------------------------------------
def test_one_circle_inside_a_square_county_covers_pi_r_squared(tmp_path):
    county = square(116.5, 35.4, 0.1, 0.08)
    counties = write_counties(tmp_path, [county])
    c = county.centroid
    for radius in (500, 1000, 2000):
        got = analyse(counties, [station(1, c.x, c.y)], radius_m=radius).counties[0].covered_share
        expected = math.pi * radius ** 2 / geodesic_area_m2(county)
        assert abs(got - expected) * 100 < 0.05, (radius, got, expected)
        assert abs(got - expected) / expected < 2e-4  # the area-preserving 128-gon is far better


def test_overlapping_and_cross_border_circles_match_geodesic_circles(tmp_path):
    county = square(116.5, 35.4, 0.06, 0.05)
    counties = write_counties(tmp_path, [county])
    rng = np.random.default_rng(7)
    pts = [(116.5 + rng.uniform(-0.005, 0.065), 35.4 + rng.uniform(-0.005, 0.055)) for _ in range(12)]
    pts.append((116.49, 35.42))  # outside the county, 0.9 km west of it: covers across the border
    sts = [station(i, lon, lat) for i, (lon, lat) in enumerate(pts)]
    for radius in (800, 1500):
        got = analyse(counties, sts, radius_m=radius).counties[0].covered_share
        assert abs(got - reference_share(county, pts, radius)) * 100 < 0.05


def test_overlapping_circles_match_a_fine_grid_of_geodesic_distances(tmp_path):
    county = square(116.5, 35.4, 0.04, 0.03)
    counties = write_counties(tmp_path, [county])
    pts = [(116.515, 35.41), (116.522, 35.415), (116.53, 35.425), (116.505, 35.428)]
    got = analyse(counties, [station(i, *p) for i, p in enumerate(pts)], radius_m=1000).counties[0]
    gx, gy = grid_in(county, 500)  # cells of ~7 m; a lon/lat cell's area is proportional to cos(lat)
    weights = np.cos(np.radians(gy))
    covered = min_geodesic(gx, gy, pts) <= 1000
    assert abs(got.covered_share - weights[covered].sum() / weights.sum()) * 100 < 0.02


def test_a_station_outside_covers_the_county_across_the_border(tmp_path):
    west, east = square(116.50, 35.40, 0.05, 0.05), square(116.55, 35.40, 0.05, 0.05)
    counties = write_counties(tmp_path, [west, east])
    near_border = station(1, 116.5455, 35.425)  # in the west county, ~400 m from the east one
    res = analyse(counties, [near_border], radius_m=1000)
    west_c, east_c = res.counties
    assert west_c.stations == 1 and east_c.stations == 0
    assert east_c.covered_share > 0
    assert abs(east_c.covered_share - reference_share(east, [(116.5455, 35.425)], 1000)) * 100 < 0.05


# -- worst case -------------------------------------------------------------------------------
def _check_worst_case(county_geom, pts, reported_m, reported_pt, spacing_deg):
    gx, gy = grid_in(county_geom, int(max(np.ptp(county_geom.bounds[::2]), np.ptp(county_geom.bounds[1::2]))
                                       / spacing_deg) + 1)
    edge = shapely.get_coordinates(shapely.segmentize(county_geom.exterior, spacing_deg))
    gx, gy = np.concatenate([gx, edge[:, 0]]), np.concatenate([gy, edge[:, 1]])
    grid_max = min_geodesic(gx, gy, pts).max()
    spacing_m = spacing_deg * 111_000 * math.sqrt(2)  # a cell's diagonal, generous
    assert grid_max - 0.01 <= reported_m <= grid_max + spacing_m, (grid_max, reported_m)
    assert shapely.intersects(shapely.buffer(county_geom, 1e-7), shapely.Point(reported_pt))
    assert abs(min_geodesic(np.array([reported_pt[0]]), np.array([reported_pt[1]]), pts)[0] - reported_m) < 1e-3


def test_worst_case_matches_a_dense_grid_on_a_non_convex_county(tmp_path):
    ell = shapely.segmentize(shapely.Polygon([(116.5, 35.4), (116.6, 35.4), (116.6, 35.45), (116.55, 35.45),
                                              (116.55, 35.5), (116.5, 35.5)]), 0.002)
    counties = write_counties(tmp_path, [ell])
    pts = [(116.52, 35.42), (116.58, 35.43), (116.53, 35.48), (116.57, 35.47), (116.62, 35.41)]
    c = analyse(counties, [station(i, *p) for i, p in enumerate(pts)], radius_m=1000).counties[0]
    _check_worst_case(ell, pts, c.worst_case_m, c.worst_case_point, 0.001)


def test_county_without_stations_gets_the_distance_to_the_nearest_one_outside(tmp_path):
    west, east = square(116.50, 35.40, 0.05, 0.05), square(116.55, 35.40, 0.05, 0.05)
    counties = write_counties(tmp_path, [west, east])
    pts = [(116.51, 35.41), (116.52, 35.44)]  # both in the west county
    res = analyse(counties, [station(i, *p) for i, p in enumerate(pts)], radius_m=500)
    east_c = res.counties[1]
    assert east_c.stations == 0 and east_c.covered_share == 0
    _check_worst_case(east, pts, east_c.worst_case_m, east_c.worst_case_point, 0.001)
    assert east_c.worst_case_point[0] == pytest.approx(116.60, abs=1e-6)  # the far edge


def test_no_station_at_all_gives_no_worst_case(tmp_path):
    counties = write_counties(tmp_path, [square(116.5, 35.4, 0.05, 0.05)])
    c = analyse(counties, [], radius_m=1000).to_dict()["counties"][0]
    assert c["worst_case_m"] is None and c["worst_case_point"] is None and c["covered_share"] == 0


# -- counts, sums, targets --------------------------------------------------------------------
@pytest.fixture
def city(tmp_path):
    geoms = [square(116.5 + 0.05 * i, 35.4 + 0.04 * j, 0.05, 0.04) for i in range(3) for j in range(2)]
    counties = write_counties(tmp_path, geoms, populations=[600_000, 500_000, 400_000, 300_000, 200_000, 100_000])
    rng = np.random.default_rng(3)
    sts = []
    for i in range(60):
        status = ["open", "open", "planned", "under_construction", "closed"][i % 5]
        sts.append(station(i, float(rng.uniform(116.49, 116.66)), float(rng.uniform(35.39, 35.49)), status=status))
    sts.append(station(100, 116.52, 35.42, kind="convalescence_base"))
    sts.append(station(101, 116.53, 35.42, kind="cultural_palace", palace_class=1))
    sts.append(station(102, 116.53, 35.43, kind="cultural_palace", palace_class=3))
    return counties, sts


def test_per_county_figures_add_up_to_the_city(city):
    counties, sts = city
    result = analyse(counties, sts, radius_m=1500)
    out = result.to_dict()
    rows, total = out["counties"], out["city"]
    for key in ("stations", "rest_stations", "population"):
        assert sum(r[key] for r in rows) == total[key], key
    for key in ("area_km2", "covered_km2"):
        assert sum(r[key] for r in rows) == pytest.approx(total[key], abs=1e-2), key
    assert total["covered_share"] == pytest.approx(total["covered_km2"] / total["area_km2"], rel=1e-5)
    assert total["worst_case_m"] == max(r["worst_case_m"] for r in rows)
    for kind in total["by_kind"]:
        assert sum(r["by_kind"].get(kind, 0) for r in rows) == total["by_kind"][kind]
    # stations outside every county are counted nowhere, so the city counts only those inside
    inside = [s for s in sts if s.status == "open" and counties.locate(s.lon, s.lat)]
    assert total["stations"] == len(inside)
    assert total["target"]["rest_stations"]["target"] == DEFAULT_TARGETS["rest_stations"]
    assert sum(r["target"]["rest_stations"]["target"] for r in rows) == 100
    # largest share of residents -> largest share of the target
    assert rows[0]["target"]["rest_stations"]["target"] == max(r["target"]["rest_stations"]["target"] for r in rows)


def test_api_shape(city):
    counties, sts = city
    out = analyse(counties, sts).to_dict()
    assert set(out) >= {"radius_m", "city", "counties", "suggestions"}
    row = out["counties"][0]
    for key in ("adcode", "name", "stations", "rest_stations", "area_km2", "population", "covered_share",
                "worst_case_m", "worst_case_point", "target", "by_kind", "by_status",
                "rest_per_100km2", "rest_per_100k_residents"):
        assert key in row, key
    json.dumps(out, ensure_ascii=False)  # serialisable


def test_include_planned_changes_the_counts_and_the_coverage(city):
    counties, sts = city
    now = analyse(counties, sts, radius_m=1000).to_dict()["city"]
    later = analyse(counties, sts, radius_m=1000, include_planned=True).to_dict()["city"]
    assert later["rest_stations"] > now["rest_stations"]
    assert later["covered_share"] > now["covered_share"]
    assert later["by_status"] == now["by_status"]  # every status is always listed
    assert set(now["by_status"]) >= {"open", "planned", "under_construction", "closed"}


def test_targets_bases_and_palaces(city):
    counties, sts = city
    out = analyse(counties, sts, targets={"rest_stations": 30, "palace_class_1_2_share": 0.5}).to_dict()
    first = out["counties"][0]["target"]
    assert first["convalescence_bases"] == {"target": 1, "actual": 1, "met": True}
    assert first["palaces_class_1_2"]["share"] == 0.5 and first["palaces_class_1_2"]["met"] is True
    assert out["city"]["target"]["rest_stations"]["target"] == 30
    assert out["city"]["target"]["convalescence_bases"]["counties_with_base"] == 1
    with pytest.raises(ValidationError, match="rest_station_target"):
        analyse(counties, sts, targets={"rest_station_target": 5})


def test_one_county_only_and_unknown_county(city):
    counties, sts = city
    out = analyse(counties, sts, county="370812").to_dict()
    assert [r["adcode"] for r in out["counties"]] == ["370812"]
    assert out["city"]["stations"] == out["counties"][0]["stations"]
    with pytest.raises(NotFound, match="370999"):
        analyse(counties, sts, county="370999")


@pytest.mark.parametrize("radius", [99, 20_001, -5, "1000", None, float("nan")])
def test_radius_out_of_range_names_the_value_and_the_range(city, radius):
    counties, sts = city
    with pytest.raises(ValueError) as err:
        analyse(counties, sts, radius_m=radius)
    assert str(radius) in str(err.value) and "100" in str(err.value) and "20000" in str(err.value)


def test_progress_is_reported(city):
    counties, sts = city
    calls = []
    analyse(counties, sts, progress=lambda done, total, label: calls.append((done, total, label)))
    assert [c[0] for c in calls] == list(range(1, len(counties) + 1))
    assert calls[-1][0] == calls[-1][1]


# -- gaps -------------------------------------------------------------------------------------
def test_gaps_are_the_uncovered_rest_of_each_county(city):
    counties, sts = city
    result = analyse(counties, sts, radius_m=1000)
    gaps = result.gaps_geojson()
    assert gaps["type"] == "FeatureCollection" and len(gaps["features"]) == len(counties)
    for feat, c in zip(gaps["features"], result.counties):
        geom = shape(feat["geometry"])
        assert geom.is_valid and feat["properties"]["adcode"] == c.adcode
        minx, miny, maxx, maxy = geom.bounds
        assert 116 < minx < maxx < 117 and 35 < miny < maxy < 36  # WGS-84 lon/lat
        assert geodesic_area_m2(geom) / 1e6 == pytest.approx(feat["properties"]["area_km2"], rel=2e-3)
        assert feat["properties"]["area_km2"] + c.covered_km2 == pytest.approx(c.area_km2, abs=1e-2)


# -- demand layers ----------------------------------------------------------------------------
def test_demand_weighted_share(tmp_path):
    counties = write_counties(tmp_path, [square(116.5, 35.4, 0.05, 0.05)])
    demand = PointLayer.from_points([116.521, 116.5205, 116.54], [35.421, 35.4215, 35.44], [10, 5, 5])
    out = analyse(counties, [station(1, 116.52, 35.42)], radius_m=500, demand=demand).to_dict()
    row = out["counties"][0]
    assert row["demand_weight"] == 20 and row["demand_covered"] == 15 and row["demand_share"] == 0.75
    assert out["demand"]["points"] == 3


def test_demand_csv_bad_rows_are_reported_with_row_numbers(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text("\ufefflon,lat,weight\n116.52,35.42,3\n116.53,abc,1\n116.54,35.43,-2\n\n"
                    "35.43,116.54,1\n116.55,35.44,\n", encoding="utf-8")
    layer = load_demand(path)
    assert len(layer) == 1 and layer.rows_read == 5
    problems = {(p.record, p.field, p.value) for p in layer.skipped}
    assert ("demand.csv row 3", "lat", "abc") in problems
    assert ("demand.csv row 4", "weight", "-2") in problems
    assert ("demand.csv row 6", "lat", "116.54") in problems
    assert ("demand.csv row 7", "weight", "") in problems
    assert layer.report()["skipped_rows"] == 4
    with pytest.raises(ValidationError) as err:
        load_demand(path, strict=True)
    assert "row 3" in str(err.value) and "row 7" in str(err.value) and "'abc'" in str(err.value)


def test_demand_geojson_bad_features_and_missing_columns(tmp_path):
    feats = [
        {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [116.52, 35.42]},
         "properties": {"weight": 2}},
        {"type": "Feature", "id": "b", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
         "properties": {"weight": 1}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.52, 35.42]},
         "properties": {"weight": "many"}},
    ]
    path = tmp_path / "demand.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    layer = load_demand(path)
    assert len(layer) == 1
    records = sorted(p.record for p in layer.skipped)
    assert records == ["demand.geojson features[1] (id b)", "demand.geojson features[2]"]
    bad = tmp_path / "nocol.csv"
    bad.write_text("lon,lat\n116.5,35.4\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="weight"):
        load_demand(bad)


def test_a_demand_file_path_goes_through_analyse_with_its_report(tmp_path):
    counties = write_counties(tmp_path, [square(116.5, 35.4, 0.05, 0.05)])
    path = tmp_path / "d.csv"
    path.write_text("lon,lat,weight\n116.521,35.421,4\n116.53,x,1\n", encoding="utf-8")
    out = analyse(counties, [station(1, 116.52, 35.42)], demand=path).to_dict()
    assert out["counties"][0]["demand_share"] == 1.0
    assert out["demand"]["skipped"][0]["record"] == "d.csv row 3"


# -- the bundled outlines, when present -------------------------------------------------------
def test_bundled_jining_counties_add_up(tmp_path):
    path = REPO / "geodata" / "counties.geojson"
    if not path.exists():
        pytest.skip("geodata/counties.geojson not built yet")
    counties = Counties.load(path)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = counties.bounds
    lons, lats = rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400)
    sts = [station(i, float(x), float(y)) for i, (x, y) in enumerate(zip(lons, lats))]
    out = analyse(counties, sts, radius_m=1000).to_dict()
    assert len(out["counties"]) == len(counties.codes)
    assert sum(r["covered_km2"] for r in out["counties"]) == pytest.approx(out["city"]["covered_km2"], abs=0.05)
    assert all(r["worst_case_m"] > 0 for r in out["counties"])


def test_demand_in_gcj02_is_converted_to_wgs84_and_weight_column_can_be_named(tmp_path):
    from stations.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(116.59, 35.41)
    path = tmp_path / "amap.csv"
    path.write_text(f"Lng,Lat,工人数\n{lon},{lat},3\n", encoding="utf-8")
    layer = load_demand(path, weight_field="工人数", crs="gcj02")
    assert layer.lons[0] == pytest.approx(116.59, abs=1e-7) and layer.lats[0] == pytest.approx(35.41, abs=1e-7)
    assert layer.weights.tolist() == [3.0]
