"""Embeds for other sites (issue 12): ``/embed``'s options, the builder's code, oEmbed, the static export.

Expected values come from the fixture data (``conftest.STATION_FEATURES``, ``COUNTY_BOXES``), the
catalogue, and the oEmbed 1.0 specification's words (https://oembed.com/: ``type`` ``rich``, ``html``,
``width``, ``height``; 404 for a URL the provider has nothing for, 501 for a format it does not serve).
"""
from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from conftest import STATION_FEATURES
from stations import i18n as catalogue
from test_embed import csp_of
from test_pages import page_data, parse

ZOUCHENG = "370883"
ALL_CONTROLS = ["nearest", "search", "filters", "legend", "zoom", "fullscreen"]


def ids_of(county=None, kinds=None) -> list[str]:
    """The ids a map restricted to ``county`` and ``kinds`` draws (closed stations never are)."""
    return sorted(f["properties"]["id"] for f in STATION_FEATURES
                  if f["properties"]["status"] != "closed"
                  and (county is None or f["properties"].get("county_code") == county)
                  and (kinds is None or f["properties"]["kind"] in kinds))


def error_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# ---- /embed's options ---------------------------------------------------------------------------

def test_county_and_kinds_restrict_the_embed_and_its_nearest_searches_them_in_the_page(client):
    data = page_data(client.get(f"/embed?county={ZOUCHENG}&kind=rest_station&kind=cultural_palace")
                     .get_data(as_text=True))
    assert sorted(r["id"] for r in data["stations"]) == ids_of(ZOUCHENG, {"rest_station", "cultural_palace"})
    config = data["config"]
    assert config["localNearest"] is True
    # rest stations, and cultural palaces with drinking water: 邹城市工人文化宫 has none
    assert sorted(config["serving"]["passing_worker"]) == ["JN-RS-0007", "JN-RS-0008"]
    only_palaces = page_data(client.get("/embed?kind=cultural_palace").get_data(as_text=True))
    assert sorted(r["id"] for r in only_palaces["stations"]) == ["JN-CP-0001", "JN-CP-0002"]
    # an unrestricted embed asks the API, as the full map does
    whole = page_data(client.get("/embed").get_data(as_text=True))["config"]
    assert whole["localNearest"] is False and whole["nearestUrl"] == "/api/nearest"


def test_the_filters_offer_only_the_embeds_kinds(client):
    tags = parse(client.get("/embed?kind=cultural_palace").get_data(as_text=True)).tags
    radios = [a["value"] for t, a in tags if t == "input" and a.get("name") == "kind"]
    assert radios == ["", "cultural_palace"]  # no "serves a passing worker": the kinds were chosen
    tags = parse(client.get("/embed").get_data(as_text=True)).tags
    radios = [a["value"] for t, a in tags if t == "input" and a.get("name") == "kind"]
    assert radios == ["serves:passing_worker", "", "rest_station", "cultural_palace", "convalescence_base"]


@pytest.mark.parametrize("controls,shown", [
    (None, ALL_CONTROLS),
    ("nearest", ["nearest"]),
    ("zoom,search", ["search", "zoom"]),
    ("none", []),
])
def test_controls_choose_the_buttons(client, controls, shown):
    url = "/embed" + (f"?controls={controls}" if controls else "")
    html = client.get(url).get_data(as_text=True)
    assert sorted(page_data(html)["config"]["controls"]) == sorted(shown)
    tags = {a.get("id"): a for _, a in parse(html).tags if a.get("id")}
    assert ("hidden" in tags["find-nearest"]) == ("nearest" not in shown)
    assert ("hidden" in tags["pick"]) == ("nearest" not in shown)
    assert ("hidden" in tags["search-form"]) == ("search" not in shown)
    assert ("hidden" in tags["toggle-filters"]) == ("filters" not in shown)


@pytest.mark.parametrize("query,parameter,allowed", [
    ("controls=bogus", "controls", "nearest, search, filters, legend, zoom, fullscreen, none"),
    ("controls=none,zoom", "controls", "or none alone"),
    ("kind=rest_station,hotel", "kind", "rest_station, cultural_palace, convalescence_base"),
    ("lang=fr", "lang", "zh, en"),
    ("basemap=google", "basemap", "osm, amap, none"),
    ("county=999999", "county", "370883 (邹城市)"),
    ("county=370883&county=370811", "county", "adcode or exact name"),
])
def test_a_bad_option_is_a_400_naming_the_parameter_and_what_is_allowed(client, query, parameter, allowed):
    page = client.get(f"/embed?{query}")
    assert page.status_code == 400
    assert f"{parameter}=" in error_of(page) and allowed in error_of(page)
    answer = client.get(f"/embed?{query}", headers={"Accept": "application/json"})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["parameter"] == parameter and allowed in error["message"]


def test_basemaps_are_those_the_site_can_draw(app_config):
    from web import create_app

    osm = create_app({**app_config, "BASEMAP": "osm"}).test_client()
    amap = osm.get("/embed?basemap=amap")
    assert amap.status_code == 200
    assert page_data(amap.get_data(as_text=True))["config"]["crs"] == "gcj02"  # AMap's tiles are in GCJ-02
    assert "https://*.is.autonavi.com" in csp_of(amap)["img-src"]
    assert "https://*.is.autonavi.com" not in csp_of(osm.get("/embed"))["img-src"]
    assert osm.get("/embed?basemap=tianditu").status_code == 400  # no TIANDITU_KEY
    keyed = create_app({**app_config, "TIANDITU_KEY": "k123"}).test_client()
    tianditu = keyed.get("/embed?basemap=tianditu")
    assert tianditu.status_code == 200 and "https://*.tianditu.gov.cn" in csp_of(tianditu)["img-src"]
    # a site with its own tile server offers only its tiles (and none)
    own = create_app({**app_config, "TILE_URL": "/tiles/{z}/{x}/{y}.png"}).test_client()
    assert own.get("/embed?basemap=amap").status_code == 400
    assert own.get("/embed?basemap=none").status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_embed_zooms_with_ctrl_or_two_fingers_in_its_language(client, lang):
    html = client.get(f"/embed?lang={lang}").get_data(as_text=True)
    gesture = page_data(html)["config"]["gesture"]
    assert gesture == {key: catalogue.gettext(f"gesture.{key}", lang) for key in ("touch", "scroll", "scrollMac")}
    assert ("两根手指" in gesture["touch"]) == (lang == "zh") and ("two fingers" in gesture["touch"]) == (lang == "en")
    scripts = [a.get("src", "") for t, a in parse(html).tags if t == "script"]
    assert any("/static/vendor/leaflet-gesture-handling/leaflet-gesture-handling.js" in s for s in scripts)
    # the full map is not inside another page: it keeps the wheel
    full = client.get("/").get_data(as_text=True)
    assert page_data(full)["config"]["gesture"] is None and "gesture-handling" not in full


def test_embed_pages_carry_the_oembed_discovery_link(client):
    html = client.get(f"/embed?county={ZOUCHENG}&lang=en").get_data(as_text=True)
    links = [a for t, a in parse(html).tags if t == "link" and a.get("type") == "application/json+oembed"]
    assert len(links) == 1 and links[0]["rel"] == "alternate"
    href = urlsplit(links[0]["href"])
    assert href.path == "/oembed"
    asked = parse_qs(href.query)
    assert asked["format"] == ["json"] and asked["url"] == [f"http://localhost/embed?county={ZOUCHENG}&lang=en"]
    # what the link names answers
    assert client.get(links[0]["href"]).status_code == 200


# ---- oEmbed -------------------------------------------------------------------------------------

def oembed(client, url: str, **params):
    return client.get("/oembed", query_string={"url": url, **params})


def iframe_of(html: str) -> dict:
    (tag, attrs), = parse(html).tags
    assert tag == "iframe"
    return attrs


def test_oembed_answers_a_rich_response_with_the_iframe(client):
    response = oembed(client, f"http://localhost/embed?county={ZOUCHENG}&kind=rest_station&lang=zh")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "驿站地图 · 济宁市" and body["provider_url"] == "http://localhost/"
    assert body["title"] == "邹城市 · 驿站地图 · 济宁市"
    assert (body["width"], body["height"]) == (640, 480)
    frame = iframe_of(body["html"])
    assert frame["src"] == f"http://localhost/embed?county={ZOUCHENG}&kind=rest_station&lang=zh"
    assert "&amp;kind=" in body["html"]  # the URL is escaped inside the attribute
    assert (frame["width"], frame["height"]) == ("640", "480")
    assert frame["title"] == body["title"] and frame["loading"] == "lazy"
    assert frame["allow"] == "geolocation; fullscreen"
    assert frame["referrerpolicy"] == "strict-origin-when-cross-origin"


def test_oembed_honours_maxwidth_and_maxheight(client):
    body = oembed(client, "http://localhost/embed", maxwidth="300", maxheight="1000").get_json()
    assert (body["width"], body["height"]) == (300, 480)
    frame = iframe_of(body["html"])
    assert (frame["width"], frame["height"]) == ("300", "480")
    body = oembed(client, "http://localhost/embed", maxwidth="2000", maxheight="250").get_json()
    assert (body["width"], body["height"]) == (640, 250)


def test_oembed_takes_the_map_page_as_its_embed(client):
    body = oembed(client, f"http://localhost/?county={ZOUCHENG}&lang=en&q=ignored").get_json()
    assert iframe_of(body["html"])["src"] == f"http://localhost/embed?county={ZOUCHENG}&lang=en"
    assert body["title"] == "邹城市 · Rest Station Map · 济宁市"


def test_oembed_escapes_what_it_puts_in_the_html(client):
    body = oembed(client, 'http://localhost/embed?lang=en&x="><script>alert(1)</script>').get_json()
    assert "<script" not in body["html"]
    assert iframe_of(body["html"])["src"] == "http://localhost/embed?lang=en"  # unknown parameters are left out


@pytest.mark.parametrize("url", [
    "http://www.zoucheng.gov.cn/embed?county=370883",   # another site
    "https://localhost.evil.example/embed",
    "javascript:alert(1)",
    "/embed",                                           # not an absolute URL of ours
    "http://localhost/list",                            # ours, not embeddable
    "http://localhost/stations/JN-RS-0001",
    "http://localhost/embed/builder",
    "http://localhost/nowhere",
    "http://localhost/embed?county=999999",             # the embed would be a 400
])
def test_oembed_is_a_404_for_a_url_that_is_not_an_embeddable_page_of_ours(client, url):
    response = oembed(client, url)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("fmt", ["xml", "XML", "jsonp"])
def test_oembed_is_a_501_for_a_format_other_than_json(client, fmt):
    response = oembed(client, "http://localhost/embed", format=fmt)
    assert response.status_code == 501
    assert "json" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("params,parameter", [
    ({"maxwidth": "abc"}, "maxwidth"), ({"maxheight": "0"}, "maxheight"), ({"maxwidth": "1e3"}, "maxwidth"),
])
def test_oembed_is_a_400_for_bad_parameters(client, params, parameter):
    response = oembed(client, "http://localhost/embed", **params)
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == parameter
    missing = client.get("/oembed")
    assert missing.status_code == 400 and missing.get_json()["error"]["parameter"] == "url"


def test_oembed_knows_the_public_url(app_config):
    from web import create_app

    client = create_app({**app_config, "PUBLIC_URL": "https://yizhan.example.cn"}).test_client()
    body = oembed(client, "https://yizhan.example.cn/embed?lang=zh").get_json()
    assert iframe_of(body["html"])["src"] == "https://yizhan.example.cn/embed?lang=zh"
    assert body["provider_url"] == "https://yizhan.example.cn/"


def test_oembed_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/oembed"]["get"]
    assert operation["operationId"] == "oembed"
    assert {p["name"] for p in operation["parameters"]} == {"url", "maxwidth", "maxheight", "format"}
    assert {"200", "404", "501", "400"} <= set(operation["responses"])


# ---- the builder --------------------------------------------------------------------------------

def textarea(html: str, ident: str) -> str:
    m = re.search(rf'<textarea id="{ident}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(m.group(1))


def test_builder_writes_the_iframe_and_the_plain_link_for_its_options(client):
    html = client.get(f"/embed/builder?county={ZOUCHENG}&kind=rest_station&width=700&height=420"
                      f"&controls=nearest&controls=zoom&embed_lang=en").get_data(as_text=True)
    src = f"http://localhost/embed?county={ZOUCHENG}&kind=rest_station&lang=en&controls=nearest,zoom"
    frame = iframe_of(textarea(html, "code"))
    assert frame == {"src": src, "title": "邹城市 · Rest Station Map · 济宁市", "width": "700", "height": "420",
                     "style": "border:0;max-width:100%", "loading": "lazy", "allow": "geolocation; fullscreen",
                     "referrerpolicy": "strict-origin-when-cross-origin"}
    (tag, link), = parse(textarea(html, "link")).tags
    assert tag == "a" and link["href"] == src and link["target"] == "_blank"
    assert catalogue.gettext("embed.link_text", "en") in unescape(textarea(html, "link"))
    preview = next(a for t, a in parse(html).tags if t == "iframe" and a.get("id") == "preview")
    assert preview["src"] == src
    # the builder itself is in Chinese first, with its strings from the catalogue
    assert catalogue.gettext("embed.builder_title", "zh") in html and 'lang="zh-CN"' in html


def test_builder_defaults_and_english(client):
    html = client.get("/embed/builder?lang=en").get_data(as_text=True)
    assert catalogue.gettext("embed.builder_title", "en") in html
    frame = iframe_of(textarea(html, "code"))
    assert frame["src"] == "http://localhost/embed?lang=en" and frame["width"] == "100%"
    assert frame["height"] == "480"
    checked = [a["value"] for t, a in parse(html).tags if t == "input" and a.get("name") == "controls"
               and "checked" in a]
    assert checked == ALL_CONTROLS


def test_builder_form_without_a_button_ticked_embeds_none(client):
    html = client.get("/embed/builder?chosen=1&embed_lang=zh").get_data(as_text=True)  # what the form sends
    assert iframe_of(textarea(html, "code"))["src"] == "http://localhost/embed?lang=zh&controls=none"
    assert not [a for t, a in parse(html).tags if t == "input" and a.get("name") == "controls" and "checked" in a]


@pytest.mark.parametrize("query,parameter", [("width=50", "width"), ("width=abc", "width"),
                                             ("height=5000", "height"), ("controls=sidebar", "controls")])
def test_builder_refuses_bad_options_naming_them(client, query, parameter):
    response = client.get(f"/embed/builder?{query}")
    assert response.status_code == 400 and f"{parameter}=" in error_of(response)


def test_builder_page_may_not_be_framed_by_other_sites(client):
    response = client.get("/embed/builder")
    assert csp_of(response)["frame-ancestors"] == ["'self'"] and response.headers["X-Frame-Options"] == "SAMEORIGIN"


# ---- the static export --------------------------------------------------------------------------

@pytest.fixture
def export_html(tmp_path, stations_path, counties_path):
    env = {"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(out, *args):
        result = CliRunner().invoke(__import__("yizhan.cli", fromlist=["main"]).main,
                                    ["export-html", *args, str(out), "--stations", str(stations_path),
                                     "--counties", str(counties_path)], env=env)
        return result
    return run


def test_export_html_writes_a_folder_that_asks_nothing_of_the_site(export_html, tmp_path):
    out = tmp_path / "zoucheng-map"
    result = export_html(out, "--county", ZOUCHENG)
    assert result.exit_code == 0, result.output
    county_ids = [f["properties"]["id"] for f in STATION_FEATURES if f["properties"].get("county_code") == ZOUCHENG]
    assert f"邹城市 ({ZOUCHENG}): {len(county_ids)} stations (sample data)" in result.output

    html = (out / "index.html").read_text(encoding="utf-8")
    tags = parse(html).tags
    loaded = [a.get("src") or a.get("href") for t, a in tags if t in ("script", "link") and (a.get("src") or a.get("href"))]
    assert loaded and all(u.startswith("assets/") for u in loaded), loaded
    for url in loaded:
        assert (out / url).is_file(), url
    assert (out / "assets/vendor/leaflet/images/layers.png").is_file()  # leaflet.css's images beside it
    assert not list(out.rglob("*.gz"))
    # no address of the site: no API, no page (PUBLIC_URL is not set), no report form
    assert "/api/" not in html and "/static/" not in html and "/stations/" not in html
    assert not [a for t, a in tags if t == "a" and a.get("href", "").startswith("/")]
    data = page_data(html)
    config = data["config"]
    assert config["localNearest"] is True and config["nearestUrl"] is None and config["placesUrl"] is None
    assert config["routeUrl"] is None and config["stationUrl"] is None and config["remote"] is None
    assert config["rank"] == "distance"  # open now cannot be known in a file written once
    assert sorted(r["id"] for r in data["stations"]) == ids_of(ZOUCHENG)
    assert all(r["open"] is None for r in data["stations"])

    geojson = json.loads((out / "data/stations.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["id"] for f in geojson["features"]) == sorted(county_ids)

    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert f"yizhan export-html --county {ZOUCHENG} {out}" in readme  # how to refresh it
    assert catalogue.gettext("export.readme.sample", "zh") in readme
    assert catalogue.gettext("export.readme.sample", "en") in readme
    assert re.search(r"导出时间：20\d\d-\d\d-\d\d \d\d:\d\d", readme)
    assert re.search(r"Exported: 20\d\d-\d\d-\d\d \d\d:\d\d", readme)
    assert f"邹城市（{ZOUCHENG}），共 {len(county_ids)} 个站点" in readme


def test_export_html_again_replaces_its_files_and_names_a_bad_county(export_html, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "keep.html").write_text("the county site's own page", encoding="utf-8")
    assert export_html(out, "--county", "邹城市", "--lang", "en").exit_code == 0
    stale = out / "assets" / "old.js"
    stale.write_text("stale", encoding="utf-8")
    assert export_html(out, "--county", ZOUCHENG).exit_code == 0
    assert not stale.exists() and (out / "keep.html").is_file()
    bad = export_html(tmp_path / "x", "--county", "999999")
    assert bad.exit_code == 1 and "county='999999'" in bad.output and "370883 (邹城市)" in bad.output
