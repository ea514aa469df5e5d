"""The store backends that the contract tests (``test_store_contract``, ``test_store_history``) run on.

Every test that takes the ``store`` fixture runs once per entry of :data:`BACKENDS`. A new backend
is one entry: a function that makes a store holding the given features (and skips, saying why,
where its database is out of reach).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import STATION_FEATURES
from stations.counties import Counties
from stations.store import StationStore, open_store


@dataclass
class Backend:
    """One data set in one backend; :meth:`open` gives a new store object on it (as another
    process or server would have)."""

    name: str
    opener: Callable[[], StationStore]
    opened: list[StationStore] = field(default_factory=list)

    def open(self) -> StationStore:
        store = self.opener()
        self.opened.append(store)
        return store


def geojson_backend(folder: Path, counties: Counties, features: list[dict]) -> Backend:
    path = folder / "stations.geojson"
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return Backend("geojson", lambda: open_store(f"geojson:{path}", counties))


def postgis_backend(folder: Path, counties: Counties, features: list[dict]) -> Backend:
    """A fresh schema of the test database (``postgis_db``), loaded with ``features``; no journal yet.
    Skipped, saying why, where PostgreSQL or PostGIS is missing."""
    from postgis_db import execute, fresh_schema, store_url
    from stations.store.postgis import load

    schema = fresh_schema()
    with open_store(store_url(schema), counties) as seeding:
        load(seeding, features)
    execute("DELETE FROM station_journal", schema)  # as the file backend: records, no history
    return Backend("postgis", lambda: open_store(store_url(schema), counties))


#: backend name -> function(folder, counties, features) -> Backend
BACKENDS: dict[str, Callable[[Path, Counties, list[dict]], Backend]] = {
    "geojson": geojson_backend,
    "postgis": postgis_backend,
}


@pytest.fixture(params=list(BACKENDS))
def make_backend(request, tmp_path, counties_path):
    """``make_backend(features=None)``: a backend holding ``features`` (default: the conftest stations)."""
    counties = Counties.load(counties_path)
    made: list[Backend] = []

    def make(features: list[dict] | None = None) -> Backend:
        folder = tmp_path / f"{request.param}-{len(made)}"
        folder.mkdir()
        chosen = copy.deepcopy(STATION_FEATURES if features is None else features)
        made.append(BACKENDS[request.param](folder, counties, chosen))
        return made[-1]

    yield make
    for backend in made:
        for store in backend.opened:
            store.close()


@pytest.fixture
def backend(make_backend) -> Backend:
    return make_backend()


@pytest.fixture
def store(backend) -> StationStore:
    """A store holding the conftest stations."""
    return backend.open()


@pytest.fixture
def other(backend) -> StationStore:
    """A second store object on the same data: another process, or another server."""
    return backend.open()


def take_snapshot(store: StationStore) -> tuple:
    """Everything a refused write must leave as it was: the version, the records, the journal."""
    return (store.version, [s.to_feature() for s in store.all()], [e.to_dict() for e in store.history(limit=None)])


@pytest.fixture
def snapshot() -> Callable[[StationStore], tuple]:
    """``snapshot(store)``: what a refused write must leave unchanged (compare two snapshots)."""
    return take_snapshot
