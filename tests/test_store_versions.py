"""Optimistic concurrency: per-record versions, compare-and-set writes, no lost update across processes."""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import queue
from pathlib import Path

import pytest

from stations.counties import Counties
from stations.errors import Conflict, NotFound
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


def stale_version_class():
    from stations.errors import StaleVersion
    return StaleVersion


# ---- the version of a record ---------------------------------------------------------------------

def test_record_version_is_the_hash_of_the_records_canonical_json(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    store.update("JN-RS-0002", {"name": "改过一次"})  # the file now holds canonical features
    data = json.loads(store_path.read_text(encoding="utf-8"))
    for feat in data["features"]:
        canonical = json.dumps(feat, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        assert store.record_version(feat["properties"]["id"]) == expected


def test_record_version_changes_with_its_record_only(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    other = GeoJSONStore(store_path, counties=counties)
    v1, v2 = store.record_version("JN-RS-0001"), store.record_version("JN-RS-0002")
    assert other.record_version("JN-RS-0001") == v1  # the same in every process
    other.update("JN-RS-0001", {"name": "别处改的"})
    assert store.record_version("JN-RS-0001") != v1
    assert store.record_version("JN-RS-0002") == v2
    with pytest.raises(NotFound, match="JN-RS-0099"):
        store.record_version("JN-RS-0099")


def test_update_with_the_current_version_succeeds(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    version = store.record_version("JN-RS-0003")
    updated = store.update("JN-RS-0003", {"name": "按版本改"}, who="alice", expected_version=version)
    assert updated.name == "按版本改" and store.get("JN-RS-0003").name == "按版本改"
    assert store.record_version("JN-RS-0003") != version


def test_stale_version_is_refused_and_leaves_the_file_unchanged(store_path, counties):
    StaleVersion = stale_version_class()
    store = GeoJSONStore(store_path, counties=counties)
    other = GeoJSONStore(store_path, counties=counties)
    seen = store.record_version("JN-RS-0001")
    other.update("JN-RS-0001", {"name": "另一位编辑先保存"}, who="bob")
    before_bytes = store_path.read_bytes()
    before_journal = journal_lines(store_path)
    with pytest.raises(StaleVersion) as excinfo:
        store.update("JN-RS-0001", {"status": "closed"}, who="alice", expected_version=seen)
    assert isinstance(excinfo.value, Conflict)
    assert excinfo.value.http_status == 412
    assert "JN-RS-0001" in str(excinfo.value)
    assert excinfo.value.current.name == "另一位编辑先保存"  # what the other editor saved, to show both
    assert excinfo.value.current_version == store.record_version("JN-RS-0001")
    with pytest.raises(StaleVersion):
        store.delete("JN-RS-0001", who="alice", expected_version=seen)
    assert store_path.read_bytes() == before_bytes
    assert journal_lines(store_path) == before_journal
    assert store.get("JN-RS-0001").status == "open"


def test_delete_with_the_current_version_succeeds(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    store.delete("JN-RS-0004", expected_version=store.record_version("JN-RS-0004"))
    with pytest.raises(NotFound):
        store.get("JN-RS-0004")


def test_add_and_save_all_check_the_store_version(store_path, counties):
    StaleVersion = stale_version_class()
    store = GeoJSONStore(store_path, counties=counties)
    other = GeoJSONStore(store_path, counties=counties)
    seen = store.version
    stations = store.all()
    other.update("JN-RS-0002", {"name": "并发修改"})
    before_bytes = store_path.read_bytes()
    new = _feature("JN-RS-0100", [stations[0].lon, stations[0].lat])
    with pytest.raises(StaleVersion):
        store.add(new, expected_store_version=seen)
    with pytest.raises(StaleVersion):
        store.save_all(stations, expected_store_version=seen)
    assert store_path.read_bytes() == before_bytes
    store.add(new, expected_store_version=store.version)
    assert store.get("JN-RS-0100").name == "测试驿站 JN-RS-0100"
    store.save_all(store.all(), expected_store_version=store.version)
    assert store.get("JN-RS-0002").name == "并发修改"


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
