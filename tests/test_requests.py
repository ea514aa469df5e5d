"""The request layer: one set of declared parameter rules for pages and API alike.

The same bad value gets the same answer everywhere: a 400 naming the parameter, as JSON under /api
and as an HTML page elsewhere, with the same message. Expected texts are written out here, not taken
from the code under test.
"""
from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from conftest import COUNTY_BOXES

ROOT = Path(__file__).resolve().parent.parent
POSITION = "lon=116.59"


def json_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def page_error(response, status: int = 400) -> str:
    """The text of an HTML error page (unescaped)."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# ---- the same bad value, the same answer on pages and API ---------------------------------------

BAD_LATITUDES = [
    ("3_5.4", "not a decimal number"),          # float() takes underscores; the rules do not
    ("３５.４", "not a decimal number"),          # full-width digits: float() takes them too
    ("٣٥.٤", "not a decimal number"),           # Arabic-Indic digits
    ("0x10", "not a decimal number"),
    ("nan", "not a decimal number"),
    ("-inf", "not a decimal number"),
    ("1e999", "not finite"),
    ("91", "out of range"),
    ("35,4", "not a decimal number"),
]


@pytest.mark.parametrize("value,reason", BAD_LATITUDES)
def test_a_bad_latitude_is_the_same_400_on_pages_and_api(client, value, reason):
    query = {"lat": value, "lon": "116.59"}
    api = json_error(client.get("/api/nearest", query_string=query))
    assert api["parameter"] == "lat" and api["value"] == value and reason in api["message"]
    assert "allowed: a WGS-84 latitude from -90 to 90" in api["message"]
    for path in ("/list", "/stations/JN-RS-0001"):
        text = page_error(client.get(path, query_string=query))
        assert api["message"] in text, path  # word for word the API's message
        assert "lat" in text


def test_list_lat_with_an_underscore_is_a_400_naming_lat(client):
    text = page_error(client.get("/list?lat=3_5.4&lon=116.59"))
    assert "lat='3_5.4' is not a decimal number" in text
    assert json_error(client.get("/api/nearest?lat=3_5.4&lon=116.59"))["parameter"] == "lat"


@pytest.mark.parametrize("value", ["maybe", "2", "y", "ja", "真"])
def test_open_now_that_is_not_yes_or_no_is_a_400_on_pages_and_api(client, value):
    api = json_error(client.get(f"/api/nearest?lat=35.41&lon=116.59&open_now={value}"))
    assert api["parameter"] == "open_now" and "1, true, yes, on, 0, false, no or off" in api["message"]
    text = page_error(client.get("/list", query_string={"open_now": value}))
    assert api["message"] in text
    assert page_error(client.get("/list", query_string={"h24": value}))


@pytest.mark.parametrize("value", ["1", "TRUE", "Yes", "on", "0", "false", "NO", "Off", ""])
def test_yes_no_words_in_any_case_are_accepted_everywhere(client, value):
    assert client.get("/list", query_string={"open_now": value, "h24": value}).status_code == 200
    assert client.get("/api/nearest", query_string={"lat": 35.41, "lon": 116.59, "open_now": value}).status_code == 200


UNKNOWN_COUNTY_URLS = ["/", "/embed", "/list", "/planning", "/api/stations", "/api/coverage", "/api/coverage/gaps",
                       "/planning/download.csv"]


@pytest.mark.parametrize("url", UNKNOWN_COUNTY_URLS)
@pytest.mark.parametrize("value", ["999999", "北京市", "370800"])
def test_an_unknown_county_is_the_same_400_everywhere(client, url, value):
    response = client.get(url, query_string={"county": value})
    assert response.status_code == 400
    if url.startswith("/api/"):
        error = json_error(response)
        assert error["parameter"] == "county" and error["value"] == value
        text = error["message"]
    else:
        text = page_error(response)
    assert f"county='{value}' is not a county in the data" in text
    assert "370883 (邹城市)" in text and "adcode or exact name" in text  # the known ones, briefly


def test_known_counties_are_listed_briefly_when_there_are_many():
    from web.requests.fields import known_counties

    class Many:
        codes = [f"{110101 + i}" for i in range(2850)]

        def name(self, code):
            return f"县{code}"

    text = known_counties(Many())
    assert "110101 (县110101)" in text and "110120 (县110120)" in text and "110121" not in text
    assert "and 2830 more" in text and len(text) < 600


@pytest.mark.parametrize("path,name", [("/list", "kind"), ("/list", "q"), ("/", "county"),
                                       ("/api/stations", "kind"), ("/api/nearest?lat=35.41&lon=116.59&", "k")])
def test_a_scalar_parameter_given_twice_is_a_400_naming_it(client, path, name):
    values = {"kind": ["rest_station", "cultural_palace"], "q": ["a", "b"], "county": ["370811", "370883"],
              "k": ["1", "2"]}[name]
    url = path + ("" if path.endswith("&") else "?") + "&".join(f"{name}={v}" for v in values)
    response = client.get(url)
    assert response.status_code == 400
    if response.is_json:
        error = json_error(response)
        assert error["parameter"] == name and error["value"] == values and "given 2 times" in error["message"]
    else:
        assert f"{name}={values!r} is given 2 times" in page_error(response)


def test_list_parameters_take_repeats_and_commas_in_order_without_duplicates():
    from web.requests.queries import ListQuery, NearestQuery

    args = MultiDict([("lat", "35.41"), ("lon", "116.59"), ("amenity", "toilet,microwave"), ("amenity", " toilet "),
                      ("amenity", "drinking_water,,microwave"), ("status", "planned,open"), ("status", "open")])
    query = NearestQuery.from_args(args, context=object())
    assert query.amenities == ("toilet", "microwave", "drinking_water")
    assert query.statuses == ("planned", "open")
    listing = ListQuery.from_args(MultiDict([("amenity", "wifi"), ("amenity", "wifi,toilet")]), context=object())
    assert listing.amenities == ("wifi", "toilet")


def test_empty_values_count_as_absent_and_unknown_parameters_are_ignored(client):
    from web.requests.queries import NearestQuery

    query = NearestQuery.from_args(MultiDict([("lat", "35.41"), ("lon", "116.59"), ("k", ""), ("kind", " "),
                                              ("open_now", ""), ("utm_source", "x")]), context=object())
    assert (query.k, query.kind, query.open_now) == (5, None, False)
    assert client.get("/list?kind=&amenity=&open_now=&h24=&q=&county=&lat=&lon=&_=1").status_code == 200
    assert client.get("/?county=&lang=&x=y").status_code == 200


@pytest.mark.parametrize("value", ["1e3", "2.0", "+", "１", "0x2", "5 5"])
def test_whole_numbers_are_ascii_digits_only(client, value):
    error = json_error(client.get("/api/nearest", query_string={"lat": 35.41, "lon": 116.59, "k": value}))
    assert error["parameter"] == "k" and "not a whole number" in error["message"]
    assert "allowed: a whole number from 1 to 50" in error["message"]


@pytest.mark.parametrize("value", ["35", "+35.5", "-35.", ".5", "3.5e1", "35E-0", " 35.4 "])
def test_decimal_numbers_in_plain_ascii_notation_are_accepted(client, value):
    assert client.get("/api/nearest", query_string={"lat": value, "lon": 116.59}).status_code == 200
    assert client.get("/list", query_string={"lat": value, "lon": 116.59}).status_code == 200


def test_a_position_needs_both_lat_and_lon_on_pages(client):
    text = page_error(client.get("/list?lat=35.41"))
    assert "lon is missing while lat is given; allowed: both lat and lon" in text
    text = page_error(client.get("/stations/JN-RS-0001?lon=116.59"))
    assert "lat is missing while lon is given" in text


def test_every_bad_parameter_is_listed(client):
    error = json_error(client.get("/api/nearest?lat=abc&lon=999&k=0&kind=hotel"))
    assert error["parameter"] == "lat"  # the first one heads the answer
    assert [p["field"] for p in error["problems"]] == ["lat", "lon", "k", "kind"]
    assert all("allowed" in p["allowed"] for p in error["problems"])


def test_the_list_filters_by_county(client):
    from test_pages import list_ids

    html = client.get("/list?county=邹城市").get_data(as_text=True)
    _, (x0, y0, x1, y1), _ = COUNTY_BOXES["370883"]
    assert set(list_ids(html)) == {"JN-RS-0007", "JN-RS-0008", "JN-CP-0002"}
    assert 'value="370883" selected' in html


def test_an_unknown_language_is_ignored_not_refused(client):
    assert client.get("/list?lang=fr").status_code == 200


# ---- declarations: every route is declared; work classes come from them --------------------------

def test_every_view_of_the_site_is_declared_in_the_request_layer(app):
    from web.requests import api, declared_endpoints, pages

    declared = declared_endpoints(app)
    undeclared = sorted(set(app.view_functions) - set(declared) - {"static"})
    assert not undeclared, f"views without a request-layer declaration: {undeclared}"
    for name, endpoint in declared.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == name)
        # the JSON API, the OGC API (/ogc, web.ogc) and oEmbed (/oembed, web.embeds) are the documented
        # layer; pages are not
        assert (endpoint.layer is api) == (rule.rule.startswith(("/api/", "/ogc/")) or rule.rule == "/oembed"), name
        assert endpoint.layer in (api, pages)


def test_the_rate_limited_endpoints_are_those_declared_as_analyses(app):
    from web.limits import rate_limited_endpoints

    assert rate_limited_endpoints(app) == {"planning.planning", "planning.download", "planning.api_coverage",
                                           "planning.api_coverage_gaps"}


def test_a_cheap_endpoint_cannot_start_an_analysis(app):
    from web.planning.parameters import CoverageQuery
    from web.planning.routes import coverage_result
    from web.requests import api

    @api.route(operation_id="tCheapAnalysis")
    def cheap():
        coverage_result(CoverageQuery.from_args(MultiDict()))
        return "no"

    app.add_url_rule("/t-cheap", "t_cheap", cheap)
    assert app.test_client().get("/t-cheap").status_code == 500


def test_openapi_and_the_routes_do_not_import_each_other():
    code = ("import sys, web.openapi; "
            "assert not [m for m in sys.modules if m in ('web.api', 'web.pages') or m.startswith('web.planning')], "
            "sorted(m for m in sys.modules if m.startswith('web')); "
            "import web.planning, web.api; "
            "assert 'openapi' not in web.planning.routes.__dict__ and 'CACHED_HEADERS' not in web.planning.routes.__dict__")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_no_route_module_borrows_another_blueprints_private_functions():
    for path in [*(ROOT / "web").glob("*.py"), *(ROOT / "web" / "planning").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(pages|api|planning)\._\w+", text), path


def test_parameter_documentation_is_generated_from_the_models(client):
    from web.requests.queries import NearestQuery

    doc = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/nearest"]["get"]["parameters"]}
    assert [n for n in params if params[n]["in"] == "query"] == list(NearestQuery.model_fields)
    for name, field in NearestQuery.model_fields.items():
        assert params[name]["description"] == field.description
    assert params["amenity"]["style"] == "form" and params["amenity"]["explode"] is True
    assert params["k"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 5,
                                     "description": "How many stations."}
    county = next(p for p in doc["paths"]["/api/stations"]["get"]["parameters"] if p["name"] == "county")
    assert "`370883` 邹城市" in county["description"] and "{counties}" not in county["description"]
