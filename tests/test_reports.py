"""Workers' reports: the form and the API (no account), their limits, the staff's list, accept and dismiss,
what the public sees ("reported on <date>"), the planner's counts. On SQLite and, where reachable, PostgreSQL.

The staff accounts are ``tests/staff.py``'s: ``ren`` edits 任城区 (370811), ``zou`` 邹城市 (370883), ``kan``
views, ``admin``. JN-RS-0001 (古槐路驿站, 116.5870 35.4150) and JN-RS-0002 are in 370811, JN-RS-0007 in 370883.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pyproj import Geod

from staff import (cheap_hashing, csrf_of, database_url, migrated_url, staff, staff_app,  # noqa: F401
                   staff_config)

SCRIPT = "<script>reportNote()</script>"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app_config(app_config):
    """Limits high enough for the tests that file many reports (the limit tests set their own)."""
    return {**app_config, "REPORT_RATE_LIMIT": "1000/hour", "REPORT_STATION_RATE_LIMIT": "1000/hour",
            "COVERAGE_EXECUTOR": "thread"}


def today() -> str:
    return datetime.now(TZ).date().isoformat()


def rows(app) -> list[dict]:
    with app.extensions["yizhan.db"].transaction() as session:
        return [dict(r._mapping) for r in session.execute(sa.text("SELECT * FROM reports ORDER BY id"))]


def post_report(client, station="JN-RS-0001", address="127.0.0.1", **body):
    return client.post(f"/api/stations/{station}/reports", json=body, environ_base={"REMOTE_ADDR": address})


def form_of(client, station="JN-RS-0001", lang=None):
    page = client.get(f"/stations/{station}/report" + (f"?lang={lang}" if lang else ""))
    assert page.status_code == 200
    return page, csrf_of(page.get_data(as_text=True))


def signed_in(app, staff, name):
    client = app.test_client()
    assert staff.sign_in(client, name).status_code == 302
    return client


def list_page(client) -> str:
    page = client.get("/manage/reports")
    assert page.status_code == 200
    return page.get_data(as_text=True)


# ---- filing a report: the page ---------------------------------------------------------------------

def test_the_report_page_offers_every_kind_a_note_and_the_position_checkbox(staff_app):
    client = staff_app.test_client()
    page, _ = form_of(client)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and "古槐路驿站" in html and "报告问题" in html
    for kind in ("closed", "no_water", "moved", "dirty", "other"):
        assert f'name="kind" value="{kind}"' in html
    assert 'name="note"' in html and 'maxlength="500"' in html and "附上我的位置" in html
    assert 'name="lon"' in html and 'name="lat"' in html and "/static/js/report.js" in html.replace("?", "")[:99999]
    english = client.get("/stations/JN-RS-0001/report?lang=en").get_data(as_text=True)
    assert "Report a problem" in english and "Attach my position" in english and "No drinking water" in english


def test_every_station_page_links_to_its_report_page(staff_app):
    html = staff_app.test_client().get("/stations/JN-RS-0007").get_data(as_text=True)
    assert 'href="/stations/JN-RS-0007/report?lang=zh"' in html and "报告问题" in html


def test_the_form_files_a_report_and_says_thank_you(staff_app):
    client = staff_app.test_client()
    _, token = form_of(client)
    answer = client.post("/stations/JN-RS-0001/report", data={
        "csrf_token": token, "kind": "no_water", "note": "  水桶空了\r\n两天了 ", "lon": "116.5871", "lat": "35.4152"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/stations/JN-RS-0001/report?sent=1"
    thanks = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "谢谢" in thanks and 'name="kind"' not in thanks
    [row] = rows(staff_app)
    assert (row["station_id"], row["kind"], row["note"], row["lon"], row["lat"], row["status"]) == \
        ("JN-RS-0001", "no_water", "水桶空了\n两天了", 116.5871, 35.4152, "open")
    assert row["handled_by"] is None and row["handled_at"] is None


def test_the_form_without_position_or_note_files_a_report_too(staff_app):
    client = staff_app.test_client()
    _, token = form_of(client)
    answer = client.post("/stations/JN-RS-0001/report", data={"csrf_token": token, "kind": "dirty", "note": "",
                                                               "lon": "", "lat": ""})
    assert answer.status_code == 303
    [row] = rows(staff_app)
    assert row["kind"] == "dirty" and row["note"] is None and row["lon"] is None and row["lat"] is None


def test_the_public_form_needs_its_csrf_token(staff_app):
    client = staff_app.test_client()
    form_of(client)
    answer = client.post("/stations/JN-RS-0001/report", data={"kind": "closed"})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    other = staff_app.test_client()  # another browser's token is not this one's
    _, token = form_of(other)
    assert client.post("/stations/JN-RS-0001/report", data={"kind": "closed", "csrf_token": token}).status_code == 400
    assert rows(staff_app) == []


@pytest.mark.parametrize("data, field, text", [
    ({"kind": "gone"}, "kind", "请选择遇到的问题"),
    ({"note": "x"}, "kind", "请选择遇到的问题"),
    ({"kind": "closed", "note": "长" * 501}, "note", "说明最多 500 字"),
    ({"kind": "closed", "note": "水桶\x0b空了"}, "note", "说明中含有控制字符"),  # a note is several lines, no other control
    ({"kind": "closed", "note": "水桶空了\x00"}, "note", "说明中含有控制字符"),
    ({"kind": "closed", "lon": "116.58"}, "lat", "位置无效"),
    ({"kind": "closed", "lon": "116.58", "lat": "95"}, "lat", "位置无效"),
    ({"kind": "closed", "lon": "abc", "lat": "35.4"}, "lon", "位置无效"),
])
def test_a_bad_form_comes_back_naming_the_field_and_keeping_what_was_typed(staff_app, data, field, text):
    client = staff_app.test_client()
    _, token = form_of(client)
    answer = client.post("/stations/JN-RS-0001/report", data={"csrf_token": token, **data})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "请修改下面标出的内容" in html
    assert re.search(rf'<(?:p|span) class="(?:field-problem|position-status)" id="(?:{field}-problem|report-position-status)"'
                     rf'[^>]*>[^<]*{text}', html), html
    if data.get("note") and data["note"].isprintable():
        assert data["note"] in html  # nothing typed is lost
    assert rows(staff_app) == []


def test_the_page_of_a_station_that_does_not_exist_is_404(staff_app):
    client = staff_app.test_client()
    assert client.get("/stations/JN-XX-9999/report").status_code == 404
    _, token = form_of(client)
    assert client.post("/stations/JN-XX-9999/report", data={"csrf_token": token, "kind": "closed"}).status_code == 404


# ---- filing a report: the API ----------------------------------------------------------------------

def test_the_api_files_a_report_without_account_or_csrf_token(staff_app):
    answer = post_report(staff_app.test_client(), kind="closed", note=SCRIPT, lon=116.5871, lat=35.4152)
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["station_id"] == "JN-RS-0001" and body["kind"] == "closed" and body["status"] == "open"
    assert body["with_position"] is True and body["created_at"].endswith("Z") and "note" not in body
    [row] = rows(staff_app)
    assert (row["kind"], row["note"], row["lon"], row["lat"]) == ("closed", SCRIPT, 116.5871, 35.4152)
    assert post_report(staff_app.test_client(), kind="other", note=None, lon=None, lat=None).status_code == 201


def test_a_signed_in_staff_members_cookie_changes_nothing_about_a_report(staff_app, staff):
    client = signed_in(staff_app, staff, "ren")
    assert post_report(client, kind="dirty").status_code == 201  # no CSRF header needed: it acts for nobody
    assert rows(staff_app)[0]["handled_by"] is None


@pytest.mark.parametrize("body, parameter", [
    ({"kind": "gone"}, "kind"),
    ({"kind": 3}, "kind"),
    ({}, "kind"),
    ({"kind": "closed", "note": "长" * 501}, "note"),
    ({"kind": "closed", "note": 5}, "note"),
    ({"kind": "closed", "note": "门锁\x0b着"}, "note"),
    ({"kind": "closed", "note": "门\x85锁着"}, "note"),
    ({"kind": "closed", "lon": 116.58}, "lat"),
    ({"kind": "closed", "lat": 35.41}, "lon"),
    ({"kind": "closed", "lon": 181, "lat": 35.41}, "lon"),
    ({"kind": "closed", "lon": 116.58, "lat": -90.5}, "lat"),
    ({"kind": "closed", "lon": "116.58", "lat": 35.41}, "lon"),
    ({"kind": "closed", "lon": True, "lat": 35.41}, "lon"),
    ({"kind": "closed", "ip": "1.2.3.4"}, "ip"),
])
def test_the_api_refuses_a_bad_body_naming_the_member(staff_app, body, parameter):
    answer = post_report(staff_app.test_client(), **body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"]["parameter"] == parameter
    assert rows(staff_app) == []


def test_a_note_keeps_its_line_breaks_and_tabs(staff_app):
    """A note is typed in a text area: several lines, tabs too; the one multi-line text (issues 9, 10)."""
    note = "门锁着\n\t下午再来\r看"
    assert post_report(staff_app.test_client(), kind="closed", note=note).status_code == 201
    assert rows(staff_app)[0]["note"] == note


@pytest.mark.parametrize("lon, shown", [("1e400", "inf"), ("-1e400", "-inf"), ("1" + "0" * 400, 10 ** 400)])
def test_a_number_beyond_a_doubles_range_is_refused_naming_the_member(staff_app, lon, shown):
    answer = staff_app.test_client().post("/api/stations/JN-RS-0001/reports", content_type="application/json",
                                          data=f'{{"kind": "closed", "lon": {lon}, "lat": 35.41}}')
    assert answer.status_code == 400
    assert (answer.get_json()["error"]["parameter"], answer.get_json()["error"]["value"]) == ("lon", shown)
    assert rows(staff_app) == []


@pytest.mark.parametrize("body, parameter", [('{"kind": "closed", "note": "水\\ud800"}', "note"),
                                             ('{"kind": "closed", "note": ' + "[" * 40 + "]" * 40 + "}", "body"),
                                             ('{"kind": "closed", "note": ' + "[" * 5000 + "]" * 5000 + "}", "body")])
def test_a_body_no_page_could_hold_is_400_naming_where(staff_app, body, parameter):
    """A lone surrogate (JSON's "\\ud800": no character, no UTF-8), or nesting deeper than any body needs."""
    answer = staff_app.test_client().post("/api/stations/JN-RS-0001/reports", data=body,
                                          content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["parameter"] == parameter
    assert rows(staff_app) == []


def test_the_api_takes_json_only_and_knows_its_stations(staff_app):
    client = staff_app.test_client()
    assert client.post("/api/stations/JN-RS-0001/reports", data={"kind": "closed"}).status_code == 415
    assert client.post("/api/stations/JN-RS-0001/reports", data="[1]", content_type="application/json").status_code \
        == 400
    missing = post_report(client, station="JN-XX-9999", kind="closed")
    assert missing.status_code == 404 and "JN-XX-9999" in missing.get_json()["error"]["message"]
    assert client.get("/api/stations/JN-RS-0001/reports").status_code == 405  # nobody lists them publicly


def test_the_api_document_describes_the_report_route(staff_app):
    document = staff_app.test_client().get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/stations/{station_id}/reports"]["post"]
    assert operation["operationId"] == "createReport" and "security" not in operation
    assert {"201", "404", "429"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["kind"] and set(schema["properties"]) == {"kind", "note", "lon", "lat"}
    assert schema["properties"]["note"]["maxLength"] == 500 and schema["additionalProperties"] is False
    assert not [path for path, item in document["paths"].items() if "report" in path and "get" in item]


def test_the_api_answers_as_its_document_says(limited_app):
    from test_api import response_validator

    client = limited_app.test_client()
    document = client.get("/api/openapi.json").get_json()
    path = "/api/stations/{station_id}/reports"
    answers = [post_report(client, kind="moved", lon=116.58, lat=35.41), post_report(client, kind="gone"),
               post_report(client, station="JN-XX-9999", kind="closed"), post_report(client, kind="dirty"),
               post_report(client, kind="dirty")]
    assert [a.status_code for a in answers] == [201, 400, 404, 201, 429]
    for answer in answers:
        documented = document["paths"][path]["post"]["responses"][str(answer.status_code)]
        assert answer.mimetype in documented["content"]
        validator = response_validator(document, path, "post", answer.status_code, answer.mimetype)
        assert not list(validator.iter_errors(answer.get_json())), answer.get_json()
        assert set(documented.get("headers", {})) <= set(answer.headers.keys())


# ---- limits ----------------------------------------------------------------------------------------

@pytest.fixture
def limited_app(staff_config):
    from web import create_app

    app = create_app({**staff_config, "REPORT_RATE_LIMIT": "2/hour", "REPORT_STATION_RATE_LIMIT": "3/hour"})
    yield app
    app.extensions["yizhan.db"].dispose()


def test_a_client_may_file_so_many_reports_then_gets_429_with_retry_after(limited_app):
    client = limited_app.test_client()
    assert [post_report(client, kind="dirty", station=sid).status_code for sid in ("JN-RS-0001", "JN-RS-0002")] \
        == [201, 201]
    refused = post_report(client, kind="dirty", station="JN-RS-0007")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.get_json()["error"]["status"] == 429 and "2/hour" in refused.get_json()["error"]["message"]
    # the page counts against the same limit, and answers in its own way
    _, token = form_of(client)
    page = client.post("/stations/JN-RS-0001/report", data={"csrf_token": token, "kind": "closed"})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "分钟后再试" in page.get_data(as_text=True)
    assert len(rows(limited_app)) == 2
    assert post_report(client, kind="dirty", address="198.51.100.9").status_code == 201  # another client may


def test_a_station_gets_so_many_reports_from_all_clients_then_429(limited_app):
    client = limited_app.test_client()
    codes = [post_report(client, kind="closed", address=f"198.51.100.{n}").status_code for n in range(1, 5)]
    assert codes == [201, 201, 201, 429]
    assert post_report(client, kind="closed", station="JN-RS-0002", address="198.51.100.4").status_code == 201


def test_refused_reports_do_not_count(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert post_report(client, kind="gone").status_code == 400
    assert post_report(client, kind="closed").status_code == 201


def test_no_address_and_no_device_is_stored(staff_app):
    client = staff_app.test_client()
    answer = client.post("/api/stations/JN-RS-0001/reports", json={"kind": "closed", "note": "门锁着"},
                         environ_base={"REMOTE_ADDR": "203.0.113.77"},
                         headers={"User-Agent": "SpyPhone/1.0", "X-Forwarded-For": "192.0.2.55"})
    assert answer.status_code == 201
    [row] = rows(staff_app)
    assert set(row) == {"id", "station_id", "kind", "note", "lon", "lat", "created_at", "status", "handled_by",
                        "handled_at", "handler_note"}
    stored = " ".join(str(v) for v in row.values())
    for trace in ("203.0.113", "192.0.2", "SpyPhone"):
        assert trace not in stored


# ---- what the public sees ------------------------------------------------------------------------------

def test_a_station_with_open_reports_shows_reported_on_its_date_and_nothing_else(staff_app):
    client = staff_app.test_client()
    assert post_report(client, kind="closed", note=SCRIPT).status_code == 201
    badge = f"{today()} 有人报告问题"
    station = client.get("/stations/JN-RS-0001").get_data(as_text=True)
    assert badge in station and "reportNote" not in station and "关门" not in station
    assert badge not in client.get("/stations/JN-RS-0002").get_data(as_text=True)
    listing = client.get("/list").get_data(as_text=True)
    assert listing.count(badge) == 1 and "reportNote" not in listing
    assert f"reported on {today()}" in client.get("/stations/JN-RS-0001?lang=en").get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)
    block = json.loads(re.search(r'<script type="application/json" id="yz-reports">(.*?)</script>', page).group(1))
    assert block == {"url": "/stations/__ID__/report", "reported": {"JN-RS-0001": today()}}
    assert "reportNote" not in page


def test_the_badge_goes_when_every_open_report_is_handled(staff_app, staff):
    client = staff_app.test_client()
    post_report(client, kind="closed")
    post_report(client, kind="dirty")
    ren = signed_in(staff_app, staff, "ren")
    token = csrf_of(list_page(ren))
    [second, first] = [r["id"] for r in reversed(rows(staff_app))]
    ren.post(f"/manage/reports/{first}/dismiss", data={"csrf_token": token})
    assert "有人报告问题" in client.get("/stations/JN-RS-0001").get_data(as_text=True)
    ren.post(f"/manage/reports/{second}/accept", data={"csrf_token": token})
    assert "有人报告问题" not in client.get("/stations/JN-RS-0001").get_data(as_text=True)


def test_public_pages_work_without_a_usable_accounts_database(app_config, tmp_path):
    from web import create_app

    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"})
    client = app.test_client()
    for url in ("/stations/JN-RS-0001", "/list"):
        page = client.get(url)
        assert page.status_code == 200 and 'class="badge reported"' not in page.get_data(as_text=True)
    page = client.get("/")
    assert page.status_code == 200 and '"reported":{}' in page.get_data(as_text=True).replace(" ", "")


# ---- the staff's list ----------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(staff_app):
    client = staff_app.test_client()
    answer = client.get("/manage/reports")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=/manage/reports")
    assert client.post("/manage/reports/1/accept").status_code == 400  # no CSRF token: refused before anything


def test_an_editor_sees_the_open_reports_of_their_counties_newest_first(staff_app, staff):
    client = staff_app.test_client()
    post_report(client, kind="closed", station="JN-RS-0001")
    post_report(client, kind="no_water", station="JN-RS-0002", note=SCRIPT)
    post_report(client, kind="dirty", station="JN-RS-0007")  # 邹城市
    html = list_page(signed_in(staff_app, staff, "ren"))
    assert re.findall(r'data-station="([^"]+)"', html) == ["JN-RS-0002", "JN-RS-0001"]
    assert "JN-RS-0007" not in html and "1 条未处理" not in html and "2 条未处理" in html
    assert "&lt;script&gt;reportNote()&lt;/script&gt;" in html and SCRIPT not in html
    assert "没有饮用水" in html and "驿站关门了" in html and 'href="/stations/JN-RS-0001?lang=zh"' in html
    assert html.count('class="report-accept"') == 2 and html.count('class="report-dismiss"') == 2
    assert 'aria-current="page">问题报告' in html and "未附位置" in html
    zou = list_page(signed_in(staff_app, staff, "zou"))
    assert re.findall(r'data-station="([^"]+)"', zou) == ["JN-RS-0007"]
    admin = list_page(signed_in(staff_app, staff, "admin"))
    assert re.findall(r'data-station="([^"]+)"', admin) == ["JN-RS-0007", "JN-RS-0002", "JN-RS-0001"]


def test_the_list_gives_the_reporters_distance_from_the_station(staff_app, staff):
    post_report(staff_app.test_client(), kind="moved", lon=116.5870, lat=35.4159)  # north of 116.5870 35.4150
    metres = Geod(ellps="WGS84").inv(116.5870, 35.4150, 116.5870, 35.4159)[2]
    assert 99.5 < metres < 100.5  # shown in tens of metres: "100 米"
    html = list_page(signed_in(staff_app, staff, "ren"))
    assert "报告人距驿站 100 米" in html and "核实位置" in html


def test_a_viewer_sees_the_reports_without_the_buttons(staff_app, staff):
    post_report(staff_app.test_client(), kind="closed")
    html = list_page(signed_in(staff_app, staff, "kan"))
    assert 'data-station="JN-RS-0001"' in html and "report-accept" not in html and "report-dismiss" not in html
    assert "不能处理报告" in html


def test_the_list_is_never_cached(staff_app, staff):
    assert signed_in(staff_app, staff, "ren").get("/manage/reports").headers["Cache-Control"] == "no-store"


# ---- accept and dismiss -------------------------------------------------------------------------------

def accepted(staff_app, staff, kind, station="JN-RS-0001", name="ren", note="核实过"):
    post_report(staff_app.test_client(), kind=kind, station=station)
    report_id = rows(staff_app)[-1]["id"]
    client = signed_in(staff_app, staff, name)
    answer = client.post(f"/manage/reports/{report_id}/accept", data={"csrf_token": csrf_of(list_page(client)),
                                                                       "note": note})
    return report_id, answer


def test_accepting_closed_opens_the_edit_form_with_status_temporarily_closed(staff_app, staff):
    report_id, answer = accepted(staff_app, staff, "closed")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    query = parse_qs(target.query)
    assert target.path == "/manage/stations/JN-RS-0001"
    assert query["status"] == ["temporarily_closed"] and query["from_report"] == [str(report_id)]
    assert f"问题报告 #{report_id}" in query["status_reason"][0] and "驿站关门了" in query["status_reason"][0]
    row = rows(staff_app)[-1]
    with staff_app.extensions["yizhan.db"].transaction() as session:
        ren_id = session.execute(sa.text("SELECT id FROM users WHERE name = 'ren'")).scalar()
    assert (row["status"], row["handled_by"], row["handler_note"]) == ("accepted", ren_id, "核实过")
    assert row["handled_at"] is not None
    assert staff_app.extensions["yizhan"].store.get("JN-RS-0001").status == "open"  # the editor saves the form


@pytest.mark.parametrize("kind, station, expected", [
    ("no_water", "JN-RS-0002", {"amenity": ["microwave", "phone_charging"]}),
    ("moved", "JN-RS-0001", {"check": ["position"]}),
    ("dirty", "JN-RS-0001", {}),
    ("other", "JN-RS-0001", {}),
])
def test_accepting_opens_the_edit_form_with_what_the_report_suggests(staff_app, staff, kind, station, expected):
    report_id, answer = accepted(staff_app, staff, kind, station=station, note="")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"from_report": [str(report_id)], **expected}
    assert rows(staff_app)[-1]["handler_note"] is None


def test_dismissing_marks_the_report_with_the_note_and_says_so(staff_app, staff):
    post_report(staff_app.test_client(), kind="other", note=SCRIPT)
    client = signed_in(staff_app, staff, "ren")
    answer = client.post("/manage/reports/1/dismiss", data={"csrf_token": csrf_of(list_page(client)),
                                                             "note": "重复报告"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/manage/reports?dismissed=1"
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已驳回报告 #1" in html and 'data-report="1"' not in html and "没有未处理的报告" in html
    row = rows(staff_app)[0]
    assert (row["status"], row["handler_note"]) == ("dismissed", "重复报告")


def test_an_editor_of_another_county_and_a_viewer_get_403(staff_app, staff):
    post_report(staff_app.test_client(), kind="closed")  # JN-RS-0001, 任城区
    for name in ("zou", "kan"):
        client = signed_in(staff_app, staff, name)
        assert 'data-report="1"' not in list_page(client) or name == "kan"
        token = csrf_of(client.get("/manage").get_data(as_text=True))  # the sign-out form's
        for action in ("accept", "dismiss"):
            answer = client.post(f"/manage/reports/1/{action}", data={"csrf_token": token})
            assert answer.status_code == 403, (name, action)
    assert rows(staff_app)[0]["status"] == "open"


def test_handling_needs_the_csrf_token_and_an_open_report(staff_app, staff):
    post_report(staff_app.test_client(), kind="closed")
    client = signed_in(staff_app, staff, "ren")
    assert client.post("/manage/reports/1/dismiss", data={"note": "x"}).status_code == 400
    token = csrf_of(list_page(client))
    assert client.post("/manage/reports/1/dismiss", data={"csrf_token": token}).status_code == 303
    again = client.post("/manage/reports/1/accept", data={"csrf_token": token})
    assert again.status_code == 409 and "dismissed already by ren" in again.get_data(as_text=True)
    assert client.post("/manage/reports/99/accept", data={"csrf_token": token}).status_code == 404
    for too_long in (2 ** 63, 10 ** 40):  # beyond a BIGINT: no such report either, not a driver's overflow
        assert client.post(f"/manage/reports/{too_long}/dismiss", data={"csrf_token": token}).status_code == 404
    assert client.post("/manage/reports/1/dismiss", data={"csrf_token": token,
                                                          "note": "长" * 501}).status_code == 400


# ---- the planner's counts ------------------------------------------------------------------------------

def test_planning_counts_open_and_handled_reports_per_county(staff_app):
    from web.reports.records import file_report, handle_report

    now = datetime.now(timezone.utc)
    day = timedelta(days=1)
    with staff_app.extensions["yizhan.db"].transaction() as session:
        file_report(session, "JN-RS-0001", "closed", now=now - day)
        file_report(session, "JN-RS-0002", "dirty", now=now - 9 * day)  # open over 7 days
        quick = file_report(session, "JN-RS-0001", "other", now=now - 5 * day)
        slow = file_report(session, "JN-RS-0001", "moved", now=now - 30 * day)
        zou = file_report(session, "JN-RS-0007", "no_water", SCRIPT, now=now - 2 * day)
        file_report(session, "JN-RS-9999", "other", now=now - day)  # a station no longer in the store
        handle_report(session, quick.id, "accepted", None, now=now - 4 * day)
        handle_report(session, slow.id, "dismissed", None, now=now - 10 * day)
        handle_report(session, zou.id, "dismissed", None, now=now - 2 * day)
    page = staff_app.test_client().get("/planning")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "7 天内处理" in html and "reportNote" not in html
    section = html[html.index('id="report-counts"'):]
    cells = {code: re.findall(r'<td class="num">(\d+)</td>', row)
             for code, row in re.findall(r'<tr data-adcode="(\d+)">(.*?)</tr>', section)}
    # open, open over 7 days, handled, handled within 7 days
    assert cells == {"370811": ["2", "1", "2", "1"], "370812": ["0", "0", "0", "0"], "370883": ["0", "0", "1", "1"]}
    assert "不在任何区县" in section
    total = re.search(r'<tfoot><tr class="city">(.*?)</tr>', section).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', total) == ["3", "1", "3", "2"]
    # the planner's JSON is unchanged
    assert "report" not in json.dumps(staff_app.test_client().get("/api/coverage").get_json())
