"""``/?county=`` and ``/embed`` through the Flask test client: framing headers, the county fit, unknown counties (400).

Expected bounds and outlines come from the fixture boxes (``COUNTY_BOXES``), GCJ-02 from the
published formula written out in ``test_pages``; never from the code under test.
"""
from __future__ import annotations

import pytest

from conftest import COUNTY_BOXES, STATION_FEATURES
from test_pages import gcj02_reference, page_data, parse

ZOUCHENG = "370883"


def csp_of(response) -> dict[str, list[str]]:
    out = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def visible_ids() -> list[str]:
    return sorted(f["properties"]["id"] for f in STATION_FEATURES if f["properties"]["status"] != "closed")


# ---- framing ------------------------------------------------------------------------------------

def test_embed_may_be_framed_by_any_site_by_default(client):
    response = client.get(f"/embed?county={ZOUCHENG}&lang=zh")
    assert response.status_code == 200
    assert csp_of(response)["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in response.headers
    # A cross-origin frame may still ask for the position (the iframe's allow="geolocation" delegates it).
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]


def test_embed_framing_follows_embed_allowed_origins_and_every_other_page_only_the_site(app_config):
    from web import create_app

    app = create_app({**app_config, "EMBED_ALLOWED_ORIGINS": ["https://www.zoucheng.gov.cn"]})
    client = app.test_client()
    embed = client.get(f"/embed?county={ZOUCHENG}")
    assert csp_of(embed)["frame-ancestors"] == ["'self'", "https://www.zoucheng.gov.cn"]
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", "/list", "/stations/JN-RS-0001", "/embed/builder", "/api/stations", "/nowhere",
                 "/login"):
        other = client.get(path)
        assert csp_of(other)["frame-ancestors"] == ["'self'"], path
        assert other.headers["X-Frame-Options"] == "SAMEORIGIN", path

    only_self = create_app({**app_config, "EMBED_ALLOWED_ORIGINS": []}).test_client()
    assert csp_of(only_self.get("/embed"))["frame-ancestors"] == ["'self'"]


def test_by_default_only_the_embed_may_be_framed_by_any_site(client):
    assert csp_of(client.get("/embed"))["frame-ancestors"] == ["*"]
    home = client.get("/")
    assert csp_of(home)["frame-ancestors"] == ["'self'"] and home.headers["X-Frame-Options"] == "SAMEORIGIN"
    # a bad parameter's answer of the embed is still the embed's (the host page shows the site's message)
    assert csp_of(client.get("/embed?county=999999"))["frame-ancestors"] == ["*"]


# ---- the county fit ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/embed"])
def test_county_parameter_puts_its_outline_and_bounds_in_the_page_data(client, path):
    html = client.get(f"{path}?county={ZOUCHENG}").get_data(as_text=True)
    config = page_data(html)["config"]
    name, (minlon, minlat, maxlon, maxlat), _ = COUNTY_BOXES[ZOUCHENG]
    county = config["county"]
    assert county["code"] == ZOUCHENG and county["name"] == name
    assert county["bounds"] == [[pytest.approx(minlat), pytest.approx(minlon)],  # Leaflet's (lat, lon)
                                [pytest.approx(maxlat), pytest.approx(maxlon)]]
    assert county["outline"]["type"] == "Polygon"
    ring = county["outline"]["coordinates"][0]
    assert {(round(lon, 5), round(lat, 5)) for lon, lat in ring} == {
        (minlon, minlat), (maxlon, minlat), (maxlon, maxlat), (minlon, maxlat)}
    assert f"<title>{name} · " in html


def test_county_map_still_carries_every_station_and_nearest_searches_them_all(client):
    data = page_data(client.get(f"/?county={ZOUCHENG}").get_data(as_text=True))
    assert sorted(s["id"] for s in data["stations"]) == visible_ids()
    assert data["config"]["nearestUrl"] == "/api/nearest"  # no county in the nearest query


def test_county_by_name_is_the_same_as_by_adcode(client):
    by_name = page_data(client.get("/?county=邹城市").get_data(as_text=True))["config"]["county"]
    assert by_name["code"] == ZOUCHENG


def test_without_county_there_is_no_county_fit(client):
    for path in ("/", "/embed", "/?county=", "/embed?county=%20"):
        assert page_data(client.get(path).get_data(as_text=True))["config"]["county"] is None, path


def test_county_fit_is_drawn_in_gcj02_on_amap_tiles(app_config):
    from web import create_app

    client = create_app({**app_config, "BASEMAP": "amap"}).test_client()
    county = page_data(client.get(f"/embed?county={ZOUCHENG}").get_data(as_text=True))["config"]["county"]
    _, (minlon, minlat, maxlon, maxlat), _ = COUNTY_BOXES[ZOUCHENG]
    corners = [gcj02_reference(lon, lat) for lon in (minlon, maxlon) for lat in (minlat, maxlat)]
    (south, west), (north, east) = county["bounds"]
    assert west == pytest.approx(min(c[0] for c in corners), abs=2e-5)
    assert east == pytest.approx(max(c[0] for c in corners), abs=2e-5)
    assert south == pytest.approx(min(c[1] for c in corners), abs=2e-5)
    assert north == pytest.approx(max(c[1] for c in corners), abs=2e-5)


@pytest.mark.parametrize("path", ["/", "/embed"])
@pytest.mark.parametrize("value", ["999999", "370800", "北京市", "<script>alert(1)</script>", "9" * 5000, "%00"])
def test_unknown_county_is_a_400_page_naming_it(client, path, value):
    response = client.get(path, query_string={"county": value})
    assert response.status_code == 400  # a bad parameter, as on /api/stations (issue 8)
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert value[:60] in html or value[:60].replace("<", "&lt;").replace(">", "&gt;") in html
    assert "<script>alert" not in html
    assert "370883 (邹城市)" in html  # says which counties there are


def test_unknown_county_is_json_for_json_clients(client):
    response = client.get("/embed?county=999999", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "county"
    assert "999999" in response.get_json()["error"]["message"]


# ---- the embed page -------------------------------------------------------------------------------

def test_embed_has_no_top_bar_and_links_to_the_full_map_in_a_new_tab(client):
    html = client.get(f"/embed?county={ZOUCHENG}&lang=zh").get_data(as_text=True)
    tags = parse(html)
    classes = [a.get("class", "") for _, a in tags.tags]
    assert "topbar" not in classes and "topnav" not in classes
    assert not [t for t, _ in tags.tags if t in ("header", "nav")]
    assert ("base", {"target": "_blank"}) in tags.tags  # popups' links leave the frame too
    link = next(a for t, a in tags.tags if t == "a" and a.get("class") == "embed-open")
    assert link["href"] == f"/?county={ZOUCHENG}&lang=zh"
    assert link["target"] == "_blank" and "noopener" in link["rel"]
    assert "在驿站地图中打开" in html
    config = page_data(html)["config"]
    assert config["embed"] is True
    # the county's stations only (closed ones are never drawn)
    assert sorted(s["id"] for s in page_data(html)["stations"]) == sorted(
        f["properties"]["id"] for f in STATION_FEATURES
        if f["properties"].get("county_code") == ZOUCHENG and f["properties"]["status"] != "closed")
    # The full map still has its top bar.
    full = parse(client.get(f"/?county={ZOUCHENG}").get_data(as_text=True))
    assert "topbar" in [a.get("class", "") for _, a in full.tags]
    assert page_data(client.get("/").get_data(as_text=True))["config"]["embed"] is False


def test_embed_in_english(client):
    html = client.get(f"/embed?county={ZOUCHENG}&lang=en").get_data(as_text=True)
    assert "Open full map" in html and 'lang="en"' in html
    link = next(a for t, a in parse(html).tags if t == "a" and a.get("class") == "embed-open")
    assert link["href"] == f"/?county={ZOUCHENG}&lang=en"


def test_embed_without_county_shows_the_whole_city(client):
    html = client.get("/embed").get_data(as_text=True)
    link = next(a for t, a in parse(html).tags if t == "a" and a.get("class") == "embed-open")
    assert link["href"] == "/?lang=zh"
