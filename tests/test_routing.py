"""Walking routes (AMap's walking route v3) against a local stub answering in AMap's response format: a
route (sent and answered in GCJ-02, shown in WGS-84), no route, a spent quota, a refused key, a timeout
-> the straight line, labelled with the reason. The cache, the pause after a fatal error, the site's
``/api/route`` and its per-client limit. Never the internet.
"""
from __future__ import annotations

import json
import re

import pytest
from geographiclib.geodesic import Geodesic

from conftest import STATION_FEATURES
from coord_reference import metres_apart, wgs_to_gcj
from stations.routing import Router, choose_router, make_router

pytest_plugins = ["geocoder_stub"]

PATH = "/v3/direction/walking"
ORIGIN = (116.5880, 35.4120)  # WGS-84 (lon, lat), in 任城区
STATION = next(f for f in STATION_FEATURES if f["properties"]["id"] == "JN-CP-0001")
DEST = tuple(STATION["geometry"]["coordinates"])
# the route's line as AMap would draw it: three WGS-84 points, sent in GCJ-02
LINE_WGS = [ORIGIN, (116.5890, 35.4110), DEST]


def polyline(points):
    return ";".join("{:.6f},{:.6f}".format(*wgs_to_gcj(*p)) for p in points)


def walking_answer(distance="1234", duration="987"):
    o, d = wgs_to_gcj(*ORIGIN), wgs_to_gcj(*DEST)
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "route": {
        "origin": f"{o[0]:.6f},{o[1]:.6f}", "destination": f"{d[0]:.6f},{d[1]:.6f}",
        "paths": [{"distance": distance, "duration": duration, "steps": [
            {"instruction": "向东南步行600米左转", "orientation": "东南", "road": "洸河路", "distance": "600",
             "duration": "480", "polyline": polyline(LINE_WGS[:2]), "action": "左转", "assistant_action": []},
            {"instruction": "步行634米到达目的地", "orientation": "南", "road": [], "distance": "634",
             "duration": "507", "polyline": polyline(LINE_WGS[1:]), "action": [], "assistant_action": "到达目的地"},
        ]}]}}


NO_ROUTE = {"status": "0", "info": "ROUTE_FAIL", "infocode": "20802"}
NO_PATHS = {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "route": {"paths": []}}
QUOTA = {"status": "0", "info": "USER_DAILY_QUERY_OVER_LIMIT", "infocode": "10044"}
BAD_KEY = {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
TOO_FAST = {"status": "0", "info": "CUQPS_HAS_EXCEEDED_THE_LIMIT", "infocode": "10019"}


def answer(stub, body, status=200, delay=0.0):
    stub.answer = lambda path, params: (status, body, delay) if path == PATH else (404, {"error": path}, 0)


def router(stub, tmp_path=None, timeout_s=2.0):
    return make_router("amap", "KEY", base_url=stub.url, timeout_s=timeout_s, min_delay_s=0,
                       cache_path=tmp_path / "routes.sqlite3" if tmp_path else None)


def page_config(html: str) -> dict:
    """The map page's config (its JSON data block)."""
    text = re.search(r'<script type="application/json" id="yz-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)["config"]


def straight_metres(a, b):
    return Geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0])["s12"]


def test_a_route_is_asked_in_gcj02_and_its_line_comes_back_in_wgs84(stub):
    answer(stub, walking_answer())
    walk = router(stub).walk(ORIGIN, DEST)
    assert (walk.source, walk.provider, walk.reason) == ("route", "amap", None)
    assert (walk.distance_m, walk.duration_s) == (1234.0, 987.0)
    path, params = stub.requests[-1]
    assert path == PATH and params["key"] == "KEY"
    sent_origin = tuple(float(v) for v in params["origin"].split(","))
    sent_dest = tuple(float(v) for v in params["destination"].split(","))
    rounded = (round(ORIGIN[0], 3), round(ORIGIN[1], 3))  # the origin is asked rounded to about 100 m
    assert metres_apart(sent_origin, wgs_to_gcj(*rounded)) < 0.2
    assert metres_apart(sent_dest, wgs_to_gcj(*DEST)) < 0.2
    assert metres_apart(sent_dest, DEST) > 100  # GCJ-02 is hundreds of metres off WGS-84 here
    assert len(walk.path) == 3
    for got, expected in zip(walk.path, LINE_WGS):
        assert metres_apart(got, expected) < 0.2  # converted back to WGS-84


@pytest.mark.parametrize(("body", "status", "reason"), [
    (NO_ROUTE, 200, "no_route"), (NO_PATHS, 200, "no_route"), (QUOTA, 200, "quota"), (BAD_KEY, 200, "bad_key"),
    (TOO_FAST, 200, "rate"), ({"error": "down"}, 502, "error"), ("<html>busy</html>", 200, "error"),
])
def test_without_a_route_the_answer_is_the_straight_line_with_the_reason(stub, body, status, reason):
    answer(stub, body, status)
    walk = router(stub).walk(ORIGIN, DEST)
    assert (walk.source, walk.reason) == ("straight_line", reason)
    assert walk.distance_m == pytest.approx(straight_metres(ORIGIN, DEST), abs=0.01)
    assert walk.duration_s == pytest.approx(walk.distance_m / 1.25)  # 4.5 km/h
    assert walk.path == ()


def test_a_timeout_is_the_straight_line(stub):
    answer(stub, walking_answer(), delay=1.5)
    walk = router(stub, timeout_s=0.5).walk(ORIGIN, DEST)
    assert (walk.source, walk.reason) == ("straight_line", "timeout")


def test_answers_are_cached_per_rounded_origin_and_station(stub, tmp_path):
    answer(stub, walking_answer())
    first = router(stub, tmp_path)
    assert first.walk(ORIGIN, DEST).source == "route" and first.asked == 1
    again = router(stub, tmp_path)  # a new process: the cache on disk
    nearby = (ORIGIN[0] + 0.0002, ORIGIN[1] - 0.0002)  # 20-30 m away: the same rounded origin
    walk = again.walk(nearby, DEST)
    assert walk.source == "route" and walk.distance_m == 1234.0 and len(walk.path) == 3
    assert (again.asked, again.cached, len(stub.requests)) == (0, 1, 1)
    answer(stub, NO_ROUTE)  # "no route" is kept too
    far = (ORIGIN[0] + 0.01, ORIGIN[1])
    assert again.walk(far, DEST).reason == "no_route"
    assert again.walk(far, DEST).reason == "no_route" and again.asked == 1


def test_errors_are_not_cached_and_a_refused_key_pauses_the_asking(stub, tmp_path):
    answer(stub, BAD_KEY)
    r = router(stub, tmp_path)
    assert r.walk(ORIGIN, DEST).reason == "bad_key"
    answer(stub, walking_answer())
    assert r.walk(ORIGIN, DEST).reason == "paused" and r.asked == 1  # asks nothing for a while
    fresh = router(stub, tmp_path)  # the error was not cached: another router asks
    assert fresh.walk(ORIGIN, DEST).source == "route"


def test_too_far_to_walk_is_not_asked(stub):
    answer(stub, walking_answer())
    r = router(stub)
    walk = r.walk(ORIGIN, (117.0, 35.1))
    assert (walk.source, walk.reason, r.asked) == ("straight_line", "too_far", 0)


def test_choosing_the_router():
    assert choose_router("auto", "KEY") == "amap" and choose_router("auto", "") == "none"
    assert choose_router("none", "KEY") == "none"
    assert make_router("none", "KEY") is None
    with pytest.raises(ValueError, match="key"):
        make_router("amap", "")
    assert isinstance(make_router("amap", "KEY"), Router)


# ---- the site: /api/route --------------------------------------------------------------------------------

@pytest.fixture
def routed_app(app_config, stub, tmp_path):
    from web import create_app

    return create_app({**app_config, "ROUTING": "auto", "AMAP_KEY": "KEY", "ROUTING_URL": stub.url,
                       "ROUTING_MIN_DELAY_S": 0, "ROUTING_TIMEOUT_S": 0.5,
                       "ROUTING_CACHE_PATH": str(tmp_path / "routes.sqlite3"), "LOOKUP_RATE_LIMIT": "3/minute"})


def route(client, *ids, origin=ORIGIN):
    response = client.get("/api/route", query_string={"lat": origin[1], "lon": origin[0], "station": ",".join(ids)})
    return response


def test_the_site_routes_the_first_results_and_keeps_the_key_on_the_server(routed_app, stub):
    answer(stub, walking_answer())
    client = routed_app.test_client()
    response = route(client, "JN-CP-0001", "JN-RS-0001")
    assert response.status_code == 200
    body = response.get_json()
    assert [r["station"] for r in body["routes"]] == ["JN-CP-0001", "JN-RS-0001"]
    assert body["routes"][0]["source"] == "route" and body["routes"][0]["distance_m"] == 1234.0
    assert "KEY" not in response.get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)
    assert page_config(page)["routeUrl"] == "/api/route" and "KEY" not in page


def test_the_site_falls_back_to_the_straight_line_labelled(routed_app, stub):
    answer(stub, QUOTA)
    body = route(routed_app.test_client(), "JN-CP-0001").get_json()
    assert body["routes"][0]["source"] == "straight_line" and body["routes"][0]["reason"] == "quota"
    assert body["routes"][0]["distance_m"] == pytest.approx(straight_metres(ORIGIN, DEST), abs=0.1)


def test_without_a_router_every_walk_is_the_straight_line_and_the_page_asks_for_none(client):
    body = route(client, "JN-CP-0001").get_json()
    assert body["routes"][0]["reason"] == "not_configured"
    assert page_config(client.get("/").get_data(as_text=True))["routeUrl"] is None


def test_past_the_clients_limit_routes_come_from_the_cache_or_are_the_straight_line(routed_app, stub):
    answer(stub, walking_answer())
    client = routed_app.test_client()
    for i in range(3):  # three new origins: three questions to AMap (LOOKUP_RATE_LIMIT 3/minute)
        assert route(client, "JN-CP-0001", origin=(ORIGIN[0] + 0.01 * i, ORIGIN[1])).get_json()["routes"][0][
            "source"] == "route"
    asked = len(stub.requests)
    limited = route(client, "JN-CP-0001", origin=(ORIGIN[0] + 0.05, ORIGIN[1])).get_json()["routes"][0]
    assert (limited["source"], limited["reason"]) == ("straight_line", "rate_limited")
    cached = route(client, "JN-CP-0001").get_json()["routes"][0]  # asked before: from the cache
    assert cached["source"] == "route" and len(stub.requests) == asked


@pytest.mark.parametrize("query,parameter", [
    ("lat=35.41&lon=116.59", "station"), ("lat=35.41&lon=116.59&station=a,b,c,d", "station"),
    ("lat=35.41&lon=116.59&station=<x>", "station"), ("lat=99&lon=116.59&station=JN-RS-0001", "lat"),
])
def test_bad_route_parameters_are_400_naming_them(client, query, parameter):
    response = client.get(f"/api/route?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == parameter


def test_routing_amap_without_a_key_stops_the_start(app_config):
    from web import create_app
    from web.settings import SettingError

    with pytest.raises(SettingError, match="AMAP_KEY"):
        create_app({**app_config, "ROUTING": "amap", "AMAP_KEY": ""})
