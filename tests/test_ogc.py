"""OGC API - Features (Part 1: Core, GeoJSON, HTML) under /ogc: documents, paging, filters, negotiation,
and a real client (OWSLib, over HTTP to the app served in a thread) reading both collections.

The OGC publishes its schemas only online (schemas.opengis.net; no package on PyPI or npm ships them
as files), so the JSON Schemas here are written from the standard's requirements classes
(/req/core/root-success, /req/core/conformance-success, /req/core/fc-md-success, /req/core/fc-md-items,
/req/core/fc-md-extent, /req/core/fc-response, /req/core/fc-links, /req/geojson/...): the members
a client may rely on, no more.
"""
from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from werkzeug.serving import make_server

from conftest import COUNTY_BOXES, STATION_FEATURES, XSS_NAME

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
HTML_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"

# ---- the standard's documents, as JSON Schema (from the requirements classes) --------------------
LINK = {"type": "object", "required": ["href", "rel"],
        "properties": {"href": {"type": "string", "format": "uri"}, "rel": {"type": "string"},
                       "type": {"type": "string"}, "hreflang": {"type": "string"}, "title": {"type": "string"},
                       "length": {"type": "integer"}}}
LANDING_SCHEMA = {  # /req/core/root-success
    "type": "object", "required": ["links"],
    "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                   "links": {"type": "array", "items": LINK}},
}
CONFORMANCE_SCHEMA = {  # /req/core/conformance-success
    "type": "object", "required": ["conformsTo"],
    "properties": {"conformsTo": {"type": "array", "items": {"type": "string", "format": "uri"}}},
}
EXTENT = {  # /req/core/fc-md-extent
    "type": "object",
    "properties": {"spatial": {"type": "object", "properties": {
        "bbox": {"type": "array", "minItems": 1, "items": {
            "type": "array", "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
            "items": {"type": "number"}}},
        "crs": {"enum": [CRS84, "http://www.opengis.net/def/crs/OGC/0/CRS84h"]}}},
        "temporal": {"type": "object"}},
}
COLLECTION_SCHEMA = {  # /req/core/fc-md-success, /req/core/fc-md-items
    "type": "object", "required": ["id", "links"],
    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                   "links": {"type": "array", "items": LINK}, "extent": EXTENT,
                   "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}}},
}
COLLECTIONS_SCHEMA = {
    "type": "object", "required": ["links", "collections"],
    "properties": {"links": {"type": "array", "items": LINK}, "collections": {"type": "array", "items": COLLECTION_SCHEMA}},
}
FEATURE_COLLECTION_SCHEMA = {  # /req/geojson/content, /req/core/fc-response
    "type": "object", "required": ["type", "features"],
    "properties": {"type": {"const": "FeatureCollection"},
                   "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry",
                                                                                       "properties"],
                                                           "properties": {"type": {"const": "Feature"}}}},
                   "links": {"type": "array", "items": LINK}, "timeStamp": {"type": "string", "format": "date-time"},
                   "numberMatched": {"type": "integer", "minimum": 0},
                   "numberReturned": {"type": "integer", "minimum": 0}},
}
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def check(schema, doc):
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(doc)


def rels(doc) -> dict[tuple[str, str], dict]:
    return {(link["rel"], link.get("type", "")): link for link in doc["links"]}


def all_station_ids() -> list[str]:
    return sorted(f["properties"]["id"] for f in STATION_FEATURES)


# ---- documents ------------------------------------------------------------------------------------

def test_landing_page_links_what_a_client_needs(client):
    r = client.get("/ogc/")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.get_json()
    check(LANDING_SCHEMA, doc)
    links = rels(doc)
    assert links[("self", "application/json")]["href"] == "http://localhost/ogc/?f=json"
    assert ("alternate", "text/html") in links
    assert links[("service-desc", "application/vnd.oai.openapi+json;version=3.1")]["href"] == \
        "http://localhost/api/openapi.json"
    assert links[("conformance", "application/json")]["href"] == "http://localhost/ogc/conformance"
    assert links[("data", "application/json")]["href"] == "http://localhost/ogc/collections"
    assert all(link.get("title") and link.get("type") for link in doc["links"])
    assert client.get("/ogc").status_code in (301, 308)  # to /ogc/


def test_conformance_claims_core_geojson_html(client):
    doc = client.get("/ogc/conformance").get_json()
    check(CONFORMANCE_SCHEMA, doc)
    assert {CORE, GEOJSON_CLASS, HTML_CLASS} <= set(doc["conformsTo"])


def test_collections_describe_stations_and_counties_for_qgis(client):
    doc = client.get("/ogc/collections").get_json()
    check(COLLECTIONS_SCHEMA, doc)
    by_id = {c["id"]: c for c in doc["collections"]}
    assert list(by_id) == ["stations", "counties"]
    for cid, c in by_id.items():
        assert c["itemType"] == "feature" and c["crs"] == [CRS84]
        assert c["extent"]["spatial"]["crs"] == CRS84
        items = rels(c)[("items", "application/geo+json")]["href"]
        assert urlsplit(items).path == f"/ogc/collections/{cid}/items"
        assert ("license", "text/html") in rels(c)
        assert c["title"] and c["description"] and c["attribution"]
    lons = [f["geometry"]["coordinates"][0] for f in STATION_FEATURES]
    lats = [f["geometry"]["coordinates"][1] for f in STATION_FEATURES]
    assert by_id["stations"]["extent"]["spatial"]["bbox"] == [[min(lons), min(lats), max(lons), max(lats)]]
    boxes = [box for _, box, _ in COUNTY_BOXES.values()]
    assert by_id["counties"]["extent"]["spatial"]["bbox"] == [[min(b[0] for b in boxes), min(b[1] for b in boxes),
                                                               max(b[2] for b in boxes), max(b[3] for b in boxes)]]
    assert "sample" in by_id["stations"]["description"]  # the fixture stations are sample data
    single = client.get("/ogc/collections/stations").get_json()
    check(COLLECTION_SCHEMA, single)
    assert rels(single)[("self", "application/json")]["href"] == "http://localhost/ogc/collections/stations?f=json"


def test_items_page_with_counts_links_and_crs(client):
    r = client.get("/ogc/collections/stations/items?limit=5&offset=5")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    doc = r.get_json()
    check(FEATURE_COLLECTION_SCHEMA, doc)
    assert doc["numberMatched"] == len(STATION_FEATURES) and doc["numberReturned"] == 5
    assert [f["id"] for f in doc["features"]] == all_station_ids()[5:10]
    links = rels(doc)
    next_url = links[("next", "application/geo+json")]["href"]
    assert parse_qs(urlsplit(next_url).query) == {"limit": ["5"], "offset": ["10"], "f": ["json"]}
    prev_url = links[("prev", "application/geo+json")]["href"]
    assert parse_qs(urlsplit(prev_url).query) == {"limit": ["5"], "f": ["json"]}
    assert ("self", "application/geo+json") in links and ("alternate", "text/html") in links
    assert ("collection", "application/json") in links
    last = client.get(next_url.replace("http://localhost", "")).get_json()
    assert last["numberReturned"] == len(STATION_FEATURES) - 10
    assert ("next", "application/geo+json") not in rels(last)
    assert doc["timeStamp"].endswith("Z")


@pytest.mark.parametrize("query, expected", [
    ("kind=cultural_palace", lambda p: p["kind"] == "cultural_palace"),
    ("status=planned", lambda p: p["status"] == "planned"),
    ("county=370883", lambda p: p.get("county_code") == "370883"),
    ("county=邹城市", lambda p: p.get("county_code") == "370883"),
    ("amenity=toilet,microwave", lambda p: {"toilet", "microwave"} <= set(p.get("amenities", []))),
    ("bbox=116.55,35.40,116.60,35.42", None),
])
def test_items_property_filters_and_bbox(client, query, expected):
    doc = client.get(f"/ogc/collections/stations/items?{query}").get_json()
    if expected is None:
        want = sorted(f["properties"]["id"] for f in STATION_FEATURES
                      if 116.55 <= f["geometry"]["coordinates"][0] <= 116.60
                      and 35.40 <= f["geometry"]["coordinates"][1] <= 35.42)
    else:
        want = sorted(f["properties"]["id"] for f in STATION_FEATURES if expected(f["properties"]))
    assert [f["id"] for f in doc["features"]] == want and doc["numberMatched"] == len(want)


def test_county_items_and_filters(client):
    doc = client.get("/ogc/collections/counties/items").get_json()
    check(FEATURE_COLLECTION_SCHEMA, doc)
    assert [f["id"] for f in doc["features"]] == sorted(COUNTY_BOXES)
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    assert [f["id"] for f in client.get("/ogc/collections/counties/items?name=邹城市").get_json()["features"]] == \
        ["370883"]
    assert [f["id"] for f in client.get("/ogc/collections/counties/items?adcode=370812").get_json()["features"]] == \
        ["370812"]
    # a box inside 兖州区 touches no other county's outline
    got = client.get("/ogc/collections/counties/items?bbox=116.8,35.4,116.9,35.5").get_json()
    assert [f["id"] for f in got["features"]] == ["370812"]
    one = client.get("/ogc/collections/counties/items/370883").get_json()
    assert one["id"] == "370883" and one["properties"]["name"] == "邹城市"


def test_one_item_and_its_links(client):
    r = client.get("/ogc/collections/stations/items/JN-CP-0001")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.get_json()
    assert doc["id"] == "JN-CP-0001" and doc["properties"]["name"] == "济宁市工人文化宫"
    assert doc["geometry"] == {"type": "Point", "coordinates": [116.59, 35.41]}
    assert {("self", "application/geo+json"), ("alternate", "text/html"), ("collection", "application/json")} <= \
        set(rels(doc))


@pytest.mark.parametrize("path", ["/ogc/collections/nope", "/ogc/collections/nope/items",
                                  "/ogc/collections/stations/items/NO-SUCH", "/ogc/collections/counties/items/999999"])
def test_unknown_collection_or_item_is_404_json(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "application/json"
    assert client.get(path + "?f=html").mimetype == "text/html"


@pytest.mark.parametrize("query, parameter", [
    ("limit=0", "limit"), ("limit=10001", "limit"), ("offset=-1", "offset"), ("bbox=1,2,3", "bbox"),
    ("f=xml", "f"), ("kind=hotel", "kind"), ("datetime=yesterday", "datetime"), ("filter=a", "filter"),
])
def test_bad_or_unknown_parameters_are_400(client, query, parameter):
    r = client.get(f"/ogc/collections/stations/items?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"]["parameter"] == parameter


def test_datetime_is_accepted_and_selects_everything(client):
    for value in ("2026-01-01", "2026-01-01T00:00:00Z/..", "../2026-12-31T23:59:59+08:00"):
        doc = client.get("/ogc/collections/stations/items", query_string={"datetime": value}).get_json()
        assert doc["numberMatched"] == len(STATION_FEATURES), value


def test_content_negotiation(client):
    assert client.get("/ogc/collections", headers={"Accept": "*/*"}).mimetype == "application/json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/ogc/collections/stations/items", headers={"Accept": browser})
    assert r.mimetype == "text/html" and "Accept" in r.headers["Vary"]
    assert client.get("/ogc/collections/stations/items",
                      headers={"Accept": "application/geo+json"}).mimetype == "application/geo+json"
    assert client.get("/ogc/?f=html", headers={"Accept": "application/json"}).mimetype == "text/html"
    assert client.get("/ogc/?f=json", headers={"Accept": browser}).mimetype == "application/json"


def test_html_pages_escape_station_text(client):
    for path in ("/ogc/collections/stations/items?f=html", "/ogc/collections/stations/items/JN-RS-0010?f=html"):
        html = client.get(path).get_data(as_text=True)
        assert XSS_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for path in ("/ogc/?f=html", "/ogc/conformance?f=html", "/ogc/collections?f=html",
                 "/ogc/collections/counties?f=html", "/ogc/collections/counties/items?f=html&limit=2",
                 "/ogc/collections/counties/items/370811?f=html"):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "text/html", path
        assert 'lang="zh-CN"' in r.get_data(as_text=True)


def test_items_are_a_conditional_get(client):
    first = client.get("/ogc/collections/stations/items?limit=3")
    again = client.get("/ogc/collections/stations/items?limit=3", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_openapi_document_lists_each_collection_with_its_filters(client):
    doc = client.get("/api/openapi.json").get_json()
    stations = doc["paths"]["/ogc/collections/stations/items"]["get"]
    names = {p["name"] for p in stations["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "kind", "status", "county", "amenity", "f"} <= names
    counties = {p["name"] for p in doc["paths"]["/ogc/collections/counties/items"]["get"]["parameters"]}
    assert {"adcode", "name", "bbox"} <= counties and "kind" not in counties
    assert "text/html" in stations["responses"]["200"]["content"]
    assert "/ogc/" in doc["paths"] and "/ogc/conformance" in doc["paths"]


# ---- a real client: OWSLib over HTTP ----------------------------------------------------------------

@pytest.fixture
def served(app):
    """The app on a free 127.0.0.1 port, in a thread (OWSLib speaks HTTP through requests)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TRUSTED_HOSTS": ["127.0.0.1", "localhost"]}


def _page_through(features_api, collection_id: str, limit: int) -> tuple[list[dict], int]:
    """Every feature of a collection, following the `next` links as a client does; and the page count."""
    import requests

    first = features_api.collection_items(collection_id, limit=limit)
    features, pages, page = list(first["features"]), 1, first
    while True:
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return features, pages
        page = requests.get(nxt[0]["href"], timeout=10).json()
        features += page["features"]
        pages += 1
        assert pages <= 100


def test_owslib_reads_both_collections_and_pages_through_the_stations(served, client):
    owslib = pytest.importorskip("owslib.ogcapi.features")
    api = owslib.Features(f"{served}/ogc/")
    check(CONFORMANCE_SCHEMA, api.conformance())
    collections = api.collections()
    assert [c["id"] for c in collections["collections"]] == ["stations", "counties"]
    assert set(api.feature_collections()) == {"stations", "counties"}
    assert api.collection("stations")["id"] == "stations"

    features, pages = _page_through(api, "stations", limit=10)
    assert pages == 2  # 13 stations, 10 a page
    by_api = client.get("/api/stations").get_json()["features"]
    assert [f["id"] for f in features] == [f["id"] for f in by_api] == all_station_ids()
    assert [f["geometry"] for f in features] == [f["geometry"] for f in by_api]
    assert [f["properties"] for f in features] == [f["properties"] for f in by_api]

    counties, _ = _page_through(api, "counties", limit=2)
    assert [f["id"] for f in counties] == sorted(COUNTY_BOXES)
    filtered = api.collection_items("stations", kind="cultural_palace", bbox=[116.0, 35.0, 117.5, 35.6])
    assert [f["id"] for f in filtered["features"]] == ["JN-CP-0001", "JN-CP-0002"]
    assert api.collection_item("stations", "JN-RS-0001")["id"] == "JN-RS-0001"
