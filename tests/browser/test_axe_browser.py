"""axe-core in Chromium: no accessibility violation on any page, in Chinese and in English.

axe-core comes from npm (a devDependency in package.json, copied by ``scripts/vendor_assets.py`` into
``web/static/vendor/axe-core/``, which the site never serves): each test reads it from disk and runs it
in the page. Every rule axe-core runs by default counts (WCAG 2.0/2.1/2.2 A and AA and its best
practices); a failure lists each violation with the elements it found.

The staff pages are checked signed in (``admin``), with the accounts database in SQLite in ``tmp_path``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from staff import PASSWORD, cheap_hashing, migrated_url, staff, staff_app, staff_config  # noqa: F401  (fixtures)

from .conftest import WAIT_MS

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
STATION = "JN-RS-0001"
POSITION = (35.4120, 116.5880)  # (lat, lon) WGS-84, in 任城区 among the fixture stations

# (path, what to wait for once loaded)
PUBLIC = [
    ("/", "html[data-map-ready='1']"),
    ("/list", "main"),
    (f"/stations/{STATION}", "main"),
    ("/planning", "main"),
    ("/embed", "html[data-map-ready='1']"),
    ("/embed?county=370883&controls=nearest,fullscreen", "html[data-map-ready='1']"),
    ("/embed/builder", "html[data-builder-ready='1']"),
    ("/login", "main"),
    ("/stations/NOPE-1", "main"),  # the 404 page
]
STAFF = ["/manage", "/manage/stations", f"/manage/stations/{STATION}", f"/manage/stations/{STATION}/history",
         "/manage/reports", "/manage/import"]


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'accounts.sqlite3'}"


@pytest.fixture
def app(staff_app, staff):
    return staff_app


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci --ignore-scripts` and scripts/vendor_assets.py (make assets)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[str]:
    """Run axe-core in ``page``; one line per violation: rule, impact, help and the elements found."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(source)  # through the DevTools protocol: the page's CSP does not apply
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} -> ` +
            v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '));
    }""")
    return found


def check(page, source: str, base: str, path: str, ready: str, lang: str) -> list[str]:
    sep = "&" if "?" in path else "?"
    page.goto(f"{base}{path}{sep}lang={lang}", wait_until="load")
    page.wait_for_selector(ready, state="attached", timeout=WAIT_MS)
    return [f"{path} [{lang}] {v}" for v in axe_violations(page, source)]


def test_every_public_page_has_no_axe_violation_in_either_language(live_server, make_page, axe_source):
    """On a phone in zh and en; at 1366 px in zh (the layout's other half; the words do not change the rules)."""
    page, watch = make_page(viewport=PHONE)
    problems = []
    for viewport, langs in ((PHONE, ("zh", "en")), (DESKTOP, ("zh",))):
        page.set_viewport_size(viewport)
        for lang in langs:
            for path, ready in PUBLIC + [(f"/stations/{STATION}?lat={POSITION[0]}&lon={POSITION[1]}", "main"),
                                         (f"/list?lat={POSITION[0]}&lon={POSITION[1]}", "main")]:
                problems += [f"{viewport['width']}px {p}" for p in check(page, axe_source, live_server.url, path,
                                                                          ready, lang)]
    assert not problems, "\n".join(problems)


def test_the_map_with_answers_an_open_popup_the_filters_and_the_legend_has_no_axe_violation(
        live_server, make_page, axe_source):
    page, watch = make_page(geolocation=POSITION, viewport=PHONE)
    problems = []
    for path, lang in (("/", "zh"), ("/", "en"), ("/embed", "zh")):
        page.goto(f"{live_server.url}{path}?lang={lang}", wait_until="load")
        page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
        page.click("#find-nearest")
        page.wait_for_selector("#results li button.result", timeout=WAIT_MS)
        page.locator("#results li button.result").first.click()
        page.wait_for_selector(".leaflet-popup .yz-popup", timeout=WAIT_MS)
        page.click("#toggle-filters")
        page.click(".yz-legend summary")
        problems += [f"{path} with answers [{lang}] {v}" for v in axe_violations(page, axe_source)]
    assert not problems, "\n".join(problems)
    watch.assert_clean()


def test_the_staff_pages_have_no_axe_violation_in_either_language(live_server, make_page, axe_source):
    page, watch = make_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/login", wait_until="load")
    page.fill("#login-username", "admin")
    page.fill("#login-password", PASSWORD)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage(\?|$)"), timeout=WAIT_MS)
    problems = []
    for lang in ("zh", "en"):
        for path in STAFF:
            problems += check(page, axe_source, live_server.url, path, "main", lang)
    assert not problems, "\n".join(problems)
