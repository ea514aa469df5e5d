"""The map script's own wording of distances and phone numbers, in a real headless Chromium.

Expected texts are written by hand (``DISTANCE_TEXTS`` in tests/conftest.py, shared with the
pages' test), so the page script and ``web.pages`` are held to the same table.
"""
from __future__ import annotations

import copy

import pytest
from conftest import DISTANCE_TEXTS, STATION_FEATURES

from .conftest import WAIT_MS, open_map

pytestmark = pytest.mark.browser

EXTENSION_STATION = "JN-RS-0002"  # 太白楼路驿站


@pytest.fixture
def station_features() -> list[dict]:
    """The fixture stations, one of them with a phone extension."""
    features = copy.deepcopy(STATION_FEATURES)
    for f in features:
        if f["properties"]["id"] == EXTENSION_STATION:
            f["properties"]["phone"] = "0537-2345678转123"
    return features


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_script_writes_distances_as_the_table_says(live_server, make_page, lang):
    page, watch = make_page()
    open_map(page, live_server.url, f"?lang={lang}")
    metres = [m for m, _, _ in DISTANCE_TEXTS]
    shown = page.evaluate("(ms) => ms.map(m => yizhan.formatDistance(m))", metres)
    expected = [zh if lang == "zh" else en for _, zh, en in DISTANCE_TEXTS]
    assert list(zip(metres, shown)) == list(zip(metres, expected))
    watch.assert_clean()


@pytest.mark.parametrize("lang, text", [("zh", "☎ 0537-2345678 转 123"), ("en", "☎ 0537-2345678 ext. 123")])
def test_popup_dials_the_main_number_and_shows_the_extension(live_server, make_page, lang, text):
    page, watch = make_page()
    open_map(page, live_server.url, f"?lang={lang}")
    page.fill("#q", "太白楼")
    page.wait_for_selector(f"#results li[data-id='{EXTENSION_STATION}'] button", timeout=WAIT_MS).click()
    link = page.wait_for_selector(".leaflet-popup .yz-popup a.tel", timeout=WAIT_MS)
    assert link.get_attribute("href") == "tel:0537-2345678"
    assert link.text_content() == text
    # a number without an extension is dialled as it is written
    assert page.evaluate("() => yizhan.telUri('0537-2345678')") == "tel:0537-2345678"
    watch.assert_clean()
