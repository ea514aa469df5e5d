"""The PostGIS backend's own behaviour: schema and indexes, migrations, errors, locking, many writers,
``load`` and ``dump``.

What every backend does is the contract suite's (``test_store_contract``, ``test_store_history``),
which runs on PostGIS too (``store_backends``). Tests that need the test database are skipped,
saying why, where it is out of reach (``postgis_db``).
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import COUNTY_BOXES, STATION_FEATURES
from postgis_db import TEST_DATABASE_URL, execute, fresh_schema, require_postgis, store_url
from stations.counties import Counties
from stations.errors import InvalidRecord, StaleVersion, StoredDataError, StoreUnavailable
from stations.store import GeoJSONStore, open_store

sa = pytest.importorskip("sqlalchemy", reason="the PostGIS store needs SQLAlchemy (pip install -e .)")
postgis = pytest.importorskip("stations.store.postgis")


@pytest.fixture
def counties(counties_path):
    return Counties.load(counties_path)


@pytest.fixture
def schema():
    return fresh_schema()  # skips where the test database is out of reach


@pytest.fixture
def store(schema, counties):
    store = open_store(store_url(schema), counties)
    postgis.load(store, STATION_FEATURES, who="fixture")
    yield store
    store.close()


def rows(sql: str, schema: str | None = None, **params) -> list:
    engine = postgis.engine.make_engine(postgis.engine.parse_url(TEST_DATABASE_URL)[0], schema,
                                        poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def generated(n: int, code: str = "370811", seed: int = 1) -> list[dict]:
    """``n`` valid rest stations spread over the fixture county ``code`` (WGS-84 [lon, lat])."""
    import random

    rng = random.Random(seed)
    minlon, minlat, maxlon, maxlat = COUNTY_BOXES[code][1]
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                round(rng.uniform(minlon + 0.01, maxlon - 0.01), 6), round(rng.uniform(minlat + 0.01, maxlat - 0.01), 6)]},
             "properties": {"id": f"JN-RS-{i + 1:05d}", "name": f"生成驿站 {i + 1}", "kind": "rest_station",
                            "status": "open", "amenities": ["drinking_water"], "floor_area_m2": 20.5 + i % 7}}
            for i in range(n)]


# ---- opening, migrations, schema --------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql", "postgis"])
def test_open_store_opens_the_database_store_from_its_url_hiding_the_password(scheme):
    store = open_store(f"{scheme}://yizhan:secret@db.example.cn:5433/yizhan?schema=stations_a")
    assert isinstance(store, postgis.PostGISStore) and store.schema == "stations_a"
    assert store.url.drivername == "postgresql+psycopg" and "secret" not in repr(store)
    store.close()  # nothing was connected: the engine connects on first use


def test_an_unreachable_database_is_unavailable_and_names_it_without_the_password():
    store = open_store("postgresql+psycopg://yizhan:secret@127.0.0.1:1/yizhan")  # nothing listens on port 1
    for read in (lambda: store.version, store.all, lambda: store.get("JN-RS-0001")):
        with pytest.raises(StoreUnavailable, match="127.0.0.1") as excinfo:
            read()
        assert excinfo.value.http_status == 503 and "secret" not in str(excinfo.value)
    store.close()


def test_the_migrations_head_is_the_revision_the_code_expects():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(postgis.engine.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == postgis.SCHEMA_REVISION


def test_upgrade_is_idempotent_and_keeps_its_own_version_table(schema):
    postgis.upgrade(TEST_DATABASE_URL, schema=schema)  # a second run changes nothing
    assert rows(f'SELECT version_num FROM "{schema}".yizhan_store_version') == [(postgis.SCHEMA_REVISION,)]
    assert rows("SELECT to_regclass(:t)", t=f"{schema}.alembic_version") == [(None,)]  # the accounts' name stays free
    tables = {r[0] for r in rows("SELECT tablename FROM pg_tables WHERE schemaname = :s", s=schema)}
    assert tables == {"stations", "station_journal", "station_store", "yizhan_store_version"}


def test_the_stations_table_has_a_point_column_and_an_index_per_filter(schema):
    assert rows("SELECT type, srid FROM geometry_columns WHERE f_table_schema = :s AND f_table_name = 'stations'",
                s=schema) == [("POINT", 4326)]
    indexes = dict(rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = 'stations'",
                        s=schema))
    assert "USING gist (geom)" in indexes["stations_geom_idx"]
    assert "USING gin (amenities)" in indexes["stations_amenities_idx"]
    assert {"stations_pkey", "stations_county_idx", "stations_kind_idx", "stations_status_idx"} <= set(indexes)
    kinds = dict(rows("SELECT column_name, data_type FROM information_schema.columns "
                      "WHERE table_schema = :s AND table_name = 'stations'", s=schema))
    assert (kinds["properties"], kinds["amenities"], kinds["version"]) == ("jsonb", "ARRAY", "text")


def test_a_bbox_query_is_answered_from_the_gist_index(store, schema):
    from stations.store.postgis.store import _where
    from stations.store.query import StationQuery

    where, params = _where(StationQuery.build(bbox=(116.58, 35.41, 116.60, 35.42), amenity=["toilet"]))
    engine = postgis.engine.make_engine(store.url, schema, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(connection.execute(
            sa.text(f"EXPLAIN SELECT id FROM stations WHERE {where} ORDER BY id LIMIT 10"), params).scalars())
    engine.dispose()
    assert "stations_geom_idx" in plan or "stations_amenities_idx" in plan, plan


def test_a_store_whose_schema_was_never_migrated_says_to_run_the_upgrade(counties):
    require_postgis()
    store = open_store(store_url("yizhan_test_never_migrated"), counties)
    with pytest.raises(StoredDataError, match="yizhan db upgrade") as excinfo:
        store.all()
    assert excinfo.value.http_status == 500
    store.close()


# ---- records, versions, writers -------------------------------------------------------------------

def test_records_and_versions_are_the_file_stores(store, tmp_path, counties):
    path = tmp_path / "stations.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": STATION_FEATURES}), encoding="utf-8")
    files = GeoJSONStore(path, counties)
    assert [s.to_feature() for s in store.all()] == [s.to_feature() for s in files.all()]
    assert {s.id: store.record_version(s.id) for s in files.all()} == \
        {s.id: files.record_version(s.id) for s in files.all()}
    palace = store.get("JN-CP-0001")
    assert (palace.floor_area_m2, palace.palace_class, palace.lon) == (15800, 1, 116.59)


def test_all_is_read_again_once_another_store_object_wrote(store, schema, counties):
    first = store.all()
    assert store.all() == first  # the same version: kept
    with open_store(store_url(schema), counties) as other:
        other.update("JN-RS-0001", {"name": "别处改的"})
    assert next(s for s in store.all() if s.id == "JN-RS-0001").name == "别处改的"


def test_a_writer_waits_for_another_and_then_is_unavailable(store, schema, monkeypatch):
    monkeypatch.setattr(postgis.engine, "LOCK_TIMEOUT_S", 0.5)
    engine = postgis.engine.make_engine(store.url, schema, poolclass=sa.pool.NullPool)
    with engine.begin() as holder:  # another writer, in the middle of its transaction
        holder.execute(sa.text("SELECT version FROM station_store FOR UPDATE"))
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="another writer") as excinfo:
            store.update("JN-RS-0001", {"beds": 1})
        assert excinfo.value.http_status == 503 and 0.4 < time.monotonic() - started < 10
    engine.dispose()
    assert store.update("JN-RS-0001", {"beds": 1}).beds == 1


def _run_threads(count: int, work) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_writers_on_several_connections_lose_no_update_and_are_journalled_in_order(store, schema, counties):
    writers, rounds = 4, 15
    stores = [open_store(store_url(schema), counties) for _ in range(writers)]

    def increment(n: int) -> None:
        mine = stores[n]
        for _ in range(rounds):
            while True:
                version = mine.record_version("JN-RS-0001")
                try:
                    mine.update("JN-RS-0001", {"beds": (mine.get("JN-RS-0001").beds or 0) + 1},
                                who=f"writer {n}", expected_version=version)
                    break
                except StaleVersion:
                    continue

    _run_threads(writers, increment)
    for s in stores:
        s.close()
    assert store.get("JN-RS-0001").beds == writers * rounds
    updates = list(reversed(store.history("JN-RS-0001", limit=None)))
    assert [e.after["properties"]["beds"] for e in updates] == list(range(1, writers * rounds + 1))  # id order


def test_adds_on_several_connections_get_distinct_ids(store, schema, counties):
    stores = [open_store(store_url(schema), counties) for _ in range(4)]
    added: list[str] = []
    new = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.85, 35.45]},
           "properties": {"name": "新驿站", "kind": "rest_station", "status": "open"}}
    _run_threads(4, lambda n: added.extend(stores[n].add(new).id for _ in range(5)))
    for s in stores:
        s.close()
    assert sorted(added) == [f"JN-RS-{n:04d}" for n in range(11, 31)]


# ---- load and dump ----------------------------------------------------------------------------------

def test_load_writes_in_batches_reporting_progress_as_one_journal_entry(schema, counties):
    store = open_store(store_url(schema), counties)
    calls = []
    assert postgis.load(store, generated(1200), batch_size=500, progress=lambda done, total: calls.append((done, total)),
                        who="loader") == 1200
    assert calls == [(500, 1200), (1000, 1200), (1200, 1200)]
    assert store.query().total == 1200 and store.get("JN-RS-00007").county_code == "370811"
    assert [(e.action, e.who, e.note) for e in store.history()] == [("replace_all", "loader", "1200 stations")]
    store.close()


def test_hilbert_order_walks_a_grid_cell_by_neighbouring_cell():
    from stations.store.postgis.store import hilbert_order

    for bits in (1, 2, 4):
        n = 1 << bits
        cells = [(x, y) for y in range(n) for x in range(n)]  # the centre of each cell of the globe's grid
        order = hilbert_order([(x + 0.5) / n * 360 - 180 for x, _ in cells],
                              [(y + 0.5) / n * 180 - 90 for _, y in cells], bits)
        walk = [cells[i] for i in order]
        assert sorted(walk) == sorted(cells)  # every cell once
        assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in zip(walk, walk[1:]))  # one step each
    assert list(hilbert_order([], [])) == []


def test_a_loaded_county_box_reads_few_of_the_tables_pages(schema, counties):
    """Rows are written in spatial order: a small box's stations share pages, so the database reads a
    few pages for it, not one per station (as it did with rows in id order)."""
    store = open_store(store_url(schema), counties)
    features = generated(3000, seed=5)
    postgis.load(store, features)
    minlon, minlat, maxlon, maxlat = COUNTY_BOXES["370811"][1]
    box = (minlon, minlat, minlon + (maxlon - minlon) / 5, minlat + (maxlat - minlat) / 5)
    inside = [f for f in features if box[0] <= f["geometry"]["coordinates"][0] <= box[2]
              and box[1] <= f["geometry"]["coordinates"][1] <= box[3]]
    pages = rows("SELECT count(DISTINCT (ctid::text::point)[0]) FROM stations "
                 "WHERE ST_X(geom) BETWEEN :a AND :c AND ST_Y(geom) BETWEEN :b AND :d", schema,
                 a=box[0], b=box[1], c=box[2], d=box[3])[0][0]
    everything = rows("SELECT count(DISTINCT (ctid::text::point)[0]) FROM stations", schema)[0][0]
    assert len(inside) > 60 and everything > 40  # random rows in id order: a page for nearly each station
    assert pages <= everything / 5, (pages, everything, len(inside))
    page = store.query(bbox=box, limit=50)
    assert page.total == len(inside) and [s.id for s in page] == sorted(f["properties"]["id"] for f in inside)[:50]
    store.close()


def test_load_of_invalid_features_lists_every_problem_and_writes_nothing(store):
    before = (store.version, [s.to_feature() for s in store.all()])
    bad = generated(3)
    bad[0]["properties"]["kind"] = "spa"
    bad[2]["geometry"]["coordinates"] = [121.47, 31.23]  # Shanghai: in no county
    with pytest.raises(InvalidRecord) as excinfo:
        postgis.load(store, bad)
    assert {(p.record, p.field) for p in excinfo.value.problems} >= {("JN-RS-00001", "kind"),
                                                                     ("JN-RS-00003", "geometry.coordinates")}
    assert (store.version, [s.to_feature() for s in store.all()]) == before


def test_a_dump_loaded_into_a_file_store_and_dumped_again_is_byte_identical(store, tmp_path, counties):
    store.update("JN-RS-0002", {"floor_area_m2": 85.25, "beds": 2, "name": "太白楼路驿站 \"二号\""})
    postgis.load(store, [s.to_feature() for s in store.all()], members={"name": "济宁市驿站", "sample": True})
    text = postgis.dump(store)
    path = tmp_path / "dumped.geojson"
    path.write_text(text, encoding="utf-8")
    assert postgis.dump(GeoJSONStore(path, counties)) == text
    assert json.loads(text)["name"] == "济宁市驿站" and list(json.loads(text))[:2] == ["type", "name"]


def test_a_file_written_by_the_file_store_loads_and_dumps_to_the_same_bytes(schema, tmp_path, counties):
    path = tmp_path / "stations.geojson"
    files = GeoJSONStore(path, counties)
    files.save_all([], members={"name": "济宁"})  # an empty file with a name first
    for feature in STATION_FEATURES:
        files.add(feature)
    written = path.read_text(encoding="utf-8")
    database = open_store(store_url(schema), counties)
    data = json.loads(written)
    postgis.load(database, data["features"], members={k: v for k, v in data.items() if k not in ("type", "features")})
    assert postgis.dump(database) == written
    database.close()


def test_removing_the_test_schema_leaves_the_extension(schema):
    execute(f'DROP SCHEMA "{schema}" CASCADE')
    assert rows("SELECT extname FROM pg_extension WHERE extname = 'postgis'") == [("postgis",)]


# ---- the site on the database ---------------------------------------------------------------------

def test_the_site_serves_and_plans_from_the_database_that_store_url_names(store, schema, app_config):
    from web import create_app

    app = create_app({**app_config, "STORE_URL": store_url(schema)})
    client = app.test_client()
    listed = client.get("/api/stations?county=370883").get_json()
    assert [f["id"] for f in listed["features"]] == sorted(
        f["properties"]["id"] for f in STATION_FEATURES if f["properties"].get("county_code") == "370883")
    assert client.get("/api/stations/JN-CP-0001").get_json()["properties"]["name"] == "济宁市工人文化宫"
    nearest = client.get("/api/nearest?lat=35.41&lon=116.59&k=1").get_json()
    assert nearest["results"][0]["id"] == "JN-CP-0001"
    assert client.get("/api/coverage?radius=1000").status_code == 200  # the analysis reads the database too
    store.update("JN-CP-0001", {"status": "closed"})  # another server's change, seen at the next request
    nearest = client.get("/api/nearest?lat=35.41&lon=116.59&k=1").get_json()
    assert nearest["results"][0]["id"] != "JN-CP-0001"
