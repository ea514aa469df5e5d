"""The store's file on disk: permissions and owner kept, stale temporary files cleaned, bad files named."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from stations.errors import Problem, ValidationError
from stations.store import GeoJSONStore
from conftest import STATION_FEATURES


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- permissions and owner -----------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_a_write_keeps_the_files_mode(stations_path, counties_path, mode):
    from stations.counties import Counties

    os.chmod(stations_path, mode)
    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    store.update("JN-RS-0001", {"name": "改名"})
    assert mode_of(stations_path) == mode
    store.delete("JN-RS-0002")
    store.save_all(store.all())
    assert mode_of(stations_path) == mode
    assert store.get("JN-RS-0001").name == "改名"


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask):
    old = os.umask(umask)
    try:
        store = GeoJSONStore(tmp_path / "new.geojson")
        store.add(STATION_FEATURES[0])
        with open(tmp_path / "plain.txt", "w") as fh:  # what an ordinary open() gives
            fh.write("x")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "new.geojson") == 0o666 & ~umask == mode_of(tmp_path / "plain.txt")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_write_keeps_the_files_owner_and_group(stations_path, counties_path):
    from stations.counties import Counties

    os.chown(stations_path, 65534, 65534)  # nobody / nogroup
    os.chmod(stations_path, 0o640)
    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    store.update("JN-RS-0001", {"name": "改名"})
    st = stations_path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o640)


# ---- stale temporary files ----------------------------------------------------------------------

def _touch(path: Path, age_s: float) -> None:
    path.write_text("half a file", encoding="utf-8")
    then = time.time() - age_s
    os.utime(path, (then, then))


def test_a_write_removes_stale_temporary_files_of_this_store_only(stations_path, counties_path):
    from stations.counties import Counties

    folder = stations_path.parent
    hour = 3600.0
    stale = [folder / ".stations.geojson.a1b2c3d4.tmp", folder / ".stations.geojson.zz_9y8x7.tmp"]
    kept = [
        folder / ".other.tmp",                         # another program's
        folder / "stations.geojson.bak",               # a backup
        folder / ".stations.geojson.swp",              # an editor's swap file
        folder / ".other.geojson.a1b2c3d4.tmp",        # another store's temporary file
        folder / ".stations.geojson.a1b2c3d4.tmp.keep",
        folder / "stations.geojson.a1b2c3d4.tmp",      # not hidden: not a name this store makes
    ]
    for path in stale + kept:
        _touch(path, hour)
    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    store.update("JN-RS-0001", {"name": "改名"})
    assert [p.name for p in stale if p.exists()] == []
    assert [p.name for p in kept if not p.exists()] == []
    assert json.loads(stations_path.read_text(encoding="utf-8"))["type"] == "FeatureCollection"


def test_a_recent_temporary_file_is_left_alone(stations_path, counties_path):
    from stations.counties import Counties

    recent = stations_path.parent / ".stations.geojson.q1w2e3r4.tmp"
    _touch(recent, 1.0)  # could belong to a writer the lock does not see (e.g. on another host)
    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    store.update("JN-RS-0001", {"name": "改名"})
    assert recent.exists()


# ---- long values are quoted, not echoed ---------------------------------------------------------

@pytest.mark.parametrize("value, shown", [(float("inf"), "inf"), (float("nan"), "nan"),
                                           ([float("-inf"), 35], "[-inf, 35]"), ({"a"}, "{'a'}"),
                                           ("a\ud800", "'a\\ud800'")])
def test_a_value_json_cannot_carry_is_quoted_as_text(value, shown):
    as_dict = Problem("JN-RS-0001", "beds", value, "a whole number ≥ 0").to_dict()
    assert as_dict["value"] == shown
    json.dumps(as_dict, allow_nan=False)  # what the API sends: never NaN or Infinity


def test_a_lone_surrogate_is_refused_naming_the_field_and_the_file_stays_utf8(stations_path, counties_path):
    from stations.counties import Counties
    from stations.errors import InvalidRecord

    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    before = stations_path.read_bytes()
    for change in ({"name": "古槐路\ud800驿站"}, {"amenities": ["toilet", "\udfff"]}):
        with pytest.raises(InvalidRecord) as caught:
            store.update("JN-RS-0001", change)  # JSON's "\\ud800" reads as such a string
        problem = next(p for p in caught.value.problems if "surrogate" in p.allowed)
        assert problem.field == next(iter(change))
        shown = problem.to_dict()
        json.dumps(shown, ensure_ascii=False).encode("utf-8")  # an API answer can carry it ...
        assert "\\ud800" in shown["value"] or "\\udfff" in shown["value"]  # ... written as an escape
    assert stations_path.read_bytes() == before


def test_a_long_value_is_quoted_with_its_length():
    long_name = "驿" * 500_000
    problem = Problem("JN-RS-0001", "name", long_name, "a non-blank text of at most 200 characters")
    text = str(problem)
    size = len(text)
    assert size < 1000
    assert "JN-RS-0001" in text and "'name'" in text and "500000 characters" in text
    assert "驿驿驿" in text and "…" in text
    as_dict = problem.to_dict()
    size = len(json.dumps(as_dict, ensure_ascii=False))
    assert size < 1000
    assert as_dict["value"].startswith("驿驿驿") and as_dict["value"].endswith("…")
    assert as_dict["value_length"] == 500_000
    size = len(str(ValidationError([problem] * 3)))
    assert size < 3000
    short = Problem("JN-RS-0001", "kind", "spa", "one of …")
    assert str(short) == "JN-RS-0001: field 'kind' = 'spa': one of …"
    assert short.to_dict() == {"record": "JN-RS-0001", "field": "kind", "value": "spa", "allowed": "one of …"}
    big_list = list(range(100_000))
    size = len(str(Problem("r", "amenities", big_list, "a list")))
    assert size < 1000


def test_a_long_name_in_the_file_is_reported_briefly(stations_path, counties_path):
    from stations.counties import Counties

    data = json.loads(stations_path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = "a" * 500_000
    stations_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError) as excinfo:
        GeoJSONStore(stations_path, counties=Counties.load(counties_path)).all()
    message = str(excinfo.value)[:5000]
    size = len(str(excinfo.value))
    assert size < 1000
    assert "JN-RS-0001" in message and "'name'" in message and "500000 characters" in message


def test_stored_values_the_vocabulary_now_refuses_are_each_reported_not_a_crash(stations_path, counties_path):
    """A file written before issues 9, 10 may hold a vertical tab in an address or a 401-digit count of beds."""
    from stations.counties import Counties
    from stations.errors import StoredDataError

    data = json.loads(stations_path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["address"] = "古槐路\x0b18号"
    data["features"][1]["properties"]["beds"] = 10 ** 400
    stations_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(StoredDataError) as excinfo:
        GeoJSONStore(stations_path, counties=Counties.load(counties_path)).all()
    found = {(p.record, p.field): p.allowed for p in excinfo.value.problems}
    assert set(found) == {("JN-RS-0001", "address"), (data["features"][1]["properties"]["id"], "beds")}
    assert "without control characters" in found["JN-RS-0001", "address"]
    message = str(excinfo.value)
    assert excinfo.value.source == str(stations_path)
    assert "\\x0b" in message and "401 characters" in message
    assert len(message) < 3000


# ---- files that are not UTF-8 GeoJSON ----------------------------------------------------------

def write_gbk(path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": STATION_FEATURES}
    path.write_bytes(json.dumps(collection, ensure_ascii=False).encode("gb18030"))


def test_a_gbk_file_is_named_and_explained(stations_path, counties_path):
    from stations.counties import Counties

    write_gbk(stations_path)
    with pytest.raises(ValidationError) as excinfo:
        GeoJSONStore(stations_path, counties=Counties.load(counties_path)).all()
    message = str(excinfo.value)
    assert str(stations_path) in message
    assert "not UTF-8" in message and "yizhan import" in message


def test_a_directory_in_place_of_the_file_is_named(stations_path, counties_path):
    from stations.counties import Counties

    stations_path.unlink()
    stations_path.mkdir()
    with pytest.raises(ValidationError) as excinfo:
        GeoJSONStore(stations_path, counties=Counties.load(counties_path)).all()
    message = str(excinfo.value)
    assert str(stations_path) in message and "directory" in message


def test_a_bad_file_is_read_once_per_version(stations_path, counties_path, monkeypatch):
    from stations.store import geojson as store_module  # where the file backend reads
    from stations.counties import Counties

    reads = []
    real = store_module.decode_stations_bytes  # every read of the file's text goes through it
    monkeypatch.setattr(store_module, "decode_stations_bytes", lambda data, where: reads.append(where) or real(data, where))
    write_gbk(stations_path)
    store = GeoJSONStore(stations_path, counties=Counties.load(counties_path))
    messages = []
    for _ in range(3):
        with pytest.raises(ValidationError) as excinfo:
            store.all()
        messages.append(str(excinfo.value))
    with pytest.raises(ValidationError):
        store.version
    assert len(reads) == 1 and len(set(messages)) == 1
    good = json.dumps({"type": "FeatureCollection", "features": STATION_FEATURES}, ensure_ascii=False)
    stations_path.write_text(good, encoding="utf-8")  # a new file version: read again
    assert len(store.all()) == len(STATION_FEATURES)
    assert len(reads) == 2


def test_a_stored_data_error_crosses_a_process_boundary_whole():
    import pickle

    from stations.errors import StoredDataError

    error = StoredDataError([Problem("JN-RS-0001", "kind", "spa", "one of …")] * 60, "/data/stations.geojson")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is StoredDataError and again.source == "/data/stations.geojson"
    assert again.problems == error.problems and str(again) == str(error)
    assert "and 10 more problem(s)" in str(error)  # the message stays short; ``problems`` has all 60
