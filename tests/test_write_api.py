"""The write API: add, change (JSON merge patch + If-Match) and delete stations, as staff only.

Accounts (``staff``): ``ren`` edits 任城区 (370811), ``zou`` 邹城市 (370883), ``kan`` is a viewer,
``admin`` everything. Fixture stations: JN-RS-0001 in 370811, JN-RS-0007 in 370883; 兖州区 (370812)
lies east of 任城区 (boxes in ``conftest.COUNTY_BOXES``).
"""
from __future__ import annotations

import json
import threading

import pytest

from staff import (cheap_hashing, database_url, migrated_url, staff, staff_app,  # noqa: F401  (fixtures)
                   staff_config)

MERGE = "application/merge-patch+json"
REN_STATION, ZOU_STATION = "JN-RS-0001", "JN-RS-0007"


def store(app):
    return app.extensions["yizhan"].store


def etag_of(client, station_id: str) -> str:
    return client.get(f"/api/stations/{station_id}").headers["ETag"]


def patch(client, station_id, body, headers=None, etag=None, content_type=MERGE):
    headers = dict(headers or {})
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(f"/api/stations/{station_id}", data=json.dumps(body), content_type=content_type,
                        headers=headers)


def new_feature(lon, lat, name="新驿站"):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, "kind": "rest_station", "status": "open",
                           "amenities": ["drinking_water"]}}


# ---- versions ------------------------------------------------------------------------------------------

def test_a_station_is_sent_with_its_record_version_as_a_strong_etag(staff_app):
    from stations.store import record_version

    client = staff_app.test_client()
    answer = client.get(f"/api/stations/{REN_STATION}")
    version = record_version(store(staff_app).get(REN_STATION))
    assert answer.headers["ETag"] == f'"{version}"'  # strong: what If-Match takes
    assert client.get(f"/api/stations/{REN_STATION}", headers={"If-None-Match": f'"{version}"'}).status_code == 304
    gcj = client.get(f"/api/stations/{REN_STATION}?crs=gcj02").headers["ETag"]
    assert gcj != answer.headers["ETag"] and version in gcj


# ---- changing a station ------------------------------------------------------------------------------

def test_an_editor_changes_a_station_of_their_county_by_merge_patch(staff_app, staff):
    client = staff_app.test_client()
    before = etag_of(client, REN_STATION)
    answer = patch(client, REN_STATION, {"properties": {"name": "古槐路驿站（新）", "phone": None}},
                   staff.bearer("ren"), before)
    assert answer.status_code == 200, answer.get_json()
    feature = answer.get_json()
    assert feature["properties"]["name"] == "古槐路驿站（新）" and "phone" not in feature["properties"]
    assert feature["properties"]["address"] == "古槐路驿站地址"  # untouched members stay
    assert answer.headers["ETag"] != before and answer.headers["ETag"] == etag_of(client, REN_STATION)
    assert "Access-Control-Allow-Origin" not in answer.headers
    entry = store(staff_app).history(REN_STATION)[0]
    assert entry.who == "ren" and set(entry.changed) == {"name", "phone"}
    # application/json is taken too; a patch that changes nothing writes nothing
    same = patch(client, REN_STATION, {"properties": {"name": "古槐路驿站（新）"}}, staff.bearer("ren"),
                 answer.headers["ETag"], content_type="application/json")
    assert same.status_code == 200 and same.headers["ETag"] == answer.headers["ETag"]
    assert len(store(staff_app).history(REN_STATION)) == 1


def test_if_match_is_required_and_a_stale_one_changes_nothing(staff_app, staff):
    client = staff_app.test_client()
    headers = staff.bearer("ren")
    missing = patch(client, REN_STATION, {"properties": {"name": "x站"}}, headers)
    assert missing.status_code == 428 and "If-Match" in missing.get_json()["error"]["message"]
    star = patch(client, REN_STATION, {"properties": {"name": "x站"}}, headers, "*")
    assert star.status_code == 428
    old = etag_of(client, REN_STATION)
    assert patch(client, REN_STATION, {"properties": {"name": "第一次"}}, headers, old).status_code == 200
    kept = store(staff_app).get(REN_STATION)
    stale = patch(client, REN_STATION, {"properties": {"name": "第二次"}}, headers, old)
    assert stale.status_code == 412 and stale.get_json()["error"]["status"] == 412
    assert store(staff_app).get(REN_STATION) == kept


def test_an_editor_gets_403_on_another_countys_station_by_token_and_by_session(staff_app, staff):
    client = staff_app.test_client()
    etag = etag_of(client, ZOU_STATION)
    kept = store(staff_app).get(ZOU_STATION)
    by_token = patch(client, ZOU_STATION, {"properties": {"name": "改名"}}, staff.bearer("ren"), etag)
    assert by_token.status_code == 403 and "370883" in by_token.get_json()["error"]["message"]
    browser = staff_app.test_client()
    assert staff.sign_in(browser, "ren").status_code == 302
    by_session = patch(browser, ZOU_STATION, {"properties": {"name": "改名"}}, staff.session_headers(browser), etag)
    assert by_session.status_code == 403
    assert store(staff_app).get(ZOU_STATION) == kept and store(staff_app).history(ZOU_STATION) == []


@pytest.mark.parametrize("move", [
    {"geometry": {"type": "Point", "coordinates": [116.80, 35.45]}},   # into 兖州区 (370812)
    {"geometry": {"coordinates": [116.98, 35.12]}},                     # merged: into 邹城市 (370883)
])
def test_an_editor_cannot_move_a_station_across_the_county_line(staff_app, staff, move):
    client = staff_app.test_client()
    etag = etag_of(client, REN_STATION)
    kept = store(staff_app).get(REN_STATION)
    by_token = patch(client, REN_STATION, move, staff.bearer("ren"), etag)
    assert by_token.status_code == 403, by_token.get_json()
    browser = staff_app.test_client()
    staff.sign_in(browser, "ren")
    assert patch(browser, REN_STATION, move, staff.session_headers(browser), etag).status_code == 403
    # nor move another county's station into their own
    assert patch(client, ZOU_STATION, {"geometry": {"type": "Point", "coordinates": [116.6, 35.4]}},
                 staff.bearer("ren"), etag_of(client, ZOU_STATION)).status_code == 403
    assert store(staff_app).get(REN_STATION) == kept
    # within the county the move is fine, and the county is derived again
    inside = patch(client, REN_STATION, {"geometry": {"type": "Point", "coordinates": [116.5, 35.5]}},
                   staff.bearer("ren"), etag)
    assert inside.status_code == 200 and inside.get_json()["properties"]["county_code"] == "370811"
    # the admin may move it across
    across = patch(client, REN_STATION, move, staff.bearer("admin"), inside.headers["ETag"])
    assert across.status_code == 200 and across.get_json()["properties"]["county_code"] != "370811"


def test_an_invalid_record_is_422_with_every_problem(staff_app, staff):
    client = staff_app.test_client()
    answer = patch(client, REN_STATION, {"properties": {"kind": "castle", "status": "maybe", "beds": -3}},
                   staff.bearer("ren"), etag_of(client, REN_STATION))
    error = answer.get_json()["error"]
    assert answer.status_code == 422 and {p["field"] for p in error["problems"]} >= {"kind", "status", "beds"}
    one = patch(client, REN_STATION, {"properties": {"status": "maybe"}}, staff.bearer("ren"),
                etag_of(client, REN_STATION))
    assert one.status_code == 422 and [p["field"] for p in one.get_json()["error"]["problems"]] == ["status"]
    assert patch(client, REN_STATION, {"properties": {"id": "JN-RS-9999"}}, staff.bearer("ren"),
                 etag_of(client, REN_STATION)).status_code == 422


def test_bodies_are_checked_before_anything_is_written(staff_app, staff):
    client = staff_app.test_client()
    headers = {**staff.bearer("ren"), "If-Match": etag_of(client, REN_STATION)}
    url = f"/api/stations/{REN_STATION}"
    assert client.patch(url, data="name=x", content_type="text/plain", headers=headers).status_code == 415
    bad_json = client.patch(url, data="{not json", content_type=MERGE, headers=headers)
    assert bad_json.status_code == 400 and bad_json.get_json()["error"]["parameter"] == "body"
    unknown = client.patch(url, data=json.dumps({"propertys": {}}), content_type=MERGE, headers=headers)
    assert unknown.status_code == 400 and unknown.get_json()["error"]["parameter"] == "propertys"
    wrong = client.patch(url, data=json.dumps({"properties": ["x"]}), content_type=MERGE, headers=headers)
    assert wrong.status_code == 400 and wrong.get_json()["error"]["parameter"] == "properties"
    big = client.patch(url, data=json.dumps({"properties": {"name": "x" * 70_000}}), content_type=MERGE,
                       headers=headers)
    assert big.status_code == 413
    assert store(staff_app).history(REN_STATION) == []


@pytest.mark.parametrize("body, field", [('{"properties": {"beds": 1e400}}', "beds"),
                                         ('{"properties": {"floor_area_m2": -1e400}}', "floor_area_m2"),
                                         ('{"geometry": {"type": "Point", "coordinates": [1e400, 35.4]}}',
                                          "geometry.coordinates")])
def test_a_number_beyond_a_doubles_range_is_422_naming_the_field(staff_app, staff, body, field):
    client = staff_app.test_client()  # JSON's 1e400 is read as infinity: refused, and quoted as text
    answer = client.patch(f"/api/stations/{REN_STATION}", data=body, content_type=MERGE,
                          headers={**staff.bearer("ren"), "If-Match": etag_of(client, REN_STATION)})
    assert answer.status_code == 422, answer.get_data(as_text=True)
    [problem] = answer.get_json()["error"]["problems"]
    assert problem["field"] == field and "inf" in str(problem["value"])
    assert store(staff_app).history(REN_STATION) == []


# each value the vocabulary refuses (issues 9, 10): a control character in a text, a number past its bound
REFUSED = [
    ("address", "古槐路\x0b18号", "without control characters"),
    ("address", "古槐路18号\n", "without control characters"),
    ("host", "市总工会\t", "without control characters"),
    ("name", "古槐路\x00驿站", "without control characters"),
    ("source", "\x85导入", "without control characters"),
    ("status_reason", "装修\x7f", "without control characters"),
    ("opening_hours", "Mo-Fr\x0b08:00-18:00", "without control characters"),
    ("beds", 10 ** 400, "a whole number from 0 to 100,000"),
    ("beds", 100_001, "a whole number from 0 to 100,000"),
    ("floor_area_m2", 1_000_001, "at most 1,000,000"),
]


@pytest.mark.parametrize("field, value, allowed", REFUSED, ids=[f"{f}={v!r:.20}" for f, v, _ in REFUSED])
def test_a_refused_value_is_422_naming_the_record_the_field_and_what_is_allowed(staff_app, staff, field, value,
                                                                                  allowed):
    client = staff_app.test_client()
    changed = patch(client, REN_STATION, {"properties": {field: value}}, staff.bearer("ren"),
                    etag_of(client, REN_STATION))
    assert changed.status_code == 422, changed.get_data(as_text=True)
    [problem] = changed.get_json()["error"]["problems"]
    assert (problem["record"], problem["field"]) == (REN_STATION, field) and allowed in problem["allowed"]
    feature = new_feature(116.45, 35.35)
    feature["properties"][field] = value
    added = client.post("/api/stations", data=json.dumps(feature), content_type="application/geo+json",
                        headers=staff.bearer("ren"))
    assert added.status_code == 422, added.get_data(as_text=True)
    [problem] = added.get_json()["error"]["problems"]
    assert problem["field"] == field and allowed in problem["allowed"]
    assert store(staff_app).history() == []


def test_the_bounds_themselves_are_accepted(staff_app, staff):
    client = staff_app.test_client()
    answer = patch(client, REN_STATION, {"properties": {"beds": 100_000, "floor_area_m2": 1_000_000,
                                                        "address": "古槐路\u00a018号"}},
                   staff.bearer("ren"), etag_of(client, REN_STATION))
    assert answer.status_code == 200, answer.get_json()
    assert store(staff_app).get(REN_STATION).beds == 100_000


def test_a_lone_surrogate_in_a_body_is_400_naming_the_member(staff_app, staff):
    client = staff_app.test_client()
    answer = client.patch(f"/api/stations/{REN_STATION}", data='{"properties": {"name": "\\ud800"}}',
                          content_type=MERGE,
                          headers={**staff.bearer("ren"), "If-Match": etag_of(client, REN_STATION)})
    assert answer.status_code == 400 and answer.get_json()["error"]["parameter"] == "properties.name"
    added = client.post("/api/stations", content_type="application/geo+json", headers=staff.bearer("ren"),
                        data='{"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.6, 35.4]}, '
                             '"properties": {"name": "新驿站", "kind": "rest_station", "address": "\\udc00"}}')
    assert added.status_code == 400 and added.get_json()["error"]["parameter"] == "properties.address"
    assert store(staff_app).history() == []


# ---- adding and deleting ---------------------------------------------------------------------------

def test_an_editor_adds_a_station_in_their_county_only(staff_app, staff):
    client = staff_app.test_client()
    answer = client.post("/api/stations", data=json.dumps(new_feature(116.45, 35.35)),
                         content_type="application/geo+json", headers=staff.bearer("ren"))
    assert answer.status_code == 201, answer.get_json()
    feature = answer.get_json()
    sid = feature["properties"]["id"]
    assert feature["properties"]["county_code"] == "370811" and answer.headers["Location"] == f"/api/stations/{sid}"
    assert answer.headers["ETag"] == client.get(answer.headers["Location"]).headers["ETag"]
    assert store(staff_app).history(sid)[0].who == "ren"
    elsewhere = client.post("/api/stations", data=json.dumps(new_feature(116.98, 35.12)),
                            content_type="application/json", headers=staff.bearer("ren"))
    assert elsewhere.status_code == 403
    taken = new_feature(116.45, 35.36)
    taken["properties"]["id"] = sid
    assert client.post("/api/stations", data=json.dumps(taken), content_type="application/json",
                       headers=staff.bearer("ren")).status_code == 409
    invalid = new_feature(116.45, 35.36)
    invalid["properties"]["kind"] = "castle"
    invalid["properties"]["name"] = ""
    bad = client.post("/api/stations", data=json.dumps(invalid), content_type="application/json",
                      headers=staff.bearer("ren"))
    assert bad.status_code == 422 and len(bad.get_json()["error"]["problems"]) >= 2


def test_deleting_is_for_admins_with_if_match(staff_app, staff):
    client = staff_app.test_client()
    etag = etag_of(client, ZOU_STATION)
    assert client.delete(f"/api/stations/{ZOU_STATION}", headers={**staff.bearer("zou"), "If-Match": etag}
                         ).status_code == 403
    assert client.delete(f"/api/stations/{ZOU_STATION}", headers=staff.bearer("admin")).status_code == 428
    gone = client.delete(f"/api/stations/{ZOU_STATION}", headers={**staff.bearer("admin"), "If-Match": etag})
    assert gone.status_code == 204
    assert client.get(f"/api/stations/{ZOU_STATION}").status_code == 404
    assert store(staff_app).history(ZOU_STATION)[0].who == "admin"


def test_a_viewer_changes_nothing(staff_app, staff):
    client = staff_app.test_client()
    headers = staff.bearer("kan")
    assert patch(client, REN_STATION, {"properties": {"name": "x站"}}, headers,
                 etag_of(client, REN_STATION)).status_code == 403
    assert client.post("/api/stations", data=json.dumps(new_feature(116.45, 35.35)),
                       content_type="application/json", headers=headers).status_code == 403


# ---- credentials ---------------------------------------------------------------------------------

def test_without_credentials_writes_get_401_with_www_authenticate(staff_app, staff):
    from web import accounts

    client = staff_app.test_client()
    etag = etag_of(client, REN_STATION)
    for headers in ({}, {"Authorization": "Bearer yzt_not-a-token"}, {"Authorization": "Basic cmVuOng="},
                    {"X-CSRFToken": "anything"}):
        answer = patch(client, REN_STATION, {"properties": {"name": "x站"}}, headers, etag)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"].lower().startswith("bearer")
        assert answer.get_json()["error"]["status"] == 401
    assert client.post("/api/stations", data="{}", content_type="application/json").status_code == 401
    assert client.delete(f"/api/stations/{REN_STATION}").status_code == 401
    token = staff.token("ren")
    with staff_app.extensions["yizhan.db"].transaction() as s:
        for row in accounts.list_tokens(s, "ren"):
            accounts.revoke_token(s, row.id)
    assert patch(client, REN_STATION, {"properties": {"name": "x站"}}, {"Authorization": f"Bearer {token}"},
                 etag).status_code == 401
    assert store(staff_app).history() == []


def test_a_session_write_needs_the_csrf_header(staff_app, staff):
    browser = staff_app.test_client()
    staff.sign_in(browser, "ren")
    etag = etag_of(browser, REN_STATION)
    without = patch(browser, REN_STATION, {"properties": {"name": "x站"}}, None, etag)
    assert without.status_code == 400 and "CSRF" in without.get_json()["error"]["message"]
    wrong = patch(browser, REN_STATION, {"properties": {"name": "x站"}}, {"X-CSRFToken": "forged"}, etag)
    assert wrong.status_code == 400
    assert store(staff_app).history() == []
    ok = patch(browser, REN_STATION, {"properties": {"name": "会话站"}}, staff.session_headers(browser), etag)
    assert ok.status_code == 200 and store(staff_app).history(REN_STATION)[0].who == "ren"


def test_writes_are_never_allowed_cross_origin(staff_app, staff):
    client = staff_app.test_client()
    preflight = client.options(f"/api/stations/{REN_STATION}", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "PATCH"})
    assert "PATCH" not in preflight.headers.get("Access-Control-Allow-Methods", "")
    answer = client.post("/api/stations", data=json.dumps(new_feature(116.45, 35.35)),
                         content_type="application/json", headers={**staff.bearer("ren"),
                                                                    "Origin": "https://other.example"})
    assert answer.status_code == 201 and "Access-Control-Allow-Origin" not in answer.headers


# ---- two editors at once -----------------------------------------------------------------------------

def test_two_editors_saving_the_same_version_at_once_exactly_one_wins(staff_app, staff):
    staff.add("ren2", "editor", ["370811"])
    client = staff_app.test_client()
    etag = etag_of(client, REN_STATION)
    tokens = {"ren": staff.bearer("ren"), "ren2": staff.bearer("ren2")}
    start = threading.Barrier(2)
    answers = {}

    def save(name):
        own = staff_app.test_client()
        start.wait()
        answers[name] = patch(own, REN_STATION, {"properties": {"name": f"{name}的驿站"}}, tokens[name], etag)

    threads = [threading.Thread(target=save, args=(name,)) for name in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(a.status_code for a in answers.values())
    assert statuses == [200, 412]
    winner = next(name for name, a in answers.items() if a.status_code == 200)
    assert store(staff_app).get(REN_STATION).name == f"{winner}的驿站"
    history = store(staff_app).history(REN_STATION)
    assert [e.who for e in history] == [winner]


# ---- the document ------------------------------------------------------------------------------------

def test_the_openapi_document_describes_the_writes_and_their_security(staff_app):
    doc = staff_app.test_client().get("/api/openapi.json").get_json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie" and schemes["csrfToken"]["name"] == "X-CSRFToken"
    item = doc["paths"]["/api/stations/{station_id}"]
    patch_op = item["patch"]
    assert set(patch_op["requestBody"]["content"]) == {MERGE, "application/json"}
    assert patch_op["security"] == [{"bearerToken": []}, {"sessionCookie": [], "csrfToken": []}]
    assert {"401", "403", "412", "422", "428"} <= set(patch_op["responses"])
    assert "WWW-Authenticate" in patch_op["responses"]["401"]["headers"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch_op["parameters"])
    post = doc["paths"]["/api/stations"]["post"]
    assert post["requestBody"]["content"]["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/StationFeature"}
    assert "Location" in post["responses"]["201"]["headers"]
    assert "security" not in item["get"] and "delete" in item
