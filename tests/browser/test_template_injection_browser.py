"""/planning in Chromium with names that look like template code: the tooltips show them literally.

The data are those of ``tests/test_template_injection.py`` (names, addresses, hosts and county
names with ``{{ 7*7 }}``, ``{% if %}``, ``{#``, ``{{ config }}``, ``${7*7}``).
"""
from __future__ import annotations

import pytest

from test_template_injection import (CITY, HOSTILE_COUNTIES, HOSTILE_STATIONS, OPEN, evaluated_forms,
                                     hostile_features, write_hostile_counties)

from .conftest import WAIT_MS, snap

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def station_features(station_features):
    return hostile_features(station_features)


@pytest.fixture
def counties_path(tmp_path):
    return write_hostile_counties(tmp_path / "counties.geojson")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CITY_NAME": CITY}


def tooltip_of(page, selector: str, index: int) -> str:
    """Hover one map feature (a DOM mouseover, as Leaflet listens for) and read its tooltip."""
    target = page.locator(selector).nth(index)
    target.dispatch_event("mouseover")
    text = page.locator(".leaflet-tooltip").last.inner_text()
    target.dispatch_event("mouseout")
    return text


def test_planning_tooltips_show_template_syntax_literally(live_server, make_page, artifacts):
    page, watch = make_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/planning?new_sites=1", wait_until="load")
    page.wait_for_selector("path.yz-county", state="attached", timeout=WAIT_MS)

    page.hover("path.yz-county.c-370811", position={"x": 30, "y": 30}, force=True)
    county_tip = page.wait_for_selector(".leaflet-tooltip", timeout=WAIT_MS).inner_text()
    assert HOSTILE_COUNTIES["370811"] in county_tip
    page.mouse.move(1, 1)

    n = page.locator("path.yz-station").count()
    shown = {tooltip_of(page, "path.yz-station", i).strip() for i in range(n)}
    expected = {name for sid, (name, _, _) in HOSTILE_STATIONS.items() if sid in OPEN}
    assert expected <= shown, shown

    worst = {tooltip_of(page, ".leaflet-marker-pane .yz-worst", i)
             for i in range(page.locator(".leaflet-marker-pane .yz-worst").count())}
    for name in HOSTILE_COUNTIES.values():
        assert any(name in tip for tip in worst), (name, worst)

    body = page.inner_text("body")
    for text in [*HOSTILE_COUNTIES.values(), CITY]:
        assert text in body
        for form in evaluated_forms(text):
            assert form not in body
    snap(page, artifacts / "planning-template-names.png")
    watch.assert_clean()
