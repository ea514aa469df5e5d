"""The GeoJSON file backend: the file's form, its journal file, its lock, processes, and ``open_store``.

What every backend does (reading, querying, validation, versions, history) is the contract suite's:
``test_store_contract`` and ``test_store_history``. The file's permissions, temporary files and bad
files: ``test_store_files``.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stations.counties import Counties
from stations.errors import StoreUnavailable, ValidationError
from stations.store import GeoJSONStore, StationStore, open_store

ROOT = Path(__file__).resolve().parent.parent
COUNTIES = ROOT / "geodata" / "counties.geojson"


@pytest.fixture(scope="module")
def counties():
    return Counties.load(COUNTIES)


def inner(counties, code):
    p = counties.geometry(code).representative_point()
    return [round(p.x, 6), round(p.y, 6)]


def feature(fid, coords, **props):
    base = {"id": fid, "name": f"测试驿站 {fid}", "kind": "rest_station", "status": "open",
            "amenities": ["drinking_water"], "opening_hours": "24/7", "sample": True}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": base}


@pytest.fixture
def store_path(tmp_path, counties):
    codes = counties.codes
    features = [feature(f"JN-RS-{i + 1:04d}", inner(counties, codes[i % len(codes)])) for i in range(12)]
    path = tmp_path / "stations.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def problems_of(excinfo):
    return [(p.record, p.field) for p in excinfo.value.problems]



def test_written_file_is_sorted_stable_and_rounded(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    store.update("JN-RS-0003", {"lon": 116.58712345678, "lat": 35.41398765432}, who="test")
    data = json.loads(store_path.read_text(encoding="utf-8"))
    ids = [f["properties"]["id"] for f in data["features"]]
    assert ids == sorted(ids)
    coords = next(f for f in data["features"] if f["properties"]["id"] == "JN-RS-0003")["geometry"]["coordinates"]
    assert coords == [116.5871235, 35.4139877]
    first = data["features"][0]["properties"]
    assert list(first)[:4] == ["id", "name", "kind", "county_code"]
    text = store_path.read_text(encoding="utf-8")
    assert "\n  " in text and "测试驿站" in text  # pretty-printed, Chinese kept readable
    before = text
    store.update("JN-RS-0005", {"name": "改名"})
    after = store_path.read_text(encoding="utf-8")
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(changed) == 1 and "改名" in changed[0]









def test_swapped_in_range_point_is_named_when_swapped_falls_inside(tmp_path):
    # Both values are valid numbers, but only the swapped point lies in a county.
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": "100001", "name": "甲县", "area_km2": 1.0, "population": 1},
         "geometry": {"type": "Polygon", "coordinates": [[[30, 60], [31, 60], [31, 61], [30, 61], [30, 60]]]}},
    ]}
    cpath = tmp_path / "c.geojson"
    cpath.write_text(json.dumps(fc, ensure_ascii=False))
    store = GeoJSONStore(tmp_path / "s.geojson", counties=Counties.load(cpath))
    store.add(feature("XX-RS-0001", [30.5, 60.5]))
    with pytest.raises(ValidationError, match=r"swapped: \[30.5, 60.5\] falls in 100001 甲县") as excinfo:
        store.add(feature("XX-RS-0002", [60.5, 30.5]))
    assert problems_of(excinfo) == [("XX-RS-0002", "geometry.coordinates")]


def test_malformed_file_names_the_problem(tmp_path, counties):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ValidationError, match="valid JSON"):
        GeoJSONStore(path, counties=counties).all()
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(ValidationError, match="FeatureCollection"):
        GeoJSONStore(path, counties=counties).all()


def test_invalid_file_reports_every_record(store_path, counties):
    data = json.loads(store_path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["kind"] = "spa"
    data["features"][1]["properties"]["id"] = data["features"][2]["properties"]["id"]
    data["features"][3]["geometry"]["coordinates"] = [200, 35]
    store_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError) as excinfo:
        GeoJSONStore(store_path, counties=counties).all()
    found = problems_of(excinfo)
    assert ("JN-RS-0001", "kind") in found
    assert ("JN-RS-0003", "id") in found
    assert ("JN-RS-0004", "geometry.coordinates[0] (longitude)") in found





# ---- the journal file ----------------------------------------------------------------------------

def journal_of(store_path):
    return [json.loads(x) for x in (store_path.parent / "journal.jsonl").read_text(encoding="utf-8").splitlines()]


def test_each_change_is_a_journal_line_numbered_by_its_line(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    added = store.add(feature("", inner(counties, "370883"), name="新驿站"), who="alice")
    store.update(added.id, {"status": "temporarily_closed"}, who="bob")
    store.delete(added.id, who="carol")
    lines = journal_of(store_path)
    assert [(e["id"], e["action"], e["who"], e["station_id"]) for e in lines] == [
        (1, "add", "alice", added.id), (2, "update", "bob", added.id), (3, "delete", "carol", added.id)]
    assert lines[1]["before"]["properties"]["status"] == "open" and lines[1]["changed"] == ["status"]
    assert lines[1]["after"]["properties"]["status"] == "temporarily_closed"
    assert lines[2]["after"] is None and all(e["when"].endswith("+00:00") for e in lines)
    assert [e.to_dict() for e in reversed(store.history())] == lines


def test_older_journal_lines_without_ids_are_numbered_by_line(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    before = store.get("JN-RS-0002").to_feature()
    after = json.loads(json.dumps(before))
    after["properties"]["name"] = "旧的修改"
    old = [{"when": "2026-01-05T08:00:00+00:00", "who": "clerk", "action": "update", "before": before, "after": after},
           {"when": "2026-01-06T08:00:00+00:00", "who": "yizhan sample", "action": "replace_all",
            "before": None, "after": {"count": 12}}]
    (store_path.parent / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in old), encoding="utf-8")
    store.update("JN-RS-0002", {"beds": 3}, who="bob")
    entries = store.history(limit=None)
    assert [(e.id, e.action, e.station_id) for e in entries] == [
        (3, "update", "JN-RS-0002"), (2, "replace_all", None), (1, "update", "JN-RS-0002")]
    assert entries[2].changed == ("name",) and entries[2].changes()["name"][1] == "旧的修改"
    assert entries[1].note == "12 stations" and entries[1].after is None
    assert store.journal_entry(1).who == "clerk"


def test_a_journal_line_cut_short_keeps_its_number_and_is_skipped(store_path, counties, caplog):
    store = GeoJSONStore(store_path, counties=counties)
    store.update("JN-RS-0001", {"beds": 1})
    journal = store_path.parent / "journal.jsonl"
    with open(journal, "a", encoding="utf-8") as fh:
        fh.write('{"id": 2, "when": "2026-')  # a writer killed mid-line
    store.update("JN-RS-0001", {"beds": 2})
    assert [e.id for e in store.history()] == [3, 1]
    assert "line 2" in caplog.text
    assert json.loads(journal.read_text(encoding="utf-8").splitlines()[2])["id"] == 3


def test_a_lock_held_too_long_is_unavailable_not_an_error(store_path, counties, monkeypatch):
    from filelock import FileLock

    from stations.store import geojson

    monkeypatch.setattr(geojson, "LOCK_TIMEOUT_S", 0.2)
    store = GeoJSONStore(store_path, counties=counties)
    with FileLock(str(store_path) + ".lock"):  # another writer
        with pytest.raises(StoreUnavailable, match="locked") as excinfo:
            store.update("JN-RS-0001", {"beds": 1})
    assert excinfo.value.http_status == 503
    assert store.update("JN-RS-0001", {"beds": 1}).beds == 1


# ---- open_store -----------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["path", "str", "geojson:", "geojson:///"])
def test_open_store_opens_the_file_store_from_a_path_or_url(store_path, counties, form, monkeypatch):
    monkeypatch.chdir(store_path.parent)
    given = {"path": store_path, "str": "stations.geojson", "geojson:": "geojson:stations.geojson",
             "geojson:///": "geojson://" + str(store_path).replace(" ", "%20")}[form]
    store = open_store(given, counties)
    assert isinstance(store, GeoJSONStore) and isinstance(store, StationStore)
    assert store.path.resolve() == store_path.resolve() and store.counties is counties
    assert len(store.all()) == 12


def test_open_store_takes_the_journal_path(store_path, tmp_path):
    store = open_store(store_path, journal_path=tmp_path / "audit.jsonl")
    store.update("JN-RS-0001", {"beds": 1})
    assert (tmp_path / "audit.jsonl").exists()


@pytest.mark.parametrize("url, says", [
    ("", "empty"),
    ("ftp://example.cn/stations.geojson", "unknown scheme 'ftp'"),
    ("geojson://otherhost/stations.geojson", "local file"),
    ("geojson:", "names no file"),
    ("postgresql+psycopg://yizhan:secret@db.example.cn/yizhan?schema=1bad", "plain schema name"),
    ("mysql://yizhan:secret@db.example.cn/yizhan", "unknown scheme 'mysql'"),
])
def test_open_store_names_a_url_it_cannot_open(url, says):
    with pytest.raises(ValidationError, match=says) as excinfo:
        open_store(url)
    assert excinfo.value.http_status == 400 and "secret" not in str(excinfo.value)
    assert excinfo.value.problems[0].field == "STORE_URL"

WRITER = textwrap.dedent("""
    import sys
    from stations.counties import Counties
    from stations.store import GeoJSONStore
    path, counties, ids, rounds = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
    store = GeoJSONStore(path, counties=Counties.load(counties))
    for r in range(rounds):
        for sid in ids:
            store.update(sid, {"name": f"{sid} round {r}", "floor_area_m2": float(r + 1)}, who="proc")
            if r == 0 and sid == ids[0]:
                print("ready", flush=True)  # one write done: the next ones are under fire
    print("done", flush=True)
""")


def run_writer(store_path, ids, rounds):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), str(COUNTIES), ",".join(ids), str(rounds)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.mark.slow
def test_sigkill_during_writes_never_corrupts(store_path, counties):
    expected_ids = [f"JN-RS-{i + 1:04d}" for i in range(12)]
    for attempt in range(25):
        proc = run_writer(store_path, expected_ids, 10_000)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep((attempt % 7) * 0.011)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads(store_path.read_text(encoding="utf-8"))  # parses: never half-written
        stations = GeoJSONStore(store_path, counties=counties).all()  # and valid
        assert [s.id for s in stations] == expected_ids
        assert len(data["features"]) == 12
    journal = (store_path.parent / "journal.jsonl").read_text().splitlines()
    assert len(journal) >= 25  # the writer really did write before each kill


@pytest.mark.slow
def test_two_processes_updating_different_stations_lose_nothing(store_path, counties):
    a_ids = [f"JN-RS-{i:04d}" for i in range(1, 7)]
    b_ids = [f"JN-RS-{i:04d}" for i in range(7, 13)]
    rounds = 15
    procs = [run_writer(store_path, ids, rounds) for ids in (a_ids, b_ids)]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out
    store = GeoJSONStore(store_path, counties=counties)
    for sid in a_ids + b_ids:
        s = store.get(sid)
        assert s.name == f"{sid} round {rounds - 1}"
        assert s.floor_area_m2 == float(rounds)
    journal = (store_path.parent / "journal.jsonl").read_text().splitlines()
    assert len(journal) == 2 * 6 * rounds
