"""/planning in a real headless Chromium: choropleth, sortable table, downloads, print, no outside requests.

Expectations come from the fixture data and the JSON the API serves, never from the page's own code.
"""
from __future__ import annotations

import csv
import io
import json
import urllib.request

import pytest

from .conftest import WAIT_MS, snap

DESKTOP = {"width": 1280, "height": 900}
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
CODES = ["370811", "370812", "370883"]


def open_planning(page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/planning{query}", wait_until="load")
    page.wait_for_selector("path.yz-county", state="attached", timeout=WAIT_MS)


def api(base_url: str, query: str = "") -> dict:
    with urllib.request.urlopen(f"{base_url}/api/coverage{query}", timeout=30) as response:
        return json.load(response)


def body_rows(page) -> list[list[str]]:
    """(county name, covered-share sort key, rest-station sort key) of the table's body, in order."""
    return page.eval_on_selector_all(
        "#county-table tbody tr",
        """rows => rows.map(r => {
            const heads = [...document.querySelectorAll('#county-table thead th')].map(h => h.textContent.trim());
            const cell = label => r.cells[heads.findIndex(h => h.startsWith(label))];
            return [r.cells[0].textContent.trim(), cell('覆盖率(%)').dataset.sort, cell('驿站数').dataset.sort];
        })""")


def test_choropleth_gaps_and_markers_are_drawn(live_server, make_page, artifacts):
    page, watch = make_page(viewport=DESKTOP)
    open_planning(page, live_server.url, "?radius_m=2000&new_sites=3")
    data = api(live_server.url, "?radius_m=2000&new_sites=3")

    counties = page.eval_on_selector_all(
        "path.yz-county", "ps => ps.map(p => [p.getAttribute('class'), p.getAttribute('fill'), p.getBBox().width])")
    assert len(counties) == len(CODES)
    assert sorted(next(c for c in cls.split() if c.startswith("c-"))[2:] for cls, _, _ in counties) == CODES
    assert all(fill in PALETTE and width > 20 for _, fill, width in counties), counties
    # the county with the highest covered share has the darkest class of the three
    fills = {next(c for c in cls.split() if c.startswith("c-"))[2:]: fill for cls, fill, _ in counties}
    best = max(data["counties"], key=lambda c: c["covered_share"])["adcode"]
    assert PALETTE.index(fills[best]) == max(PALETTE.index(f) for f in fills.values())

    gaps = page.eval_on_selector_all("path.yz-gap", "ps => ps.map(p => p.getAttribute('fill'))")
    assert len(gaps) == len(CODES) and set(gaps) == {"url(#yz-gap-hatch)"}
    assert page.locator("#yz-gap-hatch").count() == 1
    assert page.locator(".leaflet-marker-pane .yz-suggestion").count() == 3
    assert page.locator(".leaflet-marker-pane .yz-worst").count() == len(CODES)
    open_stations = [c["stations"] for c in data["counties"]]
    assert page.locator("path.yz-station").count() == sum(open_stations)

    page.hover("path.yz-county.c-370812", position={"x": 30, "y": 30}, force=True)
    tooltip = page.wait_for_selector(".leaflet-tooltip", timeout=WAIT_MS)
    assert "兖州区" in tooltip.inner_text()
    assert page.locator(".bar-chart g.bar").count() == len(CODES)
    snap(page, artifacts / "planning-desktop.png", full_page=True)
    watch.assert_clean()


def test_table_sorts_by_click_and_by_keyboard(live_server, make_page, artifacts):
    page, watch = make_page(viewport=DESKTOP)
    open_planning(page, live_server.url, "?radius_m=2000")
    data = api(live_server.url, "?radius_m=2000")
    names = {c["adcode"]: c["name"] for c in data["counties"]}
    assert [r[0] for r in body_rows(page)] == [names[c] for c in CODES]  # by adcode at first

    share = page.locator("#county-table thead th", has_text="覆盖率(%)").first
    share.locator("button").click()
    ascending = [names[c["adcode"]] for c in sorted(data["counties"], key=lambda c: c["covered_share"])]
    assert [r[0] for r in body_rows(page)] == ascending
    assert share.get_attribute("aria-sort") == "ascending"
    share.locator("button").click()
    assert [r[0] for r in body_rows(page)] == ascending[::-1]
    assert share.get_attribute("aria-sort") == "descending"
    assert "降序" in page.inner_text("#sort-status")
    assert "全市合计" in page.inner_text("#county-table tfoot")  # the total stays last

    rest = page.locator("#county-table thead th", has_text="驿站数").first
    rest.locator("button").focus()
    page.keyboard.press("Enter")
    keys = [float(r[2]) for r in body_rows(page)]
    assert keys == sorted(keys) and rest.get_attribute("aria-sort") == "ascending"
    assert share.get_attribute("aria-sort") is None
    page.keyboard.press("Space")
    keys = [float(r[2]) for r in body_rows(page)]
    assert keys == sorted(keys, reverse=True)
    snap(page, artifacts / "planning-table-sorted.png")
    watch.assert_clean()


def test_csv_and_xlsx_downloads_arrive_and_open(live_server, make_page):
    openpyxl = pytest.importorskip("openpyxl")
    page, watch = make_page(viewport=DESKTOP)
    open_planning(page, live_server.url, "?radius_m=2000&new_sites=2")
    data = api(live_server.url, "?radius_m=2000&new_sites=2")

    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("a[href*='/planning/download.csv']")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][1] == "县市区" and rows[0][8] == "覆盖率(%)"
    assert [r[0] for r in rows[1:-1]] == CODES and rows[-1][1] == "全市合计"
    assert [int(r[3]) for r in rows[1:-1]] == [c["rest_stations"] for c in data["counties"]]

    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("a[href*='/planning/download.xlsx']")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()))  # the temp file has no .xlsx
    sheet = wb.worksheets[0]
    assert [sheet.cell(row=r, column=1).value for r in range(3, 3 + len(CODES))] == CODES
    assert sheet.cell(row=3 + len(CODES), column=4).value == data["city"]["rest_stations"]
    assert wb.worksheets[1].max_row == 1 + len(data["suggestions"])

    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("a[href*='/planning/download.geojson']")
    geo = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert geo["type"] == "FeatureCollection"
    assert sum(f["properties"]["kind"] == "suggestion" for f in geo["features"]) == len(data["suggestions"])
    watch.assert_clean()


def test_form_reanalyses_and_print_shows_the_static_map(live_server, make_page, artifacts):
    page, watch = make_page(viewport=DESKTOP)
    open_planning(page, live_server.url)
    page.fill("#radius_m", "3000")
    page.fill("#new_sites", "2")
    page.check("input[name=include_planned]")
    page.click("#controls button[type=submit]")
    page.wait_for_url("**/planning?*new_sites=2*", timeout=WAIT_MS)
    page.wait_for_selector(".leaflet-marker-pane .yz-suggestion", timeout=WAIT_MS)
    assert page.locator(".leaflet-marker-pane .yz-suggestion").count() == 2
    assert page.input_value("#radius_m") == "3000"
    assert page.locator("#sug-title").is_visible()

    # print: controls and the interactive map hidden, the SVG map (loaded) shown
    page.wait_for_function("() => { const i = document.querySelector('img.print-map'); return i.complete && i.naturalWidth > 0; }",
                           timeout=WAIT_MS)
    page.emulate_media(media="print")
    assert page.locator("#controls").is_hidden() and page.locator(".planning-map").is_hidden()
    assert page.locator("img.print-map").is_visible() and page.locator(".bar-chart").is_visible()
    page.set_viewport_size({"width": 760, "height": 1000})  # about an A4 page's width
    snap(page, artifacts / "planning-print.png", full_page=True)
    watch.assert_clean()


def test_phone_layout_and_english(live_server, make_page, artifacts):
    page, watch = make_page(locale="en-US")
    open_planning(page, live_server.url, "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "City total" in page.inner_text("#county-table tfoot")
    # the page fits the phone's width; only the table scrolls sideways, inside its own box
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1
    snap(page, artifacts / "planning-phone-en.png", full_page=True)
    watch.assert_clean()
