"""NearestIndex against an independent brute force (GeographicLib's own Python port).

The brute force below shares no code with ``stations.nearest``: every station's distance from
``geographiclib.geodesic.Geodesic.WGS84.Inverse`` (which takes (lat, lon)), then sorted by
(distance, id). Random stations are seeded; scales are Jining (~1.7° x 1.6°) and China.
"""
from __future__ import annotations

import math
import random
import sys
import types
from datetime import datetime

import pytest
from geographiclib.geodesic import Geodesic

from stations.model import AMENITIES, KINDS, Station
from stations.nearest import M_HI, M_LO, Hit, NearestIndex

JINING_BBOX = (115.9, 34.4, 117.6, 36.0)  # (minlon, minlat, maxlon, maxlat)
CHINA_BBOX = (73.5, 18.2, 134.8, 53.5)
JINING = (116.587, 35.415)  # (lon, lat)
URUMQI = (87.617, 43.826)
WGS84 = Geodesic.WGS84


def geodesic_m(lon1, lat1, lon2, lat2) -> float:
    return WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]  # geographiclib takes (lat, lon)


def random_stations(n, bbox, seed, *, hours=("24/7", None), clustered=False):
    rnd = random.Random(seed)
    minlon, minlat, maxlon, maxlat = bbox
    out = []
    for i in range(n):
        if clustered and i % 3 and out:  # two thirds next to an earlier station, some on it
            base = out[rnd.randrange(len(out))]
            lon = base.lon + rnd.choice([0.0, rnd.uniform(-0.01, 0.01)])
            lat = base.lat + rnd.choice([0.0, rnd.uniform(-0.01, 0.01)])
        else:
            lon, lat = rnd.uniform(minlon, maxlon), rnd.uniform(minlat, maxlat)
        out.append(Station(
            id=f"S{rnd.randrange(10**9):09d}-{i}",
            name=f"station {i}",
            kind=rnd.choice(list(KINDS)),
            lon=lon,
            lat=lat,
            county_code="370811",
            opening_hours=rnd.choice(hours),
            amenities=tuple(a for a in AMENITIES if rnd.random() < 0.4),
            status=rnd.choice(["open", "open", "open", "temporarily_closed", "planned", "closed"]),
        ))
    rnd.shuffle(out)
    return out


def brute_force(stations, lon, lat, k=5, kind=None, amenities=(), statuses=("open",),
                max_distance_m=None, is_open=None):
    rows = []
    for s in stations:
        if kind is not None and s.kind != kind:
            continue
        if not set(amenities) <= set(s.amenities):
            continue
        if statuses is not None and s.status not in statuses:
            continue
        if is_open is not None and not is_open(s):
            continue
        d = geodesic_m(lon, lat, s.lon, s.lat)
        if max_distance_m is not None and d > max_distance_m:
            continue
        rows.append((d, s.id))
    rows.sort()
    return rows[:k]


def assert_same(hits, expected):
    assert [h.station.id for h in hits] == [sid for _, sid in expected]
    for h, (d, _) in zip(hits, expected):
        assert h.distance_m == pytest.approx(d, abs=1e-6)


def random_point(rnd, bbox):
    minlon, minlat, maxlon, maxlat = bbox
    return rnd.uniform(minlon, maxlon), rnd.uniform(minlat, maxlat)


# ---------------------------------------------------------------- exactness


@pytest.mark.parametrize("bbox, seed", [(JINING_BBOX, 1), (CHINA_BBOX, 2)], ids=["jining", "china"])
def test_unfiltered_results_equal_brute_force(bbox, seed):
    stations = random_stations(400, bbox, seed)
    index = NearestIndex(stations)
    rnd = random.Random(seed + 100)
    for _ in range(40):
        lon, lat = random_point(rnd, bbox)
        k = rnd.choice([1, 2, 5, 10, 40])
        hits = index.query(lon, lat, k=k, statuses=None)
        assert_same(hits, brute_force(stations, lon, lat, k=k, statuses=None))


@pytest.mark.parametrize("bbox, seed", [(JINING_BBOX, 3), (CHINA_BBOX, 4)], ids=["jining", "china"])
def test_filtered_results_equal_brute_force(bbox, seed):
    stations = random_stations(600, bbox, seed)
    index = NearestIndex(stations)
    rnd = random.Random(seed + 100)
    for _ in range(80):
        lon, lat = random_point(rnd, bbox)
        filters = {
            "k": rnd.choice([1, 3, 5, 8]),
            "kind": rnd.choice([None, *KINDS]),
            "amenities": tuple(rnd.sample(sorted(AMENITIES), rnd.choice([0, 0, 1, 2]))),
            "statuses": rnd.choice([("open",), None, ("open", "temporarily_closed"), ("planned",)]),
            "max_distance_m": rnd.choice([None, None, 5_000.0, 40_000.0, 500_000.0]),
        }
        hits = index.query(lon, lat, **filters)
        assert_same(hits, brute_force(stations, lon, lat, **filters))


def test_clustered_and_duplicate_positions_equal_brute_force():
    stations = random_stations(600, JINING_BBOX, 5, clustered=True)
    index = NearestIndex(stations)
    rnd = random.Random(55)
    points = [(s.lon, s.lat) for s in rnd.sample(stations, 20)]  # queries on top of stations
    points += [random_point(rnd, JINING_BBOX) for _ in range(20)]
    for lon, lat in points:
        assert_same(index.query(lon, lat, k=7), brute_force(stations, lon, lat, k=7))


def test_ring_of_nearly_equidistant_stations_needs_many_candidates():
    # 400 stations all 10 km (+- a few metres) from the centre: the candidate set must grow.
    lon0, lat0 = JINING
    rnd = random.Random(6)
    stations = []
    for i in range(400):
        g = WGS84.Direct(lat0, lon0, rnd.uniform(-180, 180), 10_000 + rnd.uniform(-5, 5))
        stations.append(Station(id=f"R{i:03d}", name="r", kind="rest_station", lon=g["lon2"], lat=g["lat2"]))
    index = NearestIndex(stations)
    assert_same(index.query(lon0, lat0, k=5), brute_force(stations, lon0, lat0, k=5))
    batch = index.query_batch([lon0, lon0 + 0.001], [lat0, lat0], k=5)
    assert_same(batch[0], brute_force(stations, lon0, lat0, k=5))
    assert_same(batch[1], brute_force(stations, lon0 + 0.001, lat0, k=5))


def test_sphere_bound_holds_for_random_pairs_worldwide():
    # The proof's premise: M_LO * angle <= geodesic <= M_HI * angle on the unit sphere.
    rnd = random.Random(7)
    for _ in range(3000):
        lat1, lat2 = rnd.uniform(-90, 90), rnd.uniform(-90, 90)
        lon1, lon2 = rnd.uniform(-180, 180), rnd.uniform(-180, 180)
        if rnd.random() < 0.3:  # short and near-antipodal pairs too
            lat2, lon2 = lat1 + rnd.uniform(-0.01, 0.01), lon1 + rnd.uniform(-0.01, 0.01)
        elif rnd.random() < 0.3:
            lat2, lon2 = -lat1 + rnd.uniform(-0.5, 0.5), lon1 + 180 + rnd.uniform(-0.5, 0.5)
        lat2 = max(-90.0, min(90.0, lat2))
        s = WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]
        p1 = _unit(lon1, lat1)
        p2 = _unit(lon2, lat2)
        angle = 2 * math.asin(min(1.0, math.dist(p1, p2) / 2))
        assert M_LO * angle <= s + 1e-6
        assert s <= M_HI * angle + 1e-6


def _unit(lon, lat):
    lo, la = math.radians(lon), math.radians(lat)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


# ---------------------------------------------------------------- far points, poles, antimeridian


@pytest.mark.parametrize("point", [
    URUMQI, (0.0, -90.0), (0.0, 90.0), (180.0, 0.0), (-180.0, 0.0), (179.99, -35.4),
    (-63.413, -35.415),  # the antipode of Jining
], ids=["urumqi", "south-pole", "north-pole", "lon+180", "lon-180", "near-antimeridian", "antipode"])
def test_far_points_get_true_distances(point):
    stations = random_stations(300, JINING_BBOX, 8)
    index = NearestIndex(stations)
    lon, lat = point
    expected = brute_force(stations, lon, lat, k=5)
    assert_same(index.query(lon, lat, k=5), expected)
    assert_same(index.query_batch([lon], [lat], k=5)[0], expected)
    assert expected[0][0] > 1_000_000


def test_stations_across_the_antimeridian_and_at_the_poles():
    stations = [
        Station(id="E", name="e", kind="rest_station", lon=179.999, lat=10.0),
        Station(id="W", name="w", kind="rest_station", lon=-179.999, lat=10.0),
        Station(id="N", name="n", kind="rest_station", lon=0.0, lat=90.0),
        Station(id="S", name="s", kind="rest_station", lon=45.0, lat=-90.0),
    ]
    index = NearestIndex(stations)
    hits = index.query(-180.0, 10.0, k=2)
    assert sorted(h.station.id for h in hits) == ["E", "W"]
    assert all(h.distance_m < 120 for h in hits)
    assert index.query(123.0, 89.9999, k=1)[0].station.id == "N"
    assert index.query(-100.0, -90.0, k=1)[0].distance_m == pytest.approx(0.0, abs=1e-6)
    for lon, lat in [(-180.0, 10.0), (123.0, 89.9999), (-100.0, -90.0), (0.0, 0.0)]:
        assert_same(index.query(lon, lat, k=4), brute_force(stations, lon, lat, k=4))


# ---------------------------------------------------------------- ties, sizes, boundaries


def test_ties_are_broken_by_id():
    lon, lat = JINING
    ids = ["c", "a", "d", "b", "e"]
    stations = [Station(id=i, name=i, kind="rest_station", lon=lon + 0.01, lat=lat) for i in ids]
    stations.append(Station(id="z", name="z", kind="rest_station", lon=lon + 0.005, lat=lat))
    index = NearestIndex(stations)
    assert [h.station.id for h in index.query(lon, lat, k=4)] == ["z", "a", "b", "c"]
    assert [h.station.id for h in index.query_batch([lon], [lat], k=4)[0]] == ["z", "a", "b", "c"]
    assert [h.station.id for h in index.query(lon, lat, k=100)] == ["z", "a", "b", "c", "d", "e"]


def test_k_larger_than_matching_stations_returns_all_of_them():
    stations = random_stations(30, JINING_BBOX, 9)
    index = NearestIndex(stations)
    lon, lat = JINING
    expected = brute_force(stations, lon, lat, k=1000)
    hits = index.query(lon, lat, k=1000)
    assert len(hits) == sum(s.status == "open" for s in stations)
    assert_same(hits, expected)
    assert len(index.query(lon, lat, k=1000, statuses=None)) == 30


def test_single_station_and_empty_index():
    one = NearestIndex([Station(id="A", name="a", kind="rest_station", lon=116.6, lat=35.4)])
    assert [h.station.id for h in one.query(*JINING, k=3)] == ["A"]
    batch = one.query_batch([116.0, 117.0], [35.0, 35.0], k=2)
    assert [[h.station.id for h in r] for r in batch] == [["A"], ["A"]]
    assert one.query_batch([], []) == []
    empty = NearestIndex([])
    assert len(empty) == 0
    assert empty.query(*JINING) == []
    assert empty.query_batch([116.0], [35.0]) == [[]]


def test_filters_matching_nothing_return_empty():
    stations = [Station(id="A", name="a", kind="rest_station", lon=116.6, lat=35.4, status="closed")]
    index = NearestIndex(stations)
    assert index.query(*JINING) == []
    assert index.query(*JINING, statuses=["closed"], kind="cultural_palace") == []
    assert index.query_batch([116.6], [35.4]) == [[]]


def test_max_distance_includes_the_boundary_exactly():
    stations = random_stations(50, JINING_BBOX, 10)
    index = NearestIndex(stations)
    lon, lat = JINING
    nearest = index.query(lon, lat, k=3, statuses=None)
    d = nearest[2].distance_m
    assert [h.station.id for h in index.query(lon, lat, k=10, statuses=None, max_distance_m=d)] == \
        [h.station.id for h in nearest]
    assert len(index.query(lon, lat, k=10, statuses=None, max_distance_m=math.nextafter(d, 0))) == 2
    assert index.query(lon, lat, statuses=None, max_distance_m=0) == []
    assert len(index.query(lon, lat, k=100, statuses=None, max_distance_m=3e7)) == 50


def test_query_batch_equals_query():
    stations = random_stations(1000, CHINA_BBOX, 11)
    index = NearestIndex(stations)
    rnd = random.Random(12)
    points = [random_point(rnd, CHINA_BBOX) for _ in range(300)] + [URUMQI, (0.0, -90.0)]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    for filters in [{}, {"kind": "rest_station", "amenities": ["wifi"]}, {"max_distance_m": 50_000.0},
                    {"statuses": None, "k": 1}]:
        batch = index.query_batch(lons, lats, **filters)
        assert batch == [index.query(lon, lat, **filters) for lon, lat in points]


def test_many_filter_combinations_beyond_the_cache_stay_exact():
    stations = random_stations(400, JINING_BBOX, 13)
    index = NearestIndex(stations)
    lon, lat = JINING
    for a in sorted(AMENITIES) * 2:  # 30 queries over 15 sub-indexes, cycling the LRU cache
        for kind in (None, "rest_station"):
            assert_same(index.query(lon, lat, kind=kind, amenities=[a]),
                        brute_force(stations, lon, lat, kind=kind, amenities=[a]))


# ---------------------------------------------------------------- opening hours


def test_open_at_with_real_hours_24_7_and_unknown():
    stations = random_stations(300, JINING_BBOX, 14, hours=("24/7", None))
    index = NearestIndex(stations)
    at = datetime(2026, 11, 25, 3, 30)
    lon, lat = JINING
    hits = index.query(lon, lat, k=6, open_at=at)
    assert_same(hits, brute_force(stations, lon, lat, k=6, is_open=lambda s: s.opening_hours == "24/7"))
    assert all(h.station.opening_hours == "24/7" for h in hits)
    assert index.query_batch([lon], [lat], k=6, open_at=at) == [hits]


def test_open_at_uses_hours_module_and_treats_bad_or_missing_hours_as_not_open(monkeypatch):
    calls = []

    def fake_open_state(text, at):
        """The contract of stations.hours.open_state: None for missing or unreadable hours."""
        calls.append(text)
        if text in (None, "broken"):
            return None
        return text == "day" and 8 <= at.hour < 18 or text == "always"

    monkeypatch.setitem(sys.modules, "stations.hours", types.SimpleNamespace(open_state=fake_open_state))
    stations = random_stations(500, JINING_BBOX, 15, hours=("day", "always", "broken", None, "night"))
    index = NearestIndex(stations)
    lon, lat = JINING
    for at in (datetime(2026, 11, 25, 10), datetime(2026, 11, 25, 23)):
        def expected_open(s):
            return s.opening_hours == "always" or (s.opening_hours == "day" and 8 <= at.hour < 18)

        for kind in (None, "rest_station"):
            hits = index.query(lon, lat, k=8, kind=kind, open_at=at)
            assert_same(hits, brute_force(stations, lon, lat, k=8, kind=kind, is_open=expected_open))
    assert len(calls) <= 4 * 5  # 4 queries: once per distinct text and query, not per station


# Ways of writing the hours; the 24/7 ones are listed by hand (not via stations.hours).
HOURS_24_7 = ("24/7", "Mo-Su 00:00-24:00", "00:00-24:00", "Mo-Fr 00:00-24:00; Sa,Su 00:00-24:00")
HOURS_NOT_24_7 = ("Mo-Fr 08:00-18:00", "Mo-Su 00:00-23:59", "24/7; PH off", "06:00-22:00",
                  "Mo-Sa 00:00-24:00", "not hours at all", None)


@pytest.mark.parametrize("bbox, seed", [(JINING_BBOX, 18), (CHINA_BBOX, 19)], ids=["jining", "china"])
def test_open_24_7_results_equal_brute_force(bbox, seed):
    stations = random_stations(600, bbox, seed, hours=HOURS_24_7 + HOURS_NOT_24_7 * 2)
    index = NearestIndex(stations)
    rnd = random.Random(seed + 100)
    for _ in range(60):
        lon, lat = random_point(rnd, bbox)
        filters = {
            "k": rnd.choice([1, 3, 5, 8, 40]),
            "kind": rnd.choice([None, *KINDS]),
            "amenities": tuple(rnd.sample(sorted(AMENITIES), rnd.choice([0, 0, 1]))),
            "statuses": rnd.choice([("open",), None]),
            "max_distance_m": rnd.choice([None, None, 40_000.0]),
        }
        hits = index.query(lon, lat, open_24_7=True, **filters)
        expected = brute_force(stations, lon, lat, is_open=lambda s: s.opening_hours in HOURS_24_7,
                               **filters)
        assert_same(hits, expected)
        # the same filters without 24/7 are a different cached tree and stay exact
        assert_same(index.query(lon, lat, open_24_7=False, **filters),
                    brute_force(stations, lon, lat, **filters))
    lons, lats = zip(*(random_point(rnd, bbox) for _ in range(10)))
    assert index.query_batch(lons, lats, k=4, open_24_7=True) == \
        [index.query(lon, lat, k=4, open_24_7=True) for lon, lat in zip(lons, lats)]


def test_open_24_7_combines_with_open_at():
    stations = random_stations(300, JINING_BBOX, 20, hours=("24/7", "Mo-Fr 08:00-18:00", None))
    index = NearestIndex(stations)
    lon, lat = JINING
    at = datetime(2026, 11, 25, 10)  # a Wednesday: the day stations are open too
    assert_same(index.query(lon, lat, k=10, open_at=at, open_24_7=True),
                brute_force(stations, lon, lat, k=10, is_open=lambda s: s.opening_hours == "24/7"))


# ---------------------------------------------------------------- result shape


def test_hit_to_dict_has_the_json_shape():
    s = Station(id="JN-RS-0001", name="古槐路驿站", kind="rest_station", lon=116.587, lat=35.415,
                county_code="370811", opening_hours="24/7", amenities=("toilet", "seating"))
    d = Hit(s, 1234.5678).to_dict()
    assert d == {"id": "JN-RS-0001", "name": "古槐路驿站", "kind": "rest_station", "lon": 116.587,
                 "lat": 35.415, "distance_m": 1234.6, "county_code": "370811", "status": "open",
                 "amenities": ["toilet", "seating"], "opening_hours": "24/7"}
    hits = NearestIndex([s]).query(116.587, 35.415)
    assert hits[0].to_dict()["distance_m"] == 0.0


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small_index():
    return NearestIndex(random_stations(20, JINING_BBOX, 16))


@pytest.mark.parametrize("kwargs, field, shown", [
    ({"lat": 90.5}, "lat", "90.5"),
    ({"lat": -91}, "lat", "-91"),
    ({"lon": 180.01}, "lon", "180.01"),
    ({"lon": -200}, "lon", "-200"),
    ({"lon": math.nan}, "lon", "nan"),
    ({"lat": math.inf}, "lat", "inf"),
    ({"lon": "116.6"}, "lon", "'116.6'"),
    ({"lat": None}, "lat", "None"),
    ({"lat": True}, "lat", "True"),
    ({"k": 0}, "k", "0"),
    ({"k": -3}, "k", "-3"),
    ({"k": 2.5}, "k", "2.5"),
    ({"k": "5"}, "k", "'5'"),
    ({"k": True}, "k", "True"),
    ({"max_distance_m": -1.0}, "max_distance_m", "-1.0"),
    ({"max_distance_m": math.nan}, "max_distance_m", "nan"),
    ({"max_distance_m": "far"}, "max_distance_m", "'far'"),
    ({"kind": "teahouse"}, "kind", "'teahouse'"),
    ({"amenities": ["wifi", "jacuzzi"]}, "amenities", "'jacuzzi'"),
    ({"amenities": 5}, "amenities", "5"),
    ({"statuses": ["gone"]}, "statuses", "'gone'"),
    ({"statuses": ()}, "statuses", "()"),
    ({"open_at": "now"}, "open_at", "'now'"),
    ({"open_24_7": "yes"}, "open_24_7", "'yes'"),
    ({"open_24_7": 1}, "open_24_7", "1"),
])
def test_bad_input_raises_value_error_naming_parameter_and_value(small_index, kwargs, field, shown):
    args = {"lon": 116.6, "lat": 35.4, **kwargs}
    with pytest.raises(ValueError) as err:
        small_index.query(**args)
    message = str(err.value)
    assert repr(field) in message
    assert shown in message


@pytest.mark.parametrize("kwargs, allowed", [
    ({"kind": "teahouse"}, "rest_station"),
    ({"amenities": ["jacuzzi"]}, "drinking_water"),
    ({"statuses": ["gone"]}, "temporarily_closed"),
    ({"lat": 95}, "[-90, 90]"),
    ({"k": 0}, ">= 1"),
])
def test_bad_input_message_lists_what_is_allowed(small_index, kwargs, allowed):
    with pytest.raises(ValueError) as err:
        small_index.query(**{"lon": 116.6, "lat": 35.4, **kwargs})
    assert allowed in str(err.value)


@pytest.mark.parametrize("lons, lats, field", [
    ([116.6, math.nan], [35.4, 35.5], "lons[1]"),
    ([116.6], [95.0], "lats[0]"),
    ([116.6, 116.7], [35.4], "lats"),
    (["x"], [35.4], "lons"),
    (["116.6"], [35.4], "lons"),
    ([116.6], [True], "lats"),
    ([116.6, None], [35.4, 35.4], "lons"),
    ([[116.6]], [[35.4]], "lons"),
])
def test_batch_bad_input_raises_value_error(small_index, lons, lats, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        small_index.query_batch(lons, lats)


def test_stations_with_bad_coordinates_are_rejected_all_named():
    good = Station(id="OK-1", name="g", kind="rest_station", lon=116.6, lat=35.4)
    bad = [
        Station(id="BAD-1", name="b", kind="rest_station", lon=116.6, lat=float("nan")),
        Station(id="BAD-2", name="b", kind="rest_station", lon="116.6", lat=35.4),
        Station(id="BAD-3", name="b", kind="rest_station", lon=116.6, lat=93),
    ]
    with pytest.raises(ValueError) as err:
        NearestIndex([good, *bad])
    assert [(p.record, p.field) for p in err.value.problems] == [
        ("BAD-2", "lon"), ("BAD-1", "lat"), ("BAD-3", "lat")]
    assert "OK-1" not in str(err.value)


def test_statuses_and_amenities_accept_a_single_string():
    stations = random_stations(100, JINING_BBOX, 17)
    index = NearestIndex(stations)
    lon, lat = JINING
    assert index.query(lon, lat, statuses="planned", amenities="toilet") == \
        index.query(lon, lat, statuses=["planned"], amenities=["toilet"])
