"""A worker files a report in a real browser (Chromium), an editor accepts it.

The worker opens a station page on a phone, follows "报告问题", picks "驿站关门了", writes a note and
ticks "附上我的位置" (the browser context's fake geolocation, about 100 m north of the station), and
sends it. The station page and its map popup then say "<date> 有人报告问题". The editor of its county signs in, finds
the report on /manage/reports with the reporter's distance and the note (as text), accepts it and
lands on the station's edit form with the suggested change (status: temporarily closed) typed in.
SQLite only: the database backends are ``tests/test_reports.py``'s.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from staff import (PASSWORD, cheap_hashing, migrated_url, staff, staff_app, staff_config)  # noqa: F401

from .conftest import WAIT_MS, LiveServer, open_map, snap

STATION = "JN-RS-0001"  # 古槐路驿站, 116.5870 35.4150, 任城区 (ren's county)
WORKER_AT = (35.4159, 116.5870)  # (lat, lon) as the browser takes it: about 100 m north of the station
NOTE = "门锁着 <b>没人</b>"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'accounts.sqlite3'}"


@pytest.fixture
def live(staff_app, staff):
    server = LiveServer(staff_app)
    yield server
    server.stop()


def test_a_worker_files_a_report_and_an_editor_accepts_it(live, make_page, artifacts):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()

    # ---- the worker, on a phone, with a position to give
    page, watch = make_page(geolocation=WORKER_AT)
    page.goto(f"{live.url}/stations/{STATION}", wait_until="load")
    page.click("#report-problem")
    page.wait_for_url(re.compile(rf"/stations/{STATION}/report"), timeout=WAIT_MS)
    page.check("#kind-closed")
    page.fill("#report-note", NOTE)
    page.check("#report-position")  # shown only where the browser can locate
    page.wait_for_function("document.getElementById('report-lat').value !== ''", timeout=WAIT_MS)
    assert page.input_value("#report-lat") == "35.415900" and page.input_value("#report-lon") == "116.587000"
    assert "已附上您的位置" in page.text_content("#report-position-status")
    snap(page, artifacts / "report-form.png", full_page=True)
    page.click("#report-submit")
    page.wait_for_selector("#report-thanks", timeout=WAIT_MS)
    assert "谢谢" in page.text_content("#report-thanks")
    page.goto(f"{live.url}/stations/{STATION}", wait_until="load")
    assert page.text_content("#reported-on").strip() == f"{today} 有人报告问题"
    assert NOTE not in page.content() and "门锁着" not in page.content()
    # ... and so does its map popup, which links to the report page too
    open_map(page, live.url)
    page.evaluate("""id => new Promise(done => yizhan.cluster.zoomToShowLayer(yizhan.markers[id], () => {
        yizhan.markers[id].openPopup(); done(); }))""", STATION)
    popup = page.wait_for_selector(".leaflet-popup .yz-popup", timeout=WAIT_MS)
    assert popup.query_selector(".badge.reported").text_content() == f"{today} 有人报告问题"
    assert popup.query_selector("a.report").get_attribute("href") == f"/stations/{STATION}/report"
    assert "门锁着" not in page.content()
    snap(page, artifacts / "report-popup.png")
    watch.assert_clean()

    # ---- the editor of the station's county
    page, watch = make_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live.url}/login", wait_until="load")
    page.fill("#login-username", "ren")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"), timeout=WAIT_MS)
    page.click("#staff-nav >> text=问题报告")
    page.wait_for_url(re.compile(r"/manage/reports"), timeout=WAIT_MS)
    item = page.locator(f"li[data-station='{STATION}']")
    assert item.count() == 1
    assert "报告人距驿站 100 米" in item.text_content() and "驿站关门了" in item.text_content()
    assert item.locator(".report-note").text_content() == NOTE  # as text, never as markup
    assert item.locator(".report-note b").count() == 0
    snap(page, artifacts / "manage-reports.png", full_page=True)
    item.locator("button", has_text="采纳并编辑驿站").click()
    page.wait_for_url(re.compile(rf"/manage/stations/{STATION}\?"), timeout=WAIT_MS)
    assert "status=temporarily_closed" in page.url and "from_report=1" in page.url
    assert page.input_value("select[name=status]") == "temporarily_closed"
    assert "驿站关门了" in page.input_value("[name=status_reason]")
    snap(page, artifacts / "manage-report-accepted.png", full_page=True)
    page.goto(f"{live.url}/manage/reports", wait_until="load")
    assert page.locator(f"li[data-station='{STATION}']").count() == 0
    watch.assert_clean()
