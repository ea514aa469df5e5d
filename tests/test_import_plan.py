"""An import's dry run and its write: stable ids, merge and replace, all-or-nothing and ``skip_bad``,
duplicates, geocoding rows with only an address (local stub), the report (text, XLSX, CSV), one
revertible journal entry, an export -> import round trip with no change, and a killed import (the file store, and
PostGIS where the test database is reachable)."""
from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coord_reference import metres_apart, wgs_to_gcj
from conftest import STATION_FEATURES
from stations.counties import Counties
from stations.errors import Conflict, StaleVersion
from stations.geocoding import make_geocoding
from stations.importing import (
    ImportOptions, ImportRefused, apply_import, export_stations, plan_import, read_table, report_bytes, report_text,
    template,
)
from stations.store import GeoJSONStore

pytest_plugins = ["geocoder_stub"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def counties(counties_path):
    return Counties.load(counties_path)


@pytest.fixture
def store(stations_path, counties):
    return GeoJSONStore(stations_path, counties=counties)


def snapshot(store):
    return (store.version, [s.to_feature() for s in store.all()], [e.to_dict() for e in store.history(limit=None)])


def write_csv(path: Path, rows: list[list], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header or ["编号", "名称", "类型", "区县", "经度", "纬度", "设施"])
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def plan_of(path, store, counties, **options):
    return plan_import(read_table(path), store, counties, ImportOptions(**options))


# ---- ids, merge and replace -------------------------------------------------------------------

def test_rows_name_stations_by_id_else_by_name_and_county(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [
        ["JN-RS-0002", "太白楼路驿站", "爱心驿站", "任城区", 116.6000, 35.4050, "饮水"],  # by id: amenities changed
        ["", "古槐路驿站", "", "任城区", 116.5870, 35.4150, "饮水、卫生间、座椅"],  # by name + county: unchanged
        ["", "新驿站", "爱心驿站", "兖州区", 116.8800, 35.4800, "饮水"],  # new: the next id of its kind
        ["JN-CP-0009", "新文化宫", "文化宫", "邹城市", 117.1000, 35.2000, ""],  # new, with its own id
    ])
    plan = plan_of(path, store, counties)
    assert plan.can_apply and plan.counts()["rejected"] == 0
    assert [(s.station_id, s.fields) for s in plan.changed] == [("JN-RS-0002", ("amenities",))]
    assert [s.station_id for s in plan.unchanged] == ["JN-RS-0001"]
    assert sorted(s.station_id for s in plan.added) == ["JN-CP-0009", "JN-RS-0011"]
    assert len(plan.kept) == len(STATION_FEATURES) - 2  # merge: the stations not in the file stay
    result = apply_import(plan, store, who="staff")
    assert (result.added, result.changed, result.removed) == (2, 1, 0) and len(result.entry_ids) == 1
    assert store.get("JN-RS-0011").name == "新驿站" and store.get("JN-RS-0002").amenities == ("drinking_water",)
    again = plan_of(path, store, counties)  # the same file again: ids stable, nothing to do
    assert again.counts()["unchanged"] == 4 and not again.has_changes


def test_columns_the_file_lacks_keep_their_values_and_blank_cells_clear_them(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["JN-RS-0001", "古槐路驿站", ""]], header=["编号", "名称", "电话"])
    plan = plan_of(path, store, counties)
    assert [(s.station_id, s.fields) for s in plan.changed] == [("JN-RS-0001", ("phone",))]
    after = plan.changed[0].after
    assert after.phone is None and after.opening_hours == "24/7" and after.amenities == store.get("JN-RS-0001").amenities


def test_replace_removes_the_stations_the_file_does_not_name(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["JN-RS-0001", "古槐路驿站", "爱心驿站", "任城区", 116.5870, 35.4150, "饮水"],
                                          ["JN-RS-0002", "太白楼路驿站", "爱心驿站", "任城区", 116.6000, 35.4050, "按摩椅"]])
    plan = plan_of(path, store, counties, mode="replace", skip_bad=True)
    removed = {s.station_id for s in plan.removed}
    assert "JN-RS-0001" not in removed and "JN-RS-0002" not in removed  # a rejected row's station stays
    assert len(removed) == len(STATION_FEATURES) - 2
    assert [s.station_id for s in plan.kept] == ["JN-RS-0002"]
    assert "kept_rejected" in [p.code for p in plan.rejected[0].problems]
    apply_import(plan, store)
    assert sorted(s.id for s in store.all()) == ["JN-RS-0001", "JN-RS-0002"]


def test_duplicate_rows_are_all_rejected(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [
        ["JN-RS-0005", "兖州火车站驿站", "", "", 116.8000, 35.5000, ""],
        ["JN-RS-0005", "兖州火车站驿站", "", "", 116.8000, 35.5000, ""],
        ["", "重名驿站", "爱心驿站", "任城区", 116.60, 35.45, ""],
        ["", "重名驿站", "爱心驿站", "任城区", 116.61, 35.45, ""],
        ["", "古槐路驿站", "", "任城区", 116.5870, 35.4150, ""],  # names JN-RS-0001 by name + county ...
        ["JN-RS-0001", "古槐路驿站", "", "", 116.5870, 35.4150, ""],  # ... and this row by id
    ])
    plan = plan_of(path, store, counties, skip_bad=True)
    assert [r.number for r in plan.rejected] == [2, 3, 4, 5, 6, 7] and not plan.has_changes
    dup = next(p for p in plan.problems if p.code == "duplicate_id")
    assert "2、3" in dup.message("zh")
    assert next(p for p in plan.problems if p.code == "duplicate_key").params["rows"] == "4、5"


def test_an_existing_name_in_two_counties_needs_the_county(tmp_path, counties, stations_path):
    features = json.loads(stations_path.read_text(encoding="utf-8"))
    twin = json.loads(json.dumps(features["features"][0]))
    twin["properties"].update(id="JN-RS-0099", county_code="370812")
    twin["geometry"]["coordinates"] = [116.85, 35.45]
    features["features"].append(twin)
    stations_path.write_text(json.dumps(features, ensure_ascii=False), encoding="utf-8")
    store = GeoJSONStore(stations_path, counties=counties)
    path = write_csv(tmp_path / "a.csv", [["古槐路驿站", "0537-1"]], header=["名称", "电话"])
    plan = plan_of(path, store, counties)
    assert [p.code for p in plan.rejected[0].problems][:1] == ["ambiguous_match"]


# ---- all or nothing ---------------------------------------------------------------------------------

def test_one_rejected_row_and_nothing_changes(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "好驿站", "爱心驿站", "任城区", 116.61, 35.43, "饮水"],
                                          ["", "坏驿站", "爱心驿站", "任城区", 116.62, 35.43, "饮水、按摩椅"]])
    plan = plan_of(path, store, counties)
    assert not plan.can_apply and [r.number for r in plan.rejected] == [3]
    before = snapshot(store)
    with pytest.raises(ImportRefused) as caught:
        apply_import(plan, store)
    assert caught.value.http_status == 422 and "按摩椅" in str(caught.value)
    assert snapshot(store) == before
    text = report_text(plan)
    assert "第 3 行，设施" in text and "按摩椅" in text and "未导入" in text and "--skip-bad" in text


def test_skip_bad_imports_the_good_rows_and_reports_the_rest(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "好驿站", "爱心驿站", "任城区", 116.61, 35.43, "饮水"],
                                          ["", "坏驿站", "爱心驿站", "任城区", 116.62, 35.43, "饮水、按摩椅"]])
    plan = plan_of(path, store, counties, skip_bad=True)
    result = apply_import(plan, store, who="staff")
    assert result.added == 1 and result.skipped_rows == (3,)
    assert [s.name for s in store.all() if s.name in ("好驿站", "坏驿站")] == ["好驿站"]


def test_an_import_is_one_journal_entry_that_reverts_as_a_whole(tmp_path, store, counties):
    before = [s.to_feature() for s in store.all()]
    path = write_csv(tmp_path / "a.csv", [["JN-RS-0001", "改名驿站", "", "", 116.5870, 35.4150, "饮水"],
                                          ["", "新驿站", "爱心驿站", "任城区", 116.61, 35.43, "饮水"]])
    result = apply_import(plan_of(path, store, counties, mode="replace"), store, who="staff", note="2026年名单")
    entry = store.journal_entry(result.entry_ids[0])
    assert entry.action == "import" and entry.who == "staff" and entry.note == "2026年名单"
    assert len(entry.changed) == len(STATION_FEATURES) + 1  # every station removed, changed or added
    store.revert(entry.id, who="admin")
    assert [s.to_feature() for s in store.all()] == before


def test_a_plan_is_written_only_on_the_store_it_was_planned_on(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "新驿站", "爱心驿站", "任城区", 116.61, 35.43, "饮水"]])
    plan = plan_of(path, store, counties)
    shown = plan.digest
    store.update("JN-RS-0003", {"phone": "0537-7654321"})  # someone else writes meanwhile
    with pytest.raises(StaleVersion):
        apply_import(plan, store)
    again = plan_of(path, store, counties)
    with pytest.raises(Conflict, match="dry run"):  # the page confirmed another plan
        apply_import(again, store, expected_digest=shown)
    assert apply_import(again, store, expected_digest=again.digest).added == 1


def test_batches_write_one_entry_each(tmp_path, store, counties):
    rows = [["", f"批量驿站{i}", "爱心驿站", "任城区", round(116.45 + i * 0.01, 4), 35.45, ""] for i in range(5)]
    seen = []
    result = apply_import(plan_of(write_csv(tmp_path / "a.csv", rows), store, counties), store, batch_size=2,
                          progress=lambda done, total, label: seen.append((done, total)))
    assert len(result.entry_ids) == 3 and seen == [(2, 5), (4, 5), (5, 5)]
    assert all(store.journal_entry(e).action == "import" for e in result.entry_ids)


# ---- geocoding rows that have only an address ----------------------------------------------------

def amap(points: dict[str, tuple[float, float, str]]):
    """A stub AMap answering each address with a (WGS-84 lon, lat, level), sent as GCJ-02."""
    def answer(path, params):
        for words, (lon, lat, level) in points.items():
            if words in params.get("address", ""):
                glon, glat = wgs_to_gcj(lon, lat)
                return 200, {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [
                    {"formatted_address": words, "adcode": "370811", "location": f"{glon:.6f},{glat:.6f}",
                     "level": level}]}, 0
        return 200, {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}, 0
    return answer


def test_rows_with_only_an_address_are_geocoded_and_imprecise_answers_rejected(tmp_path, stub, store, counties):
    stub.answer = amap({"古槐路88号": (116.6111, 35.4222, "门牌号"), "太白路": (116.62, 35.41, "道路"),
                        "兖州": (116.81, 35.51, "兴趣点")})
    path = write_csv(tmp_path / "a.csv", [["门牌驿站", "爱心驿站", "任城区", "古槐路88号"],
                                          ["道路驿站", "爱心驿站", "任城区", "太白路"],
                                          ["错区驿站", "爱心驿站", "任城区", "兖州火车站"],
                                          ["无果驿站", "爱心驿站", "任城区", "无此地"]],
                     header=["名称", "类型", "区县", "地址"])
    geocoding = make_geocoding("amap", "KEY", base_url=stub.url, min_delay_s=0, max_retries=0,
                               cache_path=tmp_path / "cache")
    seen = []
    plan = plan_import(read_table(path), store, counties, ImportOptions(region="济宁市", skip_bad=True),
                       geocoding=geocoding, progress=lambda done, total, label: seen.append(done))
    station = plan.added[0].after
    assert station.name == "门牌驿站" and metres_apart((station.lon, station.lat), (116.6111, 35.4222)) < 0.5
    assert stub.requests[0][1]["address"] == "济宁市任城区古槐路88号" and stub.requests[0][1]["city"] == "济宁市"
    assert [[p.code for p in r.problems if p.severity == "error"] for r in plan.rejected] == [
        ["geocode_imprecise"], ["geocode_outside"], ["not_geocoded"]]
    assert seen == [1, 2, 3, 4] and plan.geocoding["asked"] == 4
    again = plan_import(read_table(path), store, counties, ImportOptions(region="济宁市", skip_bad=True),
                        geocoding=make_geocoding("amap", "KEY", base_url=stub.url, cache_path=tmp_path / "cache"))
    assert again.geocoding["asked"] == 0 and again.geocoding["cached"] == 4 and again.digest == plan.digest


def test_a_refused_key_stops_geocoding_and_the_rows_say_so(tmp_path, stub, store, counties):
    stub.answer = lambda path, params: (200, {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}, 0)
    path = write_csv(tmp_path / "a.csv", [["甲驿站", "爱心驿站", "甲路"], ["乙驿站", "爱心驿站", "乙路"]],
                     header=["名称", "类型", "地址"])
    plan = plan_import(read_table(path), store, counties, geocoding=make_geocoding(
        "amap", "BAD", base_url=stub.url, min_delay_s=0, max_retries=0))
    assert [p.code for r in plan.rejected for p in r.problems if p.is_error] == ["geocode_failed", "geocode_stopped"]
    assert len(stub.requests) == 1
    no_geocoder = plan_import(read_table(path), store, counties)
    assert {p.code for p in no_geocoder.errors} == {"geocoding_off"}


def test_a_stored_station_with_the_same_address_keeps_its_position_without_asking(tmp_path, stub, store, counties):
    path = write_csv(tmp_path / "a.csv", [["古槐路驿站", "任城区", "古槐路驿站地址", "0537-1111111"]],
                     header=["名称", "区县", "地址", "电话"])
    plan = plan_import(read_table(path), store, counties, geocoding=make_geocoding("amap", "KEY", base_url=stub.url))
    assert [(s.station_id, s.fields) for s in plan.changed] == [("JN-RS-0001", ("phone",))] and not stub.requests


# ---- reports, export, template ----------------------------------------------------------------------

def test_the_downloadable_report_is_the_rows_with_their_problems(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "=HYPERLINK(\"http://x\")", "爱心驿站", "任城区", 116.61, 35.43, "饮水"],
                                          ["", "坏驿站", "爱心驿站", "任城区", 116.62, 35.43, "按摩椅"]])
    plan = plan_of(path, store, counties)
    sheet = load_workbook(io.BytesIO(report_bytes(plan, "xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[0][-3:] == ("结果", "编号（导入后）", "问题")
    assert rows[1][0] == 2 and rows[1][2] == "'=HYPERLINK(\"http://x\")"  # never a live formula
    assert sheet.cell(2, 3).data_type == "s"
    assert rows[2][0] == 3 and rows[2][-3] == "拒绝" and "按摩椅" in rows[2][-1] and "设施" in rows[2][-1]
    text = report_bytes(plan, "csv", lang="en").decode("utf-8-sig")
    assert text.startswith("row,") and "rejected" in text and "'=HYPERLINK" in text
    data = plan.to_dict("en")
    assert data["counts"]["rejected"] == 1 and data["can_apply"] is False
    assert data["rows"][1]["problems"][0]["code"] == "unknown_amenity"
    assert data["stations"][0]["action"] == "add" and data["stations"][0]["lon"] == 116.61
    json.dumps(data)  # JSON-ready for the upload page


@pytest.mark.parametrize("fmt, lang", [("xlsx", "zh"), ("csv", "zh"), ("xlsx", "en"), ("csv", "en")])
def test_an_export_imported_again_changes_nothing(tmp_path, store, counties, fmt, lang):
    store.update("JN-RS-0001", {"name": "=1+1", "phone": "+86 537 2345678转12", "address": "  @地址"})
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_stations(store.all(), counties, fmt, lang))
    plan = plan_of(path, store, counties, mode="replace")
    assert plan.counts()["unchanged"] == len(STATION_FEATURES) and not plan.has_changes, plan.counts()
    assert not plan.problems


def test_an_edited_export_changes_only_what_was_edited(tmp_path, store, counties):
    path = tmp_path / "export.xlsx"
    path.write_bytes(export_stations(store.all(), counties))
    book = load_workbook(path)
    sheet = book.active
    head = [c.value for c in sheet[1]]
    sheet.cell(2, head.index("开放时间") + 1).value = "周一至周五 8:00-18:00"
    sheet.cell(3, head.index("设施") + 1).value = "饮用水、热水"
    book.save(path)
    plan = plan_of(path, store, counties)
    assert [(s.station_id, s.fields) for s in plan.changed] == [("JN-CB-0001", ("opening_hours",)),
                                                                ("JN-CP-0001", ("amenities",))]


def test_a_report_of_rows_with_control_characters_is_written_with_replacement_characters(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "坏\x01驿站", "爱心驿站", "任城区", 116.61, 35.43, "饮\x0c水"]])
    plan = plan_of(path, store, counties)
    rows = list(load_workbook(io.BytesIO(report_bytes(plan, "xlsx"))).active.iter_rows(values_only=True))
    assert rows[1][2] == "坏\ufffd驿站" and rows[1][7] == "饮\ufffd水"  # the cells as read, XLSX's way


def test_the_template_has_the_columns_an_example_row_and_instructions(tmp_path, store, counties):
    path = tmp_path / "template.xlsx"
    path.write_bytes(template(counties))
    book = load_workbook(path)
    assert book.sheetnames == ["驿站", "填写说明"]
    instructions = "\n".join(str(c) for row in book["填写说明"].iter_rows(values_only=True) for c in row if c)
    for word in ("户外劳动者驿站 (rest_station)", "饮用水 (drinking_water)", "暂停开放 (temporarily_closed)", "任城区 (370811)"):
        assert word in instructions
    plan = plan_of(path, store, counties)
    assert [r.action for r in plan.rows] == ["skipped"] and not plan.has_changes and plan.can_apply


# ---- a killed import ------------------------------------------------------------------------------

KILLED = textwrap.dedent("""
    import os, sys, time
    from stations.counties import Counties
    from stations.importing import ImportOptions, apply_import, plan_import, read_table
    from stations.store import GeoJSONStore
    store_path, counties_path, table_path, pause = sys.argv[1:5]
    if pause == "before-rename":
        real = os.replace
        def slow(a, b):
            print("writing", flush=True)
            time.sleep(60)
            real(a, b)
        os.replace = slow
    counties = Counties.load(counties_path)
    store = GeoJSONStore(store_path, counties=counties)
    plan = plan_import(read_table(table_path), store, counties, ImportOptions(mode="replace"))
    print("writing", flush=True)
    apply_import(plan, store, who="killed")
    print("done", flush=True)
""")


def run_import(store_path, counties_path, table, pause):
    return subprocess.Popen([sys.executable, "-c", KILLED, str(store_path), str(counties_path), str(table), pause],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


def test_a_killed_import_leaves_the_store_as_it_was(tmp_path, stations_path, counties_path, counties):
    rows = [["", f"新驿站{i}", "爱心驿站", "任城区", round(116.45 + i * 0.001, 4), 35.45, "饮水"] for i in range(200)]
    table = write_csv(tmp_path / "big.csv", rows)
    original = stations_path.read_bytes()
    proc = run_import(stations_path, counties_path, table, "before-rename")
    assert proc.stdout.readline().strip() == "writing"  # planned
    assert proc.stdout.readline().strip() == "writing"  # inside the write: the new file is on disk, not renamed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert stations_path.read_bytes() == original
    store = GeoJSONStore(stations_path, counties=counties)
    assert len(store.all()) == len(STATION_FEATURES) and store.history(limit=None) == []
    store.update("JN-RS-0001", {"phone": "0537-1111111"})  # and the store goes on working


KILLED_IN_DATABASE = textwrap.dedent("""
    import sys, time
    from stations.counties import Counties
    from stations.importing import ImportOptions, apply_import, plan_import, read_table
    from stations.store import open_store
    from stations.store.postgis import store as database
    url, counties_path, table_path = sys.argv[1:4]
    real = database._DatabaseTransaction.journal
    def journal_then_wait(self, entry):
        real(self, entry)  # every row and the journal entry written, the transaction not committed
        print("writing", flush=True)
        time.sleep(60)
    database._DatabaseTransaction.journal = journal_then_wait
    counties = Counties.load(counties_path)
    store = open_store(url, counties)
    plan = plan_import(read_table(table_path), store, counties, ImportOptions(mode="replace"))
    apply_import(plan, store, who="killed")
    print("done", flush=True)
""")


def open_transactions_writing_the_journal() -> int:
    import sqlalchemy as sa
    from postgis_db import TEST_DATABASE_URL
    from stations.store.postgis.engine import parse_url

    engine = sa.create_engine(parse_url(TEST_DATABASE_URL)[0], poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND query LIKE '%INSERT INTO station_journal%'")).scalar()
    finally:
        engine.dispose()


def test_a_killed_import_leaves_the_database_store_as_it_was(tmp_path, counties_path, counties):
    from postgis_db import fresh_schema, store_url
    from stations.store import open_store
    from stations.store.postgis import load

    url = store_url(fresh_schema())  # skips, saying why, without the test database
    store = open_store(url, counties)
    load(store, STATION_FEATURES, who="fixture")
    before = snapshot(store)
    rows = [["", f"新驿站{i}", "爱心驿站", "任城区", round(116.45 + i * 0.001, 4), 35.45, "饮水"] for i in range(200)]
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IN_DATABASE, url, str(counties_path),
                             str(write_csv(tmp_path / "big.csv", rows))], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert open_transactions_writing_the_journal() == 1  # the rows and the entry are in the open transaction
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    again = open_store(url, counties)  # a new connection, as another server would read
    assert snapshot(again) == before and len(again.all()) == len(STATION_FEATURES)
    again.update("JN-RS-0001", {"phone": "0537-1111111"})  # the killed writer's lock went with its connection
    assert again.get("JN-RS-0001").phone == "0537-1111111"
    store.close()
    again.close()


@pytest.mark.slow
def test_an_import_killed_at_any_moment_is_all_there_or_not_at_all(tmp_path, stations_path, counties_path, counties):
    rows = [["", f"新驿站{i}", "爱心驿站", "任城区", round(116.45 + i * 0.001, 4), 35.45, "饮水"] for i in range(200)]
    table = write_csv(tmp_path / "big.csv", rows)
    original = [s.to_feature() for s in GeoJSONStore(stations_path, counties=counties).all()]
    outcomes = set()
    for attempt in range(6):
        stations_path.write_text(json.dumps({"type": "FeatureCollection", "features": original}, ensure_ascii=False),
                                 encoding="utf-8")
        proc = run_import(stations_path, counties_path, table, "none")
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(attempt * 0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        names = {s.name for s in GeoJSONStore(stations_path, counties=counties).all()}
        assert names == {f["properties"]["name"] for f in original} or names == {f"新驿站{i}" for i in range(200)}
        outcomes.add(len(names))
    assert outcomes  # (which of the two depends on the timing)


def test_what_the_store_refuses_rejects_the_row_naming_the_field(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["", "好驿站", "爱心驿站", "任城区", 116.61, 35.43, "12345678"],
                                          ["", "坏电话", "爱心驿站", "任城区", 116.62, 35.43, "打电话"],
                                          ["jn-1", "坏编号", "爱心驿站", "任城区", 116.63, 35.43, ""]],
                     header=["编号", "名称", "类型", "区县", "经度", "纬度", "电话"])
    plan = plan_of(path, store, counties, skip_bad=True)
    assert [s.after.name for s in plan.added] == ["好驿站"]
    invalid = [(p.row, p.column, p.code) for p in plan.errors]
    assert invalid == [(3, "电话", "invalid"), (4, "编号", "invalid")]
    assert "0537-2345678" in plan.errors[0].message("zh")  # the store's own words: what is allowed


# each value the vocabulary refuses (issues 9, 10), in the cell of a row that is otherwise good
REFUSED_CELLS = [
    ("地址", "address", "古槐路\x0b18号", "without control characters"),
    ("地址", "address", "古槐路\x0018号", "without control characters"),
    ("地址", "address", "古槐路\x8518号", "without control characters"),
    ("名称", "name", "坏\x01驿站", "without control characters"),
    ("主办单位", "host", "市总\t工会", "without control characters"),  # inside: surrounding white space is trimmed
    ("来源", "source", "\x1b[31m导入", "without control characters"),
    ("开放时间", "opening_hours", "Mo-Fr\x0b08:00-18:00", "without control characters"),
    ("床位", "beds", "1" * 400, "a whole number from 0 to 100,000"),  # read as a whole number
    ("床位", "beds", "100001", "a whole number from 0 to 100,000"),
    ("面积", "floor_area_m2", "1000001", "at most 1,000,000"),
]


@pytest.mark.parametrize("header, field, value, allowed", REFUSED_CELLS,
                         ids=[f"{f}={v!r:.20}" for _, f, v, _ in REFUSED_CELLS])
def test_a_refused_value_rejects_its_row_naming_row_field_and_reason(tmp_path, store, counties, header, field,
                                                                      value, allowed):
    headers = ["名称", "类型", "区县", "经度", "纬度"] + ([header] if header != "名称" else [])
    good = ["好驿站", "爱心驿站", "任城区", 116.61, 35.43] + ([""] if header != "名称" else [])
    bad = ["坏驿站", "爱心驿站", "任城区", 116.62, 35.43] + ([value] if header != "名称" else [])
    if header == "名称":
        bad[0] = value
    path = write_csv(tmp_path / "a.csv", [good, bad], header=headers)
    plan = plan_of(path, store, counties, skip_bad=True)
    assert [s.after.name for s in plan.added] == ["好驿站"]
    [problem] = plan.errors
    assert (problem.row, problem.column, problem.field, problem.code) == (3, header, field, "invalid")
    assert allowed in problem.message("en") and field in problem.message("en")
    assert "第 3 行" in problem.text("zh") and header in problem.text("zh")


def test_the_bundled_sample_exported_and_imported_again_changes_nothing(tmp_path):
    """The bundled sample (geodata), its real counties, each export format the import reads."""
    stations_path = tmp_path / "stations.geojson"
    stations_path.write_bytes((ROOT / "geodata" / "stations.geojson").read_bytes())
    counties = Counties.load(ROOT / "geodata" / "counties.geojson")
    store = GeoJSONStore(stations_path, counties=counties)
    count = len(store.all())
    for fmt in ("xlsx", "csv"):
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(export_stations(store.all(), counties, fmt))
        plan = plan_of(path, store, counties, mode="replace")
        assert plan.counts()["unchanged"] == count and not plan.has_changes, (fmt, plan.counts())
        assert not plan.problems, (fmt, [p.text("en") for p in plan.problems[:5]])


def test_an_editor_changes_only_the_stations_of_their_counties(tmp_path, store, counties):
    path = write_csv(tmp_path / "a.csv", [["JN-RS-0001", "古槐路驿站", "", "", 116.5870, 35.4150, "饮水"],
                                          ["", "兖州驿站", "爱心驿站", "兖州区", 116.85, 35.45, "饮水"],
                                          ["JN-RS-0002", "搬去兖州", "", "", 116.86, 35.46, "饮水"]])
    plan = plan_of(path, store, counties, mode="replace", skip_bad=True, allowed_counties=("370811",))
    assert [r.number for r in plan.rejected] == [3, 4]
    assert all("county_not_allowed" in [p.code for p in r.problems] for r in plan.rejected)
    assert "兖州区" in plan.rejected[0].problems[0].message("zh")
    assert [s.station_id for s in plan.changed] == ["JN-RS-0001"]
    removed = {s.station_id for s in plan.removed}
    assert removed and all(store.get(sid).county_code == "370811" for sid in removed)
    assert "JN-RS-0002" not in removed and "JN-RS-0005" not in removed  # kept: rejected row; another county
