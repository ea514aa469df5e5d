"""The map above ``MAP_INLINE_MAX`` in Chromium: markers per visible area from /api/map/markers?bbox=.

The fixture data (13 stations) with ``MAP_INLINE_MAX=5`` take the path of the national data
(186,100 stations) while staying fast. Expected markers are computed here from the fixture
features and the bbox the page actually sent.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import WAIT_MS, open_map, snap
from .test_map import (POSITION, answer, listed, passing_worker, press_find_nearest, props, wait_results,
                       wednesday_noon)  # noqa: F401 (the pages' clock at a Wednesday noon, autouse)

pytestmark = pytest.mark.browser

MIN_ZOOM = 11


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAP_INLINE_MAX": 5}


def is_bbox_request(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path == "/api/map/markers" and "bbox" in parse_qs(parts.query)


def sent_bbox(url: str) -> tuple[float, ...]:
    return tuple(float(v) for v in parse_qs(urlsplit(url).query)["bbox"][0].split(","))


def expected_in(features, bbox, keep=lambda p: True) -> list[str]:
    minlon, minlat, maxlon, maxlat = bbox
    return sorted(props(f)["id"] for f in features
                  if props(f)["status"] != "closed" and keep(props(f))
                  and minlon <= f["geometry"]["coordinates"][0] <= maxlon
                  and minlat <= f["geometry"]["coordinates"][1] <= maxlat)


def cluster_ids(page) -> list[str]:
    return sorted(page.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId)"))


def view_bounds(page) -> tuple[float, ...]:
    return tuple(page.evaluate("""() => { const b = yizhan.map.getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"""))


def test_markers_come_from_bbox_requests_only_when_zoomed_in(live_server, make_page, station_features, artifacts):
    page, watch = make_page()
    open_map(page, live_server.url)
    html = page.content()
    assert "古槐路驿站" not in html  # nothing inline
    assert page.evaluate("() => JSON.parse(document.getElementById('yz-data').textContent).stations.length") == 0
    assert page.evaluate("() => yizhan.map.getZoom()") < MIN_ZOOM
    hint = page.locator(".yz-zoom-hint")
    hint.wait_for(state="visible", timeout=WAIT_MS)
    assert hint.inner_text() == "放大地图以显示驿站"
    assert cluster_ids(page) == []
    page.wait_for_timeout(400)  # past the debounce: still no request for the whole city
    assert not [u for u in watch.requests if is_bbox_request(u)]
    snap(page, artifacts / "remote-zoomed-out-phone.png")

    # Zoom in on the city centre: one bbox request, markers for what it returned.
    with page.expect_response(lambda r: is_bbox_request(r.url), timeout=WAIT_MS) as answer:
        page.evaluate("() => yizhan.map.setView([35.4125, 116.5885], 13, {animate: false})")
    bbox = sent_bbox(answer.value.url)
    west, south, east, north = view_bounds(page)
    assert bbox[0] <= west and bbox[1] <= south and bbox[2] >= east and bbox[3] >= north
    expected = expected_in(station_features, bbox)
    assert {"JN-RS-0001", "JN-CP-0001"} <= set(expected)
    page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
    assert cluster_ids(page) == expected
    assert hint.is_hidden()
    snap(page, artifacts / "remote-zoomed-in-phone.png")

    # Closer in, inside the area already loaded: pins, and no new request.
    count = len([u for u in watch.requests if is_bbox_request(u)])
    page.evaluate("() => yizhan.map.setView([35.4100, 116.5900], 16, {animate: false})")
    page.wait_for_selector(".leaflet-marker-pane .yz-pin.k-cultural_palace", timeout=WAIT_MS)
    page.wait_for_timeout(400)
    assert len([u for u in watch.requests if is_bbox_request(u)]) == count

    # A popup of a loaded station shows its fields as text.
    page.evaluate("() => yizhan.markers['JN-CP-0001'].openPopup()")
    popup = page.wait_for_selector(".leaflet-popup .yz-popup h3", timeout=WAIT_MS)
    assert popup.text_content() == "济宁市工人文化宫"

    # Several moves in a row: one request after the debounce, for the last view (邹城).
    before = len([u for u in watch.requests if is_bbox_request(u)])
    with page.expect_response(lambda r: is_bbox_request(r.url), timeout=WAIT_MS) as answer:
        page.evaluate("""() => { const m = yizhan.map;
            m.setView([35.30, 116.80], 13, {animate: false});
            m.setView([35.20, 116.90], 13, {animate: false});
            m.setView([35.11, 116.975], 13, {animate: false}); }""")
    page.wait_for_timeout(500)
    assert len([u for u in watch.requests if is_bbox_request(u)]) == before + 1
    bbox = sent_bbox(answer.value.url)
    expected = expected_in(station_features, bbox)
    assert {"JN-RS-0007", "JN-CP-0002"} <= set(expected)
    page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
    assert cluster_ids(page) == expected

    # A kind filter goes to the API.
    page.click("#toggle-filters")
    with page.expect_request(lambda r: is_bbox_request(r.url) and "kind=cultural_palace" in r.url, timeout=WAIT_MS):
        page.check("#filters input[name=kind][value=cultural_palace]")
    expected = expected_in(station_features, bbox, keep=lambda p: p["kind"] == "cultural_palace")
    page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
    assert cluster_ids(page) == expected == ["JN-CP-0002"]

    # Zoomed out again: the markers go, the hint comes back.
    page.evaluate("() => yizhan.map.setZoom(9, {animate: false})")
    hint.wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_function("() => yizhan.cluster.getLayers().length === 0", timeout=WAIT_MS)
    watch.assert_clean()


def test_nearest_button_works_without_inline_stations(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url)
    press_find_nearest(page)
    wait_results(page, 5)
    expected = answer(station_features, *POSITION)[:5]
    got = listed(page)
    assert [i for i, _ in got] == [i for _, i in expected]
    for (gid, gdist), (edist, _) in zip(got, expected):
        assert gdist == pytest.approx(edist, abs=0.5), gid
    names = {props(f)["id"]: props(f)["name"] for f in station_features}
    assert page.locator("#results li .name").first.text_content() == names[expected[0][1]]

    # The map fitted the answer (zoomed in): that area's markers arrive from a bbox request.
    page.wait_for_function("() => yizhan.cluster.getLayers().length > 0", timeout=WAIT_MS)
    assert page.evaluate("() => yizhan.map.getZoom()") >= MIN_ZOOM
    assert set(i for _, i in expected) <= set(cluster_ids(page)) | {"JN-CP-0002"}
    assert [u for u in watch.requests if is_bbox_request(u)]

    second = got[1][0]
    page.locator(f"#results li[data-id='{second}'] button").click()
    popup = page.wait_for_selector(".leaflet-popup .yz-popup h3", timeout=WAIT_MS)
    assert popup.text_content() == names[second]
    assert page.evaluate("() => yizhan.highlighted()") == second
    snap(page, artifacts / "remote-nearest-phone.png")

    # "24 h" without inline data: the stations' hours text from the API decides.
    page.click("#toggle-filters")
    page.check("#filters input[name=h24]")
    expected = answer(station_features, *POSITION,
                      keep=lambda f: passing_worker(f) and props(f).get("opening_hours") == "24/7")[:5]
    page.wait_for_function(f"() => [...document.querySelectorAll('#results li')].map(li => li.dataset.id).join() "
                           f"=== {','.join(i for _, i in expected)!r}", timeout=WAIT_MS)
    watch.assert_clean()


def test_search_without_inline_stations_searches_the_list(live_server, make_page, station_features):
    page, watch = make_page()
    open_map(page, live_server.url)
    page.fill("#q", "邹城")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('回车')", timeout=WAIT_MS)
    with page.expect_navigation(timeout=WAIT_MS):
        page.press("#q", "Enter")
    parts = urlsplit(page.url)
    assert parts.path == "/list" and parse_qs(parts.query)["q"] == ["邹城"]
    zoucheng = {props(f)["name"] for f in station_features
                if props(f)["status"] != "closed" and ("邹城" in props(f)["name"] or props(f).get("county_code") == "370883")}
    text = page.inner_text("main")
    for name in zoucheng:
        assert name in text
    assert "古槐路驿站" not in text
    watch.assert_clean()


def test_on_amap_tiles_the_bbox_is_sent_in_wgs84_and_markers_drawn_in_gcj02(app_config, make_page, station_features):
    from stations.coords import gcj02_to_wgs84, wgs84_to_gcj02
    from web import create_app

    from .conftest import LiveServer

    server = LiveServer(create_app({**app_config, "BASEMAP": "amap"}))
    try:
        page, watch = make_page()
        open_map(page, server.url)
        glon, glat = wgs84_to_gcj02(116.5900, 35.4100)  # 济宁市工人文化宫, drawn in GCJ-02
        with page.expect_response(lambda r: is_bbox_request(r.url), timeout=WAIT_MS) as answer:
            page.evaluate(f"() => yizhan.map.setView([{glat}, {glon}], 14, {{animate: false}})")
        bbox = sent_bbox(answer.value.url)
        west, south, east, north = view_bounds(page)  # GCJ-02
        wsw, wne = gcj02_to_wgs84(west, south), gcj02_to_wgs84(east, north)
        assert bbox[0] <= wsw[0] and bbox[1] <= wsw[1] and bbox[2] >= wne[0] and bbox[3] >= wne[1]
        assert bbox[0] > west - 0.5 * (east - west)  # WGS-84 (not GCJ-02 sent as is, nor anything wild)
        expected = expected_in(station_features, bbox)
        page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
        drawn = page.evaluate("() => { const ll = yizhan.markers['JN-CP-0001'].getLatLng(); return [ll.lng, ll.lat]; }")
        assert drawn == pytest.approx([glon, glat], abs=1e-6)
        watch.assert_clean()
    finally:
        server.stop()


def test_a_visible_area_larger_than_a_page_is_loaded_by_following_next_offsets(live_server, make_page,
                                                                                 station_features, monkeypatch):
    import web.pages

    monkeypatch.setattr(web.pages, "MARKERS_LIMIT_MAX", 2)  # the page script asks for pages of 2 stations
    page, watch = make_page()
    open_map(page, live_server.url)
    with page.expect_response(lambda r: is_bbox_request(r.url), timeout=WAIT_MS) as answer:
        page.evaluate("() => yizhan.map.setView([35.4125, 116.5885], 13, {animate: false})")
    bbox = sent_bbox(answer.value.url)
    assert parse_qs(urlsplit(answer.value.url).query)["limit"] == ["2"]
    expected = expected_in(station_features, bbox)
    assert len(expected) > 2  # more than one page
    page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
    assert cluster_ids(page) == expected
    offsets = [parse_qs(urlsplit(u).query).get("offset", ["0"])[0] for u in watch.requests if is_bbox_request(u)]
    assert offsets[:2] == ["0", "2"]  # the next offsets, in order
    watch.assert_clean()
