"""What a worker's report means (``stations.worker_reports``): its suggested change, its distance, the counts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pyproj import Geod

from stations.model import Station
from stations.worker_reports import (HANDLED_IN_TIME, REPORT_KINDS, REPORT_STATUSES, Suggestion, count_by_county,
                                     distance_m, suggestion_for)

from conftest import STATION_FEATURES


def station(sid: str) -> Station:
    return Station.from_feature(next(f for f in STATION_FEATURES if f["properties"]["id"] == sid))


def test_the_kinds_and_statuses_are_the_databases():
    from web.db import models

    assert REPORT_KINDS == models.REPORT_KINDS and REPORT_STATUSES == models.REPORT_STATUSES


def test_closed_suggests_temporarily_closed_unless_it_is_closed_already():
    assert suggestion_for("closed", station("JN-RS-0001")) == Suggestion({"status": "temporarily_closed"})
    assert suggestion_for("closed", station("JN-RS-0008")).changes == {"status": "temporarily_closed"}  # being built
    assert not suggestion_for("closed", station("JN-RS-0003"))  # temporarily closed already
    assert not suggestion_for("closed", station("JN-RS-0009"))  # closed


def test_no_water_suggests_the_amenities_without_drinking_water():
    assert suggestion_for("no_water", station("JN-RS-0002")).changes == {
        "amenities": ["microwave", "phone_charging"]}
    assert suggestion_for("no_water", station("JN-RS-0008")).changes == {"amenities": []}
    assert not suggestion_for("no_water", station("JN-CP-0002"))  # it has none to remove


def test_moved_asks_to_check_the_position_and_dirty_or_other_change_nothing():
    assert suggestion_for("moved", station("JN-RS-0001")) == Suggestion(check=("position",))
    for kind in ("dirty", "other"):
        assert not suggestion_for(kind, station("JN-RS-0001"))
    with pytest.raises(ValueError, match="'gone'"):
        suggestion_for("gone", station("JN-RS-0001"))


def test_the_distance_is_geodesic_metres_on_the_wgs84_ellipsoid():
    s = station("JN-RS-0001")  # 116.5870, 35.4150
    expected = Geod(ellps="WGS84").inv(116.5870, 35.4150, 116.5870, 35.4159)[2]
    assert distance_m(s, 116.5870, 35.4159) == pytest.approx(expected, abs=1e-6)
    assert 99 < distance_m(s, 116.5870, 35.4159) < 101  # 0.0009° of latitude at 35° N: about 99.9 m
    assert distance_m(s, s.lon, s.lat) == 0


def test_counts_split_open_and_handled_reports_by_their_age():
    now = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    day = timedelta(days=1)
    counts = count_by_county([
        ("370811", "open", now - day, None),
        ("370811", "open", now - 8 * day, None),  # over 7 days
        ("370811", "accepted", now - 10 * day, now - 9 * day),  # in time
        ("370811", "dismissed", now - 20 * day, now - 20 * day + HANDLED_IN_TIME + timedelta(seconds=1)),  # late
        ("370883", "dismissed", now - 3 * day, now - 3 * day + HANDLED_IN_TIME),  # exactly 7 days: in time
        (None, "open", now, None),
    ], now)
    assert counts["370811"].to_dict() == {"open": 2, "open_overdue": 1, "handled": 2, "handled_in_time": 1}
    assert counts["370883"].to_dict() == {"open": 0, "open_overdue": 0, "handled": 1, "handled_in_time": 1}
    assert counts[None].open == 1 and "370812" not in counts
