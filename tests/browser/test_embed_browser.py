"""``/embed`` inside an iframe of another site, in Chromium.

The "county website" is a second local server (another port: another origin) whose page holds
the snippet from the README. The map must render in the frame, fitted to the county, and its
"open full map" link must open a new tab; a site not in ``EMBED_ALLOWED_ORIGINS`` gets no map.
"""
from __future__ import annotations

import pytest
from flask import Flask
from markupsafe import escape

from conftest import COUNTY_BOXES
from .conftest import WAIT_MS, LiveServer, open_map, snap
from .test_map import POSITION, answer, wednesday_noon  # noqa: F401 (the pages' clock at a Wednesday noon, autouse)

pytestmark = pytest.mark.browser

ZOUCHENG = "370883"
DESKTOP = {"width": 1100, "height": 700}


def host_app(embed_src: str) -> Flask:
    """A county website with the README's iframe snippet."""
    host = Flask("county_site")

    @host.get("/")
    def home():
        return (
            "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>邹城市总工会</title>"
            "<style>body{margin:0;font-family:sans-serif}h1{margin:0;padding:12px;background:#a11;color:#fff;"
            "font-size:20px}p{margin:8px 12px}</style></head><body>"
            "<h1>邹城市总工会 · 户外劳动者驿站</h1><p>在地图上找离您最近的驿站：</p>"
            f"<iframe src=\"{escape(embed_src)}\" width=\"100%\" height=\"480\" allow=\"geolocation\" "
            "loading=\"lazy\" style=\"border:0;display:block\"></iframe>"
            "<p>页脚</p></body></html>"
        )

    return host


@pytest.fixture
def county_site(live_server):
    server = LiveServer(host_app(f"{live_server.url}/embed?county={ZOUCHENG}&lang=zh"))
    yield server
    server.stop()


def assert_fitted_to_county(frame_or_page, code: str = ZOUCHENG) -> None:
    """The view holds the county's box and one zoom level more would not: the map is fitted to it."""
    _, (minlon, minlat, maxlon, maxlat), _ = COUNTY_BOXES[code]
    west, south, east, north = frame_or_page.evaluate("""() => { const b = yizhan.map.getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }""")
    assert west <= minlon and south <= minlat and east >= maxlon and north >= maxlat
    assert (maxlon - minlon) > (east - west) / 2 or (maxlat - minlat) > (north - south) / 2
    assert abs((west + east) / 2 - (minlon + maxlon) / 2) < 0.1 * (east - west)
    assert abs((south + north) / 2 - (minlat + maxlat) / 2) < 0.1 * (north - south)


def embed_frame(page):
    """The iframe's Frame, once its map script has run."""
    page.wait_for_selector("iframe", timeout=WAIT_MS)
    frame = page.frame_locator("iframe")
    frame.locator("html[data-map-ready='1']").wait_for(state="attached", timeout=WAIT_MS)
    return next(f for f in page.frames if "/embed" in f.url)


def test_embed_renders_in_an_iframe_of_another_site_fitted_to_the_county(live_server, county_site, make_page,
                                                                        station_features, artifacts):
    page, watch = make_page(viewport=DESKTOP)
    page.goto(county_site.url + "/", wait_until="load")
    assert county_site.url != live_server.url  # another origin frames the map
    frame = embed_frame(page)

    box = page.locator("iframe").bounding_box()
    assert box["height"] == pytest.approx(480, abs=1) and box["width"] >= 1000
    assert frame.locator(".topbar, .topnav").count() == 0
    # The map fills the frame beside the panel, with tiles and the county outline drawn.
    mapbox = frame.locator(".folium-map").bounding_box()
    assert mapbox["height"] >= 470 and mapbox["width"] >= 600
    frame.wait_for_selector(".leaflet-tile-loaded", timeout=WAIT_MS)
    # Fitted to 邹城市, and it stays so (after any zoom animation of the first load has ended).
    frame.wait_for_timeout(600)
    assert_fitted_to_county(frame)
    outline = frame.evaluate("""() => { let found = null; yizhan.map.eachLayer(l => {
        if (l instanceof L.GeoJSON && l.options.style && l.options.style.weight === 3) found = l.getBounds(); });
        return found && [found.getWest(), found.getSouth(), found.getEast(), found.getNorth()]; }""")
    assert outline == pytest.approx(list(COUNTY_BOXES[ZOUCHENG][1]), abs=1e-4)
    visible = [f["properties"]["id"] for f in station_features
               if f["properties"]["status"] != "closed" and f["properties"].get("county_code") == ZOUCHENG]
    assert frame.evaluate("() => yizhan.cluster.getLayers().length") == len(visible)  # the county's only
    assert frame.locator(".leaflet-marker-pane > *").count() >= 2
    snap(page, artifacts / "embed-county-site-desktop.png")

    # The small link opens the full map of the county in a new tab.
    link = frame.locator("a.embed-open")
    assert link.inner_text().strip().startswith("在驿站地图中打开")
    assert link.get_attribute("target") == "_blank"
    with page.context.expect_page(timeout=WAIT_MS) as new_tab:
        link.click()
    full = new_tab.value
    full.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
    assert full.url == f"{live_server.url}/?county={ZOUCHENG}&lang=zh"
    assert full.locator(".topbar").count() == 1
    assert page.url == county_site.url + "/"  # the county site stays where it was
    watch.assert_clean()


def test_nearest_works_inside_the_frame_on_a_phone(live_server, county_site, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    page.goto(county_site.url + "/", wait_until="load")
    frame = embed_frame(page)
    mapbox = frame.locator(".folium-map").bounding_box()
    assert mapbox["height"] >= 250  # the compact panel leaves the map most of the frame
    frame.wait_for_timeout(600)
    assert_fitted_to_county(frame)
    frame.locator("#find-nearest").click()
    # the county's embed searches the county's stations (in the page): the map's default, open first
    county = [f for f in station_features if f["properties"].get("county_code") == ZOUCHENG]
    expected = [i for _, i in answer(county, *POSITION)[:5]]
    assert expected  # 邹城孟子湖驿站, from 任城区
    frame.wait_for_function(f"() => document.querySelectorAll('#results li').length === {len(expected)}",
                            timeout=WAIT_MS)
    got = frame.eval_on_selector_all("#results li", "els => els.map(li => li.dataset.id)")
    assert got == expected
    # The compact panel scrolled itself (not the county's page) to the answer: the first one is in sight.
    frame.wait_for_timeout(100)
    first = frame.locator("#results li").first.bounding_box()  # page coordinates
    box = page.locator("iframe").bounding_box()
    assert box["y"] <= first["y"] and first["y"] + first["height"] <= box["y"] + box["height"]
    assert page.evaluate("() => window.scrollY") == 0
    snap(page, artifacts / "embed-nearest-phone.png")
    watch.assert_clean()


def test_a_site_not_allowed_to_frame_the_map_gets_none(app_config, make_page):
    from web import create_app

    app = create_app({**app_config, "EMBED_ALLOWED_ORIGINS": ["https://www.zoucheng.gov.cn"]})
    server = LiveServer(app)
    site = LiveServer(host_app(f"{server.url}/embed?county={ZOUCHENG}"))
    try:
        page, watch = make_page(viewport=DESKTOP)
        page.goto(site.url + "/", wait_until="load")
        page.wait_for_timeout(800)
        frame = next((f for f in page.frames if f is not page.main_frame), None)
        assert frame is not None
        assert frame.evaluate("() => !!document.querySelector('html[data-map-ready]')") is False
        assert any("frame-ancestors" in e for e in watch.console_errors), watch.console_errors
    finally:
        site.stop()
        server.stop()


@pytest.mark.parametrize("viewport", [{"width": 412, "height": 915}, {"width": 1280, "height": 800}],
                         ids=["phone", "desktop"])
def test_full_map_with_county_is_fitted_to_it(live_server, make_page, viewport, artifacts):
    page, watch = make_page(viewport=viewport)
    open_map(page, live_server.url, f"?county={ZOUCHENG}")
    page.wait_for_timeout(600)  # past the first load's animations
    assert_fitted_to_county(page)
    assert page.locator(".topbar").count() == 1
    if viewport["width"] > 800:
        snap(page, artifacts / "county-full-map-desktop.png")
    watch.assert_clean()
