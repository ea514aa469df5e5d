"""The stores' compact columns (``StationTable``), the file store's validated cache, and the nearest
index built from a table: the same answers as from the stations themselves, on every backend."""
from __future__ import annotations

import json
import logging
import os
import random
from datetime import datetime

import numpy as np
import pytest

from conftest import STATION_FEATURES
from stations.counties import Counties
from stations.model import AMENITIES, KINDS, STATUSES, Station
from stations.nearest import NearestIndex
from stations.store import GeoJSONStore
from stations.store import geojson as geojson_module
from stations.store import tablecache
from stations.store.query import StationQuery
from stations.store.table import StationTable

pytest_plugins = ["store_backends"]  # the ``store`` fixture: once per backend

HOURS = [None, "24/7", "Mo-Fr 08:00-18:00", "Mo-Su 22:00-06:00", "Tu-Su 09:00-17:00"]


def random_stations(n: int, seed: int = 3) -> list[Station]:
    rng = random.Random(seed)
    stations = []
    for i in range(n):
        stations.append(Station(
            id=f"JN-{rng.choice(['RS', 'CP', 'CB'])}-{i:05d}", name=f"站 {i}", kind=rng.choice(list(KINDS)),
            lon=round(rng.uniform(116.4, 117.2), 6), lat=round(rng.uniform(35.05, 35.55), 6),
            county_code=rng.choice(["370811", "370812", "370883", None]), opening_hours=rng.choice(HOURS),
            amenities=tuple(sorted(rng.sample(list(AMENITIES), rng.randint(0, 4)), key=list(AMENITIES).index)),
            status=rng.choice(STATUSES), sample=True))
    if n > 10:  # two stations at one place: ties broken by id
        stations[7] = Station(**{**stations[7].__dict__, "lon": stations[3].lon, "lat": stations[3].lat})
    return sorted(stations, key=lambda s: s.id)


def test_a_table_holds_the_stations_and_gives_them_back_equal():
    stations = random_stations(300)
    table = StationTable.from_stations(list(reversed(stations)), {"name": "x"})
    assert len(table) == 300 and table.members == {"name": "x"}
    assert table.stations() == stations and list(table) == stations
    assert table[0] == stations[0] and table[-1] == stations[-1] and table[5:8] == stations[5:8]
    assert table.take([9, 2, 9]) == [stations[9], stations[2], stations[9]]
    assert [table.id_at(i) for i in range(3)] == [s.id for s in stations[:3]]
    assert table.kind_names().tolist() == [s.kind for s in stations]
    assert table.status_names().tolist() == [s.status for s in stations]
    assert table.hours_list() == [s.opening_hours for s in stations]
    assert [table.county_at(i) for i in range(300)] == [s.county_code for s in stations]
    with pytest.raises(IndexError):
        table[300]


@pytest.mark.parametrize("asked", ["JN-RS-00001", "", "JN", "JN-RS-000010", "ZZ", "驿站", "JN-RS-0000\x00", 17, None])
def test_a_table_finds_an_id_or_says_none(asked):
    stations = random_stations(50)
    table = StationTable.from_stations(stations)
    expected = next((s for s in stations if s.id == asked), None)
    assert table.get(asked) == expected
    for s in stations:
        assert table.get(s.id) == s


def test_a_tables_query_matches_the_reference_on_random_filters():
    stations = random_stations(600)
    table = StationTable.from_stations(stations)
    rng = random.Random(5)
    corners = [(s.lon, s.lat) for s in stations[:20]]
    for _ in range(300):
        minlon, maxlon = sorted(rng.uniform(116.3, 117.3) for _ in range(2))
        minlat, maxlat = sorted(rng.uniform(35.0, 35.6) for _ in range(2))
        if rng.random() < 0.3:  # a box whose edge passes through stations: edges are included
            (minlon, minlat), (maxlon, maxlat) = sorted(rng.sample(corners, 2))
            minlat, maxlat = sorted((minlat, maxlat))
        q = StationQuery.build(
            kind=rng.choice([None, "rest_station", ["rest_station", "cultural_palace"]]),
            county=rng.choice([None, "370811", ["370812", "370883"]]),
            status=rng.choice([None, "open", ["open", "planned"]]),
            amenity=rng.choice([(), ("toilet",), ("drinking_water", "wifi")]),
            bbox=rng.choice([None, (minlon, minlat, maxlon, maxlat)]))
        expected = [s.id for s in stations if q.matches(s)]
        assert [table.id_at(i) for i in table.select(q)] == expected
        offset, limit = rng.randint(0, 20), rng.choice([None, 0, 5, 50])
        page = table.page(q, limit, offset)
        assert page.total == len(expected)
        assert [s.id for s in page] == expected[offset:None if limit is None else offset + limit]


def test_every_backends_table_equals_its_stations(store):
    stations = store.all()
    table = store.table()
    assert len(table) == len(STATION_FEATURES)
    assert [table.id_at(i) for i in range(len(table))] == [s.id for s in stations]
    assert table.lon.tolist() == [s.lon for s in stations] and table.lat.tolist() == [s.lat for s in stations]
    assert table.kind_names().tolist() == [s.kind for s in stations]
    assert table.status_names().tolist() == [s.status for s in stations]
    assert table.hours_list() == [s.opening_hours for s in stations]
    assert [table.county_at(i) for i in range(len(table))] == [s.county_code for s in stations]
    assert table.take(range(len(table))) == stations
    assert table.members == store.collection_members()


def test_a_backends_table_follows_its_writes(store, other):
    before = other.table()
    store.update("JN-RS-0001", {"opening_hours": "Mo-Fr 06:00-22:00", "amenities": ["wifi"]})
    after = other.table()
    assert after is not before
    i = after.position("JN-RS-0001")
    assert after.hours_at(i) == "Mo-Fr 06:00-22:00" and after[i].amenities == ("wifi",)
    assert other.table() is after  # unchanged store: the same table


# ---- the nearest index from a table ---------------------------------------------------------------

def _answers(hits):
    return [(h.station.id, round(h.distance_m, 6), h.station) for h in hits]


def test_the_nearest_index_of_a_table_answers_as_the_index_of_the_stations():
    stations = random_stations(800)
    plain, tabled = NearestIndex(stations), NearestIndex.from_table(StationTable.from_stations(stations))
    rng = random.Random(11)
    at = datetime(2026, 11, 25, 23, 30)
    for _ in range(200):
        lon, lat = rng.uniform(116.3, 117.3), rng.uniform(35.0, 35.6)
        k = rng.choice([1, 3, 5, 40])
        filters = rng.choice([{}, {"kind": "rest_station"}, {"amenities": ("toilet",)}, {"statuses": None},
                              {"open_24_7": True}, {"serves": "passing_worker"}, {"max_distance_m": 5000.0},
                              {"statuses": ("open", "planned"), "amenities": ("drinking_water",)}])
        assert _answers(tabled.query(lon, lat, k, **filters)) == _answers(plain.query(lon, lat, k, **filters))
        assert _answers(tabled.query(lon, lat, k, open_at=at)) == _answers(plain.query(lon, lat, k, open_at=at))
        assert (_answers(tabled.query_open_first(lon, lat, at, k, statuses=None))
                == _answers(plain.query_open_first(lon, lat, at, k, statuses=None)))
    lons, lats = np.random.default_rng(2).uniform(116.3, 117.3, 300), np.random.default_rng(3).uniform(35, 35.6, 300)
    assert ([_answers(h) for h in tabled.query_batch(lons, lats, 5)]
            == [_answers(h) for h in plain.query_batch(lons, lats, 5)])


def test_the_nearest_index_of_a_backends_table_finds_its_stations(store):
    index = NearestIndex.from_table(store.table())
    hits = index.query(116.5870, 35.4150, k=3, statuses=None)
    assert hits[0].station == store.get("JN-RS-0001") and hits[0].distance_m == 0


# ---- the file store's cache -----------------------------------------------------------------------

@pytest.fixture
def reads(monkeypatch):
    """Every time a file store decodes its file's text (that is: validates it)."""
    seen = []
    real = geojson_module.decode_stations_bytes
    monkeypatch.setattr(geojson_module, "decode_stations_bytes", lambda data, where: seen.append(where) or real(data, where))
    return seen


@pytest.fixture
def counties(counties_path):
    return Counties.load(counties_path)


@pytest.fixture(autouse=True)
def cache_small_files(monkeypatch):
    """The fixture files are tiny: cache them all the same (the site caches files of 2 MB and more)."""
    monkeypatch.setattr(tablecache, "MIN_BYTES", 0)


def test_a_validated_file_is_cached_beside_it_and_read_from_there_next_time(stations_path, counties, reads):
    first = GeoJSONStore(stations_path, counties)
    expected = first.all()
    assert len(reads) == 1 and tablecache.cache_path(stations_path).is_file()
    second = GeoJSONStore(stations_path, counties)  # another process, say
    assert second.all() == expected and second.version == first.version
    assert second.collection_members() == first.collection_members()
    assert len(reads) == 1  # from the cache: not validated again


def test_a_write_caches_what_it_wrote(stations_path, counties, reads):
    store = GeoJSONStore(stations_path, counties)
    store.update("JN-RS-0001", {"name": "改名驿站", "lon": 116.58701234567})
    assert len(reads) == 1  # the first read only: the writer holds what it wrote
    fresh = GeoJSONStore(stations_path, counties)
    assert fresh.get("JN-RS-0001") == store.get("JN-RS-0001")
    assert fresh.get("JN-RS-0001").lon == 116.5870123  # as the file stores it
    assert len(reads) == 1
    validated_again = GeoJSONStore(stations_path, counties)
    tablecache.cache_path(stations_path).unlink()
    assert validated_again.all() == store.all() and len(reads) == 2


def test_a_file_changed_in_place_keeping_its_size_and_time_is_validated_again(stations_path, counties, reads):
    GeoJSONStore(stations_path, counties).all()
    st = os.stat(stations_path)
    data = stations_path.read_bytes()
    changed = data.replace("古槐路驿站".encode(), "古槐街驿站".encode())
    assert len(changed) == len(data) and changed != data
    with open(stations_path, "r+b") as fh:  # the same inode, the same size
        fh.write(changed)
    os.utime(stations_path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same time
    assert GeoJSONStore(stations_path, counties).get("JN-RS-0001").name == "古槐街驿站"
    assert len(reads) == 2


def test_a_damaged_cache_is_not_used(stations_path, counties, reads, caplog):
    GeoJSONStore(stations_path, counties).all()
    cache = tablecache.cache_path(stations_path)
    data = bytearray(cache.read_bytes())
    data[-3] ^= 0xFF
    cache.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="stations.store.tablecache"):
        assert GeoJSONStore(stations_path, counties).all()[0].id == "JN-CB-0001"
    assert len(reads) == 2 and "damaged" in caplog.text
    cache.write_bytes(b"YIZHAN-TABLE-01\n\xff")  # cut short
    assert len(GeoJSONStore(stations_path, counties).all()) == len(STATION_FEATURES)


def test_the_cache_is_only_for_the_counties_it_was_validated_with(stations_path, counties_path, counties, reads):
    GeoJSONStore(stations_path, counties).all()
    other = json.loads(counties_path.read_text(encoding="utf-8"))
    other["features"][0]["properties"]["adcode"] = "370899"
    changed = Counties.from_geojson(other)
    with pytest.raises(Exception):  # stations of 370811 now name an unknown county
        GeoJSONStore(stations_path, changed).all()
    assert len(reads) == 2
    assert GeoJSONStore(stations_path, None).all() and len(reads) == 3  # no counties: another key too


def test_a_small_file_gets_no_cache(stations_path, counties, reads, monkeypatch):
    monkeypatch.setattr(tablecache, "MIN_BYTES", 10**9)
    assert len(GeoJSONStore(stations_path, counties).all()) == len(STATION_FEATURES)
    assert not tablecache.cache_path(stations_path).exists()
    GeoJSONStore(stations_path, counties).update("JN-RS-0001", {"name": "改名驿站"})
    assert not tablecache.cache_path(stations_path).exists()


def test_a_cache_that_cannot_be_written_is_skipped(stations_path, counties, reads, monkeypatch, caplog):
    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(tablecache, "atomic_write_bytes", refuse)
    with caplog.at_level(logging.WARNING, logger="stations.store.tablecache"):
        assert len(GeoJSONStore(stations_path, counties).all()) == len(STATION_FEATURES)
    assert "cannot write the stations cache" in caplog.text
    assert len(GeoJSONStore(stations_path, counties).all()) == len(STATION_FEATURES) and len(reads) == 2


def test_serve_reads_a_file_store_once_before_its_workers_start(counties_path, tmp_path, reads):
    from yizhan.server import prepare_store

    big = tmp_path / "big.geojson"  # large enough to be cached (in the child: the real threshold)
    rng = random.Random(2)
    stations = [Station(id=f"JN-RS-{i:05d}", name=f"驿站 {i}", kind="rest_station", lon=rng.uniform(116.41, 116.69),
                        lat=rng.uniform(35.31, 35.54), opening_hours="24/7", amenities=("toilet",)) for i in range(6000)]
    big.write_text(json.dumps({"type": "FeatureCollection", "features": [s.to_feature() for s in stations]},
                              ensure_ascii=False, indent=2), encoding="utf-8")
    assert big.stat().st_size > 2_000_000
    assert prepare_store(f"geojson:{big}", str(counties_path)) is None
    assert tablecache.cache_path(big).is_file()  # made by the child process
    assert len(GeoJSONStore(big, Counties.load(counties_path)).all()) == 6000
    assert reads == []  # this process: from the cache
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    assert "JSON" in prepare_store(str(broken), str(counties_path))
    assert prepare_store("postgresql+psycopg://nobody@127.0.0.1:1/none", str(counties_path)) is None  # nothing to do
