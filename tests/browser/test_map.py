"""The map page in a real headless Chromium: markers, nearest, denied position, filters, escaping.

Expectations come from the fixture features and an independent brute-force geodesic search
(geographiclib), never from the code under test.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from geographiclib.geodesic import Geodesic

from .conftest import WAIT_MS, open_map, snap

pytestmark = pytest.mark.browser

GLYPHS = {"rest_station": "驿", "cultural_palace": "宫", "convalescence_base": "疗"}
POSITION = (35.4120, 116.5880)  # (lat, lon) WGS-84, in 任城区 between the fixture stations
# The pages' clock is set to a Wednesday noon (web.pages.now_shanghai): the map ranks the stations open
# then first. Open at that moment, by reading the fixture's hours by hand (JN-RS-0004 opens at 22:00).
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OPEN_AT_NOON = {"JN-RS-0001", "JN-RS-0002", "JN-RS-0005", "JN-RS-0007", "JN-RS-0010", "JN-CP-0001", "JN-CP-0002",
                "JN-CB-0001"}


@pytest.fixture(autouse=True)
def wednesday_noon(monkeypatch):
    import web.pages

    monkeypatch.setattr(web.pages, "now_shanghai", lambda: NOON)


def props(feature):
    return feature["properties"]


def lonlat(feature):
    return feature["geometry"]["coordinates"][:2]  # GeoJSON order is (lon, lat)


def brute_force(features, lat, lon, keep=lambda f: True):
    """[(distance_m, id)] of open stations passing ``keep``, nearest first (exact WGS-84 geodesic)."""
    out = []
    for f in features:
        p = props(f)
        if p["status"] != "open" or not keep(f):
            continue
        flon, flat = lonlat(f)
        out.append((Geodesic.WGS84.Inverse(lat, lon, flat, flon)["s12"], p["id"]))
    return sorted(out)


def passing_worker(f):
    """The map's default set: rest stations, and cultural palaces with drinking water."""
    p = props(f)
    return p["kind"] == "rest_station" or (p["kind"] == "cultural_palace" and "drinking_water" in p["amenities"])


def answer(features, lat, lon, keep=passing_worker, open_ids=OPEN_AT_NOON):
    """The map's default answer: [(distance_m, id)] of open stations passing ``keep``, those open at noon first,
    each part nearest first."""
    return sorted(brute_force(features, lat, lon, keep), key=lambda row: (row[1] not in open_ids, row[0], row[1]))


def listed(page):
    """(id, distance_m or None) of the result list, in order."""
    return page.eval_on_selector_all(
        "#results li button.result",
        "els => els.map(b => [b.dataset.id, b.dataset.distanceM ? Number(b.dataset.distanceM) : null])",
    )


def view(page, lat, lon, zoom):
    """Move the map once markercluster has finished any zoom animation, then let it settle.

    markercluster ignores a move that lands while its own animation runs (``_inZoomAnimation``),
    so a test that moves twice in quick succession could miss markers on a loaded machine.
    """
    idle = "() => !yizhan.cluster._inZoomAnimation"
    page.wait_for_function(idle, timeout=WAIT_MS)
    page.evaluate(f"() => yizhan.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    page.wait_for_function(idle, timeout=WAIT_MS)
    page.evaluate("() => yizhan.map.fire('moveend')")


def press_find_nearest(page):
    page.get_by_role("button", name=re.compile("找最近的驿站")).click()


def wait_results(page, at_least=1):
    page.wait_for_function(f"() => document.querySelectorAll('#results li').length >= {at_least}", timeout=WAIT_MS)


def distance_text(m: float) -> str:
    """How the page writes a distance (zh), computed here from the brute-force metres."""
    if m < 1000:
        return f"{int(round(m / 10.0) * 10)} 米"
    return f"{m / 1000:.1f} 公里"


# ---- tests -------------------------------------------------------------------------------------

def test_map_shows_one_marker_per_visible_station_with_kind_icons(live_server, make_page, station_features, artifacts):
    page, watch = make_page()
    open_map(page, live_server.url)
    visible = [props(f) for f in station_features if props(f)["status"] != "closed"]

    layers = page.evaluate("""() => yizhan.cluster.getLayers().map(m => ({
        id: m.yzId, cls: m.options.icon.options.className, title: m.options.title }))""")
    assert sorted(x["id"] for x in layers) == sorted(p["id"] for p in visible)
    by_id = {x["id"]: x for x in layers}
    for p in visible:
        classes = by_id[p["id"]]["cls"].split()
        assert "yz-pin" in classes and f"k-{p['kind']}" in classes and f"s-{p['status']}" in classes
    closed = [props(f)["id"] for f in station_features if props(f)["status"] == "closed"]
    assert closed and not set(closed) & set(by_id)

    # In the DOM: single pins plus the counts on cluster bubbles add up to every visible station.
    drawn = page.evaluate("""() => {
        const pins = document.querySelectorAll('.leaflet-marker-pane .yz-pin').length;
        const clustered = [...document.querySelectorAll('.leaflet-marker-pane .marker-cluster')]
            .reduce((n, el) => n + Number(el.textContent.trim()), 0);
        return pins + clustered; }""")
    assert drawn == len(visible)

    # Zoomed in on the city centre, each kind has its own glyph and planned sites are dashed.
    view(page, 35.4125, 116.5885, 16)
    page.wait_for_selector(".yz-pin.k-cultural_palace", timeout=WAIT_MS)
    assert page.inner_text(".yz-pin.k-cultural_palace") == GLYPHS["cultural_palace"]
    assert page.inner_text(".yz-pin.k-rest_station >> nth=0") == GLYPHS["rest_station"]
    view(page, 35.40, 116.85, 16)
    planned = page.wait_for_selector(".yz-pin.s-planned > span", timeout=WAIT_MS)  # the pin drawn in its target
    assert planned.evaluate("el => getComputedStyle(el).borderStyle") == "dashed"
    view(page, 35.52, 116.90, 16)
    assert page.inner_text(".yz-pin.k-convalescence_base") == GLYPHS["convalescence_base"]

    page.evaluate("() => yizhan.map.fitBounds(yizhan.cluster.getBounds(), {animate: false})")
    snap(page, artifacts / "map-overview-phone.png")
    watch.assert_clean()


def test_find_nearest_lists_the_geodesically_nearest_open_stations(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url)
    press_find_nearest(page)
    wait_results(page, 5)

    expected = answer(station_features, *POSITION)[:5]
    got = listed(page)
    assert [i for i, _ in got] == [i for _, i in expected]
    for (gid, gdist), (edist, _) in zip(got, expected):
        assert gdist == pytest.approx(edist, abs=0.5), gid
    first = page.locator("#results li").first
    text = first.inner_text()
    assert distance_text(expected[0][0]) in text
    assert re.search(r"步行约 \d+ 分钟", text)
    minutes = max(1, -(-expected[0][0] // 75))  # 4.5 km/h = 75 m/min, rounded up
    assert f"步行约 {int(minutes)} 分钟" in text
    snap(page, artifacts / "nearest-list-phone.png")

    # Tapping a result highlights it, opens its details and fits you and the station.
    second_id = got[1][0]
    page.locator(f"#results li[data-id='{second_id}'] button").click()
    assert page.evaluate("() => yizhan.highlighted()") == second_id
    popup = page.wait_for_selector(".leaflet-popup .yz-popup h3", timeout=WAIT_MS)
    name = next(props(f)["name"] for f in station_features if props(f)["id"] == second_id)
    assert popup.text_content() == name
    feature = next(f for f in station_features if props(f)["id"] == second_id)
    inside = page.evaluate("""([lat, lon, slat, slon]) => {
        const b = yizhan.map.getBounds();
        return [b.contains([lat, lon]), b.contains([slat, slon])]; }""",
                           [POSITION[0], POSITION[1], lonlat(feature)[1], lonlat(feature)[0]])
    assert inside == [True, True]
    assert page.locator(f"#results li[data-id='{second_id}']").get_attribute("class") == "selected"
    snap(page, artifacts / "nearest-selected-phone.png")
    watch.assert_clean()


def test_denied_position_says_so_and_a_tap_on_the_map_sets_it(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION, grant=False)
    open_map(page, live_server.url)
    press_find_nearest(page)
    status = page.locator("#status")
    status.wait_for(state="visible", timeout=WAIT_MS)
    assert "无法获取您的位置" in status.inner_text()
    assert "点按" in status.inner_text() and "搜索" in status.inner_text()
    assert page.get_attribute("#pick", "aria-pressed") == "true"
    snap(page, artifacts / "denied-phone.png")

    # Tap the map in 邹城, away from any marker.
    point = page.evaluate("() => { const p = yizhan.map.latLngToContainerPoint([35.20, 116.90]); return [p.x, p.y]; }")
    page.locator(".folium-map").click(position={"x": point[0], "y": point[1]})
    wait_results(page, 1)
    pos = page.evaluate("() => yizhan.position()")
    assert pos["lat"] == pytest.approx(35.20, abs=0.01) and pos["lon"] == pytest.approx(116.90, abs=0.01)
    expected = answer(station_features, pos["lat"], pos["lon"])[:5]
    got = listed(page)
    assert got[0][0] == expected[0][1]
    assert got[0][1] == pytest.approx(expected[0][0], abs=1.0)  # the page sends 6 decimals
    snap(page, artifacts / "tap-to-set-phone.png")
    watch.assert_clean()


def test_filters_change_the_nearest_list_and_the_map(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url)
    press_find_nearest(page)
    wait_results(page, 5)
    before = listed(page)

    page.click("#toggle-filters")
    page.check("#filters input[name=amenity][value=microwave]")
    page.wait_for_function("""() => [...document.querySelectorAll('#results li')].length > 0 &&
        [...document.querySelectorAll('#results li')].every(li => yizhan.stations[li.dataset.id].amenities.includes('microwave'))""",
                           timeout=WAIT_MS)
    expected = answer(station_features, *POSITION, keep=lambda f: passing_worker(f) and "microwave" in props(f)["amenities"])[:5]
    assert [i for i, _ in listed(page)] == [i for _, i in expected]
    assert listed(page) != before
    with_microwave = [props(f)["id"] for f in station_features
                      if props(f)["status"] != "closed" and "microwave" in props(f)["amenities"]]
    assert sorted(page.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId)")) == sorted(with_microwave)
    snap(page, artifacts / "filter-microwave-phone.png")

    page.uncheck("#filters input[name=amenity][value=microwave]")
    page.check("#filters input[name=kind][value=cultural_palace]")
    page.wait_for_function("""() => [...document.querySelectorAll('#results li')].length > 0 &&
        [...document.querySelectorAll('#results li')].every(li => yizhan.stations[li.dataset.id].kind === 'cultural_palace')""",
                           timeout=WAIT_MS)
    expected = answer(station_features, *POSITION, keep=lambda f: props(f)["kind"] == "cultural_palace")
    assert [i for i, _ in listed(page)] == [i for _, i in expected]

    # "24 h": only stations open around the clock (computed here from the fixture text).
    page.check("#filters input[name=kind][value='']")
    with page.expect_request(lambda r: "/api/nearest" in r.url and "open_24_7=1" in r.url) as h24_request:
        page.check("#filters input[name=h24]")
    assert "k=5&" in h24_request.value.url + "&"  # the server filters: no over-fetching
    expected = answer(station_features, *POSITION, keep=lambda f: props(f).get("opening_hours") == "24/7")[:5]
    page.wait_for_function(f"""() => JSON.stringify([...document.querySelectorAll('#results li')].map(li => li.dataset.id))
        === {json.dumps(json.dumps([i for _, i in expected], separators=(",", ":")))}""", timeout=WAIT_MS)

    # "Open now": the request says so, and every listed station is open by the page's own data.
    page.uncheck("#filters input[name=h24]")
    with page.expect_request(lambda r: "/api/nearest" in r.url and "open_now=1" in r.url):
        page.check("#filters input[name=open_now]")
    page.wait_for_timeout(300)
    assert page.evaluate("() => [...document.querySelectorAll('#results li')].every(li => yizhan.stations[li.dataset.id].open === true)")
    watch.assert_clean()


def test_a_station_name_with_html_shows_as_text(live_server, make_page, station_features, artifacts):
    xss = next(f for f in station_features if "<" in props(f)["name"])
    name = props(xss)["name"]
    page, watch = make_page()
    open_map(page, live_server.url)
    page.fill("#q", "onerror")
    wait_results(page, 1)
    item = page.locator(f"#results li[data-id='{props(xss)['id']}'] .name")
    assert item.text_content() == name
    page.locator(f"#results li[data-id='{props(xss)['id']}'] button").click()
    popup = page.wait_for_selector(".leaflet-popup .yz-popup h3", timeout=WAIT_MS)
    assert popup.text_content() == name
    page.evaluate("() => yizhan.map.setView(yizhan.markers['%s'].getLatLng(), 18, {animate: false})" % props(xss)["id"])
    assert page.locator(".leaflet-marker-pane [title='%s']" % name.replace("'", "\\'")).count() >= 1
    snap(page, artifacts / "xss-name-phone.png")

    for path in (f"/stations/{props(xss)['id']}", "/list", "/list?lat=35.41&lon=116.59"):
        page.goto(live_server.url + path)
        assert name in page.inner_text("main")
        if path.startswith("/stations"):
            assert page.title().startswith(name)
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    watch.assert_clean()  # no dialog fired anywhere


def test_search_by_county_or_address_when_there_is_no_position(live_server, make_page, station_features):
    page, watch = make_page()
    open_map(page, live_server.url)
    page.fill("#q", "邹城")
    wait_results(page, 1)
    ids = [i for i, _ in listed(page)]
    zoucheng = {props(f)["id"] for f in station_features
                if props(f)["status"] != "closed" and ("邹城" in props(f)["name"] or props(f).get("county_code") == "370883")}
    assert set(ids) == zoucheng
    page.fill("#q", "火车站驿站地址")  # an address
    page.wait_for_function("() => document.querySelectorAll('#results li').length === 1", timeout=WAIT_MS)
    assert listed(page)[0][0] == "JN-RS-0005"
    page.fill("#q", "不存在的地方")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('没有找到')", timeout=WAIT_MS)
    watch.assert_clean()


def test_english_switch_is_remembered(live_server, make_page, artifacts):
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url)
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.click("a.lang-switch")
    page.wait_for_selector("html[lang='en'][data-map-ready='1']", state="attached", timeout=WAIT_MS)
    assert "Find the nearest station" in page.inner_text("#find-nearest")
    page.click("#find-nearest")
    wait_results(page, 5)
    assert re.search(r"straight line [\d.]+ (m|km) · about \d+ min walk", page.inner_text("#results li >> nth=0"))
    snap(page, artifacts / "map-english-phone.png")
    open_map(page, live_server.url)  # no ?lang= now: the cookie remembers
    assert page.get_attribute("html", "lang") == "en"
    page.goto(live_server.url + "/list")
    assert page.get_attribute("html", "lang") == "en"
    watch.assert_clean()


def test_wide_screen_layout_puts_the_panel_beside_the_map(live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION, viewport={"width": 1280, "height": 800})
    open_map(page, live_server.url)
    press_find_nearest(page)
    wait_results(page, 5)
    panel = page.locator("#panel").bounding_box()
    mapbox = page.locator(".folium-map").bounding_box()
    assert panel["x"] + panel["width"] <= mapbox["x"] + 1 and mapbox["width"] > 800
    page.locator("#results li >> nth=0").locator("button").click()
    page.wait_for_selector(".leaflet-popup .yz-popup", timeout=WAIT_MS)
    snap(page, artifacts / "map-desktop.png")
    watch.assert_clean()
