"""The installable app: the manifest, the service worker's route and settings, the offline data, the icons.

The worker's behaviour in a browser (what it keeps, what it never serves, the offline answer) is
``tests/browser/test_offline_browser.py``.
"""
from __future__ import annotations

import importlib.util
import json
import re
import struct
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stations import hours
from stations.model import Station
from stations.offline import OFFLINE_DAYS, offline_document
from stations.serves import SERVES

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
WED_0546 = datetime(2026, 11, 25, 5, 46, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def early_morning(monkeypatch):
    import web.pages

    monkeypatch.setattr(web.pages, "now_shanghai", lambda: WED_0546)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def worker_settings(text: str) -> dict:
    first, _, _ = text.partition("\n")
    m = re.fullmatch(r"self\.YIZHAN_SW = (\{.*\});", first)
    assert m, first
    return json.loads(m[1])


# ---- the manifest ------------------------------------------------------------------------------------

def test_the_manifest_names_the_app_in_chinese_and_starts_at_the_map(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["name"] == "驿站地图" and body["short_name"] == "驿站地图" and body["lang"] == "zh-CN"
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    page = client.get("/").get_data(as_text=True)
    assert f'<meta name="theme-color" content="{body["theme_color"]}">' in page  # one green
    assert {(i["sizes"], i["purpose"]) for i in body["icons"]} == {
        ("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png" == icon["type"]
        width, height = png_size(image.get_data())
        assert f"{width}x{height}" == icon["sizes"]


def test_the_manifest_in_english(client):
    body = client.get("/manifest.webmanifest?lang=en").get_json(force=True)
    assert (body["name"], body["short_name"], body["lang"]) == ("Rest Station Map", "Rest Stations", "en")
    # asked for English, it sets no language cookie: the browser fetches it beside the page
    assert "Set-Cookie" not in client.get("/manifest.webmanifest?lang=en").headers


@pytest.mark.parametrize("path, lang", [("/", "zh"), ("/?lang=en", "en"), ("/list", "zh"),
                                        ("/stations/JN-RS-0001", "zh")])
def test_public_pages_link_the_manifest_and_register_the_worker(client, path, lang):
    page = client.get(path).get_data(as_text=True)
    assert f'<link rel="manifest" href="/manifest.webmanifest?lang={lang}">' in page
    assert re.search(r'<script src="/static/js/sw-register\.js\?v=\w+" data-sw="/sw\.js" data-scope="/" defer>', page)


def test_the_embed_and_the_sign_in_page_are_no_app(client):
    for path in ("/embed", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert 'rel="manifest"' not in page and "sw-register" not in page, path


def test_the_icons_are_what_the_script_draws():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "scripts" / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
    maskable = module.draw(64, maskable=True)
    assert (maskable[..., 3] == 255).all()  # a maskable icon is opaque to its corners
    plain = module.draw(64, maskable=False)
    assert plain[0, 0, 3] == 0 and tuple(plain[32, 4, :3]) == module.GREEN  # rounded corners; green ground


# ---- the service worker ---------------------------------------------------------------------------------

def test_the_worker_is_served_from_the_root_with_its_scope_and_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"  # a new deployment is seen at the next visit
    text = response.get_data(as_text=True)
    settings = worker_settings(text)
    assert settings["scope"] == "/" and settings["pages"] == ["/"] and settings["data"] == "/offline/stations.json"
    assert "self.addEventListener(\"fetch\"" in text
    etag = response.headers["ETag"]
    assert client.get("/sw.js", headers={"If-None-Match": etag}).status_code == 304


def test_the_worker_keeps_every_file_the_map_page_loads(client):
    settings = worker_settings(client.get("/sw.js").get_data(as_text=True))
    page = client.get("/").get_data(as_text=True)
    linked = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert linked and linked <= set(settings["shell"]), linked - set(settings["shell"])


def test_the_worker_never_touches_staff_pages_sign_in_or_the_api(client):
    settings = worker_settings(client.get("/sw.js").get_data(as_text=True))
    assert {"/manage", "/login", "/logout", "/api/"} <= set(settings["never"])
    # and every such answer says no-store, which the worker never keeps whatever its path
    for path in ("/login", "/manage", "/manage/stations", "/api/health"):  # (/logout: POST only)
        response = client.get(path)
        assert "no-store" in response.headers.get("Cache-Control", ""), path


def test_the_workers_version_follows_the_shells_files(client, monkeypatch, tmp_path):
    import web.offline

    first = worker_settings(client.get("/sw.js").get_data(as_text=True))["version"]
    assert worker_settings(client.get("/sw.js").get_data(as_text=True))["version"] == first  # stable
    source = tmp_path / "service-worker.js"
    source.write_text(web.offline.WORKER_SOURCE.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    monkeypatch.setattr(web.offline, "WORKER_SOURCE", source)
    changed = client.get("/sw.js")
    assert worker_settings(changed.get_data(as_text=True))["version"] != first
    assert changed.get_data(as_text=True).endswith("// changed\n")


# ---- the offline data ---------------------------------------------------------------------------------

def test_the_offline_data_hold_the_open_stations_with_the_servers_flags(client, station_features):
    response = client.get("/offline/stations.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" not in response.headers.get("Cache-Control", "")  # the worker may keep it
    data = response.get_json()
    wanted = sorted(f["properties"]["id"] for f in station_features if f["properties"]["status"] == "open")
    assert [s["id"] for s in data["stations"]] == wanted
    first = datetime(2026, 11, 25, tzinfo=SHANGHAI)
    last = first + timedelta(days=OFFLINE_DAYS)
    assert data["window"] == [int(first.timestamp()) // 60, int(last.timestamp()) // 60]
    by_id = {f["properties"]["id"]: f for f in station_features}
    for record in data["stations"]:
        feature = by_id[record["id"]]
        props = feature["properties"]
        station = Station.from_feature(feature)
        assert [record["lon"], record["lat"]] == feature["geometry"]["coordinates"][:2]
        assert record["h24"] == hours.open_around_the_clock(props.get("opening_hours"))
        assert record["serves"] == [name for name, test in SERVES.items() if test(station)]
        assert (record["schedule"] is None) == (hours.open_state(props.get("opening_hours"), WED_0546) is None)


def test_a_store_above_the_inline_limit_has_no_offline_data(app_config):
    from web import create_app

    app = create_app({**app_config, "MAP_INLINE_MAX": 1})
    client = app.test_client()
    assert client.get("/offline/stations.json").status_code == 404
    assert worker_settings(client.get("/sw.js").get_data(as_text=True))["data"] is None
    page = client.get("/").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="yz-data">(.*?)</script>', page, re.S)[1])
    assert data["config"]["offline"] is None


@pytest.mark.parametrize("text", [
    "24/7", "Mo-Fr 08:00-18:00; PH off", "Mo-Fr 08:00-12:00,14:00-18:00; Sa,Su 09:00-17:00",
    "22:00-06:00", "Fr 22:00-02:00; Sa 10:00-18:00", "Tu-Su 09:00-17:00; PH off", "Mo-Su 07:00-20:00",
])
@pytest.mark.parametrize("first", [date(2026, 2, 10), date(2026, 9, 28), date(2026, 11, 25)])
def test_the_open_spans_say_open_exactly_when_the_hours_do(text, first):
    """Every 5 minutes over the window (the Spring Festival and National Day breaks and their make-up
    working days included): inside a span if and only if ``is_open``."""
    station = Station(id="X", name="x", kind="rest_station", lon=116.6, lat=35.4, opening_hours=text)
    start = datetime.combine(first, datetime.min.time()).replace(hour=13, minute=7, tzinfo=SHANGHAI)
    data = offline_document([station], start, days=14)
    spans = data["schedules"][data["stations"][0]["schedule"]]
    assert all(a < b for a, b in spans) and all(spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1))
    moment = datetime.combine(first, datetime.min.time())
    end = moment + timedelta(days=14)
    while moment < end:
        minute = int(moment.replace(tzinfo=SHANGHAI).timestamp()) // 60
        inside = any(a <= minute < b for a, b in spans)
        assert inside == hours.is_open(text, moment), (text, moment)
        moment += timedelta(minutes=5)


def test_stations_without_readable_hours_or_not_open_are_never_open_offline():
    stations = [Station(id="A", name="a", kind="rest_station", lon=116.6, lat=35.4, opening_hours=None),
                Station(id="B", name="b", kind="rest_station", lon=116.6, lat=35.4, opening_hours="sunrise-sunset"),
                Station(id="C", name="c", kind="rest_station", lon=116.6, lat=35.4, opening_hours="24/7",
                        status="planned")]
    data = offline_document(stations, WED_0546)
    assert [(s["id"], s["schedule"]) for s in data["stations"]] == [("A", None), ("B", None)]
    assert data["schedules"] == []
