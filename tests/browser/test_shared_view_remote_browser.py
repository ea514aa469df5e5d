"""A shared link to the map of a large store (above ``MAP_INLINE_MAX``: markers come area by area from the
API) opens the same view and, once the area's markers are in, the station's popup."""
from __future__ import annotations

import pytest

from .conftest import WAIT_MS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
STATION = "JN-CP-0001"  # 济宁市工人文化宫 at (116.5900, 35.4100), WGS-84


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAP_INLINE_MAX": 5}  # the 13 fixture stations take the national data's path


def test_a_shared_link_opens_the_view_and_the_station_once_its_area_is_loaded(live_server, make_page):
    page, watch = make_page(viewport=PHONE)
    page.goto(f"{live_server.url}/#map=16/35.41000/116.59000&station={STATION}&amenity=toilet", wait_until="load")
    page.wait_for_selector("html[data-map-ready='1']", state="attached", timeout=WAIT_MS)
    assert page.evaluate("() => JSON.parse(document.getElementById('yz-data').textContent).stations.length") == 0
    page.wait_for_selector(".leaflet-popup .yz-popup h3", timeout=WAIT_MS)
    assert page.inner_text(".yz-popup h3") == "济宁市工人文化宫"
    assert page.evaluate("() => yizhan.highlighted()") == STATION
    assert page.evaluate("() => yizhan.map.getZoom()") == 16
    assert page.is_checked("#filters input[name=amenity][value=toilet]")
    page.wait_for_function(f"() => location.hash.includes('station={STATION}')", timeout=WAIT_MS)
    watch.assert_clean()
