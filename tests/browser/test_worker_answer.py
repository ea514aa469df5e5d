"""The worker's answer in Chromium, at a fixed early-morning time: open stations first, the closed ones after
them with when they open; the place search with the position denied; no navigation to a station one cannot
go to; a large store's popups and "open now" filter. The geocoder is a local stub (AMap's format).
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from coord_reference import wgs_to_gcj

from .conftest import WAIT_MS, LiveServer, open_map, snap
from .test_map import brute_force, listed, passing_worker, press_find_nearest, props, wait_results

pytestmark = pytest.mark.browser
pytest_plugins = ["geocoder_stub"]

POSITION = (35.4120, 116.5880)  # (lat, lon) WGS-84, in 任城区
WED_0546 = datetime(2026, 11, 25, 5, 46, tzinfo=ZoneInfo("Asia/Shanghai"))
# Open at Wednesday 05:46 (read by hand): the 24/7 ones and the night station (22:00-06:00)
OPEN_AT_0546 = {"JN-RS-0001", "JN-RS-0004", "JN-RS-0005", "JN-RS-0010", "JN-CB-0001"}
# When the closed ones open (read by hand from their hours)
OPENS = {"JN-RS-0002": "08:00 开放", "JN-RS-0007": "07:00 开放", "JN-CP-0001": "09:00 开放"}
PLACE = (116.6010, 35.4040)  # WGS-84 (lon, lat) of "济宁火车站" as the stub geocoder answers


@pytest.fixture
def app_config(app_config, stub, tmp_path):
    lon, lat = wgs_to_gcj(*PLACE)
    found = {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
        "formatted_address": "山东省济宁市任城区济宁站", "province": "山东省", "city": "济宁市", "district": "任城区",
        "adcode": "370811", "location": f"{lon:.6f},{lat:.6f}", "level": "兴趣点"}]}
    empty = {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
    stub.answer = lambda path, params: (200, found if params.get("address") == "济宁火车站" else empty, 0)
    return {**app_config, "GEOCODER": "amap", "AMAP_KEY": "KEY", "GEOCODER_URL": stub.url,
            "GEOCODER_MIN_DELAY_S": 0, "GEOCODER_CACHE_PATH": str(tmp_path / "geocode.sqlite3")}


@pytest.fixture(autouse=True)
def early_morning(monkeypatch):
    import web.pages

    monkeypatch.setattr(web.pages, "now_shanghai", lambda: WED_0546)


def open_first(features, lat, lon, keep=passing_worker):
    """[(distance_m, id)]: open at 05:46 first, each part nearest first (independent geodesic brute force)."""
    return sorted(brute_force(features, lat, lon, keep), key=lambda r: (r[1] not in OPEN_AT_0546, r[0], r[1]))


def badges(page):
    """[(id, badge text, opening text)] of the result list, in order."""
    return page.eval_on_selector_all("#results li", """lis => lis.map(li => [li.dataset.id,
        (li.querySelector('.badge') || {}).textContent || '', (li.querySelector('.change') || {}).textContent || ''])""")


def test_at_0546_the_open_stations_come_first_and_the_closed_ones_say_when_they_open(
        live_server, make_page, station_features, artifacts):
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url)
    with page.expect_request(lambda r: "/api/nearest" in r.url) as asked:
        press_find_nearest(page)
    assert "rank=open_first" in asked.value.url and "serves=passing_worker" in asked.value.url
    wait_results(page, 5)
    expected = open_first(station_features, *POSITION)[:5]
    assert [i for i, _ in listed(page)] == [i for _, i in expected]
    shown = badges(page)
    n_open = sum(1 for _, i in expected if i in OPEN_AT_0546)
    assert 1 <= n_open < 5  # some open, some closed at this hour: both parts are shown
    assert [b for _, b, _ in shown[:n_open]] == ["营业中"] * n_open
    assert [b for _, b, _ in shown[n_open:]] == ["未营业"] * (5 - n_open)
    for sid, _, when in shown[n_open:]:
        if sid in OPENS:
            assert when == OPENS[sid], sid
    assert all("later" in page.get_attribute(f"#results li[data-id='{sid}']", "class") for sid, _, _ in shown[n_open:])
    kinds = {props(f)["id"]: props(f)["kind"] for f in station_features}
    assert "convalescence_base" not in {kinds[sid] for sid, _, _ in shown}
    assert page.inner_text("#results-note") == "营业中的优先；含户外劳动者驿站和提供饮水的工人文化宫；其他类型见“筛选”"
    snap(page, artifacts / "open-first-0546-phone.png")

    # Every kind is a filter away.
    page.click("#toggle-filters")
    page.check("#filters input[name=kind][value='']")
    page.wait_for_function("() => document.querySelector('#results-note').textContent.includes('所有类型')",
                           timeout=WAIT_MS)
    expected = open_first(station_features, *POSITION, keep=lambda f: True)[:5]
    page.wait_for_function(f"() => [...document.querySelectorAll('#results li')].map(li => li.dataset.id).join() "
                           f"=== {','.join(i for _, i in expected)!r}", timeout=WAIT_MS)
    watch.assert_clean()


def test_with_the_position_denied_a_place_search_lists_the_stations_nearest_to_it(
        live_server, make_page, station_features, stub, artifacts):
    page, watch = make_page(geolocation=POSITION, grant=False)
    open_map(page, live_server.url)
    press_find_nearest(page)
    page.locator("#status").wait_for(state="visible", timeout=WAIT_MS)
    assert "无法获取您的位置" in page.inner_text("#status")

    page.fill("#q", "济宁火车站")
    with page.expect_response(lambda r: "/api/places" in r.url, timeout=WAIT_MS):
        page.press("#q", "Enter")
    page.wait_for_function("() => document.querySelector('#results-title').textContent.includes('济宁火车站')",
                           timeout=WAIT_MS)
    assert page.inner_text("#results-title") == "离“济宁火车站”最近的驿站"
    wait_results(page, 5)
    expected = open_first(station_features, PLACE[1], PLACE[0])[:5]
    assert [i for i, _ in listed(page)] == [i for _, i in expected]
    pos = page.evaluate("() => yizhan.position()")
    assert pos["lat"] == pytest.approx(PLACE[1], abs=1e-5) and pos["lon"] == pytest.approx(PLACE[0], abs=1e-5)
    assert [params.get("address") for _, params in stub.requests] == ["济宁火车站"]  # asked by the server
    assert not [u for u in watch.requests if "KEY" in u]  # the key never reaches the browser
    snap(page, artifacts / "place-search-phone.png")

    # Nothing by that name, nowhere: it says so.
    page.fill("#q", "火星基地")
    page.press("#q", "Enter")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('没有找到驿站或地点')",
                           timeout=WAIT_MS)
    assert "没有找到驿站或地点“火星基地”" in page.inner_text("#status")
    watch.assert_clean()


def test_a_station_that_cannot_be_used_offers_no_navigation_in_its_popup(live_server, make_page):
    page, watch = make_page()
    open_map(page, live_server.url)
    page.fill("#q", "运河驿站")  # JN-RS-0003, temporarily closed
    wait_results(page, 1)
    page.locator("#results li[data-id='JN-RS-0003'] button").click()
    popup = page.wait_for_selector(".leaflet-popup .yz-popup", timeout=WAIT_MS)
    assert popup.query_selector(".btn-nav.amap") is None
    assert "暂停开放：现在不能使用" in popup.inner_text()
    page.fill("#q", "古槐路驿站")  # an open one keeps its navigation
    wait_results(page, 1)
    page.locator("#results li[data-id='JN-RS-0001'] button").click()
    page.wait_for_selector(".leaflet-popup .yz-popup .btn-nav.amap", timeout=WAIT_MS)
    watch.assert_clean()


def test_a_large_stores_popups_say_the_hours_and_open_now_and_the_filter_filters_the_markers(
        app_config, make_page, station_features, artifacts):
    from web import create_app

    server = LiveServer(create_app({**app_config, "MAP_INLINE_MAX": 5}))
    try:
        page, watch = make_page()
        open_map(page, server.url)
        with page.expect_response(lambda r: "/api/map/markers" in r.url, timeout=WAIT_MS):
            page.evaluate("() => yizhan.map.setView([35.4125, 116.5885], 13, {animate: false})")
        page.wait_for_function("() => yizhan.cluster.getLayers().length > 0", timeout=WAIT_MS)
        loaded = sorted(page.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId)"))
        assert {"JN-RS-0001", "JN-CP-0001"} <= set(loaded)

        page.evaluate("() => yizhan.map.setView([35.4100, 116.5900], 16, {animate: false})")
        page.evaluate("() => yizhan.markers['JN-CP-0001'].openPopup()")
        popup = page.wait_for_selector(".leaflet-popup .yz-popup", timeout=WAIT_MS)
        assert "周二至周日 09:00-17:00" in popup.inner_text()  # the hours in words, as inline
        assert popup.query_selector(".badge.closed").inner_text() == "未营业"  # at 05:46
        page.evaluate("() => yizhan.map.closePopup()")

        page.evaluate("() => yizhan.map.setView([35.4125, 116.5885], 13, {animate: false})")
        page.click("#toggle-filters")
        page.check("#filters input[name=open_now]")
        expected = sorted(set(loaded) & OPEN_AT_0546)
        page.wait_for_function(f"() => yizhan.cluster.getLayers().length === {len(expected)}", timeout=WAIT_MS)
        assert sorted(page.evaluate("() => yizhan.cluster.getLayers().map(m => m.yzId)")) == expected
        snap(page, artifacts / "remote-open-now-phone.png")
        watch.assert_clean()
    finally:
        server.stop()


# ---- the page's words for when a station opens, at another hour ------------------------------------------

FRI_1930 = datetime(2026, 11, 27, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
# Open on Friday 19:30 (read by hand): the 24/7 ones. JN-CP-0001 (Tu-Su 09:00-17:00) opens tomorrow, Saturday;
# JN-RS-0002 (Mo-Fr 08:00-18:00) on Monday; JN-RS-0004 (22:00-06:00) tonight.
OPEN_AT_FRI_1930 = {"JN-RS-0001", "JN-RS-0005", "JN-RS-0010", "JN-CB-0001"}
OPENS_FRI_1930 = {"zh": {"JN-CP-0001": "明天 09:00 开放", "JN-RS-0002": "周一 08:00 开放", "JN-RS-0004": "22:00 开放"},
                  "en": {"JN-CP-0001": "opens tomorrow 09:00", "JN-RS-0002": "opens Mon 08:00",
                         "JN-RS-0004": "opens 22:00"}}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_on_a_friday_evening_the_closed_stations_say_tomorrow_or_the_weekday_they_open(
        live_server, make_page, station_features, monkeypatch, lang):
    import web.pages

    monkeypatch.setattr(web.pages, "now_shanghai", lambda: FRI_1930)
    page, watch = make_page(geolocation=POSITION)
    open_map(page, live_server.url, f"?lang={lang}")
    page.click("#find-nearest")
    wait_results(page, 5)
    expected = sorted(brute_force(station_features, *POSITION, passing_worker),
                      key=lambda r: (r[1] not in OPEN_AT_FRI_1930, r[0], r[1]))[:5]
    shown = badges(page)
    assert [sid for sid, _, _ in shown] == [i for _, i in expected]
    closed = [(sid, when) for sid, _, when in shown if sid not in OPEN_AT_FRI_1930]
    assert {"JN-CP-0001", "JN-RS-0002"} <= {sid for sid, _ in closed}  # both kinds of wording are on the list
    for sid, when in closed:
        assert when == OPENS_FRI_1930[lang][sid], sid
    watch.assert_clean()


# ---- the walk: routed where the server has a router, else the straight line, labelled ---------------------

WALKING = "/v3/direction/walking"  # AMap's walking route v3


def half_up(x: float) -> int:
    return int(x + 0.5)


def distance_words(m: float) -> str:
    """How the page writes a distance in Chinese (metres to the ten, then kilometres to a tenth, halves up)."""
    return f"{half_up(m / 10) * 10} 米" if half_up(m / 10) * 10 < 1000 else f"{half_up(m / 100) / 10:.1f} 公里"


def straight_words(m: float) -> str:
    """The page's straight-line label: "直线 1.2 公里 · 步行约 16 分钟" (4.5 km/h = 75 m a minute, rounded up; from
    an hour on in hours and minutes; beyond 10 km no walking time)."""
    minutes = max(1, math.ceil(m / 75))
    walk = (f"步行约 {minutes} 分钟" if minutes < 60 else
            f"步行约 {minutes // 60} 小时" + (f" {minutes % 60} 分钟" if minutes % 60 else ""))
    return f"直线 {distance_words(m)}" + (f" · {walk}" if m <= 10_000 else "")


def routed_answers(station_features):
    """A stub of AMap's walking route: for each station (found by its GCJ-02 destination) a route 1.3 times the
    straight line plus 7 m, walked at 1.2 m/s; its line from the origin to the station, in GCJ-02."""
    gcj = {props(f)["id"]: wgs_to_gcj(*f["geometry"]["coordinates"][:2]) for f in station_features}
    routes = {}

    def answer(path, params):
        if path != WALKING:
            return 404, {"error": path}, 0
        dlon, dlat = (float(v) for v in params["destination"].split(","))
        sid = next(i for i, (lon, lat) in gcj.items() if abs(lon - dlon) < 2e-6 and abs(lat - dlat) < 2e-6)
        feature = next(f for f in station_features if props(f)["id"] == sid)
        lon, lat = feature["geometry"]["coordinates"][:2]
        straight = brute_force([feature], POSITION[0], POSITION[1])[0][0]
        metres = int(straight * 1.3) + 7
        seconds = half_up(metres / 1.2)
        routes[sid] = (metres, seconds)
        return 200, {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "route": {
            "origin": params["origin"], "destination": params["destination"], "paths": [{
                "distance": str(metres), "duration": str(seconds), "steps": [{
                    "instruction": "步行到达目的地", "road": [], "distance": str(metres), "duration": str(seconds),
                    "polyline": f"{params['origin']};{params['destination']}"}]}]}}, 0
    return answer, routes


def routed_server(app_config, tmp_path, stub):
    from web import create_app

    return LiveServer(create_app({**app_config, "ROUTING": "amap", "ROUTING_URL": stub.url, "ROUTING_MIN_DELAY_S": 0,
                                  "ROUTING_CACHE_PATH": str(tmp_path / "routes.sqlite3")}))


def distance_lines(page):
    """{id: the result's distance line} of the result list."""
    return dict(page.eval_on_selector_all("#results li", """lis => lis.map(li => [li.dataset.id,
        li.querySelector('.distance').textContent])"""))


def test_the_first_results_show_the_routed_walk_and_the_rest_the_straight_line_so_labelled(
        app_config, tmp_path, stub, make_page, station_features, artifacts):
    stub.answer, routes = routed_answers(station_features)
    server = routed_server(app_config, tmp_path, stub)
    try:
        page, watch = make_page(geolocation=POSITION)
        open_map(page, server.url)
        with page.expect_response(lambda r: "/api/route" in r.url, timeout=WAIT_MS):
            press_find_nearest(page)
        wait_results(page, 5)
        listed_ids = [i for _, i in open_first(station_features, *POSITION)[:5]]
        straight = dict((i, d) for d, i in brute_force(station_features, *POSITION))
        # the first three are asked for, except one more than 10 km away (not a walk): the straight line
        routed = [sid for sid in listed_ids[:3] if straight[sid] <= 10_000]
        assert len(routed) == 2 and straight[listed_ids[2]] > 10_000
        page.wait_for_function(f"() => document.querySelectorAll('#results .distance.routed').length === {len(routed)}",
                               timeout=WAIT_MS)
        assert sorted(routes) == sorted(routed)  # asked by the server, not by the browser
        lines = distance_lines(page)
        for sid in routed:
            metres, seconds = routes[sid]
            assert lines[sid] == f"步行路线 {distance_words(metres)} · 约 {max(1, half_up(seconds / 60))} 分钟", sid
        for sid in set(listed_ids) - set(routed):
            assert lines[sid] == straight_words(straight[sid])
        assert all("/v3/direction" not in u and "KEY" not in u for u in watch.requests)

        # The chosen result's route is drawn; one without a route draws none.
        page.locator(f"#results li[data-id='{listed_ids[0]}'] button").click()
        page.wait_for_selector("path.yz-route", state="attached", timeout=WAIT_MS)
        snap(page, artifacts / "routed-walk-phone.png")
        page.locator(f"#results li[data-id='{listed_ids[3]}'] button").click()
        page.wait_for_function("() => document.querySelectorAll('path.yz-route').length === 0", timeout=WAIT_MS)
        watch.assert_clean()
    finally:
        server.stop()


def test_when_the_router_fails_every_result_keeps_the_straight_line_labelled(
        app_config, tmp_path, stub, make_page, station_features):
    stub.answer = lambda path, params: (200, {"status": "0", "info": "USER_DAILY_QUERY_OVER_LIMIT",
                                              "infocode": "10044"}, 0)
    server = routed_server(app_config, tmp_path, stub)
    try:
        page, watch = make_page(geolocation=POSITION)
        open_map(page, server.url)
        with page.expect_response(lambda r: "/api/route" in r.url, timeout=WAIT_MS) as asked:
            press_find_nearest(page)
        walks = asked.value.json()["routes"]
        assert [w["source"] for w in walks] == ["straight_line"] * 3
        assert [w["reason"] for w in walks][:2] == ["quota", "paused"]  # one question, then no more asking
        wait_results(page, 5)
        straight = dict((i, d) for d, i in brute_force(station_features, *POSITION))
        lines = distance_lines(page)
        assert lines == {sid: straight_words(straight[sid])
                         for sid in lines}
        assert page.locator("#results .distance.routed").count() == 0
        watch.assert_clean()
    finally:
        server.stop()


def test_the_place_searched_for_is_shown_as_text_in_its_marker_tooltip(live_server, make_page, stub):
    hostile = '济宁火车站<img src="x" onerror="window.yzHacked = 1">'
    answer = stub.answer
    stub.answer = lambda path, params: answer(path, {**params, "address": "济宁火车站"}
                                              if params.get("address") == hostile else params)
    page, watch = make_page(geolocation=POSITION, grant=False)
    open_map(page, live_server.url)
    page.fill("#q", hostile)
    page.press("#q", "Enter")
    page.wait_for_function("() => document.querySelector('#results-title').textContent.includes('济宁火车站')",
                           timeout=WAIT_MS)
    assert page.inner_text("#results-title") == f"离“{hostile}”最近的驿站"
    page.evaluate("""() => yizhan.map.eachLayer(layer => {
        const place = /yz-place/.test(layer.options.className || "");
        if (place && layer.getTooltip && layer.getTooltip()) layer.openTooltip();
    })""")
    tooltip = page.wait_for_selector(".leaflet-tooltip", timeout=WAIT_MS)
    assert tooltip.inner_text().endswith(hostile)  # the words as typed, markup and all
    assert tooltip.query_selector("img") is None and page.evaluate("() => window.yzHacked") is None
    watch.assert_clean()
