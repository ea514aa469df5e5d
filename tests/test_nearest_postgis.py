"""PostGIS's own KNN (re-ranked on the ellipsoid) and the site's in-process index give the same answers.

The site answers ``/api/nearest`` from ``NearestIndex.from_table(store.table())``, the faster of the two
(``scripts/bench_nearest_db.py``); ``stations.store.postgis.nearest`` is the check: the same stations in
the same order at the same geodesic distances, on sample points and filters. Skipped, saying why,
without PostgreSQL/PostGIS.
"""
from __future__ import annotations

import random

import pytest

from conftest import COUNTY_BOXES
from stations.counties import Counties
from stations.model import AMENITIES, KINDS, STATUSES
from stations.nearest import NearestIndex


def _stations(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    features = []
    boxes = list(COUNTY_BOXES.values())
    for i in range(n):
        _, (minlon, minlat, maxlon, maxlat), _ = rng.choice(boxes)
        lon, lat = round(rng.uniform(minlon + 1e-4, maxlon - 1e-4), 6), round(rng.uniform(minlat + 1e-4, maxlat - 1e-4), 6)
        if i % 97 == 5:  # some stations share a place: ties broken by id
            lon, lat = features[-1]["geometry"]["coordinates"]
        kind = rng.choice(list(KINDS))
        prefix = KINDS[kind]["prefix"]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"id": f"JN-{prefix}-{i + 1:04d}", "name": f"站{i}", "kind": kind,
                                        "status": rng.choice(STATUSES),
                                        "amenities": rng.sample(list(AMENITIES), rng.randint(0, 3))}})
    return features


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from conftest import counties_collection
    from postgis_db import fresh_schema, store_url
    from stations.store import open_store
    from stations.store.postgis import load

    counties = Counties.from_geojson(counties_collection())
    store = open_store(store_url(fresh_schema()), counties)
    load(store, _stations(1500, seed=8))
    yield store
    store.close()


def _ranking(hits):
    return [(h.station.id, round(h.distance_m, 6)) for h in hits]


def test_postgis_knn_and_the_in_process_index_rank_alike(loaded):
    from stations.store.postgis.nearest import nearest

    index = NearestIndex.from_table(loaded.table())
    rng = random.Random(4)
    filters = [{}, {"statuses": None}, {"kind": "rest_station"}, {"amenities": ("toilet",)},
               {"statuses": ("open", "planned"), "amenities": ("drinking_water",)}, {"max_distance_m": 3000.0}]
    for i in range(120):
        lon, lat = rng.uniform(116.35, 117.25), rng.uniform(35.0, 35.6)
        k = rng.choice([1, 5, 12])
        chosen = filters[i % len(filters)]
        ours = index.query(lon, lat, k, **chosen)
        theirs = nearest(loaded, lon, lat, k, **chosen)
        assert _ranking(theirs) == _ranking(ours), (lon, lat, k, chosen)
        assert [h.station for h in theirs] == [h.station for h in ours]


def test_postgis_knn_on_a_station_and_far_away(loaded):
    from stations.store.postgis.nearest import nearest

    first = loaded.table()[0]
    hits = nearest(loaded, first.lon, first.lat, 1, statuses=None)
    assert hits[0].distance_m == 0 and hits[0].station.lon == first.lon
    far = nearest(loaded, 100.0, 20.0, 3)  # 1,700 km away: the loop widens until the bound holds
    assert _ranking(far) == _ranking(NearestIndex.from_table(loaded.table()).query(100.0, 20.0, 3))
