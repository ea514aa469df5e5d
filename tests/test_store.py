"""The store: validation on the way in, atomic locked writes, pick-up of outside changes, journal."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stations.counties import Counties
from stations.errors import Conflict, NotFound, ValidationError
from stations.store import GeoJSONStore

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


def test_load_derives_county_from_polygon(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    stations = store.all()
    assert len(stations) == 12
    for s in stations:
        assert s.county_code == counties.codes[(int(s.id[-4:]) - 1) % len(counties.codes)]


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


def test_add_get_update_delete_and_journal(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    added = store.add(feature("", inner(counties, "370883"), name="新驿站"), who="alice")
    assert added.id == "JN-RS-0013" and added.county_code == "370883"
    assert store.get("JN-RS-0013").name == "新驿站"
    store.update("JN-RS-0013", {"status": "temporarily_closed"}, who="bob")
    assert store.get("JN-RS-0013").status == "temporarily_closed"
    store.delete("JN-RS-0013", who="carol")
    with pytest.raises(NotFound):
        store.get("JN-RS-0013")
    lines = [json.loads(x) for x in (store_path.parent / "journal.jsonl").read_text().splitlines()]
    assert [(e["action"], e["who"]) for e in lines] == [("add", "alice"), ("update", "bob"), ("delete", "carol")]
    assert lines[1]["before"]["properties"]["status"] == "open"
    assert lines[1]["after"]["properties"]["status"] == "temporarily_closed"
    assert lines[2]["after"] is None and all(e["when"] for e in lines)


def test_duplicate_id_is_refused(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    with pytest.raises(Conflict, match="JN-RS-0001"):
        store.add(feature("JN-RS-0001", inner(counties, "370811")))


def test_query_filters(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    store.update("JN-RS-0002", {"amenities": ["toilet", "microwave"], "kind": "cultural_palace"})
    assert [s.id for s in store.query(kind="cultural_palace")] == ["JN-RS-0002"]
    assert [s.id for s in store.query(amenity=["toilet", "microwave"])] == ["JN-RS-0002"]
    assert store.query(amenity=["toilet", "wifi"]) == []
    code = counties.codes[0]
    assert {s.id for s in store.query(county=code)} == {"JN-RS-0001", "JN-RS-0012"}
    s3 = store.get("JN-RS-0003")
    box = (s3.lon - 1e-4, s3.lat - 1e-4, s3.lon + 1e-4, s3.lat + 1e-4)
    assert [s.id for s in store.query(bbox=box)] == ["JN-RS-0003"]
    assert store.query(bbox=(s3.lon + 1e-4, s3.lat, s3.lon + 2e-4, s3.lat + 1e-4)) == []
    with pytest.raises(ValidationError, match="kind"):
        store.query(kind="spa")
    with pytest.raises(NotFound, match="999999"):
        store.query(county="999999")


@pytest.mark.parametrize("props, field", [
    ({"kind": "spa"}, "kind"),
    ({"amenities": ["drinking_water", "jacuzzi"]}, "amenities"),
    ({"status": "maybe"}, "status"),
    ({"opening_hours": "Mo-Fx 08:00-18:00"}, "opening_hours"),
    ({"palace_class": 2}, "palace_class"),  # only for cultural palaces
    ({"beds": -1}, "beds"),
    ({"floor_area_m2": 0}, "floor_area_m2"),
    ({"opened_on": "2024-02-30"}, "opened_on"),
    ({"last_verified_on": "yesterday"}, "last_verified_on"),
    ({"phone": "call me"}, "phone"),
    ({"sample": "yes"}, "sample"),
    ({"name": "  "}, "name"),
    ({"id": "jn rs 1"}, "id"),
    ({"county_code": "370812"}, "county_code"),  # the point is not in 兖州区
    ({"colour": "red"}, "colour"),
])
def test_every_validation_error_names_record_and_field(store_path, counties, props, field):
    store = GeoJSONStore(store_path, counties=counties)
    before = store_path.read_text(encoding="utf-8")
    with pytest.raises(ValidationError) as excinfo:
        store.update("JN-RS-0001", props)
    records_fields = problems_of(excinfo)
    assert ("JN-RS-0001", field) in records_fields or any(
        r == "JN-RS-0001" and f == field for r, f in records_fields), records_fields
    message = str(excinfo.value)
    assert "JN-RS-0001" in message and field in message
    assert store_path.read_text(encoding="utf-8") == before  # nothing written


def test_all_problems_reported_at_once(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    with pytest.raises(ValidationError) as excinfo:
        store.update("JN-RS-0001", {"kind": "spa", "status": "maybe", "amenities": ["jacuzzi"]})
    fields = {f for _, f in problems_of(excinfo)}
    assert {"kind", "status", "amenities"} <= fields


def test_point_outside_every_county(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    with pytest.raises(ValidationError, match="inside one of the counties") as excinfo:
        store.add(feature("JN-RS-0100", [121.47, 31.23]))  # Shanghai
    assert problems_of(excinfo) == [("JN-RS-0100", "geometry.coordinates")]


def test_swapped_coordinates_are_named(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    lon, lat = inner(counties, "370811")
    with pytest.raises(ValidationError, match="swapped") as excinfo:
        store.add(feature("JN-RS-0100", [lat, lon]))  # (lat, lon): latitude 116 is impossible
    assert "JN-RS-0100" in str(excinfo.value)
    tricky = [35.0, 80.0]  # outside everything either way
    with pytest.raises(ValidationError) as excinfo:
        store.add(feature("JN-RS-0101", tricky))
    assert "swapped" not in str(excinfo.value)


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


def test_refuses_to_save_invalid_and_keeps_valid(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    before = store.all()
    with pytest.raises(ValidationError):
        store.add(feature("JN-RS-0200", [0, 0]))
    assert store.all() == before
    assert GeoJSONStore(store_path, counties=counties).all() == before


def test_change_by_another_process_is_picked_up(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    assert store.get("JN-RS-0001").name == "测试驿站 JN-RS-0001"
    version = store.version
    other = GeoJSONStore(store_path, counties=counties)
    other.update("JN-RS-0001", {"name": "别处改的"})
    assert store.version != version
    assert store.get("JN-RS-0001").name == "别处改的"


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


def test_moving_by_geometry_derives_the_county_again(store_path, counties):
    store = GeoJSONStore(store_path, counties=counties)
    assert store.get("JN-RS-0001").county_code != "370883"
    there = {"type": "Point", "coordinates": inner(counties, "370883")}
    moved = store.update("JN-RS-0001", {"geometry": there})
    assert moved.county_code == "370883" and store.get("JN-RS-0001").county_code == "370883"
    back = {"type": "Point", "coordinates": inner(counties, counties.codes[0])}
    with pytest.raises(ValidationError) as excinfo:  # a county_code given with the move is checked
        store.update("JN-RS-0001", {"geometry": back, "county_code": "370883"})
    assert problems_of(excinfo) == [("JN-RS-0001", "county_code")]
    assert store.update("JN-RS-0001", {"geometry": back, "county_code": counties.codes[0]}).county_code \
        == counties.codes[0]
