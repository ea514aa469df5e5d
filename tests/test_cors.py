"""CORS (flask-cors, ``CORS_ORIGINS``): other sites' scripts may read the public API and the OGC API,
and never write: a preflight for POST, PATCH or DELETE gets no allow headers, and no answer to a
write carries an ``Access-Control-Allow-Origin``."""
from __future__ import annotations

import pytest

ORIGIN = "https://www.zoucheng.gov.cn"
READS = ["/api/stations", "/api/stations/JN-RS-0001", "/api/nearest?lat=35.41&lon=116.59", "/api/counties",
         "/api/openapi.json", "/ogc/", "/ogc/collections", "/ogc/collections/stations/items?limit=2"]
WRITES = [("POST", "/api/stations"), ("PATCH", "/api/stations/JN-RS-0001"), ("DELETE", "/api/stations/JN-RS-0001"),
          ("PUT", "/api/stations/JN-RS-0001")]


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", READS)
def test_simple_cross_origin_reads_are_allowed(client, path):
    r = client.get(path, headers={"Origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Link", "Content-Crs", "Content-Disposition"} <= exposed
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_errors_of_reads_are_readable_too(client):
    r = client.get("/api/nearest?lat=bad", headers={"Origin": ORIGIN})
    assert r.status_code == 400 and r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/stations", "/ogc/collections/stations/items"])
def test_preflight_for_a_read(client, path):
    r = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                      "Access-Control-Request-Headers": "If-None-Match"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert r.headers["Access-Control-Allow-Headers"].lower() == "if-none-match"
    assert int(r.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_preflight_for_a_write_gets_no_allow_headers(client, method):
    for path in ("/api/stations", "/api/stations/JN-RS-0001"):
        r = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method,
                                          "Access-Control-Request-Headers": "Authorization, Content-Type"})
        assert cors_headers(r) == {}, (method, path)


def test_a_preflight_asking_for_credentials_headers_is_not_granted_them(client):
    r = client.options("/api/stations", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                                 "Access-Control-Request-Headers": "Authorization"})
    assert "authorization" not in r.headers.get("Access-Control-Allow-Headers", "").lower()


@pytest.mark.parametrize("method, path", WRITES)
def test_answers_to_writes_carry_no_cors_headers(client, method, path):
    r = client.open(path, method=method, headers={"Origin": ORIGIN}, json={})
    assert cors_headers(r) == {}, (method, path, r.status_code)


def test_pages_are_not_shared(client):
    for path in ("/", "/list", "/no/such/page"):
        assert cors_headers(client.get(path, headers={"Origin": ORIGIN})) == {}


@pytest.fixture
def listed_app(app_config):
    from web import create_app
    return create_app({**app_config, "CORS_ORIGINS": "https://www.zoucheng.gov.cn https://www.jining.gov.cn"})


def test_a_list_of_origins_names_the_asking_one_and_varies_on_origin(listed_app):
    client = listed_app.test_client()
    r = client.get("/api/stations", headers={"Origin": ORIGIN})
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in ", ".join(r.headers.getlist("Vary"))
    assert cors_headers(client.get("/api/stations", headers={"Origin": "https://evil.example"})) == {}
    assert cors_headers(client.get("/api/stations")) == {}  # no Origin: no CORS answer to give


def test_no_origins_shares_nothing(app_config):
    from web import create_app
    client = create_app({**app_config, "CORS_ORIGINS": "[]"}).test_client()
    assert cors_headers(client.get("/api/stations", headers={"Origin": ORIGIN})) == {}


@pytest.mark.parametrize("bad", ["ftp://x.example", "https://x.example/path", "not an origin"])
def test_a_bad_origin_setting_stops_the_start(app_config, bad):
    from web import create_app
    from web.settings import SettingError
    with pytest.raises(SettingError, match="CORS_ORIGINS"):
        create_app({**app_config, "CORS_ORIGINS": [bad]})
