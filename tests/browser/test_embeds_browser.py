"""Embeds on other sites in Chromium (issue 12): a county's embed, framing refused, the builder's code, the export.

"Other sites" are second local servers (another port: another origin). Expected answers are worked out
here from the fixture stations with geographiclib's geodesic (``test_map.answer``/``brute_force``), at
the pages' clock of a Wednesday noon (``test_map.wednesday_noon``).
"""
from __future__ import annotations

import copy
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask

from conftest import STATION_FEATURES, _station
from stations import i18n as catalogue
from .conftest import PNG_1x1, WAIT_MS, LiveServer, snap
from .test_map import OPEN_AT_NOON, answer, brute_force, passing_worker, wednesday_noon  # noqa: F401

pytestmark = pytest.mark.browser

ZOUCHENG = "370883"
ZC_POSITION = (35.1270, 116.9690)  # (lat, lon) WGS-84, in 邹城市 among its stations
DESKTOP = {"width": 1200, "height": 800}
# More of 邹城市's stations, so that "the nearest" has an order to get right (and one closed at noon).
EXTRA = [
    _station("ZC-RS-0101", "邹城北驿站", "rest_station", 116.9650, 35.1300, ZOUCHENG, hours="24/7",
             amenities=("drinking_water", "toilet")),
    _station("ZC-RS-0102", "邹城夜班驿站", "rest_station", 116.9690, 35.1262, ZOUCHENG, hours="Mo-Su 22:00-06:00",
             amenities=("drinking_water",)),
    _station("ZC-CP-0103", "邹城矿区工人文化宫", "cultural_palace", 116.9760, 35.1240, ZOUCHENG,
             hours="Mo-Su 08:00-20:00", amenities=("drinking_water", "toilet")),
]
OPEN_NOW = OPEN_AT_NOON | {"ZC-RS-0101", "ZC-CP-0103"}


@pytest.fixture
def station_features() -> list[dict]:
    return copy.deepcopy(STATION_FEATURES) + copy.deepcopy(EXTRA)


def in_county(features, code: str = ZOUCHENG) -> list[dict]:
    return [f for f in features if f["properties"].get("county_code") == code]


def drawn_ids(features) -> list[str]:
    return sorted(f["properties"]["id"] for f in features if f["properties"]["status"] != "closed")


def host_app(body: str, title: str = "邹城市总工会") -> Flask:
    """A county website whose page holds ``body`` as its editor pasted it (raw HTML, as a CMS keeps it)."""
    host = Flask("county_site")

    @host.get("/")
    def home():
        return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{title}</title>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                "<style>body{margin:0;font-family:sans-serif}h1{margin:0;padding:12px}.tall{height:1500px}</style>"
                f"</head><body><h1>{title} · 户外劳动者驿站</h1>{body}<div class='tall'>页脚</div></body></html>")

    @host.get("/favicon.ico")
    def favicon():
        return PNG_1x1, 200, {"Content-Type": "image/png"}

    return host


def frame_with(page, part: str):
    """The frame whose URL holds ``part``, once its map script has run."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if part in f.url), None)
        if frame is not None:
            frame.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
            return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no frame with {part!r}: {[f.url for f in page.frames]}")


def listed_ids(frame) -> list[str]:
    return frame.eval_on_selector_all("#results li", "els => els.map(li => li.dataset.id)")


def press_nearest_and_read(frame, n: int) -> list[str]:
    frame.locator("#find-nearest").click()
    frame.wait_for_function(f"() => document.querySelectorAll('#results li').length === {n}", timeout=WAIT_MS)
    return listed_ids(frame)


def test_a_county_embed_on_another_port_shows_its_stations_only_and_finds_the_nearest_of_them(
        live_server, make_page, station_features, artifacts):
    src = f"{live_server.url}/embed?county={ZOUCHENG}&lang=zh"
    site = LiveServer(host_app(f'<iframe src="{src}" width="100%" height="520" allow="geolocation" '
                               'style="border:0;display:block"></iframe>'))
    try:
        page, watch = make_page(geolocation=ZC_POSITION, viewport=DESKTOP)
        page.goto(site.url + "/", wait_until="load")
        assert urlsplit(site.url).port != urlsplit(live_server.url).port  # another origin frames the map
        frame = frame_with(page, "/embed")
        county = in_county(station_features)
        shown = frame.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId).sort()")
        assert shown == drawn_ids(county)  # 兖州区's and 任城区's stations are not on it

        expected = [i for _, i in answer(county, *ZC_POSITION, open_ids=OPEN_NOW)[:5]]
        assert expected[-1] == "ZC-RS-0102"  # the nearest of all, closed at noon: after the open ones
        got = press_nearest_and_read(frame, len(expected))
        assert got == expected
        # when the one closed now opens, as the full map's answer says it (the page knew it at noon)
        assert frame.locator("#results li").last.locator(".change").inner_text() == "22:00 开放"
        distances = frame.eval_on_selector_all("#results li button.result", "els => els.map(b => +b.dataset.distanceM)")
        geodesic = {i: d for d, i in brute_force(county, *ZC_POSITION)}
        assert distances == pytest.approx([geodesic[i] for i in got], abs=0.05)  # geodesic, as the server
        assert not [u for u in watch.requests if "/api/nearest" in u]  # searched in the page
        snap(page, artifacts / "embed-county-nearest-desktop.png")
        watch.assert_clean()
    finally:
        site.stop()


def test_the_embed_leaves_the_wheel_to_the_host_page_and_zooms_with_ctrl(live_server, browser, station_features):
    src = f"{live_server.url}/embed?county={ZOUCHENG}&lang=zh"
    site = LiveServer(host_app(f'<iframe src="{src}" width="800" height="400" style="border:0"></iframe>'))
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(site.url + "/", wait_until="load")
        frame = frame_with(page, "/embed")
        frame.wait_for_timeout(300)
        zoom = frame.evaluate("() => yizhan.map.getZoom()")
        box = page.locator("iframe").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 400)
        page.wait_for_function("() => window.scrollY > 0", timeout=WAIT_MS)  # the host page scrolled
        frame.wait_for_timeout(300)
        assert frame.evaluate("() => yizhan.map.getZoom()") == zoom
        container = frame.locator(".folium-map")
        assert container.get_attribute("data-gesture-handling-scroll-content") == catalogue.gettext(
            "gesture.scroll", "zh")
        assert container.get_attribute("data-gesture-handling-touch-content") == catalogue.gettext(
            "gesture.touch", "zh")
        page.evaluate("() => window.scrollTo(0, 0)")  # the frame back in sight
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.keyboard.down("Control")
        for _ in range(3):  # the first ctrl + wheel lets the map take the wheel, the next ones zoom it
            page.mouse.wheel(0, -200)
            page.wait_for_timeout(100)
        page.keyboard.up("Control")
        frame.wait_for_function(f"() => yizhan.map.getZoom() > {zoom}", timeout=WAIT_MS)
    finally:
        context.close()
        site.stop()


def test_another_origin_cannot_frame_the_map_page_but_can_frame_the_embed(live_server, make_page):
    site = LiveServer(host_app(
        f'<iframe id="map" src="{live_server.url}/?lang=zh" width="600" height="300"></iframe>'
        f'<iframe id="embed" src="{live_server.url}/embed?lang=zh" width="600" height="300"></iframe>'))
    try:
        page, watch = make_page(viewport=DESKTOP)
        page.goto(site.url + "/", wait_until="load")
        frame_with(page, "/embed")  # the embed is drawn
        page.wait_for_timeout(500)
        blocked = page.frame_locator("#map")
        # the browser refused the map page: the frame holds no document of the site
        frame = page.locator("#map").element_handle().content_frame()
        assert frame.evaluate("() => !!document.querySelector('html[data-map-ready]')") is False
        assert frame.evaluate("() => !document.getElementById('find-nearest')") is True
        assert blocked.locator("#find-nearest").count() == 0
        refused = [e for e in watch.console_errors if "frame-ancestors" in e]
        assert refused and all("frame-ancestors" in e for e in watch.console_errors), watch.console_errors
        assert not watch.outside and not watch.page_errors
    finally:
        site.stop()


def test_the_builders_code_works_pasted_into_a_plain_page_on_another_port(live_server, make_page, station_features,
                                                                          artifacts):
    page, watch = make_page(viewport={"width": 1280, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/embed/builder", wait_until="load")
    page.wait_for_selector("html[data-builder-ready='1']", state="attached", timeout=WAIT_MS)
    page.select_option("#county", ZOUCHENG)
    page.uncheck("input[name=controls][value=search]")
    page.fill("#width", "720")
    page.fill("#height", "440")
    page.wait_for_function("() => document.getElementById('code').value.includes('height=\"440\"')", timeout=WAIT_MS)
    preview = frame_with(page, f"county={ZOUCHENG}")  # the live preview follows the options
    assert preview.locator("#search-form").is_hidden() and preview.locator("#find-nearest").is_visible()
    snap(page, artifacts / "embed-builder-desktop.png")
    page.click("#copy-code")
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''", timeout=WAIT_MS)
    assert page.locator("#copy-status").inner_text() == catalogue.gettext("embed.copied", "zh")
    code = page.evaluate("() => navigator.clipboard.readText()")
    page.click("#copy-link")
    link_code = page.evaluate("() => navigator.clipboard.readText()")
    watch.assert_clean()

    expected_src = f"{live_server.url}/embed?county={ZOUCHENG}&lang=zh&controls=nearest,filters,legend,zoom,fullscreen"
    site = LiveServer(host_app(f"<p>在地图上找离您最近的驿站：</p>{code}<p>不能显示地图时：{link_code}</p>"))
    try:
        visitor, seen = make_page(geolocation=ZC_POSITION, viewport=DESKTOP)
        visitor.goto(site.url + "/", wait_until="load")
        iframe = visitor.locator("iframe")
        assert iframe.get_attribute("src") == expected_src
        assert iframe.get_attribute("title") == "邹城市 · 驿站地图 · 济宁市"
        assert iframe.get_attribute("loading") == "lazy"
        assert iframe.get_attribute("allow") == "geolocation; fullscreen"
        assert iframe.get_attribute("referrerpolicy") == "strict-origin-when-cross-origin"
        box = iframe.bounding_box()
        assert (box["width"], box["height"]) == (pytest.approx(720, abs=1), pytest.approx(440, abs=1))
        frame = frame_with(visitor, "/embed")
        county = in_county(station_features)
        assert frame.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId).sort()") == drawn_ids(county)
        assert frame.locator("#search-form").is_hidden()
        expected = [i for _, i in answer(county, *ZC_POSITION, open_ids=OPEN_NOW)[:5]]
        assert press_nearest_and_read(frame, len(expected)) == expected
        # the plain link, for a CMS that strips iframes, opens the same map in a new tab
        with visitor.context.expect_page(timeout=WAIT_MS) as new_tab:
            visitor.get_by_role("link", name=catalogue.gettext("embed.link_text", "zh")).click()
        opened = new_tab.value
        opened.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
        assert opened.url == expected_src
        seen.assert_clean()
    finally:
        site.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_static_export_works_from_a_plain_static_server_without_asking_the_site(
        live_server, browser, tmp_path, stations_path, counties_path, station_features, artifacts):
    from yizhan.cli import main

    out = tmp_path / "zoucheng"
    result = CliRunner().invoke(main, ["export-html", "--county", ZOUCHENG, str(out), "--stations", str(stations_path),
                                       "--counties", str(counties_path)],
                                env={"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance"), "YIZHAN_BASEMAP": "osm",
                                     "YIZHAN_TILE_URL": None})
    assert result.exit_code == 0, result.output
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    static = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  geolocation={"latitude": ZC_POSITION[0], "longitude": ZC_POSITION[1], "accuracy": 20},
                                  permissions=["geolocation"], is_mobile=True, has_touch=True)
    requests: list[str] = []
    tiles: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        requests.append(url)
        host = urlsplit(url).hostname or ""
        if host.endswith("openstreetmap.org"):  # the basemap's tiles: the only thing from outside
            tiles.append(url)
            r.fulfill(status=200, body=PNG_1x1, content_type="image/png")
        elif url.startswith(static):
            r.continue_()
        else:
            r.abort("blockedbyclient")

    try:
        for _ in range(100):  # the static server is up within a few seconds
            try:
                urllib.request.urlopen(static + "/README.txt", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(static + "/", wait_until="load")
        page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
        county = in_county(station_features)
        assert page.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId).sort()") == drawn_ids(county)
        # open now is not known in the files: nearest first, a passing worker's kinds
        expected = [i for _, i in brute_force(county, *ZC_POSITION, passing_worker)[:5]]
        assert press_nearest_and_read(page, len(expected)) == expected
        snap(page, artifacts / "static-export-phone.png")
        assert tiles  # the basemap came from outside
        assert not [u for u in requests if u.startswith(live_server.url)]
        assert all(u.startswith(static) or u in tiles for u in requests), requests
        assert not errors, errors
    finally:
        context.close()
        server.terminate()
        server.wait(5)
