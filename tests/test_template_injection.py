"""Text that looks like template code is shown as text, everywhere.

Station names, addresses and hosts, county names and the city's name carry Jinja syntax
(``{{ 7*7 }}``, ``{% if %}``, an unclosed ``{#``, ``{{ config }}``) and a JS template literal
(``${7*7}``). Such names are legal and pass validation. Every page, API answer, download and CLI
command must give them back literally (in the parsed HTML text, the decoded JSON, the CSV and XLSX
cells): never evaluated (``49``, a lone ``x``, the app's config), never a 500. The map pages' inline
script (folium's, which branca compiles a second time as a template) must hold no data at all.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote

import jinja2
import pytest
from click.testing import CliRunner

from conftest import STATION_FEATURES, counties_collection

PAYLOADS = ("{{ 7*7 }}", "{% if true %}x{% endif %}", "{#", "{{ config }}", "${7*7}")
ALL = " ".join(PAYLOADS)

# station id -> (name, address, host); every payload in every field somewhere
HOSTILE_STATIONS = {
    "JN-RS-0001": ("示例驿站 {{ 7*7 }}", "地址 {% if true %}x{% endif %} 号", "总工会 {#"),
    "JN-RS-0002": ("示例驿站 {% if true %}x{% endif %}", "地址 {{ config }} 号", "总工会 ${7*7}"),
    "JN-RS-0004": ("示例驿站 {#", "地址 ${7*7} 号", "总工会 {{ 7*7 }}"),
    "JN-RS-0005": ("示例驿站 {{ config }}", "地址 {# 号", "总工会 {% if true %}x{% endif %}"),
    "JN-RS-0007": ("示例驿站 ${7*7}", "地址 {{ 7*7 }} 号", "总工会 {{ config }}"),
    "JN-CP-0001": ("模板 " + ALL, "地址 " + ALL, "主办 " + ALL),
}
HOSTILE_COUNTIES = {
    "370811": "任城区 {{ 7*7 }} {{ config }}",
    "370812": "兖州区 {% if true %}x{% endif %} ${7*7}",
    "370883": "邹城市 {#",
}
CITY = "济宁市 {{ 7*7 }}"
OPEN = {f["properties"]["id"] for f in STATION_FEATURES if f["properties"]["status"] == "open"}
VISIBLE = {f["properties"]["id"] for f in STATION_FEATURES if f["properties"]["status"] != "closed"}
COUNTY_OF = {f["properties"]["id"]: f["properties"].get("county_code") for f in STATION_FEATURES}


# ---- the data --------------------------------------------------------------------------------

def hostile_features(features: list[dict]) -> list[dict]:
    """The fixture stations with the hostile names, addresses and hosts (in place)."""
    for f in features:
        p = f["properties"]
        if p["id"] in HOSTILE_STATIONS:
            p["name"], p["address"], p["host"] = HOSTILE_STATIONS[p["id"]]
    return features


def write_hostile_counties(path):
    collection = counties_collection()
    for f in collection["features"]:
        f["properties"]["name"] = HOSTILE_COUNTIES[f["properties"]["adcode"]]
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def station_features(station_features):
    return hostile_features(station_features)


@pytest.fixture
def counties_path(tmp_path):
    return write_hostile_counties(tmp_path / "counties.geojson")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CITY_NAME": CITY}


# ---- what evaluation would look like ------------------------------------------------------------

def evaluated_forms(text: str) -> list[str]:
    """What ``text`` would become if run as a Jinja template or a JS template literal.

    Forms that the literal text itself contains (``{{ config }}`` renders to nothing) are left out.
    """
    forms = [text.replace("${7*7}", "49")]
    try:
        forms.append(jinja2.Template(text).render())
    except jinja2.TemplateSyntaxError:
        pass  # an unclosed {#: a 500, which every request checks for
    return [f.strip() for f in forms if f.strip() and f.strip() != text and f.strip() not in text]


def assert_literal(haystack: str, text: str, where: str) -> None:
    assert text in haystack, f"{where}: {text!r} is not shown literally"
    for form in evaluated_forms(text):
        assert form not in haystack, f"{where}: {text!r} was evaluated to {form!r}"


def assert_never_evaluated(body: str, where: str) -> None:
    assert "<Config" not in body, f"{where}: the app's config leaked"


def strings_in(value) -> list[str]:
    """Every string inside decoded JSON."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


DATA_TEXTS = [t for fields in HOSTILE_STATIONS.values() for t in fields] + list(HOSTILE_COUNTIES.values())
# Plain fragments of the data: none may appear in folium's script, whatever happened to the braces.
DATA_FRAGMENTS = ["示例驿站", "总工会", "地址", "模板", "主办", "任城区", "兖州区", "邹城市"]


# ---- HTML ------------------------------------------------------------------------------------

class Page(HTMLParser):
    """Text nodes, attribute values, JSON data blocks (by id) and inline scripts of a page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.attrs: list[str] = []
        self.json: dict[str, object] = {}
        self.inline_scripts: list[str] = []
        self._open: tuple[str, dict, list[str]] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attrs.extend(v for v in a.values() if v)
        if tag in ("script", "style"):
            self._open = (tag, a, [])

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            name, a, parts = self._open
            body = "".join(parts)
            if name == "script" and a.get("type") == "application/json":
                self.json[a.get("id")] = json.loads(body)
            elif name == "script" and "src" not in a:
                self.inline_scripts.append(body)
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._open[2].append(data)
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def get_page(client, url: str) -> Page:
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, (url, response.status_code, body[:300])
    assert response.mimetype == "text/html"
    assert_never_evaluated(body, url)
    return Page(body)


def get_json(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert_never_evaluated(response.get_data(as_text=True), url)
    return response.get_json() if response.is_json else json.loads(response.get_data(as_text=True))


def assert_no_data_in_inline_scripts(page: Page, where: str) -> None:
    """folium's script (the only inline one) carries the map's skeleton, never any data."""
    for script in page.inline_scripts:
        for fragment in DATA_FRAGMENTS + DATA_TEXTS:
            assert fragment not in script, f"{where}: {fragment!r} went through folium's script"


# ---- the worker map, the list, the station pages ------------------------------------------------

@pytest.mark.parametrize("url,county", [
    ("/", None), ("/?lang=en", None), ("/embed", None),
    ("/?county=370811", "370811"), ("/?county=370883", "370883"),
    ("/?county=" + quote(HOSTILE_COUNTIES["370812"]), "370812"),  # a county by its (hostile) name
])
def test_map_pages_carry_the_texts_as_data(client, url, county):
    page = get_page(client, url)
    data = page.json["yz-data"]
    records = {r["id"]: r for r in data["stations"]}
    assert set(records) == VISIBLE
    for sid, (name, address, _) in HOSTILE_STATIONS.items():
        assert records[sid]["name"] == name and records[sid]["address"] == address
        assert records[sid]["county"] == HOSTILE_COUNTIES[COUNTY_OF[sid]]
    if county:
        assert data["config"]["county"]["name"] == HOSTILE_COUNTIES[county]
        assert any(line.startswith(HOSTILE_COUNTIES[county] + " · ") for line in page.texts), "the <title>"
    assert sorted(f["properties"]["adcode"] for f in data["config"]["outlines"]["features"]) == \
        sorted(HOSTILE_COUNTIES)
    assert_literal(page.text, CITY, url)
    assert_no_data_in_inline_scripts(page, url)


def test_list_page_shows_every_name_address_and_county_literally(client):
    page = get_page(client, "/list")
    for sid, (name, address, _) in HOSTILE_STATIONS.items():
        assert_literal(page.text, name, sid)
        assert_literal(page.text, address, sid)
    for name in HOSTILE_COUNTIES.values():  # the group headings
        assert_literal(page.text, name, "county heading")


@pytest.mark.parametrize("q", PAYLOADS)
def test_list_search_for_template_syntax_finds_it_literally(client, q):
    page = get_page(client, "/list?q=" + quote(q))
    assert q in page.attrs  # the search box keeps what was typed
    wanted = [name for sid, (name, address, host) in HOSTILE_STATIONS.items() if q in name]
    assert wanted
    for name in wanted:
        assert_literal(page.text, name, f"/list?q={q}")


@pytest.mark.parametrize("sid", sorted(HOSTILE_STATIONS))
def test_station_page_shows_name_address_host_and_county_literally(client, sid):
    page = get_page(client, f"/stations/{sid}")
    name, address, host = HOSTILE_STATIONS[sid]
    for text in (name, address, host, HOSTILE_COUNTIES[COUNTY_OF[sid]]):
        assert_literal(page.text, text, sid)
    assert any(line.startswith(name + " · ") for line in page.texts), "the <title> starts with the name"


# ---- the planner's page and downloads -----------------------------------------------------------

PLANNING_QUERIES = ["", "?new_sites=2", "?county=370811", "?county=370883&new_sites=1&include_planned=1",
                    "?lang=en&radius_m=2000"]


def expected_counties(query: str) -> list[str]:
    for code in HOSTILE_COUNTIES:
        if f"county={code}" in query:
            return [code]
    return sorted(HOSTILE_COUNTIES)


@pytest.mark.parametrize("query", PLANNING_QUERIES)
def test_planning_page_shows_names_literally_and_draws_them_as_data(client, query):
    page = get_page(client, "/planning" + query)
    codes = expected_counties(query)
    for code in codes:
        assert_literal(page.text, HOSTILE_COUNTIES[code], "table")
    layers = page.json["yz-planning-data"]
    assert {f["properties"]["adcode"]: f["properties"]["name"] for f in layers["counties"]["features"]} == \
        {code: HOSTILE_COUNTIES[code] for code in codes}
    drawn = {s["name"] for s in layers["stations"]}
    counted = VISIBLE if "include_planned=1" in query else OPEN
    for sid, (name, _, _) in HOSTILE_STATIONS.items():
        assert (name in drawn) == (sid in counted), sid
    tips = "\n".join(w["tip"] for w in layers["worst"] + layers["suggestions"])
    for code in codes:  # every county of the fixture has a worst case
        assert_literal(tips, HOSTILE_COUNTIES[code], "tooltips")
    if "new_sites" in query:
        assert layers["suggestions"], "suggested sites were asked for"
    assert_no_data_in_inline_scripts(page, "/planning" + query)


def test_csv_download_cells_are_the_names(client):
    response = client.get("/planning/download.csv?new_sites=2")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    names = {row[0]: row[1] for row in rows[1:-1]}
    assert names == HOSTILE_COUNTIES
    for name in names.values():
        assert_literal(response.data.decode("utf-8-sig"), name, "csv")


def test_xlsx_download_cells_are_the_names_as_text(client):
    openpyxl = pytest.importorskip("openpyxl")
    response = client.get("/planning/download.xlsx?new_sites=3")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    table, sites = wb.worksheets[:2]  # then the README sheet (the report's metadata)
    cells = {row[0].value: row[1] for row in table.iter_rows(min_row=3) if row[0].value}
    assert {code: cell.value for code, cell in cells.items()} == HOSTILE_COUNTIES
    assert all(cell.data_type == "s" for cell in cells.values())
    site_rows = list(sites.iter_rows(min_row=2))
    assert len(site_rows) == 3
    for row in site_rows:
        assert row[4].value == HOSTILE_COUNTIES[row[3].value] and row[4].data_type == "s"


def test_geojson_download_names_are_literal(client):
    response = client.get("/planning/download.geojson?new_sites=1")
    assert response.status_code == 200
    data = json.loads(response.data.decode("utf-8"))
    worst = {f["properties"]["adcode"]: f["properties"]["name"] for f in data["features"]
             if f["properties"]["kind"] == "worst_case"}
    assert worst == HOSTILE_COUNTIES
    gaps = {f["properties"]["adcode"]: f["properties"]["name"] for f in data["features"]
            if f["properties"]["kind"] == "gap"}
    assert gaps == HOSTILE_COUNTIES


def test_svg_download_labels_are_literal(client):
    response = client.get("/planning/download.svg?new_sites=1")
    assert response.status_code == 200
    assert_never_evaluated(response.get_data(as_text=True), "svg")
    root = ET.fromstring(response.data)
    labels = [t.text for t in root.iterfind("{http://www.w3.org/2000/svg}g[@class='labels']/"
                                            "{http://www.w3.org/2000/svg}text")]
    for name in HOSTILE_COUNTIES.values():
        assert name in labels
        assert_literal("\n".join(t for t in labels if t), name, "svg")


# ---- the API ---------------------------------------------------------------------------------

def test_api_stations_and_one_station(client):
    collection = get_json(client, "/api/stations")
    props = {f["properties"]["id"]: f["properties"] for f in collection["features"]}
    for sid, (name, address, host) in HOSTILE_STATIONS.items():
        assert (props[sid]["name"], props[sid]["address"], props[sid]["host"]) == (name, address, host)
        one = get_json(client, f"/api/stations/{sid}")["properties"]
        assert (one["name"], one["address"], one["host"]) == (name, address, host)


def test_api_nearest_names_are_literal(client):
    body = get_json(client, "/api/nearest?lat=35.41&lon=116.59&k=20")
    names = {r["id"]: r["name"] for r in body["results"]}
    assert set(names) == OPEN
    for sid, (name, _, _) in HOSTILE_STATIONS.items():
        assert names[sid] == name


def test_api_counties_names_are_literal(client):
    collection = get_json(client, "/api/counties")
    assert {f["properties"]["adcode"]: f["properties"]["name"] for f in collection["features"]} == HOSTILE_COUNTIES


@pytest.mark.parametrize("query", ["", "?new_sites=2", "?county=370812&include_planned=1"])
def test_api_coverage_and_gaps_names_are_literal(client, query):
    codes = expected_counties(query)
    body = get_json(client, "/api/coverage" + query)
    assert {c["adcode"]: c["name"] for c in body["counties"]} == {c: HOSTILE_COUNTIES[c] for c in codes}
    gaps = get_json(client, "/api/coverage/gaps" + query)
    assert {f["properties"]["adcode"]: f["properties"]["name"] for f in gaps["features"]} == \
        {c: HOSTILE_COUNTIES[c] for c in codes}


def test_openapi_document_names_the_counties_literally(client):
    text = "\n".join(strings_in(get_json(client, "/api/openapi.json")))
    for name in HOSTILE_COUNTIES.values():
        assert_literal(text, name, "openapi")


@pytest.mark.parametrize("url,status", [
    ("/?county=", 400), ("/embed?county=", 400), ("/list?kind=", 400), ("/api/stations?kind=", 400),
    ("/api/coverage?county=", 400),
])
@pytest.mark.parametrize("payload", ["{{ 7*7 }}", "{% if true %}x{% endif %}"])
def test_error_messages_quote_template_syntax_literally(client, url, status, payload):
    response = client.get(url + quote(payload))
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:300]
    assert_never_evaluated(body, url)
    text = "\n".join(strings_in(response.get_json())) if response.is_json else Page(body).text
    assert_literal(text, payload, url)


# ---- the command line --------------------------------------------------------------------------

@pytest.fixture
def cli_paths(stations_path, counties_path):
    return ["--stations", str(stations_path), "--counties", str(counties_path)]


def run(args: list[str]):
    from yizhan.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert_never_evaluated(result.output, " ".join(args[:2]))
    return result


def test_cli_nearest_prints_names_and_addresses_literally(cli_paths):
    text = run(["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "20", *cli_paths]).output
    as_json = json.loads(run(["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "20", "--json",
                              *cli_paths]).stdout)
    names = {r["id"]: r["name"] for r in as_json["results"]}
    for sid, (name, address, _) in HOSTILE_STATIONS.items():
        assert_literal(text, name, sid)
        assert_literal(text, address, sid)
        assert names[sid] == name


def test_cli_validate_accepts_braces_and_names_the_file_literally(tmp_path, stations_path, counties_path):
    folder = tmp_path / "数据 {{ 7*7 }} {#"
    folder.mkdir()
    path = folder / "stations {% if true %}x{% endif %}.geojson"
    shutil.copy(stations_path, path)
    out = run(["validate", str(path), "--counties", str(counties_path)]).output
    assert out.strip() == f"{path}: {len(STATION_FEATURES)} stations, all valid"


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "geojson"])
def test_cli_coverage_prints_county_names_literally(cli_paths, fmt):
    out = run(["coverage", "--format", fmt, "--new-sites", "1", *cli_paths]).stdout  # stderr: progress
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
        assert {row[0]: row[1] for row in rows[1:-1]} == HOSTILE_COUNTIES
    elif fmt == "json":
        assert {c["adcode"]: c["name"] for c in json.loads(out)["counties"]} == HOSTILE_COUNTIES
    elif fmt == "geojson":
        gaps = [f for f in json.loads(out)["features"] if "adcode" in f["properties"]]
        assert {f["properties"]["adcode"]: f["properties"]["name"] for f in gaps} == HOSTILE_COUNTIES
    for name in HOSTILE_COUNTIES.values():
        assert_literal(out, name, f"coverage --format {fmt}")


# ---- the guard in web.maps ---------------------------------------------------------------------

def test_render_map_refuses_any_data_layer_on_a_folium_map(app):
    import folium

    from web import maps

    with app.app_context():
        m = maps.build_map(app.config)
        folium.Marker([35.4, 116.6], tooltip="示例驿站").add_to(m)
        with pytest.raises(maps.UnsafeMapError, match="Marker"):
            maps.render_map(m)


@pytest.mark.parametrize("key,value", [
    ("TILE_URL", "/tiles/{{z}}/{x}/{y}.png"), ("TILE_ATTRIBUTION", "© {% if true %}x{% endif %}"),
    ("TILE_ATTRIBUTION", "地图 {# 备注"), ("TIANDITU_KEY", "{{ config }}"),
])
def test_tile_settings_that_are_template_code_are_refused_at_start(app_config, key, value):
    from web import create_app

    with pytest.raises(ValueError, match=key):
        create_app({**app_config, key: value})


def test_render_map_refuses_template_syntax_in_a_skeleton_setting(app):
    import folium

    from web import maps

    with app.app_context():
        m = maps.build_map(app.config)
        folium.TileLayer(tiles="/t/{z}/{x}/{y}.png", attr="{{ 7*7 }}").add_to(m)
        with pytest.raises(maps.UnsafeMapError, match="7\\*7"):
            maps.render_map(m)


def test_render_map_checks_what_branca_compiles_again_before_running_it(app, monkeypatch):
    """The second line of defence: even past the settings check, template syntax never runs."""
    import folium

    from web import maps

    monkeypatch.setattr(maps, "check_skeleton", lambda m: None)
    with app.app_context():
        m = maps.build_map(app.config)
        folium.TileLayer(tiles="/t/{z}/{x}/{y}.png", attr="© {{ 7*7 }}").add_to(m)
        with pytest.raises(maps.UnsafeMapError, match="7\\*7"):
            maps.render_map(m)


def test_tianditu_tile_urls_reach_the_page_with_leaflets_placeholders(app_config):
    from web import create_app

    html = create_app({**app_config, "BASEMAP": "tianditu", "TIANDITU_KEY": "k"}).test_client().get("/")
    script = Page(html.get_data(as_text=True)).inline_scripts
    assert any("TILEMATRIX={z}" in s and "TILEROW={y}" in s and "TILECOL={x}" in s for s in script)
