"""Open first: at 05:46 the first answers are stations open then, nearest first; the closed ones follow with
when they open. The kinds that serve a passing worker by default. Checked against a brute force written
here (geographiclib distances, the fixture's hours read by hand), never through the code under test.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from geographiclib.geodesic import Geodesic

from conftest import STATION_FEATURES
from stations.hours import change_text, state_at
from stations.model import Station
from stations.nearest import NearestIndex

SHANGHAI_0546 = "2026-11-25T05:46"  # a Wednesday, before the day stations open
WED_0546 = datetime(2026, 11, 25, 5, 46)
POSITION = (116.5880, 35.4120)  # (lon, lat) in 任城区, among the fixture stations

# Open at Wednesday 05:46, by reading the fixture's hours by hand: 24/7 ones (status open) and the night
# station (22:00-06:00). JN-RS-0003 is 24/7 but temporarily closed; JN-RS-0009 24/7 but closed.
OPEN_AT_0546 = {"JN-RS-0001", "JN-RS-0004", "JN-RS-0005", "JN-RS-0010", "JN-CB-0001"}
# ... and when each closed one opens next (hand-read): Mo-Fr 08:00; Mo-Sa 07:00; Tu-Su 09:00; Mo-Su 09:00.
OPENS_AT = {"JN-RS-0002": "2026-11-25T08:00", "JN-RS-0007": "2026-11-25T07:00",
            "JN-CP-0001": "2026-11-25T09:00", "JN-CP-0002": "2026-11-25T09:00"}
# Rest stations, and the palaces with drinking water (JN-CP-0001 has it, JN-CP-0002 not).
PASSING_WORKER = {f["properties"]["id"] for f in STATION_FEATURES
                  if f["properties"]["kind"] == "rest_station"
                  or (f["properties"]["kind"] == "cultural_palace"
                      and "drinking_water" in f["properties"].get("amenities", []))}


def test_the_hand_read_sets_are_what_we_think():
    assert "JN-CP-0001" in PASSING_WORKER and "JN-CP-0002" not in PASSING_WORKER
    assert "JN-CB-0001" not in PASSING_WORKER
    assert len(PASSING_WORKER) == 11


def brute_open_first(lon, lat, k=5, keep=lambda p: True, statuses=("open",)):
    """[(id, open)] ranked: open at 05:46 first by distance, then the others by distance (ties by id)."""
    rows = []
    for f in STATION_FEATURES:
        p = f["properties"]
        if p["status"] not in statuses or not keep(p):
            continue
        slon, slat = f["geometry"]["coordinates"]
        d = Geodesic.WGS84.Inverse(lat, lon, slat, slon)["s12"]
        is_open = p["id"] in OPEN_AT_0546 and p["status"] == "open"
        rows.append((not is_open, d, p["id"]))
    rows.sort()
    return [(sid, not closed) for closed, _, sid in rows[:k]]


@pytest.fixture
def index():
    return NearestIndex([Station.from_feature(f) for f in STATION_FEATURES])


@pytest.mark.parametrize("lon,lat", [POSITION, (116.975, 35.11), (116.80, 35.35), (116.0, 36.0)])
@pytest.mark.parametrize("k", [1, 3, 5, 13])
def test_open_first_puts_the_open_stations_first_then_the_rest_by_distance(index, lon, lat, k):
    hits = index.query_open_first(lon, lat, WED_0546, k=k)
    assert [(h.station.id, h.station.id in OPEN_AT_0546) for h in hits] == brute_open_first(lon, lat, k)


@pytest.mark.parametrize("lon,lat", [POSITION, (116.975, 35.11)])
def test_open_first_with_the_passing_worker_set_and_other_statuses(index, lon, lat):
    hits = index.query_open_first(lon, lat, WED_0546, k=8, serves="passing_worker")
    assert [(h.station.id, h.station.id in OPEN_AT_0546) for h in hits] == \
        brute_open_first(lon, lat, 8, keep=lambda p: p["id"] in PASSING_WORKER)
    every = ("open", "temporarily_closed", "planned")
    hits = index.query_open_first(lon, lat, WED_0546, k=20, statuses=every)
    assert [h.station.id for h in hits] == [sid for sid, _ in brute_open_first(lon, lat, 20, statuses=every)]
    # a temporarily closed 24/7 station is not open: it comes with the closed ones
    assert "JN-RS-0003" in {h.station.id for h in hits[len(OPEN_AT_0546):]}


def test_serves_filters_the_plain_query_too(index):
    hits = index.query(*POSITION, k=50, serves="passing_worker", statuses=None)
    assert {h.station.id for h in hits} == PASSING_WORKER
    with pytest.raises(ValueError, match="serves"):
        index.query(*POSITION, serves="tourists")


@pytest.mark.parametrize(("hours", "expected"), [
    ("Mo-Fr 08:00-18:00", "08:00 开放"),
    ("Mo-Sa 07:00-19:00; Su off", "07:00 开放"),
    ("Mo 07:00-18:00", "周一 07:00 开放"),             # next Monday, 2026-11-30
    ("Th 07:00-18:00", "明天 07:00 开放"),
    ("Dec 07:00-18:00", "周二 07:00 开放"),          # within the week: the weekday (2026-12-01)
    ("Jan 07:00-18:00", "1月1日 07:00 开放"),        # a week away or more: the date
    ("Mo-Su 05:00-18:00", "18:00 停止营业"),           # open now: when it closes today
    ("24/7", ""),
])
def test_when_a_station_opens_in_words(hours, expected):
    open_now, change = state_at(hours, WED_0546)
    assert change_text(open_now, change, WED_0546, "zh") == expected


def test_when_a_station_opens_in_english():
    assert change_text(*state_at("Th 07:00-18:00", WED_0546), WED_0546, "en") == "opens tomorrow 07:00"
    assert change_text(*state_at("Mo 07:00-18:00", WED_0546), WED_0546, "en") == "opens Mon 07:00"


def test_a_station_that_is_not_open_has_no_opening_time():
    assert state_at("24/7", WED_0546, "temporarily_closed") == (False, None)
    assert state_at(None, WED_0546) == (None, None)


# ---- the API -------------------------------------------------------------------------------------------

def nearest(client, **params):
    query = {"lat": POSITION[1], "lon": POSITION[0], **params}
    response = client.get("/api/nearest", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_at_0546_the_first_answers_are_open_and_the_closed_ones_follow_with_their_opening_time(client):
    body = nearest(client, rank="open_first", serves="passing_worker", now=SHANGHAI_0546, k=8)
    expected = brute_open_first(*POSITION, 8, keep=lambda p: p["id"] in PASSING_WORKER)
    assert [(r["id"], r["open_now"]) for r in body["results"]] == expected
    first_closed = [r["open_now"] for r in body["results"]].index(False)
    assert first_closed >= 1 and all(r["open_now"] for r in body["results"][:first_closed])
    assert all(r["open_now"] is False for r in body["results"][first_closed:])
    for r in body["results"]:
        if r["id"] in OPENS_AT:
            assert r["next_change"].startswith(OPENS_AT[r["id"]]) and r["next_change"].endswith("+08:00")
    assert body["now"].startswith("2026-11-25T05:46")
    assert {r["kind"] for r in body["results"]} <= {"rest_station", "cultural_palace"}


def test_the_api_stays_by_distance_and_unchanged_without_the_new_parameters(client):
    body = nearest(client, k=3, now=SHANGHAI_0546)
    assert list(body) == ["query", "results"]
    assert set(body["results"][0]) == {"id", "name", "kind", "lon", "lat", "distance_m", "county_code", "status",
                                       "amenities", "opening_hours"}
    distances = [r["distance_m"] for r in body["results"]]
    assert distances == sorted(distances)


def test_include_adds_the_open_state_and_the_hours_in_words(client):
    body = nearest(client, k=2, include="open_state,hours_text", lang="en", now=SHANGHAI_0546)
    assert all({"open_now", "next_change", "hours_text"} <= set(r) for r in body["results"])
    assert body["results"][0]["id"] == "JN-CP-0001" and body["results"][0]["hours_text"] == "Tue-Sun 09:00-17:00"


def test_open_now_with_rank_open_first_keeps_only_open_ones(client):
    body = nearest(client, rank="open_first", open_now=1, now=SHANGHAI_0546, k=50)
    assert {r["id"] for r in body["results"]} == OPEN_AT_0546


@pytest.mark.parametrize("query,parameter", [("rank=closest", "rank"), ("serves=everyone", "serves"),
                                             ("include=photos", "include"), ("now=yesterday", "now")])
def test_bad_new_parameters_are_400_naming_them(client, query, parameter):
    response = client.get(f"/api/nearest?lat=35.41&lon=116.59&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == parameter


def test_the_new_parameters_are_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/nearest"]["get"]["parameters"]}
    assert params["rank"]["schema"]["enum"] == ["distance", "open_first"]
    assert params["serves"]["schema"]["enum"] == ["passing_worker"]
    assert "open now" in params["rank"]["description"]
    for path in ("/api/places", "/api/route", "/api/map/markers"):
        assert path in doc["paths"]


# ---- the map's markers: the same records as inline, open now included -------------------------------------

def test_markers_carry_hours_text_and_open_state_and_the_open_now_filter_filters_them(client):
    bbox = "116.40,35.00,117.20,35.60"
    everything = client.get(f"/api/map/markers?bbox={bbox}&now={SHANGHAI_0546}").get_json()
    by_id = {m["id"]: m for m in everything["markers"]}
    visible = {f["properties"]["id"] for f in STATION_FEATURES if f["properties"]["status"] != "closed"}
    assert set(by_id) == visible and everything["numberMatched"] == len(visible)
    assert by_id["JN-CP-0001"]["hours"] == "周二至周日 09:00-17:00" and by_id["JN-CP-0001"]["open"] is False
    assert by_id["JN-RS-0001"]["open"] is True and by_id["JN-RS-0001"]["h24"] is True
    assert by_id["JN-RS-0001"]["county"] == "任城区"
    opened = client.get(f"/api/map/markers?bbox={bbox}&now={SHANGHAI_0546}&open_now=1").get_json()
    assert {m["id"] for m in opened["markers"]} == OPEN_AT_0546
    worker = client.get(f"/api/map/markers?bbox={bbox}&serves=passing_worker").get_json()
    assert {m["id"] for m in worker["markers"]} == PASSING_WORKER & visible


def test_markers_come_a_page_at_a_time(client):
    first = client.get("/api/map/markers?bbox=116.40,35.30,117.20,35.55&limit=4").get_json()
    assert first["numberReturned"] == 4 and first["next_offset"] == 4
    rest = client.get("/api/map/markers?bbox=116.40,35.30,117.20,35.55&limit=100&offset=4").get_json()
    assert rest["next_offset"] is None
    ids = [m["id"] for m in first["markers"] + rest["markers"]]
    assert ids == sorted(ids) and len(ids) == first["numberMatched"]
