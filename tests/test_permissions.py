"""Roles and counties (``web.permissions``): who may change which station, checked before and after."""
from __future__ import annotations

import pytest

from stations.counties import Counties
from stations.errors import StaleVersion
from stations.store import open_store, record_version
from web.accounts import Account
from web.permissions import (NotAllowed, add_station, can_edit, delete_station, edit_station, editable_counties,
                             require_county, revert_change, visible_counties)

ADMIN = Account(1, "admin", "admin", frozenset())
REN = Account(2, "ren", "editor", frozenset({"370811"}))
BOTH = Account(3, "both", "editor", frozenset({"370811", "370812"}))
KAN = Account(4, "kan", "viewer", frozenset())


@pytest.fixture
def site(stations_path, counties_path):
    counties = Counties.load(counties_path)
    return {"counties": counties, "store": open_store(str(stations_path), counties=counties)}


def test_editable_and_visible_counties(site):
    counties = site["counties"]
    assert editable_counties(ADMIN, counties) == {"370811", "370812", "370883"}
    assert editable_counties(REN, counties) == {"370811"}
    assert editable_counties(KAN, counties) == set() and editable_counties(None, counties) == set()
    assert visible_counties(KAN, counties) == {"370811", "370812", "370883"}
    assert visible_counties(REN, counties) == {"370811"}


def test_can_edit_and_require_county(site):
    station = site["store"].get("JN-RS-0001")  # 370811
    assert can_edit(ADMIN, station) and can_edit(REN, station) and not can_edit(KAN, station)
    assert not can_edit(REN, site["store"].get("JN-RS-0007")) and not can_edit(None, station)
    require_county(REN, "370811")
    for account, code in ((REN, "370883"), (KAN, "370811"), (REN, None), (None, "370811")):
        with pytest.raises(NotAllowed):
            require_county(account, code)
    require_county(ADMIN, None)  # outside every county: the admin's


def test_a_move_is_checked_against_the_county_the_store_derives(site):
    store = site["store"]
    east = {"geometry": {"type": "Point", "coordinates": [116.80, 35.45]}}  # 兖州区
    with pytest.raises(NotAllowed):
        edit_station(REN, "JN-RS-0001", east, **site)
    with pytest.raises(NotAllowed):  # by lon/lat too, and with a county_code that does not say so
        edit_station(REN, "JN-RS-0001", {"lon": 116.80, "lat": 35.45}, **site)
    assert store.get("JN-RS-0001").county_code == "370811" and store.history() == []
    moved = edit_station(BOTH, "JN-RS-0001", east, **site)
    assert moved.county_code == "370812" and store.history("JN-RS-0001")[0].who == "both"


def test_a_write_is_pinned_to_the_version_it_was_checked_on(site):
    store = site["store"]
    old = record_version(store.get("JN-RS-0001"))
    edit_station(REN, "JN-RS-0001", {"name": "一"}, expected_version=old, **site)
    with pytest.raises(StaleVersion):
        edit_station(REN, "JN-RS-0001", {"name": "二"}, expected_version=old, **site)
    assert store.get("JN-RS-0001").name == "一"


def test_adding_checks_the_derived_county_and_deleting_is_for_admins(site):
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.98, 35.12]},
               "properties": {"name": "邹城新站", "kind": "rest_station", "status": "open"}}
    with pytest.raises(NotAllowed):
        add_station(REN, feature, **site)
    added = add_station(ADMIN, feature, **site)
    assert added.county_code == "370883" and added.id.startswith("JN-RS-")
    with pytest.raises(NotAllowed):
        delete_station(BOTH, added.id, store=site["store"])
    delete_station(ADMIN, added.id, store=site["store"])


def test_a_revert_is_checked_before_and_after(site):
    store = site["store"]
    edit_station(BOTH, "JN-RS-0001", {"geometry": {"type": "Point", "coordinates": [116.80, 35.45]}}, **site)
    entry = store.history("JN-RS-0001")[0]
    with pytest.raises(NotAllowed):  # the station is in 370812 now and was in 370811 before
        revert_change(REN, entry.id, **site)
    reverted = revert_change(BOTH, entry.id, **site)
    assert reverted.county_code == "370811" and store.history("JN-RS-0001")[0].who == "both"
