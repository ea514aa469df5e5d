"""The staff's station pages: the list, the form (new, edit), confirm still true, delete, history, revert.

Accounts (``staff``): ``ren`` edits 任城区 (370811), ``zou`` 邹城市 (370883), ``kan`` is a viewer,
``admin`` everything. Fixture stations: JN-RS-0001 (古槐路驿站) in 370811, JN-RS-0007 in 370883,
JN-RS-0006 outside every county, JN-RS-0010 named ``XSS_NAME``; 兖州区 (370812) lies east of 任城区
across lon 116.70 (boxes in ``conftest.COUNTY_BOXES``). Expected positions come from
``coord_reference`` (the published formulas, written independently of ``stations.coords``).
"""
from __future__ import annotations

import html as html_module
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from markupsafe import escape

from conftest import STATION_FEATURES, XSS_NAME, county_of
from coord_reference import CHECK, metres_apart, wgs_to_bd, wgs_to_gcj
from geocoder_stub import stub  # noqa: F401  (fixture)
from staff import (cheap_hashing, csrf_of, database_url, migrated_url, staff, staff_app,  # noqa: F401  (fixtures)
                   staff_config)

REN_STATION, ZOU_STATION = "JN-RS-0001", "JN-RS-0007"
_VERSION = re.compile(r'name="version" value="([0-9a-f]*)"')


def store(app):
    return app.extensions["yizhan"].store


@pytest.fixture
def signed_in(staff_app, staff):
    """``signed_in(name)`` -> a test client signed in as ``name``."""
    def make(name):
        client = staff_app.test_client()
        assert staff.sign_in(client, name).status_code == 302
        return client
    return make


def form_of(client, station_id=REN_STATION, **changes):
    """The station's form as its page fills it in, with ``changes`` typed over it (lists for checkboxes)."""
    html = client.get(f"/manage/stations/{station_id}").get_data(as_text=True)
    return fields_of(html, **changes)


def fields_of(html: str, **changes) -> dict:
    form = html[html.index('id="station-form"'):]
    form = form[:form.index("</form>")]
    data: dict = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        value = value.group(1) if value else ""
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                data.setdefault(name.group(1), []).append(value)
            continue
        data[name.group(1)] = value
    for select in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select[1])
        data[select[0]] = chosen.group(1) if chosen else ""
    data = {k: (v if isinstance(v, list) else html_module.unescape(v)) for k, v in data.items()}
    data.setdefault("amenity", [])
    data.update(changes)
    return data


def save(client, station_id=REN_STATION, data=None, **changes):
    data = data if data is not None else form_of(client, station_id, **changes)
    return client.post(f"/manage/stations/{station_id}", data=data)


def page_csrf(client, url="/manage") -> str:
    return csrf_of(client.get(url).get_data(as_text=True))


# ---- who sees what ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/manage/stations", f"/manage/stations/{REN_STATION}", "/manage/stations/new",
                                 f"/manage/stations/{REN_STATION}/history"])
def test_staff_pages_send_the_public_to_the_sign_in_page(staff_app, url):
    answer = staff_app.test_client().get(url)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_an_editor_lists_the_stations_of_their_county_with_edit_buttons(signed_in):
    html = signed_in("ren").get("/manage/stations").get_data(as_text=True)
    ids = re.findall(r'<tr data-id="([^"]+)"', html)
    expected = sorted(f["properties"]["id"] for f in STATION_FEATURES if f["properties"].get("county_code") == "370811")
    assert ids == expected
    assert 'class="link-button confirm-button"' in html and 'href="/manage/stations/new' in html


def test_a_viewer_sees_every_station_and_no_edit_button(signed_in):
    html = signed_in("kan").get("/manage/stations").get_data(as_text=True)
    assert len(re.findall(r'<tr data-id="', html)) == len(STATION_FEATURES)
    assert "confirm-button" not in html and "/manage/stations/new" not in html
    page = signed_in("kan").get(f"/manage/stations/{REN_STATION}").get_data(as_text=True)
    assert 'id="read-only"' in page and 'id="save-button"' not in page and 'class="form-all" disabled' in page
    assert 'id="confirm-button"' not in page and 'id="delete-button"' not in page


def test_the_list_filters_by_county_kind_status_and_words(signed_in):
    client = signed_in("admin")

    def ids(query):
        return re.findall(r'<tr data-id="([^"]+)"', client.get("/manage/stations?" + query).get_data(as_text=True))

    assert ids("county=370883") == ["JN-CP-0002", "JN-RS-0007", "JN-RS-0008"]
    assert ids("kind=cultural_palace") == ["JN-CP-0001", "JN-CP-0002"]
    assert ids("status=temporarily_closed") == ["JN-RS-0003"]
    assert ids("q=邹城 驿站") == ["JN-RS-0007", "JN-RS-0008"]
    assert "JN-RS-0006" in ids("")  # an admin sees the station outside every county too
    assert ids("county=370883&status=closed") == []
    assert signed_in("ren").get("/manage/stations?county=370883").get_data(as_text=True).count("<tr data-id") == 0
    assert client.get("/manage/stations?status=maybe").status_code == 400


def test_the_list_sorts_by_last_verified_on_oldest_first(staff_app, signed_in):
    store(staff_app).update("JN-RS-0002", {"last_verified_on": "2025-01-01"})
    store(staff_app).update("JN-RS-0004", {"last_verified_on": None})
    store(staff_app).update("JN-RS-0009", {"last_verified_on": "2026-11-01"})
    html = signed_in("ren").get("/manage/stations?sort=verified_oldest").get_data(as_text=True)
    ids = re.findall(r'<tr data-id="([^"]+)"', html)
    assert ids[:2] == ["JN-RS-0004", "JN-RS-0002"] and ids[-1] == "JN-RS-0009"
    assert re.findall(r'<tr data-id="([^"]+)"', signed_in("ren").get(
        "/manage/stations?sort=verified_newest").get_data(as_text=True))[0] == "JN-RS-0009"
    assert "未核实" in html


def test_a_station_name_with_markup_is_text_on_every_staff_page(staff_app, signed_in):
    client = signed_in("ren")
    sid = "JN-RS-0010"
    assert save(client, sid, phone="0537-1111111").status_code == 303
    pages = [client.get(url).get_data(as_text=True) for url in
             ("/manage/stations", f"/manage/stations/{sid}", f"/manage/stations/{sid}/history")]
    stale = form_of(client, sid)
    save(client, sid, phone="0537-2222222")
    pages.append(save(client, sid, data=dict(stale, name=XSS_NAME + "!")).get_data(as_text=True))  # the conflict page
    pages.append(save(client, sid, phone="x").get_data(as_text=True))  # the problems page
    for html in pages:
        assert XSS_NAME not in html
        assert str(escape(XSS_NAME)) in html


# ---- editing -------------------------------------------------------------------------------------------

def test_an_editor_saves_the_form_and_the_journal_names_them(staff_app, signed_in):
    client = signed_in("ren")
    answer = save(client, name="古槐路驿站（新）", amenity=["drinking_water", "microwave"], opening_hours="Mo-Su 06:00-22:00",
                  note="电话回访")
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"/manage/stations/{REN_STATION}")
    station = store(staff_app).get(REN_STATION)
    assert station.name == "古槐路驿站（新）" and station.amenities == ("drinking_water", "microwave")
    entry = store(staff_app).history(REN_STATION)[0]
    assert entry.who == "ren" and entry.note == "电话回访"
    assert set(entry.changed) == {"name", "amenities", "opening_hours"}
    assert "已保存" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_saving_an_unchanged_form_changes_nothing(staff_app, signed_in):
    before = store(staff_app).version
    answer = save(signed_in("ren"))
    assert answer.status_code == 303 and store(staff_app).version == before


def test_every_problem_is_shown_next_to_its_field_and_nothing_is_saved(staff_app, signed_in):
    before = store(staff_app).get(REN_STATION)
    answer = save(signed_in("ren"), name=" ", phone="12", opening_hours="Mo-Fr 25:00-18:00", beds="many",
                  last_verified_on="2026-02-30", status="open", kind="cultural_palace", palace_class="4",
                  floor_area_m2="-5")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    for field in ("name", "phone", "opening_hours", "beds", "last_verified_on", "palace_class", "floor_area_m2"):
        assert f'id="problem-{field}"' in html, field
        assert f'aria-describedby="problem-{field}"' in html, field
    assert "第 7 个字符“25:00”处" in html  # the parser points at the faulty part
    assert "有 7 处问题" in html
    assert 'value="many"' in html and 'value="Mo-Fr 25:00-18:00"' in html  # what was typed stays
    assert store(staff_app).get(REN_STATION) == before


def problems_shown(html: str, field: str) -> list[str]:
    """The texts of the problem list next to ``field``."""
    block = re.search(rf'<ul class="field-problems" id="problem-{field}"[^>]*>(.*?)</ul>', html, re.S)
    return [html_module.unescape(t) for t in re.findall(r"<li>(.*?)</li>", block.group(1))] if block else []


@pytest.mark.parametrize("lang, control, beds, area", [
    ("zh", "含有控制字符", "床位数须为 0 到 100,000 之间的整数", "不超过 1,000,000"),
    ("en", "Contains a control character", "A whole number from 0 to 100,000", "at most 1,000,000"),
])
def test_a_control_character_or_a_number_past_its_bound_is_shown_next_to_its_field(staff_app, signed_in, lang,
                                                                                  control, beds, area):
    """A vertical tab or a NUL pasted with a text; a 401-digit count of beds (issues 9, 10)."""
    before = store(staff_app).get(REN_STATION)
    client = signed_in("ren")
    data = form_of(client, address="古槐路\x0b18号", host="市总\x00工会", status="temporarily_closed",
                   status_reason="装\x85修", beds="1" * 401, floor_area_m2="1000001")
    answer = client.post(f"/manage/stations/{REN_STATION}?lang={lang}", data=data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    for field in ("address", "host", "status_reason"):
        [text] = problems_shown(html, field)
        assert text.startswith(control), (field, text)
    [text] = problems_shown(html, "beds")
    assert text.startswith(beds), text
    [text] = problems_shown(html, "floor_area_m2")
    assert area in text, text
    assert store(staff_app).get(REN_STATION) == before


def test_an_unreadable_position_is_shown_with_the_other_problems(staff_app, signed_in):
    answer = save(signed_in("ren"), lon="abc", lat="35.4", phone="12")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="problem-position"' in html and 'id="problem-phone"' in html
    assert "经纬度须为数字" in html
    swapped = save(signed_in("ren"), lon="35.41", lat="116.59").get_data(as_text=True)
    assert "填反了" in swapped


def test_problems_are_in_english_on_the_english_form(signed_in):
    client = signed_in("ren")
    data = form_of(client, phone="12")
    html = client.post(f"/manage/stations/{REN_STATION}?lang=en", data=data).get_data(as_text=True)
    assert "Not a phone number" in html and "1 problems; nothing was saved" in html


def test_the_form_takes_a_position_typed_in_gcj02_or_bd09_and_stores_wgs84(staff_app, signed_in):
    target = (116.6123456, 35.4234567)  # WGS-84, in 任城区
    for crs, typed in (("gcj02", wgs_to_gcj(*target)), ("bd09", wgs_to_bd(*target))):
        store(staff_app).update(REN_STATION, {"lon": 116.587, "lat": 35.415})
        answer = save(signed_in("ren"), lon=f"{typed[0]:.9f}", lat=f"{typed[1]:.9f}", crs=crs)
        assert answer.status_code == 303, crs
        station = store(staff_app).get(REN_STATION)
        assert metres_apart((station.lon, station.lat), target) < 0.05, crs
        assert typed != target and metres_apart(typed, target) > 100  # the offsets are real
        assert store(staff_app).history(REN_STATION)[0].changed == ("geometry",)


def test_a_position_pasted_as_lon_comma_lat_is_read_longitude_first(staff_app, signed_in):
    assert save(signed_in("ren"), lon="116.6000001,35.4000002", lat="").status_code == 303
    station = store(staff_app).get(REN_STATION)
    assert (station.lon, station.lat) == (116.6000001, 35.4000002)


def test_status_change_with_reason_and_reopening_date_is_shown_publicly(staff_app, signed_in):
    client = signed_in("ren")
    assert save(client, status="temporarily_closed", status_reason="内部装修 <b>", reopens_on="2026-12-20").status_code == 303
    station = store(staff_app).get(REN_STATION)
    assert (station.status, station.status_reason, station.reopens_on) == ("temporarily_closed", "内部装修 <b>",
                                                                         "2026-12-20")
    public = staff_app.test_client().get(f"/stations/{REN_STATION}").get_data(as_text=True)
    assert "内部装修 &lt;b&gt;" in public and "预计 2026-12-20" in public and "暂停开放" in public
    english = staff_app.test_client().get(f"/stations/{REN_STATION}?lang=en").get_data(as_text=True)
    assert "2026-12-20" in english and "reopen" in english
    # reopening: the reason and the date go with the closure
    assert save(client, status="open").status_code == 303
    station = store(staff_app).get(REN_STATION)
    assert (station.status, station.status_reason, station.reopens_on) == ("open", None, None)


def test_a_reopening_date_belongs_to_a_temporarily_closed_station_only(staff_app, signed_in):
    answer = save(signed_in("admin"), data=None, status="closed", status_reason="拆除", reopens_on="2027-01-01")
    assert answer.status_code == 303  # the form drops the date of a station that is not temporarily closed
    assert store(staff_app).get(REN_STATION).reopens_on is None
    from stations.errors import InvalidRecord
    with pytest.raises(InvalidRecord, match="reopens_on"):
        store(staff_app).update(REN_STATION, {"reopens_on": "2027-01-01"})


def test_the_form_opens_with_a_suggested_change_from_a_report(signed_in):
    html = signed_in("ren").get(f"/manage/stations/{REN_STATION}?status=temporarily_closed&status_reason=没水了"
                                "&amenity=&from_report=4&check=position").get_data(as_text=True)
    data = fields_of(html)
    assert data["status"] == "temporarily_closed" and data["status_reason"] == "没水了" and data["amenity"] == []
    assert "问题报告 #4" in html and html.count(" suggested") >= 3


# ---- who may change what --------------------------------------------------------------------------------

def test_an_editor_gets_403_on_another_countys_station_and_nothing_changes(staff_app, signed_in):
    client = signed_in("ren")
    before = store(staff_app).get(ZOU_STATION)
    data = form_of(signed_in("zou"), ZOU_STATION, name="改名")
    data["csrf_token"] = page_csrf(client)
    assert client.post(f"/manage/stations/{ZOU_STATION}", data=data).status_code == 403
    assert store(staff_app).get(ZOU_STATION) == before
    page = client.get(f"/manage/stations/{ZOU_STATION}").get_data(as_text=True)
    assert 'id="read-only"' in page and 'id="save-button"' not in page and 'id="confirm-button"' not in page
    assert client.post(f"/manage/stations/{ZOU_STATION}/confirm", data={"csrf_token": data["csrf_token"]}).status_code == 403
    assert store(staff_app).get(ZOU_STATION) == before


def test_an_editor_cannot_move_a_station_across_the_county_line(staff_app, signed_in):
    before = store(staff_app).get(REN_STATION)
    lon, lat = 116.75, 35.45  # 兖州区
    assert county_of(lon, lat) == "370812"
    answer = save(signed_in("ren"), lon=str(lon), lat=str(lat))
    assert answer.status_code == 403
    html = answer.get_data(as_text=True)
    assert 'id="problem-position"' in html and "不能把站点移到其他区县" in html
    assert store(staff_app).get(REN_STATION) == before
    # the same move in GCJ-02 is the same move
    gcj = wgs_to_gcj(lon, lat)
    assert save(signed_in("ren"), lon=str(gcj[0]), lat=str(gcj[1]), crs="gcj02").status_code == 403
    # an admin may
    assert save(signed_in("admin"), lon=str(lon), lat=str(lat)).status_code == 303
    assert store(staff_app).get(REN_STATION).county_code == "370812"


def test_a_viewer_changes_nothing(staff_app, signed_in):
    client = signed_in("kan")
    data = form_of(signed_in("ren"), name="改名")
    data["csrf_token"] = page_csrf(client)
    assert client.post(f"/manage/stations/{REN_STATION}", data=data).status_code == 403
    assert client.get("/manage/stations/new").status_code == 403
    assert client.post(f"/manage/stations/{REN_STATION}/confirm", data={"csrf_token": data["csrf_token"]}).status_code == 403
    assert store(staff_app).get(REN_STATION).name == "古槐路驿站"


@pytest.mark.parametrize("path", [f"/manage/stations/{REN_STATION}", "/manage/stations/new",
                                  f"/manage/stations/{REN_STATION}/confirm", f"/manage/stations/{REN_STATION}/delete",
                                  f"/manage/stations/{REN_STATION}/history/1/revert"])
def test_a_form_without_its_csrf_token_is_refused(staff_app, signed_in, path):
    client = signed_in("admin")
    save(client, name="第一次")  # a journal entry 1 to revert
    before = store(staff_app).version
    data = form_of(client, name="无令牌")
    del data["csrf_token"]
    answer = client.post(path, data=data)
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    assert store(staff_app).version == before


# ---- no lost update -------------------------------------------------------------------------------------

def test_saving_over_a_newer_version_is_a_409_with_both_versions_and_the_typing_kept(staff_app, signed_in):
    mine, theirs = signed_in("ren"), signed_in("admin")
    started = form_of(mine, name="我的名称", note="我的说明")
    assert save(theirs, phone="0537-9999999", host="他人改的主办单位").status_code == 303
    answer = save(mine, data=started)
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert 'id="conflict"' in html and "admin 于" in html
    rows = dict(re.findall(r'<tr data-field="([a-z_]+)" class="([^"]*)"', html[html.index('id="conflict-table"'):]))
    assert "other-changed" in rows["phone"] and "other-changed" in rows["host"] and "other-changed" not in rows["name"]
    assert ">0537-9999999<" in html and ">我的名称<" in html
    shown = fields_of(html)
    # the form: the new version, with what I changed typed over it; saving it again keeps both
    assert shown["version"] == re.search(r"[0-9a-f]{16}", shown["version"]).group(0) != started["version"]
    assert (shown["name"], shown["phone"], shown["host"], shown["note"]) == ("我的名称", "0537-9999999",
                                                                             "他人改的主办单位", "我的说明")
    assert store(staff_app).get(REN_STATION).name == "古槐路驿站"
    assert save(mine, data=shown).status_code == 303
    station = store(staff_app).get(REN_STATION)
    assert (station.name, station.phone, station.host) == ("我的名称", "0537-9999999", "他人改的主办单位")


def test_a_field_both_changed_is_marked_and_keeps_the_users_value(signed_in):
    mine, theirs = signed_in("ren"), signed_in("admin")
    started = form_of(mine, phone="0537-1111111")
    save(theirs, phone="0537-2222222")
    html = save(mine, data=started).get_data(as_text=True)
    assert re.search(r'<tr data-field="phone" class="other-changed clash">', html)
    assert fields_of(html)["phone"] == "0537-1111111"


def test_two_saves_from_one_version_at_once_one_wins_the_other_gets_409(staff_app, signed_in):
    import threading

    a, b = signed_in("ren"), signed_in("admin")
    form_a, form_b = form_of(a, name="甲"), form_of(b, name="乙")
    codes = []
    barrier = threading.Barrier(2)

    def post(client, data):
        barrier.wait()
        codes.append(client.post(f"/manage/stations/{REN_STATION}", data=data).status_code)

    threads = [threading.Thread(target=post, args=(a, form_a)), threading.Thread(target=post, args=(b, form_b))]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(codes) == [303, 409]
    assert store(staff_app).get(REN_STATION).name in ("甲", "乙")
    assert len(store(staff_app).history(REN_STATION)) == 1


def test_a_form_without_its_version_is_refused(staff_app, signed_in):
    client = signed_in("ren")
    data = form_of(client, name="无版本")
    data["version"] = ""
    assert client.post(f"/manage/stations/{REN_STATION}", data=data).status_code == 400
    assert store(staff_app).get(REN_STATION).name == "古槐路驿站"


# ---- new stations ---------------------------------------------------------------------------------------

def test_an_editor_adds_a_station_typed_in_gcj02(staff_app, signed_in):
    client = signed_in("ren")
    html = client.get("/manage/stations/new").get_data(as_text=True)
    target = (116.55, 35.35)
    gcj = wgs_to_gcj(*target)
    data = fields_of(html, name="新驿站", lon=f"{gcj[0]:.9f}", lat=f"{gcj[1]:.9f}", crs="gcj02",
                     amenity=["drinking_water", "toilet"], opening_hours="24/7")
    answer = client.post("/manage/stations/new", data=data)
    assert answer.status_code == 303
    new_id = answer.headers["Location"].split("/manage/stations/")[1].split("?")[0]
    station = store(staff_app).get(new_id)
    assert station.name == "新驿站" and station.county_code == "370811" and station.kind == "rest_station"
    assert metres_apart((station.lon, station.lat), target) < 0.05
    assert store(staff_app).history(new_id)[0].action == "add" and store(staff_app).history(new_id)[0].who == "ren"


def test_a_new_station_outside_the_editors_counties_is_refused(staff_app, signed_in):
    client = signed_in("ren")
    data = fields_of(client.get("/manage/stations/new").get_data(as_text=True), name="邹城新站", lon="116.9", lat="35.2")
    before = store(staff_app).version
    answer = client.post("/manage/stations/new", data=data)
    assert answer.status_code == 403 and 'id="problem-position"' in answer.get_data(as_text=True)
    empty = client.post("/manage/stations/new", data=fields_of(client.get("/manage/stations/new").get_data(as_text=True)))
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert 'id="problem-name"' in html and 'id="problem-position"' in html
    assert store(staff_app).version == before


# ---- confirm still true ---------------------------------------------------------------------------------

def test_confirm_still_true_sets_last_verified_on_to_today_in_shanghai(staff_app, signed_in, monkeypatch):
    from web import ago

    monkeypatch.setattr(ago, "today_shanghai", lambda: date(2026, 11, 26))
    client = signed_in("ren")
    html = client.get("/manage/stations").get_data(as_text=True)
    row = html[html.index(f'<tr data-id="{REN_STATION}"'):]
    version = _VERSION.search(row).group(1)
    answer = client.post(f"/manage/stations/{REN_STATION}/confirm?next=list",
                         data={"csrf_token": csrf_of(html), "version": version})
    assert answer.status_code == 303 and urlsplit(answer.headers["Location"]).path == "/manage/stations"
    assert store(staff_app).get(REN_STATION).last_verified_on == "2026-11-26"
    entry = store(staff_app).history(REN_STATION)[0]
    assert entry.changed == ("last_verified_on",) and entry.who == "ren"
    assert "今天核实" in client.get("/manage/stations").get_data(as_text=True)
    # a second click from the stale page: refused, explained
    stale = client.post(f"/manage/stations/{REN_STATION}/confirm", data={"csrf_token": csrf_of(html), "version": version})
    assert stale.status_code == 303 and "刚被他人修改" in client.get(stale.headers["Location"]).get_data(as_text=True)


def test_the_public_page_says_how_long_ago_a_record_was_verified(staff_app, monkeypatch):
    from web import ago

    monkeypatch.setattr(ago, "today_shanghai", lambda: date(2026, 10, 4))
    client = staff_app.test_client()
    assert "3 天前核实" in client.get(f"/stations/{REN_STATION}").get_data(as_text=True)
    assert "verified 3 days ago" in client.get(f"/stations/{REN_STATION}?lang=en").get_data(as_text=True)
    assert ago.verified_text("2026-10-04", "zh") == "今天核实"
    assert ago.verified_text("2026-10-03", "en") == "verified yesterday"
    assert ago.verified_text(None, "zh") == "未核实"


# ---- delete ---------------------------------------------------------------------------------------------

def test_only_an_admin_deletes_and_the_journal_keeps_the_station(staff_app, signed_in):
    editor = signed_in("ren")
    version = fields_of(editor.get(f"/manage/stations/{REN_STATION}").get_data(as_text=True))["version"]
    answer = editor.post(f"/manage/stations/{REN_STATION}/delete", data={"csrf_token": page_csrf(editor),
                                                                          "version": version})
    assert answer.status_code == 403 and store(staff_app).get(REN_STATION)
    assert 'id="delete-button"' not in editor.get(f"/manage/stations/{REN_STATION}").get_data(as_text=True)

    admin = signed_in("admin")
    page = admin.get(f"/manage/stations/{REN_STATION}").get_data(as_text=True)
    assert 'id="delete-button"' in page
    answer = admin.post(f"/manage/stations/{REN_STATION}/delete", data={"csrf_token": csrf_of(page), "version": version,
                                                                         "note": "重复记录"})
    assert answer.status_code == 303
    from stations.errors import NotFound
    with pytest.raises(NotFound):
        store(staff_app).get(REN_STATION)
    history = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已删除" in history and "古槐路驿站" in history and "重复记录" in history
    entry = store(staff_app).history(REN_STATION)[0]
    assert (entry.action, entry.who, entry.before["properties"]["name"]) == ("delete", "admin", "古槐路驿站")
    # and a revert brings it back
    assert admin.post(f"/manage/stations/{REN_STATION}/history/{entry.id}/revert",
                      data={"csrf_token": csrf_of(history)}).status_code == 303
    assert store(staff_app).get(REN_STATION).name == "古槐路驿站"


# ---- history and revert ---------------------------------------------------------------------------------

def test_history_lists_every_change_with_who_when_fields_and_notes(staff_app, signed_in):
    client = signed_in("ren")
    save(client, phone="0537-1111111", note="第一次")
    save(client, name="古槐路驿站二", amenity=["toilet"])
    html = client.get(f"/manage/stations/{REN_STATION}/history").get_data(as_text=True)
    entries = re.findall(r'<li class="history-entry action-(\w+)" id="change-(\d+)"', html)
    assert [action for action, _ in entries] == ["update", "update"]
    assert int(entries[0][1]) > int(entries[1][1])  # newest first
    assert "0537-2345678" in html and "0537-1111111" in html and "第一次" in html
    assert "古槐路驿站二" in html and "卫生间" in html
    when = store(staff_app).history(REN_STATION)[0].when
    from zoneinfo import ZoneInfo
    assert when.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S") in html
    assert html.count('class="staff-btn secondary revert-button"') == 2


def test_a_journal_note_with_control_characters_is_kept_on_one_line(staff_app, signed_in):
    # a NUL cannot be stored in PostgreSQL and a line break breaks the history's one line: both become spaces
    answer = save(signed_in("ren"), phone="0537-1111111", note="第一\x00次\n核实\x0b\x85完")
    assert answer.status_code == 303
    assert store(staff_app).history(REN_STATION)[0].note == "第一 次 核实  完"


def test_history_lists_the_imports_that_touched_the_station(staff_app, signed_in):
    station = store(staff_app).get(REN_STATION)
    from dataclasses import replace
    store(staff_app).import_changes([replace(station, phone="0537-3333333")], who="导入员", note="名单.xlsx")
    html = signed_in("admin").get(f"/manage/stations/{REN_STATION}/history").get_data(as_text=True)
    assert "action-import" in html and "导入员" in html and "0537-3333333" in html and "名单.xlsx" in html


def test_a_revert_is_a_change_of_its_own_in_the_journal(staff_app, signed_in):
    client = signed_in("ren")
    save(client, phone="0537-1111111")
    entry = store(staff_app).history(REN_STATION)[0]
    html = client.get(f"/manage/stations/{REN_STATION}/history").get_data(as_text=True)
    answer = client.post(f"/manage/stations/{REN_STATION}/history/{entry.id}/revert",
                         data={"csrf_token": csrf_of(html), "note": "改错了"})
    assert answer.status_code == 303
    assert store(staff_app).get(REN_STATION).phone == "0537-2345678"
    revert = store(staff_app).history(REN_STATION)[0]
    assert (revert.reverts, revert.who, revert.note, revert.changed) == (entry.id, "ren", "改错了", ("phone",))
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已撤销修改" in html and f"撤销第 {entry.id} 号修改" in html


def test_a_revert_the_data_no_longer_allows_is_explained_and_changes_nothing(staff_app, signed_in):
    client = signed_in("ren")
    save(client, phone="0537-1111111")
    first = store(staff_app).history(REN_STATION)[0]
    save(client, phone="0537-2222222")
    before = store(staff_app).version
    answer = client.post(f"/manage/stations/{REN_STATION}/history/{first.id}/revert",
                         data={"csrf_token": page_csrf(client)})
    assert answer.status_code == 303 and store(staff_app).version == before
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "无法撤销" in html and "phone" in html


def test_an_editor_of_another_county_cannot_revert(staff_app, signed_in):
    save(signed_in("ren"), phone="0537-1111111")
    entry = store(staff_app).history(REN_STATION)[0]
    zou = signed_in("zou")
    assert "revert-button" not in zou.get(f"/manage/stations/{REN_STATION}/history").get_data(as_text=True)
    token = page_csrf(zou)
    answer = zou.post(f"/manage/stations/{REN_STATION}/history/{entry.id}/revert", data={"csrf_token": token})
    assert answer.status_code == 403 and store(staff_app).get(REN_STATION).phone == "0537-1111111"
    assert zou.post(f"/manage/stations/{ZOU_STATION}/history/{entry.id}/revert",
                    data={"csrf_token": token}).status_code == 404  # not that station's change


# ---- the form's lookups ---------------------------------------------------------------------------------

def test_hours_preview_describes_valid_hours_and_points_at_the_fault(staff_app):
    client = staff_app.test_client()
    good = client.get("/api/hours/preview", query_string={"text": "Mo-Fr 08:00-18:00; PH off", "lang": "en"}).get_json()
    assert good["valid"] is True and "08:00-18:00" in good["description"] and isinstance(good["open_now"], bool)
    bad = client.get("/api/hours/preview", query_string={"text": "Mo-Fr 08:00-18:00; Sa 9:00-12:00"}).get_json()
    assert bad["valid"] is False
    assert (bad["error"]["column"], bad["error"]["token"], bad["error"]["length"]) == (23, "9:00", 4)
    assert "Mo-Fr 08:00-18:00; Sa 9:00-12:00"[22:26] == "9:00"
    assert client.get("/api/hours/preview").status_code == 400


def test_locate_gives_the_county_and_converts_gcj02_and_bd09(staff_app):
    client = staff_app.test_client()
    target = (116.6123456, 35.4234567)
    for crs, given in (("wgs84", target), ("gcj02", wgs_to_gcj(*target)), ("bd09", wgs_to_bd(*target))):
        answer = client.get("/api/counties/locate", query_string={"lon": given[0], "lat": given[1], "crs": crs}).get_json()
        assert answer["county"] == {"code": "370811", "name": "任城区"}, crs
        assert metres_apart((answer["lon"], answer["lat"]), target) < 0.05, crs
        assert metres_apart((answer["gcj02"]["lon"], answer["gcj02"]["lat"]), wgs_to_gcj(*target)) < 0.05
    # the published reference pair (wandergis/coordtransform): GCJ-02 back to its WGS-84
    (wlon, wlat), (glon, glat), (blon, blat) = CHECK
    answer = client.get("/api/counties/locate", query_string={"lon": glon, "lat": glat, "crs": "gcj02"}).get_json()
    assert abs(answer["lon"] - wlon) < 1e-6 and abs(answer["lat"] - wlat) < 1e-6 and answer["county"] is None
    # and its BD-09 value, which is the input taken as GCJ-02, back to that GCJ-02 (through WGS-84)
    answer = client.get("/api/counties/locate", query_string={"lon": blon, "lat": blat, "crs": "bd09"}).get_json()
    assert abs(answer["gcj02"]["lon"] - wlon) < 1e-6 and abs(answer["gcj02"]["lat"] - wlat) < 1e-6
    assert client.get("/api/counties/locate", query_string={"lon": 200, "lat": 35}).status_code == 400


def test_both_lookups_are_in_the_openapi_document(staff_app):
    paths = staff_app.test_client().get("/api/openapi.json").get_json()["paths"]
    assert "/api/hours/preview" in paths and "/api/counties/locate" in paths


@pytest.fixture
def geocoded_app(staff_config, stub):
    from web import create_app

    app = create_app({**staff_config, "GEOCODER": "nominatim", "GEOCODER_URL": stub.url, "GEOCODER_MIN_DELAY_S": 0})
    yield app
    app.extensions["yizhan.db"].dispose()


def test_look_up_this_address_fills_the_position_without_saving(geocoded_app, stub):
    from staff import Staff

    staff = Staff(geocoded_app)
    staff.add("ren")
    client = geocoded_app.test_client()
    staff.sign_in(client, "ren")
    found = {"lat": "35.4011", "lon": "116.5922", "display_name": "洸河路18号, 任城区", "addresstype": "building",
             "class": "building", "type": "yes", "place_rank": 30, "importance": 0.1}
    stub.answer = lambda path, params: (200, [found], 0)
    before = geocoded_app.extensions["yizhan"].store.version
    data = form_of(client, address="洸河路18号", action="lookup")
    answer = client.post(f"/manage/stations/{REN_STATION}", data=data)
    assert answer.status_code == 200
    shown = fields_of(answer.get_data(as_text=True))
    assert (shown["lon"], shown["lat"], shown["crs"]) == ("116.5922", "35.4011", "wgs84")
    assert "已按地址" in answer.get_data(as_text=True)
    assert geocoded_app.extensions["yizhan"].store.version == before
    road = dict(found, addresstype="road", **{"class": "highway", "type": "primary", "place_rank": 26})
    stub.answer = lambda path, params: (200, [road], 0)
    answer = client.post(f"/manage/stations/{REN_STATION}", data=form_of(client, address="洸河路", action="lookup"))
    assert "只找到道路或区域" in answer.get_data(as_text=True)


def test_a_status_change_drops_the_reason_and_date_of_the_status_before_unless_it_sets_them(staff_app, staff):
    from stations.store import apply_changes

    closed = store(staff_app).update(REN_STATION, {"status": "temporarily_closed", "status_reason": "维修",
                                                   "reopens_on": "2026-12-01"})
    assert apply_changes(closed, {"status": "temporarily_closed"})["properties"]["reopens_on"] == "2026-12-01"
    assert "status_reason" not in apply_changes(closed, {"status": "closed"})["properties"]
    assert apply_changes(closed, {"status": "closed", "status_reason": "拆除"})["properties"]["status_reason"] == "拆除"
    # the write API's merge patch of the status alone reopens the station cleanly (no 422 for a stale date)
    client = staff_app.test_client()
    etag = client.get(f"/api/stations/{REN_STATION}").headers["ETag"]
    answer = client.patch(f"/api/stations/{REN_STATION}", json={"properties": {"status": "open"}},
                          headers={**staff.bearer("ren"), "If-Match": etag})
    assert answer.status_code == 200, answer.get_json()
    station = store(staff_app).get(REN_STATION)
    assert (station.status, station.status_reason, station.reopens_on) == ("open", None, None)
    entry = store(staff_app).history(REN_STATION)[0]
    assert entry.changed == ("status", "status_reason", "reopens_on") and entry.who == "ren"
