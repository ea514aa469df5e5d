"""Page weight, basemaps (AMap's GCJ-02, no tiles), the list and the station page in Chromium."""
from __future__ import annotations

import pytest
from geographiclib.geodesic import Geodesic

from stations.coords import gcj02_to_wgs84, wgs84_to_gcj02

from .conftest import WAIT_MS, make_bundled_app, open_map, snap

pytestmark = pytest.mark.browser

BUDGET_BYTES = 600 * 1024
POSITION = (35.4120, 116.5880)  # (lat, lon) WGS-84


def nearest_open_id(features, lat, lon):
    best = min((Geodesic.WGS84.Inverse(lat, lon, f["geometry"]["coordinates"][1],
                                       f["geometry"]["coordinates"][0])["s12"], f["properties"]["id"])
               for f in features if f["properties"]["status"] == "open")
    return best[1], best[0]


def transferred_bytes(page, url: str) -> tuple[int, list[tuple[str, int]]]:
    """Bytes on the wire (headers + encoded bodies) for everything but tiles, after loading ``url``."""
    finished = []
    page.on("requestfinished", lambda r: finished.append(r))
    page.goto(url, wait_until="load")
    page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
    page.wait_for_load_state("networkidle", timeout=WAIT_MS)
    rows = []
    for request in finished:
        if "/test-tiles/" in request.url:
            continue
        sizes = request.sizes()
        rows.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))
    return sum(n for _, n in rows), rows


def test_first_load_of_the_map_stays_under_600_kb(live_server, make_page):
    page, watch = make_page()
    total, rows = transferred_bytes(page, live_server.url + "/")
    assert total <= BUDGET_BYTES, rows
    assert any("/static/vendor/leaflet/leaflet.js" in u for u, _ in rows)
    watch.assert_clean()


@pytest.fixture
def bundled_app(tmp_path):
    return make_bundled_app(tmp_path)


def test_first_load_with_the_bundled_data_stays_under_600_kb(bundled_app, make_page, artifacts):
    from .conftest import LiveServer

    server = LiveServer(bundled_app)
    try:
        page, watch = make_page()
        total, rows = transferred_bytes(page, server.url + "/")
        assert total <= BUDGET_BYTES, rows
        shown = [s for s in bundled_app.extensions["yizhan"].store.all() if s.status != "closed"]
        assert page.evaluate("() => yizhan.cluster.getLayers().length") == len(shown)
        snap(page, artifacts / "bundled-overview-phone.png")
        watch.assert_clean()
    finally:
        server.stop()


@pytest.fixture
def amap_config(app_config):
    return {**app_config, "BASEMAP": "amap"}


def test_amap_basemap_draws_markers_and_you_in_gcj02(amap_config, make_page, station_features, artifacts):
    from web import create_app

    from .conftest import LiveServer

    server = LiveServer(create_app(amap_config))
    try:
        page, watch = make_page(geolocation=POSITION)
        open_map(page, server.url)
        drawn = page.evaluate("() => Object.fromEntries(Object.entries(yizhan.markers).map(([id, m]) => [id, [m.getLatLng().lat, m.getLatLng().lng]]))")
        for f in station_features:
            if f["properties"]["status"] == "closed":
                continue
            lon, lat = f["geometry"]["coordinates"]
            glon, glat = wgs84_to_gcj02(lon, lat)
            assert drawn[f["properties"]["id"]] == pytest.approx([glat, glon], abs=2e-6)
            assert abs(glon - lon) > 0.003  # the offset is real (~500 m): drawing WGS-84 would be wrong

        page.click("#find-nearest")
        page.wait_for_function("() => document.querySelectorAll('#results li').length >= 1", timeout=WAIT_MS)
        first = page.get_attribute("#results li:first-child", "data-id")
        assert first == nearest_open_id(station_features, *POSITION)[0]
        you = page.evaluate("() => { const l = yizhan.map._layers; const c = Object.values(l).find(x => x instanceof L.CircleMarker && !(x instanceof L.Circle)); const p = c.getLatLng(); return [p.lat, p.lng]; }")
        glon, glat = wgs84_to_gcj02(POSITION[1], POSITION[0])
        assert you == pytest.approx([glat, glon], abs=1e-9)

        # Tap-to-set on GCJ-02 tiles: the page converts the tapped point back to WGS-84.
        page.click("#pick")
        point = page.evaluate("() => { const p = yizhan.map.latLngToContainerPoint(yizhan.map.getCenter()); return [Math.round(p.x) + 40, Math.round(p.y) + 40]; }")
        page.evaluate("() => yizhan.map.once('click', e => { window.tapped = [e.latlng.lat, e.latlng.lng]; })")
        page.locator(".folium-map").click(position={"x": point[0], "y": point[1]})
        page.wait_for_function("([lat]) => yizhan.position() && Math.abs(yizhan.position().lat - lat) > 1e-9",
                               arg=[POSITION[0]], timeout=WAIT_MS)
        tapped = page.evaluate("() => window.tapped")  # where Leaflet says the tap was (GCJ-02)
        pos = page.evaluate("() => yizhan.position()")
        wlon, wlat = gcj02_to_wgs84(tapped[1], tapped[0])
        assert [pos["lat"], pos["lon"]] == pytest.approx([wlat, wlon], abs=1e-7)
        snap(page, artifacts / "amap-basemap-phone.png")
        watch.assert_clean()
    finally:
        server.stop()


def test_without_tiles_markers_and_nearest_still_work(app_config, make_page, station_features):
    from web import create_app

    from .conftest import LiveServer

    server = LiveServer(create_app({**app_config, "BASEMAP": "none", "TILE_URL": None}))
    try:
        page, watch = make_page(geolocation=POSITION)
        page.goto(server.url + "/")
        assert not watch.page_errors and not watch.console_errors, (watch.page_errors, watch.console_errors)
        open_map(page, server.url)
        visible = [f for f in station_features if f["properties"]["status"] != "closed"]
        assert page.evaluate("() => yizhan.cluster.getLayers().length") == len(visible)
        page.click("#find-nearest")
        page.wait_for_function("() => document.querySelectorAll('#results li').length >= 1", timeout=WAIT_MS)
        assert page.get_attribute("#results li:first-child", "data-id") == nearest_open_id(station_features, *POSITION)[0]
        assert not [u for u in watch.requests if "tile" in u]
        watch.assert_clean()
    finally:
        server.stop()


def test_station_page_on_a_phone_and_in_print(live_server, make_page, station_features, artifacts):
    page, watch = make_page()
    page.goto(live_server.url + "/stations/JN-RS-0001")
    assert page.locator("h1").inner_text() == "古槐路驿站"
    assert "示例数据" in page.inner_text(".sample-banner")
    assert page.locator(".qr svg path").count() >= 1
    assert page.get_attribute("a[data-nav=amap]", "href").startswith("https://uri.amap.com/navigation?to=")
    assert page.get_attribute("a[href^='tel:']", "href") == "tel:0537-2345678"
    snap(page, artifacts / "station-phone.png", full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    snap(page, artifacts / "station-print.png", full_page=True)
    watch.assert_clean()


def test_list_sorts_by_distance_after_the_position_button(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    page.goto(live_server.url + "/list")
    headings = page.locator("main h2").all_inner_texts()
    assert any("任城区" in h for h in headings) and any("邹城市" in h for h in headings)
    snap(page, artifacts / "list-by-county-phone.png", full_page=True)
    page.click("#use-position")
    page.wait_for_url("**/list?*lat=*", timeout=WAIT_MS)
    first = page.locator("ol.entries > li").first
    # The list shows every non-closed site nearest first (not only open ones).
    distances = sorted(
        (Geodesic.WGS84.Inverse(POSITION[0], POSITION[1], f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])["s12"],
         f["properties"]["name"]) for f in station_features if f["properties"]["status"] != "closed")
    assert first.locator("h3").inner_text() == distances[0][1]
    names = page.locator("ol.entries > li h3").all_inner_texts()
    assert names == [n for _, n in distances]
    snap(page, artifacts / "list-nearest-phone.png", full_page=True)
    watch.assert_clean()
