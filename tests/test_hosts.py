"""Host header trust: the site answers only for trusted hosts, so no link or QR code names another site.

Flask's test client sends ``Host: localhost`` unless a test gives another.
"""
from __future__ import annotations

import pytest

from web import create_app

EVIL = "evil.example"
PAGES = ["/", "/list", "/stations/JN-RS-0001", "/stations/JN-RS-0001/qr.svg", "/embed", "/planning"]
API = ["/api/health", "/api/nearest?lat=35.41&lon=116.59", "/api/stations", "/api/openapi.json"]


def make_client(app_config, **config):
    return create_app({**app_config, **config}).test_client()


def assert_security_headers(response):
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES + API)
def test_a_forged_host_gets_a_400_never_a_link_to_it(client, path):
    response = client.get(path, headers={"Host": EVIL})
    assert response.status_code == 400, path
    body = response.get_data(as_text=True)
    assert f"//{EVIL}" not in body
    assert_security_headers(response)
    if path.startswith("/api"):
        error = response.get_json()["error"]
        assert error["status"] == 400 and EVIL in error["message"] and "TRUSTED_HOSTS" in error["message"]
    else:
        assert response.mimetype == "text/html" and "400" in body


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:8000", "[::1]",
                                  "[::1]:5000", "LOCALHOST:5000"])
def test_loopback_hosts_are_trusted_by_default_with_any_port(client, host):
    response = client.get("/stations/JN-RS-0001", headers={"Host": host})
    assert response.status_code == 200, host
    assert f"http://{host.lower()}/stations/JN-RS-0001" in response.get_data(as_text=True)
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:5000", "localhost.evil.example", "127.0.0.1.evil.example",
                                  "[::2]", "localhost@evil.example", "evil.example/localhost", ""])
def test_hosts_that_merely_resemble_a_trusted_one_are_refused(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 400, host


def test_the_public_url_host_is_trusted_and_names_the_links(app_config):
    client = make_client(app_config, PUBLIC_URL="https://yizhan.example.cn")
    response = client.get("/stations/JN-RS-0001", headers={"Host": "yizhan.example.cn"})
    assert response.status_code == 200
    assert "https://yizhan.example.cn/stations/JN-RS-0001" in response.get_data(as_text=True)
    assert client.get("/api/health").status_code == 200  # localhost stays trusted (health checks, make run)
    assert client.get("/stations/JN-RS-0001", headers={"Host": EVIL}).status_code == 400


def test_a_configured_list_replaces_the_loopback_default(app_config):
    client = make_client(app_config, TRUSTED_HOSTS=["yizhan.example.cn", ".jining.gov.cn"])
    assert client.get("/api/health", headers={"Host": "yizhan.example.cn:8443"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "map.jining.gov.cn"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "jining.gov.cn"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/api/health", headers={"Host": "evil-jining.gov.cn"}).status_code == 400


def test_the_list_comes_from_the_environment_as_a_string(app_config, monkeypatch):
    monkeypatch.setenv("YIZHAN_TRUSTED_HOSTS", "yizhan.example.cn, localhost")
    client = create_app(app_config).test_client()
    assert client.get("/api/health", headers={"Host": "yizhan.example.cn"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "127.0.0.1"}).status_code == 400


@pytest.mark.parametrize("config, named", [
    ({"TRUSTED_HOSTS": ["*"]}, "TRUSTED_HOSTS"),
    ({"TRUSTED_HOSTS": ["https://yizhan.example.cn/"]}, "TRUSTED_HOSTS"),
    ({"TRUSTED_HOSTS": []}, "TRUSTED_HOSTS"),
    ({"PUBLIC_URL": "yizhan.example.cn"}, "PUBLIC_URL"),
])
def test_bad_host_settings_stop_the_start_naming_the_setting(app_config, config, named):
    with pytest.raises(ValueError, match=named):
        create_app({**app_config, **config})
