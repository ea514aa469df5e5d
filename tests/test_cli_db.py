"""``yizhan db load``, ``yizhan db dump`` and ``yizhan db upgrade`` for the station store (click's CliRunner).

The file-store tests run everywhere; the PostGIS ones in a schema of their own of the test database
(``postgis_db``), skipped with the reason where it is out of reach.
"""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from conftest import STATION_FEATURES
from yizhan.cli import main


@pytest.fixture
def run(tmp_path, stations_path, counties_path):
    env = {"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance"), "YIZHAN_STATIONS_PATH": str(stations_path),
           "YIZHAN_COUNTIES_PATH": str(counties_path), "YIZHAN_STORE_URL": None, "YIZHAN_DATABASE_URL": None}

    def invoke(*args, extra=None):
        return CliRunner().invoke(main, list(args), env={**env, **(extra or {})})
    return invoke


def _dump_file(tmp_path, name="dump.geojson"):
    return tmp_path / name


def test_db_dump_writes_the_file_stores_exact_text(run, tmp_path, stations_path):
    store = tmp_path / "store.geojson"
    assert run("db", "load", "--store", str(store), str(stations_path)).exit_code == 0
    out = tmp_path / "dump.geojson"
    result = run("db", "dump", "--store", str(store), str(out))
    assert result.exit_code == 0, result.output + result.stderr
    assert out.read_bytes() == store.read_bytes()
    assert f"wrote {len(STATION_FEATURES)} stations" in result.stderr
    to_stdout = run("db", "dump", "--store", str(store))
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes == store.read_bytes()


def test_db_load_then_dump_round_trips_byte_for_byte(run, tmp_path, stations_path):
    first = tmp_path / "first.geojson"
    assert run("db", "load", "--store", str(first), str(stations_path)).exit_code == 0
    dumped = tmp_path / "dumped.geojson"
    assert run("db", "dump", "--store", str(first), str(dumped)).exit_code == 0
    second = tmp_path / "second.geojson"
    result = run("db", "load", "--store", str(second), str(dumped))
    assert result.exit_code == 0, result.output + result.stderr
    again = tmp_path / "again.geojson"
    assert run("db", "dump", "--store", str(second), str(again)).exit_code == 0
    assert again.read_bytes() == dumped.read_bytes() == second.read_bytes()


def test_db_load_replaces_every_station_in_one_journal_entry(run, tmp_path, stations_path):
    from stations.store import GeoJSONStore

    store_path = tmp_path / "store.geojson"
    subset = {"type": "FeatureCollection", "name": "two stations", "features": STATION_FEATURES[:2]}
    small = tmp_path / "small.geojson"
    small.write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    assert run("db", "load", "--store", str(store_path), str(stations_path)).exit_code == 0
    result = run("db", "load", "--store", str(store_path), "--who", "loader", str(small))
    assert result.exit_code == 0, result.output + result.stderr
    assert "loaded 2 stations" in result.stdout
    store = GeoJSONStore(store_path)
    assert [s.id for s in store.all()] == ["JN-RS-0001", "JN-RS-0002"]
    assert store.collection_members() == {"name": "two stations"}
    entry = store.history(limit=1)[0]
    assert (entry.action, entry.who) == ("replace_all", "loader")


def test_db_load_refuses_an_invalid_file_and_writes_nothing(run, tmp_path, stations_path):
    store_path = tmp_path / "store.geojson"
    assert run("db", "load", "--store", str(store_path), str(stations_path)).exit_code == 0
    before = store_path.read_bytes()
    bad = json.loads(stations_path.read_text(encoding="utf-8"))
    bad["features"][3]["properties"]["kind"] = "teahouse"
    bad_path = tmp_path / "bad.geojson"
    bad_path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    result = run("db", "load", "--store", str(store_path), str(bad_path))
    assert result.exit_code == 1
    assert "JN-RS-0004" in result.stderr and "teahouse" in result.stderr
    assert store_path.read_bytes() == before


def test_db_load_reads_a_staff_list_through_the_import(run, tmp_path):
    from stations.store import GeoJSONStore

    listed = tmp_path / "名单.csv"
    with listed.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "名称", "类型", "经度", "纬度", "开放时间", "设施", "状态"])
        writer.writerow(["JN-RS-0101", "古槐路驿站", "爱心驿站", "116.5870", "35.4150", "全天", "饮水、卫生间", "开放"])
        writer.writerow(["JN-RS-0102", "兖州驿站", "爱心驿站", "116.8000", "35.5000", "全天", "饮水", "开放"])
    store_path = tmp_path / "store.geojson"
    result = run("db", "load", "--store", str(store_path), str(listed))
    assert result.exit_code == 0, result.output + result.stderr
    stations = GeoJSONStore(store_path).all()
    assert [(s.id, s.county_code, s.opening_hours) for s in stations] == [
        ("JN-RS-0101", "370811", "24/7"), ("JN-RS-0102", "370812", "24/7")]
    assert stations[0].amenities == ("drinking_water", "toilet")


def test_db_load_refuses_a_list_with_a_bad_row(run, tmp_path):
    listed = tmp_path / "名单.csv"
    with listed.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["名称", "类型", "经度", "纬度"])
        writer.writerow(["海上驿站", "爱心驿站", "120.0000", "30.0000"])  # outside every county
    store_path = tmp_path / "store.geojson"
    result = run("db", "load", "--store", str(store_path), str(listed))
    assert result.exit_code == 1 and "nothing was loaded" in result.stderr
    assert not store_path.exists()


# ---- PostgreSQL/PostGIS ------------------------------------------------------------------------

def test_db_upgrade_runs_the_store_migrations_for_a_postgis_store_url(run):
    from postgis_db import store_url, unmigrated_schema
    from stations.store import open_store
    from stations.store.postgis import SCHEMA_REVISION

    url = store_url(unmigrated_schema())
    result = run("db", "upgrade", extra={"YIZHAN_STORE_URL": url})
    assert result.exit_code == 0, result.output + result.stderr
    assert "station store" in result.stdout and f"at migration {SCHEMA_REVISION}" in result.stdout
    with open_store(url) as store:
        assert store.all() == [] and store.version  # tables there, at the expected revision
    assert run("db", "upgrade", extra={"YIZHAN_STORE_URL": url}).exit_code == 0  # again: nothing to do


def test_db_load_and_dump_through_postgis_round_trip_byte_for_byte(run, tmp_path, stations_path):
    from postgis_db import fresh_schema, store_url
    from stations.store import open_store

    url = store_url(fresh_schema())
    result = run("db", "load", str(stations_path), extra={"YIZHAN_STORE_URL": url})
    assert result.exit_code == 0, result.output + result.stderr
    assert f"loaded {len(STATION_FEATURES)} stations" in result.stdout and "schema" in result.stdout
    with open_store(url) as store:
        assert store.history(limit=1)[0].action == "replace_all"
    dumped = tmp_path / "from-postgis.geojson"
    assert run("db", "dump", str(dumped), extra={"YIZHAN_STORE_URL": url}).exit_code == 0
    file_store = tmp_path / "file-store.geojson"
    assert run("db", "load", "--store", str(file_store), str(dumped)).exit_code == 0
    again = tmp_path / "again.geojson"
    assert run("db", "dump", "--store", str(file_store), str(again)).exit_code == 0
    assert again.read_bytes() == dumped.read_bytes() == file_store.read_bytes()
    back = run("db", "load", str(again), extra={"YIZHAN_STORE_URL": url})  # and into the database again
    assert back.exit_code == 0, back.output + back.stderr
    third = tmp_path / "third.geojson"
    assert run("db", "dump", str(third), extra={"YIZHAN_STORE_URL": url}).exit_code == 0
    assert third.read_bytes() == dumped.read_bytes()
