"""/manage/import in a real headless Chromium: an editor signs in, uploads a workbook written here
(Chinese headers, one GCJ-02 point with a known WGS-84 answer, one bad row), reads the dry run (the
counts, the bad row's reason, the point on the map), confirms with "skip the rejected rows", and finds
the new station on its public page, where the WGS-84 answer is shown.

Expectations come from the fixture data and the reference conversion (``tests/coord_reference.py``),
never from the code under test.
"""
from __future__ import annotations

import re

import pytest
from openpyxl import Workbook

from coord_reference import metres_apart, wgs_to_gcj
from staff import Staff, cheap_hashing, migrated_url, staff_config  # noqa: F401  (fixtures)

from .conftest import WAIT_MS, LiveServer, sign_in, snap

DESKTOP = {"width": 1280, "height": 900}
WGS = (116.5650, 35.4250)  # in 任城区 (370811) of the fixture counties; the answer the import must find


@pytest.fixture
def database_url(tmp_path):
    """The accounts database: SQLite only here (the database tests run every backend)."""
    return f"sqlite:///{tmp_path / 'accounts.sqlite3'}"


@pytest.fixture
def import_site(staff_config):
    from web import create_app

    app = create_app({**staff_config, "GEOCODER": "none"})
    Staff(app).add("ren")  # editor of 任城区
    server = LiveServer(app)
    yield app, server.url
    server.stop()
    app.extensions["yizhan.db"].dispose()


def workbook(path, rows) -> None:
    """The union's list as staff keep it: a title row, Chinese headers, Chinese values."""
    book = Workbook()
    sheet = book.active
    sheet.title = "驿站名单"
    sheet.append(["任城区户外劳动者驿站名单（高德坐标）"])
    sheet.append(["序号", "名称", "类型", "区县", "详细地址", "经度", "纬度", "设施", "开放时间"])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_an_editor_uploads_a_workbook_reads_the_dry_run_confirms_and_sees_the_station(
        import_site, make_page, tmp_path, artifacts):
    app, base = import_site
    gcj = wgs_to_gcj(*WGS)  # what AMap shows for the place
    path = tmp_path / "任城区驿站.xlsx"
    workbook(path, [
        [1, "古槐路北驿站", "爱心驿站", "任城区", "古槐路88号", round(gcj[0], 6), round(gcj[1], 6), "饮水、卫生间", "全天"],
        [2, "星际驿站", "飞船", "任城区", "太白楼路1号", 116.59, 35.41, "饮水", "全天"],  # an unknown kind
    ])
    page, watch = make_page(viewport=DESKTOP)
    sign_in(page, base, "ren", to="/manage/import")

    page.set_input_files("#i-file", str(path))
    page.select_option("#i-crs", "gcj02")
    page.click("#import-dry-run")
    page.wait_for_selector("#import-counts", timeout=WAIT_MS)

    def count(key: str) -> int:
        return int(page.text_content(f'#import-counts [data-count="{key}"] strong'))

    assert (count("rows"), count("added"), count("changed"), count("rejected")) == (2, 1, 0, 1)
    bad = page.locator('#import-problems tr[data-row="4"]')  # title row 1, header row 2: the bad row is row 4
    assert bad.count() == 1
    assert "飞船" in bad.locator(".reason").text_content() and "类型" in bad.text_content()
    page.wait_for_selector("#import-map[data-ready='1']", state="attached", timeout=WAIT_MS)
    assert page.get_attribute("#import-map", "data-points") == "1"
    assert page.locator("#import-map .leaflet-interactive").count() == 1  # the one circle, drawn
    assert page.locator("#import-add tr[data-id]").count() == 1
    snap(page, artifacts / "import-dry-run.png", full_page=True)

    page.check("#import-confirm-skip")
    page.click("#import-confirm-button")
    page.wait_for_selector("#import-revert", timeout=WAIT_MS)  # the import's page, with its revert button
    added = page.get_attribute("#import-touched tr[data-id]", "data-id")
    assert re.fullmatch(r"JN-RS-\d{4}", added)
    assert page.text_content('#import-counts [data-count="add"] strong') == "1"

    station = app.extensions["yizhan"].store.get(added)
    assert station.name == "古槐路北驿站" and station.county_code == "370811"
    assert metres_apart((station.lon, station.lat), WGS) < 0.5  # GCJ-02 in, WGS-84 stored

    page.click(f'#import-touched tr[data-id="{added}"] a[href*="/stations/{added}"]')
    page.wait_for_selector("h1", timeout=WAIT_MS)
    assert page.text_content("h1").strip() == "古槐路北驿站"
    shown = page.text_content(".coords")  # "lat, lon" to 6 decimals
    lat, lon = (float(v) for v in shown.split(","))
    assert metres_apart((lon, lat), WGS) < 0.5
    watch.assert_clean()
