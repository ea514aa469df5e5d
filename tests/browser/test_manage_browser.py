"""The staff's station form in Chromium: signing in, editing, dragging a station, two editors at once.

Accounts (``tests/staff.py``): ``ren`` edits 任城区 (370811), ``admin`` everything. The accounts
database is SQLite in ``tmp_path``. Every wait is on something the page does (a URL, a selector, the
form script's ``data-edit-ready`` / ``data-located`` marks), never a fixed sleep.
"""
from __future__ import annotations

import re

import pytest

from staff import cheap_hashing, migrated_url, staff, staff_app, staff_config  # noqa: F401  (fixtures)

from .conftest import WAIT_MS, sign_in, snap

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the browser tests are about the pages, not the database backends."""
    return f"sqlite:///{tmp_path / 'accounts.sqlite3'}"


@pytest.fixture
def app(staff_app, staff):  # the live server serves the site with its staff accounts
    return staff_app


def open_form(page, base_url: str, station_id: str) -> None:
    page.goto(f"{base_url}/manage/stations/{station_id}", wait_until="load")
    page.wait_for_selector("html[data-edit-ready='1']", state="attached", timeout=WAIT_MS)


def save(page) -> None:
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#save-button")


def test_an_editor_signs_in_edits_name_and_amenities_and_the_public_page_shows_them(live_server, make_page,
                                                                                     artifacts):
    page, watch = make_page()  # a phone
    base = live_server.url
    sign_in(page, base, "ren")
    page.goto(f"{base}/manage/stations", wait_until="load")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("tr[data-id='JN-RS-0001'] a.station-link")
    page.wait_for_selector("html[data-edit-ready='1']", state="attached", timeout=WAIT_MS)
    assert page.input_value("#f-name") == "古槐路驿站"
    assert page.text_content("#county-live").startswith("任城区")

    page.fill("#f-name", "古槐路驿站（已装修）")
    page.check("input[name=amenity][value=microwave]")
    page.uncheck("input[name=amenity][value=seating]")
    page.fill("#f-opening_hours", "Mo-Fr 25:00-18:00")  # the live preview points at the faulty part
    page.wait_for_selector("#hours-preview.bad mark", timeout=WAIT_MS)
    assert page.text_content("#hours-preview mark") == "25:00"
    assert "第 7 个字符" in page.text_content("#hours-preview")
    page.fill("#f-opening_hours", "Mo-Su 06:00-22:00")
    page.wait_for_function("() => !document.querySelector('#hours-preview').classList.contains('bad') && "
                           "document.querySelector('#hours-preview').textContent.includes('06:00')", timeout=WAIT_MS)
    snap(page, artifacts / "manage-edit-phone.png", full_page=True)
    save(page)
    assert "已保存" in page.text_content(".staff-flash")

    page.goto(f"{base}/stations/JN-RS-0001", wait_until="load")
    assert page.text_content("h1") == "古槐路驿站（已装修）"
    amenities = page.text_content(".facts .amenities")
    assert "微波炉" in amenities and "座椅" not in amenities
    watch.assert_clean()


def test_dragging_a_station_across_the_county_line_moves_it_and_the_public_page_shows_where(
        live_server, make_page, artifacts):
    store = live_server.app.extensions["yizhan"].store
    # a station 0.004° (about 360 m) west of the line between 任城区 and 兖州区 (116.70)
    store.add({"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.696, 35.45]},
               "properties": {"id": "JN-RS-0100", "name": "边界驿站", "kind": "rest_station", "status": "open"}})
    page, watch = make_page(viewport=DESKTOP)
    base = live_server.url
    sign_in(page, base, "admin")
    open_form(page, base, "JN-RS-0100")
    assert page.text_content("#county-live").startswith("任城区")
    page.locator("#edit-map").evaluate("map => map.scrollIntoView({block: 'center'})")  # clear of the sticky save bar
    marker = page.locator(".leaflet-marker-icon").first
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    located = page.evaluate("document.documentElement.getAttribute('data-located')")
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):  # about 400 m east at zoom 15 (4 m a pixel here)
        page.mouse.move(x + 12 * step, y + 2 * step)
    page.mouse.up()
    page.wait_for_function(f"() => document.documentElement.getAttribute('data-located') !== '{located}' && "
                           "document.querySelector('#county-live').textContent.startsWith('兖州区')", timeout=WAIT_MS)
    lon, lat = float(page.input_value("#f-lon")), float(page.input_value("#f-lat"))
    assert 116.7 < lon < 116.71 and 35.44 < lat < 35.45, (lon, lat)
    assert page.input_value("#f-crs") == "wgs84"
    snap(page, artifacts / "manage-drag.png")
    save(page)
    moved = store.get("JN-RS-0100")
    assert (round(moved.lon, 6), round(moved.lat, 6)) == (round(lon, 6), round(lat, 6))
    assert moved.county_code == "370812"

    page.goto(f"{base}/stations/JN-RS-0100", wait_until="load")
    assert page.text_content(".coords") == f"{lat:.6f}, {lon:.6f}"
    assert "兖州区" in page.text_content(".facts")
    watch.assert_clean()


def test_two_editors_save_the_same_version_the_second_gets_409_with_both_versions_and_keeps_its_typing(
        live_server, make_page, artifacts):
    base = live_server.url
    page_a, watch_a = make_page(viewport=DESKTOP)
    page_b, watch_b = make_page(viewport=DESKTOP)
    sign_in(page_a, base, "ren")
    sign_in(page_b, base, "admin")
    open_form(page_a, base, "JN-RS-0002")
    open_form(page_b, base, "JN-RS-0002")
    started = page_b.input_value("#f-version")

    page_a.fill("#f-phone", "0537-7654321")
    save(page_a)
    assert "已保存" in page_a.text_content(".staff-flash")

    page_b.fill("#f-name", "太白楼路驿站（B 改名）")
    page_b.fill("#f-note", "B 的说明")
    with page_b.expect_response(lambda r: r.request.method == "POST") as answer:
        page_b.click("#save-button")
    assert answer.value.status == 409
    page_b.wait_for_selector("#conflict", timeout=WAIT_MS)
    phone_row = page_b.locator("#conflict-table tr[data-field='phone']")
    assert "other-changed" in phone_row.get_attribute("class")
    assert phone_row.locator("td.theirs").text_content() == "0537-7654321"
    assert page_b.locator("#conflict-table tr[data-field='name'] td.mine").text_content() == "太白楼路驿站（B 改名）"
    assert "ren" in page_b.text_content("#conflict-who")
    # nothing typed is lost: B's name is in the form, on the new version, with A's phone
    assert page_b.input_value("#f-name") == "太白楼路驿站（B 改名）"
    assert page_b.input_value("#f-phone") == "0537-7654321"
    assert page_b.input_value("#f-note") == "B 的说明"
    assert page_b.input_value("#f-version") != started
    snap(page_b, artifacts / "manage-conflict.png", full_page=True)

    page_b.wait_for_selector("html[data-edit-ready='1']", state="attached", timeout=WAIT_MS)
    save(page_b)
    saved = live_server.app.extensions["yizhan"].store.get("JN-RS-0002")
    assert (saved.name, saved.phone) == ("太白楼路驿站（B 改名）", "0537-7654321")
    watch_a.assert_clean()
    # the 409 answer itself is the one console error Chromium logs for page B
    assert all("409" in e for e in watch_b.console_errors), watch_b.console_errors
    assert not watch_b.outside and not watch_b.page_errors


@pytest.fixture
def amap_app(staff_config):
    """The site on AMap's basemap (GCJ-02 drawing), tiles still from the local test route."""
    from staff import Staff
    from web import create_app

    app = create_app({**staff_config, "BASEMAP": "amap"})
    Staff(app).add("ren")
    yield app
    app.extensions["yizhan.db"].dispose()


def test_on_amap_tiles_the_form_draws_in_gcj02_and_reads_a_click_back_into_wgs84(amap_app, make_page):
    from coord_reference import metres_apart

    from .conftest import LiveServer

    server = LiveServer(amap_app)
    try:
        page, watch = make_page(viewport=DESKTOP)
        sign_in(page, server.url, "ren")
        open_form(page, server.url, "JN-RS-0001")  # WGS-84 116.5870, 35.4150
        page.locator("#edit-map").evaluate("map => map.scrollIntoView({block: 'center'})")
        box = page.locator(".leaflet-marker-icon").first.bounding_box()
        located = page.evaluate("document.documentElement.getAttribute('data-located')")
        # a click just below the marker's tip (its icon is 41 px high, anchored at the bottom): about 12 m south
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + 3)
        page.wait_for_function(f"() => document.documentElement.getAttribute('data-located') !== '{located}'",
                               timeout=WAIT_MS)
        clicked = (float(page.input_value("#f-lon")), float(page.input_value("#f-lat")))
        # drawn in GCJ-02 and read back into WGS-84: a few metres from the station, not the ~500 m offset
        assert metres_apart(clicked, (116.5870, 35.4150)) < 30, clicked
        assert page.input_value("#f-crs") == "wgs84"
        watch.assert_clean()
    finally:
        server.stop()
