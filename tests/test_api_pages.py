"""/api/stations a page at a time (limit, offset, next/prev in the body and the Link header) and as files
(format=csv|xlsx|kml|gpkg|shp|geojson, or Accept), with the same filters."""
from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import STATION_FEATURES

ALL_IDS = sorted(f["properties"]["id"] for f in STATION_FEATURES)


def _link_header(response) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in response.headers.get("Link", "").split(","))):
        url, rel = part.split(";", 1)
        out[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip()[1:-1]
    return out


def test_default_page_is_everything_here_with_counts_and_metadata(client):
    doc = client.get("/api/stations").get_json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(STATION_FEATURES)
    assert [f["id"] for f in doc["features"]] == ALL_IDS
    assert {link["rel"] for link in doc["links"]} == {"self"}
    assert doc["sample"] is True and doc["license"] == "CC-BY-4.0" and doc["attribution"]
    assert doc["data_date"] == "2026-10-01" and "crs" not in doc


def test_paging_through_with_next_links(client):
    url, seen, pages = "/api/stations?limit=4", [], 0
    while url:
        r = client.get(url)
        doc = r.get_json()
        assert doc["numberMatched"] == len(STATION_FEATURES)
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        header = _link_header(r)
        assert header.get("next") == (nxt[0] if nxt else None)
        url = nxt[0].replace("http://localhost", "") if nxt else None
        pages += 1
    assert seen == ALL_IDS and pages == 4


def test_prev_link_and_filters_kept(client):
    r = client.get("/api/stations?kind=rest_station&limit=3&offset=3")
    links = _link_header(r)
    assert parse_qs(urlsplit(links["prev"]).query) == {"kind": ["rest_station"], "limit": ["3"]}
    assert parse_qs(urlsplit(links["next"]).query) == {"kind": ["rest_station"], "limit": ["3"], "offset": ["6"]}
    rest = sorted(i for i in ALL_IDS if "-RS-" in i)
    assert [f["id"] for f in r.get_json()["features"]] == rest[3:6]


@pytest.mark.parametrize("query", ["limit=0", "limit=10001", "offset=-1", "offset=x", "format=dxf",
                                   "format=csv&crs=gcj02"])
def test_bad_paging_or_format_is_400(client, query):
    assert client.get(f"/api/stations?{query}").status_code == 400


@pytest.mark.parametrize("fmt, media, name", [
    ("csv", "text/csv", "yizhan-stations.csv"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "yizhan-stations.xlsx"),
    ("kml", "application/vnd.google-earth.kml+xml", "yizhan-stations.kml"),
    ("gpkg", "application/geopackage+sqlite3", "yizhan-stations.gpkg"),
    ("shp", "application/zip", "yizhan-stations.zip"),
    ("geojson", "application/geo+json", "yizhan-stations.geojson"),
])
def test_files_by_format(client, fmt, media, name):
    r = client.get(f"/api/stations?format={fmt}")
    assert r.status_code == 200 and r.mimetype == media
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    later = client.get(f"/api/stations?format={fmt}&limit=5&offset=5")
    assert f"-from-5." in later.headers["Content-Disposition"]
    assert "next" in _link_header(later) and "prev" in _link_header(later)


def test_csv_file_follows_the_filters_and_lang(client):
    r = client.get("/api/stations?format=csv&county=邹城市&lang=en")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    expected = sorted(f["properties"]["id"] for f in STATION_FEATURES if f["properties"].get("county_code") == "370883")
    assert [row["id"] for row in rows] == expected
    assert {row["license"] for row in rows} == {"CC-BY-4.0"}
    zh = client.get("/api/stations?format=csv&limit=1").data.decode("utf-8-sig")
    assert zh.splitlines()[0].startswith("编号,名称")


def test_accept_header_chooses_the_file(client):
    r = client.get("/api/stations", headers={"Accept": "text/csv"})
    assert r.mimetype == "text/csv" and "Accept" in r.headers["Vary"]
    assert "Content-Disposition" not in r.headers  # asked by media type, not as a named download
    assert client.get("/api/stations", headers={"Accept": "*/*"}).mimetype == "application/geo+json"
    assert client.get("/api/stations", headers={"Accept": "application/json"}).mimetype == "application/geo+json"


def test_file_answers_are_conditional(client):
    first = client.get("/api/stations?format=gpkg")
    again = client.get("/api/stations?format=gpkg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
