"""WGS-84 / GCJ-02 / BD-09 conversions against published reference pairs and round trips."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from stations import coords
from stations.coords import (
    bd09_to_gcj02, bd09_to_wgs84, convert, gcj02_to_bd09, gcj02_to_wgs84, out_of_china,
    transform_geometry, wgs84_to_bd09, wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def distance_m(a, b) -> float:
    """Geodesic distance between two (lon, lat) pairs, metres."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


# Formula reference values from wandergis/coordtransform, test/app.js (input 116.404, 39.915);
# the same numbers appear in the tests of coordtransform-rs and Hutool's CoordinateUtilTest.
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
}
# coordtransform's gcj02towgs84 is the one-step approximation; its result for the same input:
COORDTRANSFORM_APPROX_GCJ_TO_WGS = (116.39775550083061, 39.91359571849836)

# googollee/eviltransform, python/test.py and go/transform_test.go, TESTS (given there as
# wgsLat, wgsLng, gcjLat, gcjLng; reordered here to (lon, lat)).
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

# hujiulong/gcoord, test/fixtures/china-cities.json: WGS84 / GCJ02 / BD09 triples for city
# centres, 7 decimals. These look like answers from the live map services rather than the
# formula: they agree with it to about 0.7 m (GCJ-02) and 0.01 m (BD-09), not exactly.
GCOORD = {
    "泰安市": ((117.0815563, 36.2000071), (117.0876215, 36.2002574), (117.0941183, 36.2062086)),
    "莱芜市": ((117.6708588, 36.2138283), (117.6767323, 36.2138184), (117.6832831, 36.2195866)),
    "郑州市": ((113.6192856, 34.7478004), (113.6253334, 34.7466173), (113.6317519, 34.7528605)),
    "沈阳市": ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    "驻马店市": ((114.0164322, 33.0133556), (114.022306, 33.0115324), (114.0287781, 33.0176697)),
}

JINING = (116.587, 35.414)  # WGS-84, central 任城区


@pytest.mark.parametrize("name", sorted(COORDTRANSFORM))
def test_matches_coordtransform_reference_values(name):
    got = getattr(coords, name)(*COORDTRANSFORM_IN)
    assert got == pytest.approx(COORDTRANSFORM[name], abs=1e-12)


def test_gcj02_to_wgs84_is_more_precise_than_the_one_step_approximation():
    precise = gcj02_to_wgs84(*COORDTRANSFORM_IN)
    # the approximation is off by a few decimetres to metres; ours inverts the forward formula
    assert 0.05 < distance_m(precise, COORDTRANSFORM_APPROX_GCJ_TO_WGS) < 5
    assert distance_m(wgs84_to_gcj02(*precise), COORDTRANSFORM_IN) < 1e-6


@pytest.mark.parametrize("wgs, gcj", EVILTRANSFORM)
def test_matches_eviltransform_reference_pairs(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    # eviltransform's own exact inverse is tested to 0.5 m; ours does far better
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 0.001


@pytest.mark.parametrize("city", sorted(GCOORD))
def test_agrees_with_gcoord_city_fixtures(city):
    wgs, gcj, bd = GCOORD[city]
    assert distance_m(wgs84_to_gcj02(*wgs), gcj) < 1.0
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 1.0
    assert distance_m(gcj02_to_bd09(*gcj), bd) < 0.2
    assert distance_m(bd09_to_gcj02(*bd), gcj) < 0.2
    assert distance_m(wgs84_to_bd09(*wgs), bd) < 1.0
    assert distance_m(bd09_to_wgs84(*bd), wgs) < 1.0


@pytest.mark.parametrize("forward, back, limit_m", [
    (wgs84_to_gcj02, gcj02_to_wgs84, 0.001),  # iterative inverse: exact to micrometres
    # the standard x_pi pair is not an exact inverse: up to about 0.2 m
    (gcj02_to_bd09, bd09_to_gcj02, 0.5),
    (wgs84_to_bd09, bd09_to_wgs84, 0.5),
])
def test_round_trips_err_well_under_a_metre_across_china(forward, back, limit_m):
    rng = np.random.default_rng(7)
    lons = rng.uniform(75.0, 134.0, 2000)
    lats = rng.uniform(18.0, 53.0, 2000)
    lon2, lat2 = back(*forward(lons, lats))
    err = GEOD.inv(lons, lats, lon2, lat2)[2]
    assert err.max() < limit_m, (forward.__name__, err.max())


def test_gcj02_inverse_is_exact_to_micrometres_near_jining():
    gcj = wgs84_to_gcj02(*JINING)
    assert distance_m(gcj02_to_wgs84(*gcj), JINING) < 1e-6


@pytest.mark.parametrize("lon, lat", [
    (-0.1276, 51.5072),  # London
    (139.6917, 35.6895),  # Tokyo
    (0.0, 0.0),
    (-74.006, 40.7128),  # New York
    (151.2093, -33.8688),  # Sydney
])
def test_points_outside_china_are_unchanged(lon, lat):
    assert out_of_china(lon, lat) is True
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
                 wgs84_to_bd09, bd09_to_wgs84):
        assert func(lon, lat) == (lon, lat)


def test_offset_near_jining_is_about_500_m_east():
    gcj = wgs84_to_gcj02(*JINING)
    dist = distance_m(JINING, gcj)
    azimuth = GEOD.inv(*JINING, *gcj)[0]
    assert out_of_china(*JINING) is False
    assert 400 < dist < 600  # near Jining the GCJ-02 offset is about 500 m east
    assert 60 < azimuth < 120  # eastwards
    assert gcj[0] > JINING[0]


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(3)
    lons = np.concatenate([rng.uniform(100, 125, 50), [-0.13, 139.69]])
    lats = np.concatenate([rng.uniform(20, 45, 50), [51.5, 35.69]])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02,
                 wgs84_to_bd09, bd09_to_wgs84):
        vec_lon, vec_lat = func(lons, lats)
        assert isinstance(vec_lon, np.ndarray) and vec_lon.shape == lons.shape
        for i in range(lons.size):
            one = func(float(lons[i]), float(lats[i]))
            assert isinstance(one[0], float)
            assert one == pytest.approx((vec_lon[i], vec_lat[i]), abs=1e-12)
    assert list(out_of_china(lons, lats)) == [False] * 50 + [True, True]


def test_mismatched_array_shapes_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        wgs84_to_gcj02(np.zeros(3), np.zeros(2))


def test_convert_dispatches_by_crs_name():
    assert convert(*JINING, "wgs84", "gcj02") == wgs84_to_gcj02(*JINING)
    assert convert(*JINING, "BD-09", "WGS84") == bd09_to_wgs84(*JINING)
    assert convert(*JINING, "gcj02", "gcj02") == JINING
    lons, lats = convert(np.array([116.5, 117.0]), np.array([35.2, 35.6]), "wgs84", "bd09")
    assert lons.shape == (2,)


def test_convert_rejects_unknown_crs_naming_it_and_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        convert(*JINING, "wgs84", "epsg3857")
    message = str(info.value)
    assert "epsg3857" in message
    for name in ("wgs84", "gcj02", "bd09"):
        assert name in message


def test_transform_geometry_moves_every_vertex():
    poly = shapely.Polygon([(116.5, 35.3), (116.7, 35.3), (116.7, 35.5), (116.5, 35.5)])
    moved = transform_geometry(poly, wgs84_to_gcj02)
    assert moved.geom_type == "Polygon"
    before = shapely.get_coordinates(poly)
    after = shapely.get_coordinates(moved)
    expected = np.column_stack(wgs84_to_gcj02(before[:, 0], before[:, 1]))
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-12)
    back = transform_geometry(moved, gcj02_to_wgs84)
    np.testing.assert_allclose(shapely.get_coordinates(back), before, rtol=0, atol=1e-10)


def test_transform_geometry_keeps_multipart_structure():
    multi = shapely.MultiPolygon([
        shapely.box(116.0, 35.0, 116.1, 35.1),
        shapely.Polygon(shapely.box(116.5, 35.5, 116.9, 35.9).exterior.coords,
                        [shapely.box(116.6, 35.6, 116.7, 35.7).exterior.coords]),
    ])
    moved = transform_geometry(multi, gcj02_to_wgs84)
    assert moved.geom_type == "MultiPolygon"
    assert [len(p.interiors) for p in moved.geoms] == [0, 1]
    assert moved.is_valid
