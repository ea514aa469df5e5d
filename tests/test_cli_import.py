"""``yizhan import``, ``yizhan template`` and ``yizhan export`` on a store in ``tmp_path``."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from coord_reference import wgs_to_gcj
from conftest import STATION_FEATURES
from stations.counties import Counties
from stations.store import GeoJSONStore
from yizhan.cli import main

pytest_plugins = ["geocoder_stub"]

GOOD = "名称,类型,区县,地址,经度,纬度,设施\n新驿站,爱心驿站,任城区,新路1号,116.61,35.43,饮水、卫生间\n"
BAD = GOOD + "坏驿站,爱心驿站,任城区,新路2号,116.62,35.43,按摩椅\n"


@pytest.fixture
def cli(tmp_path, stations_path, counties_path):
    env = {"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance"), "YIZHAN_GEOCODER": "none"}

    def run(*args, extra_env=None):
        paths = ["--counties", str(counties_path)] + (["--stations", str(stations_path)] if args[0] != "template" else [])
        return CliRunner().invoke(main, [*args, *paths], env={**env, **(extra_env or {})})
    return run


@pytest.fixture
def store(stations_path, counties_path):
    return lambda: GeoJSONStore(stations_path, counties=Counties.load(counties_path))


def test_a_dry_run_shows_the_changes_and_writes_nothing(cli, tmp_path, stations_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(GOOD.encode("gbk"))
    before = stations_path.read_bytes()
    result = cli("import", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output and "JN-RS-0011 新驿站（第 2 行）" in result.output and "gb18030" in result.output
    assert stations_path.read_bytes() == before


def test_a_rejected_row_imports_nothing_and_the_report_lists_it(cli, tmp_path, stations_path):
    path = tmp_path / "名单.csv"
    path.write_text(BAD, encoding="utf-8")
    before = stations_path.read_bytes()
    result = cli("import", str(path), "--report", str(tmp_path / "报告.xlsx"))
    assert result.exit_code == 1 and "第 3 行，设施" in result.output and "未导入" in result.output
    assert stations_path.read_bytes() == before
    rows = list(load_workbook(tmp_path / "报告.xlsx").active.iter_rows(values_only=True))
    assert rows[2][0] == 3 and "按摩椅" in rows[2][-1]


def test_skip_bad_imports_the_good_rows_as_one_journal_entry(cli, tmp_path, store):
    path = tmp_path / "名单.csv"
    path.write_text(BAD, encoding="utf-8")
    result = cli("import", str(path), "--skip-bad", "--who", "市总工会", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "imported: 1 added, 0 changed, 0 removed" in result.output
    entry = store().history(limit=1)[0]
    assert entry.action == "import" and entry.who == "市总工会" and entry.changed == ("JN-RS-0011",)
    assert "1 rows skipped" in entry.note


def test_gcj02_positions_and_replace_mode(cli, tmp_path, store):
    lon, lat = wgs_to_gcj(116.61, 35.43)
    path = tmp_path / "名单.csv"
    path.write_text(f"名称,类型,经度,纬度\n新驿站,爱心驿站,{lon:.9f},{lat:.9f}\n", encoding="utf-8")
    result = cli("import", str(path), "--crs", "gcj02", "--mode", "replace")
    assert result.exit_code == 0, result.output
    stations = store().all()
    assert len(stations) == 1 and stations[0].lon == pytest.approx(116.61, abs=1e-6)


def test_export_then_import_changes_nothing(cli, tmp_path):
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"驿站.{fmt}"
        result = cli("export", "--format", fmt, str(out))
        assert result.exit_code == 0 and f"wrote {len(STATION_FEATURES)} stations" in result.output
        again = cli("import", str(out), "--mode", "replace")
        assert again.exit_code == 0, again.output
        assert f"未变 {len(STATION_FEATURES)}" in again.output and "没有需要更改的内容" in again.output


def test_export_to_standard_output(cli):
    result = cli("export", "--format", "csv", "--lang", "en", "-")
    assert result.exit_code == 0 and result.output.lstrip("\ufeff").startswith("id,name,kind,county")


def test_the_template_imports_as_nothing_to_do(cli, tmp_path):
    out = tmp_path / "模板.xlsx"
    result = cli("template", str(out))
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["驿站", "填写说明"]
    again = cli("import", str(out), "--dry-run")
    assert again.exit_code == 0 and "跳过 1 行" in again.output


def test_rows_with_an_address_are_geocoded_by_the_configured_provider(cli, tmp_path, stub, store):
    glon, glat = wgs_to_gcj(116.6111, 35.4222)
    stub.answer = lambda path, params: (200, {"status": "1", "info": "OK", "infocode": "10000", "count": "1",
                                              "geocodes": [{"location": f"{glon:.6f},{glat:.6f}", "level": "门牌号",
                                                            "adcode": "370811"}]}, 0)
    path = tmp_path / "名单.csv"
    path.write_text("名称,类型,区县,地址\n地址驿站,爱心驿站,任城区,古槐路88号\n", encoding="utf-8")
    env = {"YIZHAN_GEOCODER": "amap", "YIZHAN_AMAP_KEY": "KEY", "YIZHAN_GEOCODER_URL": stub.url,
           "YIZHAN_GEOCODER_MIN_DELAY_S": "0"}
    result = cli("import", str(path), extra_env=env)
    assert result.exit_code == 0, result.output
    assert stub.requests[0][1]["address"] == "济宁市任城区古槐路88号"
    station = store().get("JN-RS-0011")
    assert (station.lon, station.lat) == pytest.approx((116.6111, 35.4222), abs=1e-5)
    assert (tmp_path / "instance" / "geocode-cache.sqlite3").exists()
    no_key = cli("import", str(path), "--geocoder", "baidu", "--dry-run")
    assert no_key.exit_code == 1 and "BAIDU_KEY" in no_key.output


def test_an_unreadable_file_is_named_briefly(cli, tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"not a workbook")
    result = cli("import", str(path))
    assert result.exit_code == 1 and "not an XLSX workbook" in result.output and "Traceback" not in result.output
    json_path = tmp_path / "a.geojson"
    json_path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    assert cli("import", str(json_path), "--dry-run").exit_code == 1  # no header, no rows: nothing to read
