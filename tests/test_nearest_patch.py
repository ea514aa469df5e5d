"""A nearest index patched with the stations changed since it was built answers as a new index would.

``PatchedIndex`` (``stations.nearest_patch``) is what a server answers ``/api/nearest`` from while a
PostGIS store changes under it: the base index of an earlier version, and the changed stations as they
are now. Checked against an index built from the current records, on random changes (added, moved,
renamed, closed, removed stations) and random questions with filters; and through the app on PostGIS.
"""
from __future__ import annotations

import dataclasses
import random
from datetime import datetime

import pytest

from stations.model import AMENITIES, STATUSES, Station
from stations.nearest import NearestIndex
from stations.nearest_patch import PatchedIndex
from stations.store.table import StationTable

HOURS = [None, "24/7", "Mo-Fr 08:00-18:00", "Mo-Su 22:00-06:00", "Tu-Su 09:00-17:00"]


def _station(rng: random.Random, sid: str) -> Station:
    return Station(id=sid, name=f"站 {sid}", kind=rng.choice(["rest_station", "rest_station", "cultural_palace"]),
                   lon=round(rng.uniform(116.4, 117.2), 6), lat=round(rng.uniform(35.05, 35.55), 6),
                   opening_hours=rng.choice(HOURS), status=rng.choice(STATUSES),
                   amenities=tuple(a for a in AMENITIES if rng.random() < 0.3))


def _answers(hits):
    return [(h.station.id, round(h.distance_m, 6), h.station) for h in hits]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_patched_index_answers_as_an_index_of_the_current_records(seed):
    rng = random.Random(seed)
    before = {s.id: s for s in (_station(rng, f"JN-RS-{i:05d}") for i in range(1500))}
    base = NearestIndex.from_table(StationTable.from_stations(sorted(before.values(), key=lambda s: s.id)))
    now, changed = dict(before), {}
    for sid in rng.sample(sorted(before), 120):
        what = rng.choice(["move", "close", "rename", "remove"])
        if what == "remove":
            now.pop(sid)
            changed[sid] = None
        else:
            s = now[sid]
            s = {"move": dataclasses.replace(s, lon=round(rng.uniform(116.4, 117.2), 6)),
                 "close": dataclasses.replace(s, status="closed"),
                 "rename": dataclasses.replace(s, name="改名", opening_hours="24/7")}[what]
            now[sid] = changed[sid] = s
    for i in range(60):  # added
        s = _station(rng, f"JN-RS-9{i:04d}")
        now[s.id] = changed[s.id] = s
    patched = PatchedIndex(base, changed)
    fresh = NearestIndex.from_table(StationTable.from_stations(sorted(now.values(), key=lambda s: s.id)))
    assert len(patched) == len(fresh) == len(now)
    at = datetime(2026, 11, 25, 23, 30)
    for _ in range(150):
        lon, lat = rng.uniform(116.3, 117.3), rng.uniform(35.0, 35.6)
        k = rng.choice([1, 5, 30])
        filters = rng.choice([{}, {"statuses": None}, {"kind": "rest_station"}, {"amenities": ("toilet",)},
                              {"open_24_7": True}, {"max_distance_m": 4000.0}, {"open_at": at}])
        assert _answers(patched.query(lon, lat, k, **filters)) == _answers(fresh.query(lon, lat, k, **filters))
        for statuses in (("open",), None, ("planned",)):
            assert (_answers(patched.query_open_first(lon, lat, at, k, statuses=statuses))
                    == _answers(fresh.query_open_first(lon, lat, at, k, statuses=statuses)))


def test_a_patched_index_never_reads_a_changed_station_from_the_store():
    rng = random.Random(9)
    stations = sorted((_station(rng, f"JN-RS-{i:04d}") for i in range(200)), key=lambda s: s.id)
    table = StationTable.from_stations(stations)
    reads = []
    real = table.records.take
    table.records.take = lambda t, indices: reads.extend(t.id_at(i) for i in indices) or real(t, indices)
    base = NearestIndex.from_table(table)
    gone = base.query(stations[0].lon, stations[0].lat, 1, statuses=None)[0].station.id
    patched = PatchedIndex(base, {gone: None})
    reads.clear()
    hits = patched.query(stations[0].lon, stations[0].lat, 5, statuses=None)
    assert gone not in [h.station.id for h in hits] and gone not in reads


def test_a_postgis_server_answers_from_the_patched_index_after_writes(app_config, counties_path, tmp_path):
    from postgis_db import fresh_schema, store_url
    from stations.counties import Counties
    from stations.store import open_store
    from stations.store.postgis import load
    from web import create_app

    url = store_url(fresh_schema())
    from conftest import STATION_FEATURES
    with open_store(url, Counties.load(counties_path)) as seeding:
        load(seeding, STATION_FEATURES)
    app = create_app({**app_config, "STORE_URL": url})
    client = app.test_client()
    st = app.extensions["yizhan"]
    near = "/api/nearest?lat=35.44&lon=116.55&k=3&statuses=open"
    assert client.get(near).json["results"][0]["id"] == "JN-RS-0004"
    base = st._nearest.base
    st.store.update("JN-RS-0002", {"geometry": {"type": "Point", "coordinates": [116.5501, 35.4401]}})
    st.store.delete("JN-RS-0004")
    results = client.get(near).json["results"]
    assert [r["id"] for r in results][:1] == ["JN-RS-0002"] and "JN-RS-0004" not in [r["id"] for r in results]
    assert isinstance(st._nearest.index, PatchedIndex) and st._nearest.base is base  # no national rebuild
    with app.app_context():
        fresh = NearestIndex(st.store.all()).query(116.55, 35.44, 3)
    assert [(r["id"], r["distance_m"]) for r in results] == [(h.station.id, round(h.distance_m, 1)) for h in fresh]
    st.store.save_all(st.store.all())  # a whole replacement: no patch, a new index
    assert client.get(near).status_code == 200 and st._nearest.base is not base
