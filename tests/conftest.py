"""Shared fixtures: tiny synthetic counties and stations in ``tmp_path``, an app and its client.

The data are small enough to reason about by hand, valid for the store (every point lies inside
its county), and cover every kind and status, several amenity sets and opening hours, and a
name that is an HTML injection attempt. Tests compute what they expect from
``STATION_FEATURES`` / ``COUNTY_BOXES`` themselves, never through the code under test.
"""
from __future__ import annotations

import copy
import json

import pytest

# adcode -> (name, (minlon, minlat, maxlon, maxlat), population). Real adcodes, synthetic boxes.
COUNTY_BOXES = {
    "370811": ("任城区", (116.40, 35.30, 116.70, 35.55), 1_500_000),
    "370812": ("兖州区", (116.70, 35.30, 117.00, 35.55), 630_000),
    "370883": ("邹城市", (116.70, 35.05, 117.20, 35.30), 1_144_000),
}

XSS_NAME = "<img src=x onerror=alert(1)>"

# How a distance is written (metres -> zh, en), worked out by hand: whole metres under 10 m, tens
# of metres under 1 km, then tenths of a km; halves round up; the unit is chosen after rounding.
# The pages (web.pages.format_distance) and the map script (formatDistance) must both give these.
DISTANCE_TEXTS = [
    (0, "0 米", "0 m"),
    (4, "4 米", "4 m"),
    (5, "5 米", "5 m"),
    (9.4, "9 米", "9 m"),
    (9.5, "10 米", "10 m"),
    (14, "10 米", "10 m"),
    (15, "20 米", "20 m"),
    (25, "30 米", "30 m"),
    (994, "990 米", "990 m"),
    (995, "1.0 公里", "1.0 km"),
    (996, "1.0 公里", "1.0 km"),
    (999, "1.0 公里", "1.0 km"),
    (1000, "1.0 公里", "1.0 km"),
    (1049, "1.0 公里", "1.0 km"),
    (1050, "1.1 公里", "1.1 km"),
    (1250, "1.3 公里", "1.3 km"),
    (9949, "9.9 公里", "9.9 km"),
    (9950, "10.0 公里", "10.0 km"),
    (9996, "10.0 公里", "10.0 km"),
    (9999, "10.0 公里", "10.0 km"),
    (12345, "12.3 公里", "12.3 km"),
]


def _station(sid, name, kind, lon, lat, county, status="open", hours=None, amenities=(), **extra):
    props = {"id": sid, "name": name, "kind": kind}
    if county is not None:
        props["county_code"] = county
    props.update({
        "address": f"{name}地址",
        "phone": "0537-2345678",
        "opening_hours": hours,
        "amenities": list(amenities),
        "host": "济宁市总工会",
        "status": status,
        "last_verified_on": "2026-10-01",
        **extra,
        "sample": True,
        "source": "test fixture",
    })
    props = {k: v for k, v in props.items() if v is not None}
    return {"type": "Feature", "id": sid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


STATION_FEATURES = [
    _station("JN-RS-0001", "古槐路驿站", "rest_station", 116.5870, 35.4150, "370811", hours="24/7",
             amenities=("drinking_water", "toilet", "seating")),
    _station("JN-RS-0002", "太白楼路驿站", "rest_station", 116.6000, 35.4050, "370811", hours="Mo-Fr 08:00-18:00",
             amenities=("drinking_water", "microwave", "phone_charging")),
    _station("JN-RS-0003", "运河驿站", "rest_station", 116.5800, 35.4200, "370811", status="temporarily_closed",
             hours="24/7", amenities=("drinking_water", "toilet")),
    _station("JN-RS-0004", "夜班驿站", "rest_station", 116.5500, 35.4400, "370811", hours="Mo-Su 22:00-06:00",
             amenities=("drinking_water", "hot_water", "toilet", "ebike_charging")),
    _station("JN-RS-0005", "兖州火车站驿站", "rest_station", 116.8000, 35.5000, "370812", hours="24/7",
             amenities=("drinking_water", "toilet", "microwave")),
    _station("JN-RS-0006", "兖州新区驿站", "rest_station", 116.8500, 35.4000, None, status="planned"),
    _station("JN-RS-0007", "邹城孟子湖驿站", "rest_station", 116.9700, 35.1200, "370883",
             hours="Mo-Sa 07:00-19:00; Su off", amenities=("drinking_water", "first_aid_kit", "toilet")),
    _station("JN-RS-0008", "邹城东驿站", "rest_station", 117.0000, 35.1500, "370883", status="under_construction",
             amenities=("drinking_water",)),
    _station("JN-RS-0009", "旧城驿站", "rest_station", 116.6200, 35.3600, "370811", status="closed",
             hours="24/7", amenities=("drinking_water",)),
    _station("JN-RS-0010", XSS_NAME, "rest_station", 116.6500, 35.5000, "370811", hours="24/7",
             amenities=("wifi", "drinking_water")),
    _station("JN-CP-0001", "济宁市工人文化宫", "cultural_palace", 116.5900, 35.4100, "370811",
             hours="Tu-Su 09:00-17:00", amenities=("toilet", "reading_corner", "air_conditioning", "drinking_water"),
             palace_class=1, floor_area_m2=15800),
    _station("JN-CP-0002", "邹城市工人文化宫", "cultural_palace", 116.9800, 35.1000, "370883",
             hours="Mo-Su 09:00-21:00", amenities=("toilet", "reading_corner"), palace_class=2, floor_area_m2=6000),
    _station("JN-CB-0001", "兖州劳模疗休养基地", "convalescence_base", 116.9000, 35.5200, "370812",
             hours="24/7", amenities=("toilet", "heating", "drinking_water"), beds=120),
]


def _box(minlon, minlat, maxlon, maxlat):
    ring = [[minlon, minlat], [maxlon, minlat], [maxlon, maxlat], [minlon, maxlat], [minlon, minlat]]
    return {"type": "Polygon", "coordinates": [ring]}


def counties_collection() -> dict:
    features = []
    for code, (name, box, population) in COUNTY_BOXES.items():
        features.append({"type": "Feature", "geometry": _box(*box),
                         "properties": {"adcode": code, "name": name, "area_km2": None, "population": population}})
    return {"type": "FeatureCollection", "features": features}


def county_of(lon: float, lat: float) -> str | None:
    """The fixture county containing a point (boxes; lower adcode wins on a shared edge)."""
    for code in sorted(COUNTY_BOXES):
        minlon, minlat, maxlon, maxlat = COUNTY_BOXES[code][1]
        if minlon <= lon <= maxlon and minlat <= lat <= maxlat:
            return code
    return None


@pytest.fixture
def station_features() -> list[dict]:
    """A fresh deep copy of the fixture features (tests may change it before writing)."""
    return copy.deepcopy(STATION_FEATURES)


@pytest.fixture
def counties_path(tmp_path):
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(counties_collection(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def stations_path(tmp_path, station_features):
    path = tmp_path / "stations.geojson"
    collection = {"type": "FeatureCollection", "name": "test stations (sample)", "features": station_features}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def app_config(stations_path, counties_path) -> dict:
    """Config for ``create_app``; extend it in a test module by overriding this fixture. No geocoder and
    no walking router: the network is never touched (their tests point them at a local stub)."""
    return {"STATIONS_PATH": str(stations_path), "COUNTIES_PATH": str(counties_path), "TESTING": True,
            "GEOCODER": "none", "ROUTING": "none"}


@pytest.fixture
def app(app_config):
    from web import create_app

    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say why tests were skipped, once per reason, also without ``-rs`` (``make test`` runs ``-q``):
    a machine without PostgreSQL or Chromium skips those tests, never silently."""
    chars = config.option.reportchars or ""
    if any(c in chars for c in "saA"):
        return  # pytest lists every skip itself
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped, and why")
        for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{n} skipped: {reason}")
