"""The installable map offline, in Chromium: the service worker takes over the page, the network is cut
(Playwright's offline mode), the page reloads from the worker's copy and "find the nearest" answers what the
server answered for the same position and moment; staff pages are never served from the cache; back online
the page asks the server again. On a 390 px phone. And the browser's offline ranking against the server's
/api/nearest on the bundled data, position by position, moment by moment.
"""
from __future__ import annotations

import json
import re
import time as clock
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from geographiclib.geodesic import Geodesic

from .conftest import WAIT_MS, LiveServer, make_bundled_app, open_map, snap
from .test_map import listed, press_find_nearest, wait_results

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
POSITION = (35.4120, 116.5880)  # (lat, lon) WGS-84, in 任城区
WED_0546 = datetime(2026, 11, 25, 5, 46, tzinfo=SHANGHAI)  # some stations open, some not (test_worker_answer)
PHONE_390 = {"width": 390, "height": 844}
DESKTOP_1366 = {"width": 1366, "height": 768}


@pytest.fixture(autouse=True)
def early_morning(monkeypatch):
    import web.pages

    monkeypatch.setattr(web.pages, "now_shanghai", lambda: WED_0546)


def server_nearest(base_url: str, lat: float, lon: float, **params) -> dict:
    """/api/nearest as the map asks it (open first, the passing worker's kinds), from the server."""
    query = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "k": 5, "rank": "open_first", "serves": "passing_worker",
             **params}
    with urllib.request.urlopen(f"{base_url}/api/nearest?{urlencode(query)}", timeout=10) as response:
        return json.load(response)


def wait_controlled(page) -> None:
    """Until the service worker controls the page and its cache holds the map and the offline data."""
    page.wait_for_function("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)",
                           timeout=WAIT_MS)
    deadline = clock.monotonic() + WAIT_MS / 1000
    while True:
        kept = page.evaluate("""async () => {
            const name = (await caches.keys()).find(n => n.startsWith('yizhan-'));
            if (!name) return false;
            const cache = await caches.open(name);
            return !!(await cache.match('/')) && !!(await cache.match('/offline/stations.json'));
        }""")
        if kept:
            return
        assert clock.monotonic() < deadline, "the service worker did not keep the map and its data"
        page.wait_for_timeout(100)


def shown(page):
    """[(id, distance text, badge, opening text)] of the result list, in order."""
    return page.eval_on_selector_all("#results li", """lis => lis.map(li => [li.dataset.id,
        (li.querySelector('.distance') || {}).textContent || '', (li.querySelector('.badge') || {}).textContent || '',
        (li.querySelector('.change') || {}).textContent || ''])""")


def cached_urls(page) -> list[str]:
    return page.evaluate("""async () => {
        const out = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) out.push(new URL(request.url).pathname);
        }
        return out;
    }""")


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP_1366], ids=["390px", "1366px"])
def test_offline_the_map_answers_as_the_server_did_and_staff_pages_are_not_served(
        live_server, make_page, artifacts, viewport):
    page, watch = make_page(geolocation=POSITION, viewport=viewport)
    page.clock.set_fixed_time(WED_0546)  # the page's clock is the server's (early_morning)
    before = datetime.now(SHANGHAI)
    open_map(page, live_server.url)
    wait_controlled(page)
    expected = server_nearest(live_server.url, *POSITION)["results"]
    assert len(expected) == 5 and {r["open_now"] for r in expected} == {True, False}  # both parts of the answer

    press_find_nearest(page)  # online: the server's answer, as the page shows it
    wait_results(page, 5)
    online = shown(page)
    assert [row[0] for row in online] == [r["id"] for r in expected]
    assert page.is_hidden("#offline-note")

    page.context.set_offline(True)
    page.reload(wait_until="load")  # from the worker's copy: there is no network
    page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
    page.wait_for_function("() => /数据更新于/.test(document.getElementById('offline-note').textContent)",
                           timeout=WAIT_MS)
    note = page.inner_text("#offline-note")
    m = re.fullmatch(r"离线：数据更新于 (\d+)月(\d+)日 (\d\d):(\d\d)", note)
    assert m, note
    fetched = datetime(before.year, int(m[1]), int(m[2]), int(m[3]), int(m[4]), tzinfo=SHANGHAI)
    assert before - timedelta(minutes=1) <= fetched <= datetime.now(SHANGHAI), note  # when the worker got them

    press_find_nearest(page)  # the browser knows it is offline: the answer is the page's own
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('离线结果')",
                           timeout=WAIT_MS)
    wait_results(page, 5)
    offline = shown(page)
    assert offline == online  # the same stations, order, distances, badges and opening times
    for (sid, distance_m), hit in zip(listed(page), expected):
        assert sid == hit["id"] and abs(distance_m - hit["distance_m"]) <= 0.051  # the server rounds to 0.1 m
    # the screen's width: nothing wider than the screen, the note and the first answer in sight
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    box = page.locator("#offline-note").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    first = page.locator("#results li").first.bounding_box()
    assert first["y"] >= 0 and first["y"] + first["height"] <= viewport["height"]
    snap(page, artifacts / f"offline-{viewport['width']}.png")

    # staff pages and the API were never kept, and are not served from any cache offline
    paths = cached_urls(page)
    assert "/" in paths and "/offline/stations.json" in paths
    assert not [p for p in paths if p.startswith(("/manage", "/login", "/logout", "/api"))], paths
    answered = page.evaluate("""async (paths) => Promise.all(paths.map(p =>
        fetch(p, {credentials: 'same-origin'}).then(r => p + ' ' + r.status, () => null)))""",
                             ["/manage", "/manage/stations", "/login", "/logout", "/api/health"])
    assert answered == [None] * 5  # no copy of any: the worker lets them fail with the network

    # back online: the note goes, the page fetches fresh data and asks the server again
    page.context.set_offline(False)
    with page.expect_request(lambda r: "/api/nearest" in r.url, timeout=WAIT_MS):
        page.evaluate("window.dispatchEvent(new Event('online'))")  # Chromium fires it too: once more is harmless
    page.wait_for_function("() => document.getElementById('offline-note').hidden", timeout=WAIT_MS)
    page.wait_for_function("() => document.getElementById('status').textContent === ''", timeout=WAIT_MS)
    assert shown(page) == online
    watch.console_errors[:] = [e for e in watch.console_errors if "ERR_INTERNET_DISCONNECTED" not in e
                               and "Failed to load resource" not in e and "Failed to fetch" not in e]
    watch.assert_clean()

    # and a staff page opened offline is the browser's own error, never a kept copy
    page.context.set_offline(True)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto(live_server.url + "/manage", wait_until="load")


def test_when_the_server_cannot_be_reached_the_kept_data_answer(live_server, make_page):
    """A signal but no way through (the browser thinks it is online): the same answer, from the kept data."""
    page, watch = make_page(geolocation=POSITION, viewport=PHONE_390)
    page.clock.set_fixed_time(WED_0546)
    open_map(page, live_server.url)
    wait_controlled(page)
    expected = [r["id"] for r in server_nearest(live_server.url, *POSITION)["results"]]
    page.route("**/api/nearest?*", lambda route: route.abort("connectionrefused"))
    press_find_nearest(page)
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('离线结果')",
                           timeout=WAIT_MS)
    assert [sid for sid, _ in listed(page)] == expected
    assert page.inner_text("#offline-note").startswith("离线：数据更新于 ")
    page.unroute("**/api/nearest?*")
    press_find_nearest(page)  # the server answers again: the note goes
    page.wait_for_function("() => document.getElementById('offline-note').hidden", timeout=WAIT_MS)
    assert [sid for sid, _ in listed(page)] == expected
    watch.console_errors[:] = [e for e in watch.console_errors if "ERR_CONNECTION_REFUSED" not in e]
    watch.assert_clean()


def test_a_staff_page_visited_online_is_not_kept(live_server, make_page):
    page, watch = make_page()
    open_map(page, live_server.url)
    wait_controlled(page)
    page.goto(live_server.url + "/login", wait_until="load")
    assert page.locator("form").count() >= 1
    page.goto(live_server.url + "/manage", wait_until="load")  # sends the visitor to sign in
    open_map(page, live_server.url)
    assert not [p for p in cached_urls(page) if p.startswith(("/manage", "/login"))]
    watch.assert_clean()


# ---- the offline ranking against the server, on the bundled data ---------------------------------------------

@pytest.fixture
def bundled_app(tmp_path):
    return make_bundled_app(tmp_path, GEOCODER="none", ROUTING="none")


# moments within the offline data's 14 days (from Wednesday 25 November): dawn, an opening minute and the
# second before it, a weekend evening, a closing minute, an evening of the next week
MOMENTS = [WED_0546, WED_0546.replace(hour=7, minute=59, second=59), WED_0546.replace(hour=8, minute=0),
           datetime(2026, 11, 28, 19, 59, tzinfo=SHANGHAI), datetime(2026, 11, 29, 17, 0, tzinfo=SHANGHAI),
           datetime(2026, 12, 8, 21, 0, 30, tzinfo=SHANGHAI)]
# the map's questions: its default, every kind, an amenity and 24 h, open now only, a kind
FILTERS = [({"serves": "passing_worker"}, {"serves": "passing_worker"}),
           ({}, {}),
           ({"amenity": "drinking_water", "open_24_7": "1"}, {"amenities": ["drinking_water"], "h24": True}),
           ({"serves": "passing_worker", "open_now": "1"}, {"serves": "passing_worker", "openNow": True}),
           ({"kind": "cultural_palace"}, {"kind": "cultural_palace"})]


def test_the_offline_ranking_is_the_servers_on_the_bundled_data(bundled_app, make_page):
    server = LiveServer(bundled_app)
    try:
        page, watch = make_page()
        open_map(page, server.url)
        features = json.loads(open(bundled_app.config["STATIONS_PATH"], encoding="utf-8").read())["features"]
        lons = [f["geometry"]["coordinates"][0] for f in features]
        lats = [f["geometry"]["coordinates"][1] for f in features]
        # a 5 x 4 grid over the stations, and beside three stations (a few metres off)
        points = [(min(lons) + (max(lons) - min(lons)) * i / 4, min(lats) + (max(lats) - min(lats)) * j / 3)
                  for i in range(5) for j in range(4)]
        points += [(lons[n] + 0.00003, lats[n] - 0.00002) for n in (0, len(lons) // 2, len(lons) - 1)]
        client = bundled_app.test_client()
        cases, expected = [], []
        for lon, lat in points:
            for at in MOMENTS:
                for params, options in FILTERS:
                    query = {"lat": repr(lat), "lon": repr(lon), "k": 5, "rank": "open_first",
                             "now": at.isoformat(), **params}
                    answer = client.get("/api/nearest?" + urlencode(query)).get_json()
                    expected.append([(r["id"], r["distance_m"], r["open_now"]) for r in answer["results"]])
                    cases.append({"lon": lon, "lat": lat, "t": at.timestamp() * 1000, "o": {"k": 5, **options}})
        got = page.evaluate("""async (cases) => {
            const data = await (await fetch('/offline/stations.json')).json();
            return cases.map(c => YizhanOffline.rank(data, c.lon, c.lat, c.t, c.o)
                .map(h => [h.id, h.distance_m, h.open_now]));
        }""", cases)
        assert len(got) == len(expected) == len(points) * len(MOMENTS) * len(FILTERS)
        assert sum(1 for e in expected if any(row[2] is False for row in e)) > 30  # closed ones do get ranked
        for case, mine, theirs in zip(cases, got, expected):
            assert [row[0] for row in mine] == [row[0] for row in theirs], case
            assert [row[2] for row in mine] == [row[2] for row in theirs], case
            for (_, d_mine, _), (_, d_server, _) in zip(mine, theirs):
                assert abs(d_mine - d_server) <= 0.0501, case  # the server rounds to 0.1 m

        # the distances themselves, to the millimetre of GeographicLib's, near and far
        pairs = [(lons[i % len(lons)], lats[i % len(lats)], lon + 0.7 * (i % 3), lat - 0.4 * (i % 2))
                 for i, (lon, lat) in enumerate(points)]
        mine = page.evaluate("ps => ps.map(p => YizhanOffline.distanceM(p[0], p[1], p[2], p[3]))", pairs)
        for (lon1, lat1, lon2, lat2), d in zip(pairs, mine):
            assert abs(d - Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]) < 0.001
        watch.assert_clean()
    finally:
        server.stop()
