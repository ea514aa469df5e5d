"""HTML pages through the Flask test client: escaping, links, map-app URLs, QR code, language, assets.

Expected values are computed here (GCJ-02 with the published formula, geodesic distances with
geographiclib), not taken from the code under test.
"""
from __future__ import annotations

import gzip
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from conftest import DISTANCE_TEXTS
from geographiclib.geodesic import Geodesic

XSS = "<img src=x onerror=alert(1)>"
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


# ---- helpers ---------------------------------------------------------------------------------

class Tags(HTMLParser):
    """Every start tag as (name, attrs dict), and the text of <script> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self._script, self._text = a, []

    def handle_data(self, data):
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def page_data(html: str) -> dict:
    (attrs, text), = [(a, t) for a, t in parse(html).scripts if a.get("id") == "yz-data"]
    assert attrs.get("type") == "application/json"
    return json.loads(text)


def gcj02_reference(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 -> GCJ-02 with the widely published formula (Krasovsky a, ee), written out here."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    t_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    t_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (t_lat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * math.pi)
    dlon = (t_lon * 180.0) / (a / sqrtmagic * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def feature(features, sid):
    return next(f for f in features if f["properties"]["id"] == sid)


# ---- assets and CSP ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/list", "/stations/JN-RS-0001", "/?lang=en"])
def test_pages_load_no_script_or_stylesheet_from_another_host(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for tag, attrs in parse(html).tags:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            # (the oEmbed discovery <link rel="alternate"> is an absolute URL for other sites; nothing loads it)
            loads = tag in ("script", "img", "iframe", "source") or (
                tag == "link" and key == "href" and attrs.get("rel") != "alternate")
            if loads and value:
                assert not re.match(r"^(https?:)?//", value), f"<{tag} {key}={value!r}> on {path}"
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html


def test_folium_classes_point_at_local_files(app):
    import folium
    import folium.plugins

    for cls in (folium.Map, folium.plugins.MarkerCluster):
        for _, url in cls.default_js + cls.default_css:
            assert url.startswith("/static/"), (cls.__name__, url)
            path = url[len("/static/"):].split("?v=")[0]
            assert (STATIC / path).is_file() or "vendor/" in path, url


def test_map_page_inline_script_carries_the_csp_nonce(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    for attrs, text in parse(response.get_data(as_text=True)).scripts:
        if "src" in attrs or attrs.get("type") == "application/json":
            continue
        assert attrs.get("nonce") == nonce, text[:80]
    srcs = [a["src"].split("?v=")[0] for a, _ in parse(response.get_data(as_text=True)).scripts if "src" in a]
    assert "/static/vendor/leaflet/leaflet.js" in srcs
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in srcs
    assert srcs[-1] == "/static/js/map.js"


def test_static_files_are_served_gzipped_to_browsers_that_accept_it(client):
    plain = client.get("/static/js/map.js")
    zipped = client.get("/static/js/map.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert "Content-Encoding" not in client.get("/static/js/map.js", headers={"Accept-Encoding": "gzip;q=0"}).headers


def test_versioned_static_urls_may_be_cached_for_long(client):
    html = client.get("/").get_data(as_text=True)
    src = next(a["src"] for a, _ in parse(html).scripts if a.get("src", "").startswith("/static/js/map.js"))
    assert re.fullmatch(r"/static/js/map\.js\?v=[0-9a-f]{10}", src)
    response = client.get(src, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.cache_control.max_age >= 30 * 24 * 3600


def test_html_pages_are_gzipped_too(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"yz-data" in gzip.decompress(response.data)


# ---- escaping -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/list", "/list?lat=35.41&lon=116.59", "/stations/JN-RS-0010",
                                  "/list?q=onerror"])
def test_a_station_name_with_html_is_never_markup(client, path):
    html = client.get(path).get_data(as_text=True)
    assert XSS not in html
    assert "<img src=x" not in html.lower()
    assert not [a for t, a in parse(html).tags if t == "img" and a.get("src") == "x"]


def test_station_page_shows_the_html_name_as_text(client):
    html = client.get("/stations/JN-RS-0010").get_data(as_text=True)
    assert "<h1>&lt;img src=x onerror=alert(1)&gt;</h1>" in html
    assert "<title>&lt;img src=x onerror=alert(1)&gt;" in html


def test_map_page_data_is_json_with_html_characters_escaped(client, station_features):
    html = client.get("/").get_data(as_text=True)
    raw = html.split('id="yz-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw
    data = page_data(html)
    by_id = {s["id"]: s for s in data["stations"]}
    assert by_id["JN-RS-0010"]["name"] == XSS
    expected = {f["properties"]["id"] for f in station_features if f["properties"]["status"] != "closed"}
    assert set(by_id) == expected  # closed stations are not drawn
    assert by_id["JN-RS-0001"]["h24"] is True and by_id["JN-RS-0002"]["h24"] is False
    assert data["config"]["crs"] == "wgs84"
    lon, lat = feature(station_features, "JN-RS-0001")["geometry"]["coordinates"]
    assert (by_id["JN-RS-0001"]["lon"], by_id["JN-RS-0001"]["lat"]) == pytest.approx((lon, lat), abs=1e-6)


# ---- the station page ---------------------------------------------------------------------------

def nav_links(html: str) -> dict[str, str]:
    return {a["data-nav"]: a["href"] for t, a in parse(html).tags if t == "a" and "data-nav" in a}


def test_amap_link_walks_to_gcj02_coordinates(client, station_features):
    f = feature(station_features, "JN-RS-0001")
    lon, lat = f["geometry"]["coordinates"]
    links = nav_links(client.get("/stations/JN-RS-0001").get_data(as_text=True))
    url = urlsplit(links["amap"])
    assert (url.scheme, url.netloc, url.path) == ("https", "uri.amap.com", "/navigation")
    query = parse_qs(url.query)
    assert query["mode"] == ["walk"] and query["callnative"] == ["1"] and query["src"]
    to_lon, to_lat, name = query["to"][0].split(",", 2)
    glon, glat = gcj02_reference(lon, lat)
    assert float(to_lon) == pytest.approx(glon, abs=2e-6) and float(to_lat) == pytest.approx(glat, abs=2e-6)
    shift_m = Geodesic.WGS84.Inverse(lat, lon, float(to_lat), float(to_lon))["s12"]
    assert 300 < shift_m < 800  # the GCJ-02 offset near Jining, not WGS-84 passed through
    assert name == "古槐路驿站"


def test_amap_link_encodes_a_name_with_commas_and_html(client):
    links = nav_links(client.get("/stations/JN-RS-0010").get_data(as_text=True))
    to = parse_qs(urlsplit(links["amap"]).query)["to"][0]
    assert to.split(",", 2)[2] == XSS


def test_baidu_link_uses_wgs84_and_a_route_when_the_start_is_known(client, station_features):
    lon, lat = feature(station_features, "JN-RS-0002")["geometry"]["coordinates"]
    links = nav_links(client.get("/stations/JN-RS-0002").get_data(as_text=True))
    q = parse_qs(urlsplit(links["baidu"]).query)
    assert urlsplit(links["baidu"]).netloc == "api.map.baidu.com"
    assert q["coord_type"] == ["wgs84"]
    assert q["location"] == [f"{lat:.6f},{lon:.6f}"]  # WGS-84, lat first as Baidu wants

    links = nav_links(client.get("/stations/JN-RS-0002?lat=35.41&lon=116.59").get_data(as_text=True))
    url = urlsplit(links["baidu"])
    q = parse_qs(url.query)
    assert url.path == "/direction" and q["coord_type"] == ["wgs84"] and q["mode"] == ["walking"]
    assert q["origin"][0].startswith("latlng:35.410000,116.590000|")
    assert q["destination"][0].startswith(f"latlng:{lat:.6f},{lon:.6f}|name:")


def test_geo_uri(client, station_features):
    lon, lat = feature(station_features, "JN-CP-0001")["geometry"]["coordinates"]
    geo = nav_links(client.get("/stations/JN-CP-0001").get_data(as_text=True))["geo"]
    assert geo.startswith(f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}(")
    assert unquote(geo.split("(", 1)[1].rstrip(")")) == "济宁市工人文化宫"


def test_station_page_details(client):
    html = client.get("/stations/JN-RS-0002").get_data(as_text=True)
    tags = parse(html).tags
    assert ("a", {"href": "tel:0537-2345678"}) in tags
    for text in ("太白楼路驿站", "户外劳动者驿站", "太白楼路驿站地址", "任城区", "Mo-Fr 08:00-18:00", "周一至周五",
                 "济宁市总工会", "2026-10-01", "饮用水", "微波炉", "手机充电", "北京时间"):
        assert text in html, text


def _client_with_phone(tmp_path, counties_path, station_features, station_id, phone):
    from web import create_app

    for f in station_features:
        if f["properties"]["id"] == station_id:
            f["properties"]["phone"] = phone
    path = tmp_path / "phones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": station_features}, ensure_ascii=False))
    return create_app({"STATIONS_PATH": str(path), "COUNTIES_PATH": str(counties_path), "TESTING": True}).test_client()


@pytest.mark.parametrize("phone, href, zh, en", [
    ("0537-2345678转123", "tel:0537-2345678", "0537-2345678 转 123", "0537-2345678 ext. 123"),
    ("+86 537 2345678转8", "tel:+865372345678", "+86 537 2345678 转 8", "+86 537 2345678 ext. 8"),
    ("0537 (234) 5678", "tel:05372345678", "0537 (234) 5678", "0537 (234) 5678"),
])
def test_a_phone_extension_is_shown_and_not_dialled(tmp_path, counties_path, station_features, phone, href, zh, en):
    client = _client_with_phone(tmp_path, counties_path, station_features, "JN-RS-0002", phone)
    for lang, text in (("zh", zh), ("en", en)):
        html = client.get(f"/stations/JN-RS-0002?lang={lang}").get_data(as_text=True)
        links = re.findall(r'<a href="(tel:[^"]*)">([^<]*)</a>', html)
        assert links == [(href, text)], (lang, links)


def test_station_page_has_a_qr_code_of_its_own_url(client):
    import segno

    html = client.get("/stations/JN-RS-0001").get_data(as_text=True)
    url = "http://localhost/stations/JN-RS-0001"
    svg = html.split('<figure class="qr">', 1)[1].split("</svg>", 1)[0]
    assert f"<title>{url}</title>" in svg
    expected_path = re.search(r' d="([^"]+)"', segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2)).group(1)
    assert expected_path in svg  # the same modules as a QR code of exactly this URL
    response = client.get("/stations/JN-RS-0001/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<?xml") and b"<svg" in response.data


def test_public_url_setting_goes_into_the_qr_code(app, client):
    app.config["PUBLIC_URL"] = "https://yizhan.example.cn/"
    html = client.get("/stations/JN-RS-0001").get_data(as_text=True)
    assert "<title>https://yizhan.example.cn/stations/JN-RS-0001</title>" in html


def test_sample_records_say_so_and_real_ones_do_not(tmp_path, counties_path, station_features):
    from web import create_app

    for f in station_features:
        if f["properties"]["id"] == "JN-RS-0002":
            f["properties"]["sample"] = False
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": station_features}, ensure_ascii=False))
    client = create_app({"STATIONS_PATH": str(path), "COUNTIES_PATH": str(counties_path), "TESTING": True}).test_client()
    assert "示例数据" in client.get("/stations/JN-RS-0001").get_data(as_text=True)
    assert "示例数据" not in client.get("/stations/JN-RS-0002").get_data(as_text=True)


def test_unknown_station_is_404(client):
    assert client.get("/stations/JN-RS-9999").status_code == 404
    assert client.get("/stations/JN-RS-9999/qr.svg").status_code == 404


def test_print_stylesheet_exists(client):
    css = client.get("/static/css/site.css").get_data(as_text=True)
    assert "@media print" in css


# ---- language -----------------------------------------------------------------------------

def test_chinese_by_default_english_by_switch_remembered_in_a_cookie(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "找最近的驿站" in html
    switch = next(a["href"] for t, a in parse(html).tags if t == "a" and "lang-switch" in (a.get("class") or ""))
    assert switch == "/?lang=en"

    response = client.get(switch)
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert "Find the nearest station" in response.get_data(as_text=True)
    assert re.search(r"lang=en;.*Max-Age=\d+", response.headers["Set-Cookie"])
    for path in ("/", "/list", "/stations/JN-RS-0001"):  # the cookie carries the choice on
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in html, path
    assert "Outdoor workers&#39; rest station" in client.get("/stations/JN-RS-0001").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/?lang=zh").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_lang_switch_keeps_the_other_parameters(client):
    html = client.get("/list?kind=cultural_palace").get_data(as_text=True)
    switch = next(a["href"] for t, a in parse(html).tags if t == "a" and "lang-switch" in (a.get("class") or ""))
    assert parse_qs(urlsplit(switch).query) == {"kind": ["cultural_palace"], "lang": ["en"]}


def test_lang_switch_ignores_url_for_options_in_the_query(client):
    response = client.get("/stations/JN-RS-0001?station_id=x&_external=1&_scheme=javascript&_anchor=a")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    switch = next(a["href"] for t, a in parse(html).tags if t == "a" and "lang-switch" in (a.get("class") or ""))
    assert switch.startswith("/stations/JN-RS-0001?") and "#" not in switch


def test_unknown_language_falls_back_to_chinese(client):
    response = client.get("/?lang=xx")
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


# ---- the directory --------------------------------------------------------------------------

def list_ids(html: str) -> list[str]:
    return [a["href"].split("/stations/", 1)[1].split("?", 1)[0]
            for t, a in parse(html).tags if t == "a" and "/stations/" in a.get("href", "")]


def test_list_groups_by_county_without_a_position(client, station_features):
    html = client.get("/list").get_data(as_text=True)
    headings = re.findall(r"<h2>([^<]+?) <small>", html)
    assert headings == ["任城区", "兖州区", "邹城市"]
    shown = {f["properties"]["id"] for f in station_features if f["properties"]["status"] != "closed"}
    assert set(list_ids(html)) == shown
    assert "旧城驿站" not in html  # closed


def test_list_is_nearest_first_with_a_position(client, station_features):
    lat, lon = 35.42, 116.60
    html = client.get(f"/list?lat={lat}&lon={lon}").get_data(as_text=True)
    expected = sorted((Geodesic.WGS84.Inverse(lat, lon, f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])["s12"],
                       f["properties"]["id"]) for f in station_features if f["properties"]["status"] != "closed")
    assert list_ids(html) == [i for _, i in expected]
    m = expected[0][0]
    assert (f"{int(round(m / 10) * 10)} 米" if m < 1000 else f"{m / 1000:.1f} 公里") in html
    assert f"步行约 {max(1, math.ceil(m / 75))} 分钟" in html


@pytest.mark.parametrize("distance_m, zh, en", DISTANCE_TEXTS)
def test_distances_are_rounded_before_the_unit_is_chosen(app, distance_m, zh, en):
    from web.pages import format_distance

    assert format_distance(distance_m, "zh") == zh
    assert format_distance(distance_m, "en") == en


def test_list_filters(client, station_features):
    ids = list_ids(client.get("/list?amenity=microwave").get_data(as_text=True))
    assert set(ids) == {f["properties"]["id"] for f in station_features
                        if "microwave" in f["properties"]["amenities"] and f["properties"]["status"] != "closed"}
    ids = list_ids(client.get("/list?kind=cultural_palace").get_data(as_text=True))
    assert set(ids) == {"JN-CP-0001", "JN-CP-0002"}
    ids = list_ids(client.get("/list?h24=1").get_data(as_text=True))
    assert set(ids) == {f["properties"]["id"] for f in station_features
                        if f["properties"].get("opening_hours") == "24/7" and f["properties"]["status"] != "closed"}
    ids = list_ids(client.get("/list?q=邹城").get_data(as_text=True))
    assert set(ids) == {"JN-RS-0007", "JN-RS-0008", "JN-CP-0002"}


@pytest.mark.parametrize("query", ["lat=abc&lon=116", "lat=95&lon=116", "lat=35", "kind=bogus", "amenity=caviar",
                                   "lat=nan&lon=116"])
def test_list_refuses_bad_parameters_with_400(client, query):
    response = client.get(f"/list?{query}")
    assert response.status_code == 400


def test_list_is_plain_accessible_html(client):
    html = client.get("/list").get_data(as_text=True)
    tags = parse(html).tags
    assert html.count("<h1>") == 1 and "<main" in html
    ids = {a.get("id") for _, a in tags}
    for _, a in tags:
        if _ == "label" and a.get("for"):
            assert a["for"] in ids
    assert not [s for s in parse(html).scripts if not s[0].get("src")]  # no inline script


# ---- basemaps -----------------------------------------------------------------------------

def test_amap_basemap_sends_gcj02_positions_to_the_page(app_config, station_features):
    from web import create_app

    client = create_app({**app_config, "BASEMAP": "amap"}).test_client()
    html = client.get("/").get_data(as_text=True)
    data = page_data(html)
    assert data["config"]["crs"] == "gcj02"
    for rec in data["stations"]:
        lon, lat = feature(station_features, rec["id"])["geometry"]["coordinates"]
        glon, glat = gcj02_reference(lon, lat)
        assert (rec["lon"], rec["lat"]) == pytest.approx((glon, glat), abs=2e-6)
        assert (rec["wlon"], rec["wlat"]) == pytest.approx((lon, lat), abs=1e-7)
    assert "autonavi.com" in html  # its tile URL, in the map script


def test_tianditu_basemap_uses_the_key_and_the_label_layer(app_config):
    from web import create_app

    html = create_app({**app_config, "BASEMAP": "tianditu", "TIANDITU_KEY": "k&y"}).test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cva_w/wmts" in html
    assert "tk=k%26y" in html
    html = create_app({**app_config, "BASEMAP": "tianditu"}).test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn" not in html  # no key: no tiles, the map still works


def test_tile_url_override_and_no_tiles(app_config):
    from web import create_app

    html = create_app({**app_config, "TILE_URL": "/tiles/{z}/{x}/{y}.png"}).test_client().get("/").get_data(as_text=True)
    assert "/tiles/{z}/{x}/{y}.png" in html and "tile.openstreetmap.org" not in html
    html = create_app({**app_config, "BASEMAP": "none"}).test_client().get("/").get_data(as_text=True)
    assert "L.tileLayer" not in html and "yz-data" in html


def test_unknown_basemap_is_a_clear_error(app_config):
    from web import create_app

    with pytest.raises(ValueError, match=r"BASEMAP='google'.*osm, tianditu, amap, none"):
        create_app({**app_config, "BASEMAP": "google"})


# ---- many stations: the map page carries none and loads them per visible area ---------------

def many_stations(n: int) -> list[dict]:
    """``n`` valid open rest stations on a grid inside the fixture's 任城区 box (116.40-116.70, 35.30-35.55)."""
    cols = math.ceil(math.sqrt(n * 1.2))
    features = []
    for i in range(n):
        row, col = divmod(i, cols)
        lon = round(116.401 + 0.298 * col / cols, 6)
        lat = round(35.301 + 0.248 * row / math.ceil(n / cols), 6)
        sid = f"JN-RS-{i + 1:06d}"
        features.append({"type": "Feature", "id": sid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"id": sid, "name": f"网格驿站{i + 1}号", "kind": "rest_station",
                                        "county_code": "370811", "address": f"网格路{i + 1}号",
                                        "opening_hours": "24/7", "amenities": ["drinking_water"],
                                        "status": "open", "sample": True}})
    return features


def test_map_page_above_map_inline_max_inlines_no_station_and_stays_small(tmp_path, counties_path):
    from web import create_app

    n = 3500  # above the default MAP_INLINE_MAX (3000)
    path = tmp_path / "many.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": many_stations(n)}, ensure_ascii=False),
                    encoding="utf-8")
    config = {"STATIONS_PATH": str(path), "COUNTIES_PATH": str(counties_path), "TESTING": True}
    html = create_app(config).test_client().get("/").get_data(as_text=True)
    data = page_data(html)
    assert data["stations"] == []
    assert data["config"]["remote"] == {"url": "/api/map/markers", "minZoom": 11, "limit": 10000}
    assert "网格驿站" not in html
    assert len(html.encode("utf-8")) < 40 * 1024
    assert f"共 {n} 处" in html  # the count still covers every station

    # The same data under a higher threshold: every station inline, a page many times larger.
    inline = create_app({**config, "MAP_INLINE_MAX": 10_000}).test_client().get("/").get_data(as_text=True)
    assert len(page_data(inline)["stations"]) == n and page_data(inline)["config"]["remote"] is None
    assert len(inline.encode("utf-8")) > 20 * len(html.encode("utf-8"))


def test_map_inline_max_is_a_strict_upper_bound(app_config, station_features):
    from web import create_app

    total = len(station_features)  # every station counts, closed ones too
    at = page_data(create_app({**app_config, "MAP_INLINE_MAX": total}).test_client().get("/").get_data(as_text=True))
    assert at["config"]["remote"] is None and at["stations"]
    above = create_app({**app_config, "MAP_INLINE_MAX": total - 1, "MAP_REMOTE_MIN_ZOOM": 12})
    data = page_data(above.test_client().get("/?county=370883").get_data(as_text=True))
    assert data["stations"] == [] and data["config"]["remote"] == {"url": "/api/map/markers", "minZoom": 12, "limit": 10000}
    assert data["config"]["county"]["code"] == "370883"


@pytest.mark.parametrize("key, value", [("MAP_INLINE_MAX", "many"), ("MAP_INLINE_MAX", -1),
                                        ("MAP_REMOTE_MIN_ZOOM", 25), ("MAP_REMOTE_MIN_ZOOM", True)])
def test_bad_map_limits_are_a_clear_error_at_start(app_config, key, value):
    from web import create_app

    with pytest.raises(ValueError, match=key):
        create_app({**app_config, key: value})


def test_the_api_answers_the_bbox_request_the_map_sends(client, station_features):
    """The page asks /api/stations?bbox=minlon,minlat,maxlon,maxlat&kind=...&amenity=a,b (WGS-84)."""
    bbox = (116.55, 35.38, 116.62, 35.45)
    response = client.get("/api/stations?bbox=116.55000,35.38000,116.62000,35.45000&kind=rest_station"
                          "&amenity=drinking_water,toilet")
    assert response.status_code == 200
    expected = sorted(f["properties"]["id"] for f in station_features
                      if bbox[0] <= f["geometry"]["coordinates"][0] <= bbox[2]
                      and bbox[1] <= f["geometry"]["coordinates"][1] <= bbox[3]
                      and f["properties"]["kind"] == "rest_station"
                      and {"drinking_water", "toilet"} <= set(f["properties"]["amenities"]))
    assert expected and sorted(f["properties"]["id"] for f in response.get_json()["features"]) == expected
