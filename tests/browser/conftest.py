"""Fixtures for the browser tests: the app on a live 127.0.0.1 server, Debian's Chromium via Playwright.

The app reads a copy of the fixture data in ``tmp_path`` (see ``tests/conftest.py``) and draws
its basemap from a local tile route (a 1x1 PNG), so no request needs to leave 127.0.0.1.
Every request the page makes is recorded; one to any other host is answered with an error
and fails the test, as does any console error. Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("YIZHAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 412, "height": 915}  # a mid-range Android phone, portrait
TILE_ROUTE = "/test-tiles/<int:z>/<int:x>/<int:y>.png"
# A 1x1 light grey PNG.
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
LOCAL_HOSTS = ("127.0.0.1",)
WAIT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder ``browser``; skip them all (with the reason) without Chromium."""
    here = Path(__file__).resolve().parent
    missing = not Path(CHROMIUM).exists()
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(
                    reason=f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"))


@pytest.fixture
def app_config(stations_path, counties_path) -> dict:
    return {
        "STATIONS_PATH": str(stations_path), "COUNTIES_PATH": str(counties_path), "TESTING": True,
        "BASEMAP": "osm", "TILE_URL": "/test-tiles/{z}/{x}/{y}.png",
        "GEOCODER": "none", "ROUTING": "none",  # the server asks no outside service either
    }


class LiveServer:
    """``app`` served by werkzeug in a thread on 127.0.0.1 (a free port)."""

    def __init__(self, app):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):  # keep test output readable
                pass

        if TILE_ROUTE not in {r.rule for r in app.url_map.iter_rules()}:
            app.add_url_rule(TILE_ROUTE, "test_tile", lambda z, x, y: (PNG_1x1, 200, {"Content-Type": "image/png"}))
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Watch:
    """What a page did: every request URL, those that left 127.0.0.1, console errors, dialogs."""

    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    responses: list = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.page_errors, f"uncaught page errors: {self.page_errors}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture
def make_page(browser):
    """``make_page(geolocation=None | (lat, lon), permissions=bool, viewport=PHONE, locale=...) -> (page, watch)``."""
    contexts = []

    def make(geolocation=None, grant=True, viewport=None, locale="zh-CN"):
        options = {"viewport": viewport or PHONE, "locale": locale, "timezone_id": "Asia/Shanghai",
                   "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
        if geolocation is not None:
            options["geolocation"] = {"latitude": geolocation[0], "longitude": geolocation[1], "accuracy": 20}
        if grant and geolocation is not None:
            options["permissions"] = ["geolocation"]
        context = browser.new_context(**options)
        contexts.append(context)
        watch = Watch()

        def route(r):
            url = r.request.url
            watch.requests.append(url)
            if _is_local(url):
                r.continue_()
            else:
                watch.outside.append(url)
                r.abort("blockedbyclient")

        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("console", lambda m: watch.console_errors.append(f"{m.text} @ {m.location}") if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))

        def on_dialog(d):
            watch.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("response", lambda r: watch.responses.append(r))
        return page, watch

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def open_map(page, base_url: str, query: str = "") -> None:
    """Load ``/`` and wait until the page script has drawn the markers."""
    page.goto(f"{base_url}/{query}", wait_until="load")
    page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)


def bundled_data_copy(tmp_path: Path) -> tuple[Path, Path] | None:
    """A copy of geodata/stations.geojson + counties.geojson, or None if the sample is not built."""
    geodata = Path(__file__).resolve().parents[2] / "geodata"
    stations, counties = geodata / "stations.geojson", geodata / "counties.geojson"
    if not (stations.is_file() and counties.is_file()):
        return None
    out = tmp_path / "bundled"
    out.mkdir()
    shutil.copy(stations, out / "stations.geojson")
    shutil.copy(counties, out / "counties.geojson")
    return out / "stations.geojson", out / "counties.geojson"


def make_bundled_app(tmp_path: Path, **config):
    """The site on a copy of the bundled data (``config`` added to it); skips if the sample is not built."""
    paths = bundled_data_copy(tmp_path)
    if paths is None:
        pytest.skip("geodata/stations.geojson is not built (make sample)")
    from web import create_app

    return create_app({"STATIONS_PATH": str(paths[0]), "COUNTIES_PATH": str(paths[1]), "TESTING": True,
                       "TILE_URL": "/test-tiles/{z}/{x}/{y}.png", **config})


def sign_in(page, base_url: str, name: str, to: str = "/manage") -> None:
    """Sign in as staff account ``name`` (the tests' password) through the form, landing on ``to``."""
    from staff import PASSWORD

    page.goto(f"{base_url}/login?next={to}", wait_until="load")
    page.fill("#login-username", name)
    page.fill("#login-password", PASSWORD)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(to) + r"(\?|$)"), timeout=WAIT_MS)


def snap(page, path: Path, full_page: bool = False) -> None:
    """Screenshot after Leaflet's cluster and popup animations (~250 ms) have settled."""
    page.wait_for_timeout(450)
    page.screenshot(path=str(path), full_page=full_page)
