"""The 404 page: the site's own page in the reader's language, with the way to the map and the nearest
stations; the API's 404 stays JSON. And the test-only vendored files (axe-core) are never served."""
from __future__ import annotations

from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"


@pytest.mark.parametrize("path", ["/stations/NOPE-1", "/no/such/page"])
@pytest.mark.parametrize("lang,html_lang,title,nearest", [
    ("zh", "zh-CN", "找不到这个页面", "找最近的驿站"), ("en", "en", "Page not found", "Find the nearest station")])
def test_a_missing_page_is_the_sites_page_in_the_readers_language(client, path, lang, html_lang, title, nearest):
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<html lang="{html_lang}">' in html
    assert f"<h1>{title}</h1>" in html
    assert f'href="/?lang={lang}#nearest"' in html and nearest in html  # the map finds the nearest at once
    assert f'href="/?lang={lang}"' in html and f'href="/list?lang={lang}"' in html
    assert "/static/css/site.css" in html  # styled as the site
    assert ("已经撤除" in html or "removed" in html) == path.startswith("/stations/")


def test_the_language_remembered_in_the_cookie_is_used(client):
    client.get("/list?lang=en")  # the choice is kept in a cookie
    html = client.get("/stations/NOPE-1").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Page not found</h1>" in html


def test_the_apis_404_stays_json(client):
    response = client.get("/api/stations/NOPE-1", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 404


def test_the_test_only_vendored_files_are_never_served(client):
    axe = STATIC / "vendor" / "axe-core" / "axe.min.js"
    if not axe.is_file():
        pytest.skip("axe-core is not vendored here (scripts/vendor_assets.py)")
    assert client.get("/static/vendor/axe-core/axe.min.js").status_code == 404
    assert client.get("/static/vendor/axe-core/LICENSE").status_code == 404
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200  # the site's own assets still are
