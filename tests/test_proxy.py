"""Behind a reverse proxy: ``PROXY_COUNT`` decides whether X-Forwarded-For/-Proto are believed.

With ``PROXY_COUNT=1`` (nginx in front) the scheme the client used decides HSTS and the share
links, and the client's address (the hop the proxy appended) keys the rate limits. Without it the
headers are ignored: any client could send them.
"""
from __future__ import annotations

import pytest

from web import create_app

STATION = "/stations/JN-RS-0001"
SECURE = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}


def make_client(app_config, **config):
    return create_app({**app_config, **config}).test_client()


def share_link(html: str) -> str:
    start = html.index("<title>", html.index("<svg")) + len("<title>")
    return html[start:html.index("</title>", start)]


def test_behind_one_proxy_https_gives_hsts_and_https_links(app_config):
    client = make_client(app_config, PROXY_COUNT=1)
    response = client.get(STATION, headers=SECURE)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert share_link(response.get_data(as_text=True)) == "https://localhost" + STATION
    plain = client.get(STATION, headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    assert share_link(plain.get_data(as_text=True)) == "http://localhost" + STATION


def test_without_proxy_count_forwarded_headers_are_ignored(app_config):
    response = make_client(app_config).get(STATION, headers=SECURE)
    assert "Strict-Transport-Security" not in response.headers
    assert share_link(response.get_data(as_text=True)) == "http://localhost" + STATION


def test_forwarded_host_is_never_trusted(app_config):
    client = make_client(app_config, PROXY_COUNT=1)
    response = client.get(STATION, headers={**SECURE, "X-Forwarded-Host": "evil.example.com"})
    assert response.status_code == 200
    assert share_link(response.get_data(as_text=True)) == "https://localhost" + STATION


def coverage(client, radius_m: int, forwarded_for: str):
    return client.get(f"/api/coverage?radius_m={radius_m}", headers={"X-Forwarded-For": forwarded_for})


@pytest.fixture
def limited(app_config):
    return {**app_config, "COVERAGE_RATE_LIMIT": "1/minute", "COVERAGE_EXECUTOR": "thread"}


def test_behind_one_proxy_each_client_address_has_its_own_rate_limit(limited):
    client = make_client(limited, PROXY_COUNT=1)
    assert coverage(client, 1000, "203.0.113.5").status_code == 200
    assert coverage(client, 2000, "203.0.113.5").status_code == 429
    assert coverage(client, 3000, "203.0.113.6").status_code == 200  # another client
    # a client cannot pose as another by sending its own header: the proxy appends the real address
    assert coverage(client, 4000, "203.0.113.6, 203.0.113.5").status_code == 429


def test_without_proxy_count_every_client_of_the_proxy_shares_one_limit(limited):
    client = make_client(limited)
    assert coverage(client, 1000, "203.0.113.5").status_code == 200
    assert coverage(client, 2000, "203.0.113.6").status_code == 429  # the same remote address
