"""Optimistic concurrency of the file store across processes, and its 412 on the web.

The versions' contract (what a record version is, stale versions refused with nothing written) is
the contract suite's, for every backend: ``test_store_contract``.
"""
from __future__ import annotations

import json
import multiprocessing
import queue
from pathlib import Path

import pytest

from stations.counties import Counties
from stations.store import GeoJSONStore

ROOT = Path(__file__).resolve().parent.parent
COUNTIES = ROOT / "geodata" / "counties.geojson"
COUNTER_ID = "JN-RS-0001"


@pytest.fixture(scope="module")
def counties():
    return Counties.load(COUNTIES)


def _feature(fid, coords, **props):
    base = {"id": fid, "name": f"测试驿站 {fid}", "kind": "rest_station", "status": "open",
            "amenities": ["drinking_water"], "opening_hours": "24/7", "sample": True}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": base}


@pytest.fixture
def store_path(tmp_path, counties):
    codes = counties.codes
    features = []
    for i in range(6):
        p = counties.geometry(codes[i % len(codes)]).representative_point()
        features.append(_feature(f"JN-RS-{i + 1:04d}", [round(p.x, 6), round(p.y, 6)], beds=0))
    path = tmp_path / "stations.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def journal_lines(path: Path) -> list[dict]:
    journal = path.parent / "journal.jsonl"
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


# ---- four processes increment one record ------------------------------------------------------

def _incrementer(path: str, counties_path: str, rounds: int, barrier, results) -> None:
    """Read-then-update ``beds`` += 1, ``rounds`` times, retrying on a stale version."""
    from stations.counties import Counties
    from stations.errors import StaleVersion
    from stations.store import GeoJSONStore

    store = GeoJSONStore(path, counties=Counties.load(counties_path))
    store.all()
    barrier.wait()
    retries = 0
    for _ in range(rounds):
        while True:
            station = store.get(COUNTER_ID)
            version = store.record_version(COUNTER_ID)
            try:
                store.update(COUNTER_ID, {"beds": station.beds + 1}, who="incrementer", expected_version=version)
                break
            except StaleVersion:
                retries += 1
    results.put(retries)


@pytest.mark.slow
def test_four_processes_incrementing_one_record_lose_no_update(store_path, counties):
    processes, rounds = 4, 40
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_incrementer, args=(str(store_path), str(COUNTIES), rounds, barrier, results))
               for _ in range(processes)]
    for w in workers:
        w.start()
    finished = []  # each worker's retry count
    while len(finished) < processes:
        try:
            finished.append(results.get(timeout=1))
        except queue.Empty:
            crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not crashed, f"a worker failed (exit codes {crashed})"
    for w in workers:
        w.join()
        assert w.exitcode == 0
    store = GeoJSONStore(store_path, counties=counties)
    assert store.get(COUNTER_ID).beds == processes * rounds
    updates = [e for e in journal_lines(store_path) if e["action"] == "update"]
    assert len(updates) == processes * rounds
    assert sorted(e["after"]["properties"]["beds"] for e in updates) == list(range(1, processes * rounds + 1))
    assert [e["id"] for e in journal_lines(store_path)] == list(range(1, processes * rounds + 1))  # change N


def test_a_stale_version_answers_412_through_the_error_handler(app):
    from web.state import state

    def save_with_an_old_version():
        st = state()
        st.store.update("JN-RS-0001", {"name": "先到的修改"})
        st.store.update("JN-RS-0001", {"name": "后到的修改"}, expected_version="0" * 16)
        return "not reached"

    app.add_url_rule("/api/test-stale", "test_stale", save_with_an_old_version, methods=["POST"])
    response = app.test_client().post("/api/test-stale")
    assert response.status_code == 412 and response.is_json
    error = response.get_json()["error"]
    assert error["status"] == 412 and "JN-RS-0001" in error["message"]
    with app.app_context():
        assert state().store.get("JN-RS-0001").name == "先到的修改"


@pytest.mark.parametrize("call, status", [
    (lambda store: store.update("JN-RS-0001", {"kind": "spa", "status": "maybe"}), 422),
    (lambda store: store.query(kind="spa"), 400),
    (lambda store: store.journal_entry(999), 404),
    (lambda store: store.add(store.get("JN-RS-0001")), 409),
])
def test_store_errors_answer_their_own_status_through_the_error_handler(app, call, status):
    from web.state import state

    app.add_url_rule("/api/test-store-error", "test_store_error", lambda: call(state().store) and "not reached",
                     methods=["POST"])
    response = app.test_client().post("/api/test-store-error")
    assert response.status_code == status and response.get_json()["error"]["status"] == status
    if status == 422:  # every problem of the record
        assert {p["field"] for p in response.get_json()["error"]["problems"]} == {"kind", "status"}
