"""/planning on a 1366 × 768 desktop (issue 11): the county table's last column in view without scrolling the
page, county names on the map (hidden when zoomed far out), the suggested sites' places in their tooltips.

The app runs with a water mask (a lake box in 邹城市), so that the table has its widest set of columns.
"""
from __future__ import annotations

import json

import pytest

from .conftest import WAIT_MS, _is_local, snap

DESKTOP_1366 = {"width": 1366, "height": 768}
COUNTY_NAMES = {"370811": "任城区", "370812": "兖州区", "370883": "邹城市"}  # tests/conftest.py COUNTY_BOXES
LAKE = [[116.75, 35.08], [116.85, 35.08], [116.85, 35.18], [116.75, 35.18], [116.75, 35.08]]


@pytest.fixture
def app_config(app_config, tmp_path):
    lake = tmp_path / "lake.geojson"
    lake.write_text(json.dumps({"type": "Feature", "properties": {},
                                "geometry": {"type": "Polygon", "coordinates": [LAKE]}}), encoding="utf-8")
    return {**app_config, "WATER_MASK_PATH": str(lake)}


@pytest.fixture
def desktop(browser):
    """A desktop page (not a phone: no touch, no mobile viewport) that refuses every request off 127.0.0.1."""
    context = browser.new_context(viewport=DESKTOP_1366, locale="zh-CN", timezone_id="Asia/Shanghai")
    outside: list[str] = []

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    assert not outside and not errors, (outside, errors)
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_county_tables_last_column_is_in_view_at_1366(live_server, desktop, artifacts, lang):
    page = desktop
    page.goto(f"{live_server.url}/planning?radius_m=2000&new_sites=3&lang={lang}", wait_until="load")
    page.wait_for_selector("path.yz-county", state="attached", timeout=WAIT_MS)
    heads = page.eval_on_selector_all("#county-table thead th", "hs => hs.map(h => h.textContent.trim())")
    assert len(heads) == 15  # the water columns and the "after" column are all there
    page.locator("#county-table").scroll_into_view_if_needed()
    box = page.evaluate("""() => {
        const table = document.querySelector('#county-table'), wrap = table.parentElement;
        const last = [...table.querySelectorAll('tr')].map(r => r.lastElementChild.getBoundingClientRect());
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                right: Math.max(...last.map(r => r.right)), left: Math.min(...last.map(r => r.left)),
                wrapScroll: wrap.scrollWidth, wrapClient: wrap.clientWidth};
    }""")
    snap(page, artifacts / f"planning-table-1366-{lang}.png")
    assert box["page"] <= box["view"], box  # the page does not scroll sideways
    assert box["wrapScroll"] <= box["wrapClient"], box  # nor does the table: it fits
    assert 0 <= box["left"] < box["right"] <= box["view"], box  # every row's last cell is in view
    # were it ever wider, its region can be reached and scrolled with the keyboard
    assert page.get_attribute("#county-table >> xpath=..", "tabindex") == "0"


def test_county_names_are_on_the_map_and_hide_when_zoomed_far_out(live_server, desktop, artifacts):
    page = desktop
    page.goto(f"{live_server.url}/planning?radius_m=2000&new_sites=2", wait_until="load")
    page.wait_for_selector(".yz-county-label", timeout=WAIT_MS)
    labels = page.eval_on_selector_all(".yz-county-label", "ls => ls.map(l => l.textContent)")
    assert sorted(labels) == sorted(COUNTY_NAMES.values())
    # each name is drawn inside the map frame and inside its own county's shape
    page.evaluate("() => document.querySelector('.planning-map').scrollIntoView({block: 'center'})")
    inside = page.evaluate("""() => {
        const frame = document.querySelector('.planning-map').getBoundingClientRect();
        return [...document.querySelectorAll('.yz-county-label')].map(l => {
            const r = l.firstElementChild.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
            const county = document.elementsFromPoint(x, y).find(e => e.matches('path.yz-county'));
            return [l.textContent, r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom,
                    county ? [...county.classList].find(c => c.startsWith('c-')).slice(2) : null];
        });
    }""")
    snap(page, artifacts / "planning-county-labels.png")
    for name, in_frame, code in inside:
        assert in_frame and COUNTY_NAMES.get(code) == name, inside
    page.evaluate("() => { const m = Object.values(window).find(v => v instanceof L.Map); m.setZoom(6, {animate: false}); }")
    page.wait_for_function("() => document.querySelectorAll('.yz-county-label').length === 0", timeout=WAIT_MS)
    page.evaluate("() => { const m = Object.values(window).find(v => v instanceof L.Map); m.setZoom(10, {animate: false}); }")
    page.wait_for_function("() => document.querySelectorAll('.yz-county-label').length === 3", timeout=WAIT_MS)


def test_a_suggested_sites_tooltip_names_its_county_and_nearest_station(live_server, desktop):
    page = desktop
    page.goto(f"{live_server.url}/planning?radius_m=2000&new_sites=1&lang=zh", wait_until="load")
    page.wait_for_selector(".leaflet-marker-pane .yz-suggestion", timeout=WAIT_MS)
    page.hover(".leaflet-marker-pane .yz-suggestion")
    tip = page.wait_for_selector(".leaflet-tooltip:has(.yz-tip-line)", timeout=WAIT_MS).text_content()
    assert "建议新站点 1" in tip and "最近已有站点" in tip and "公里" in tip
