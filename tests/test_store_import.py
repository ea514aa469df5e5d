"""The store interface's batch write for imports, run on every backend: one ``import`` journal entry for
several stations added, changed and removed together, and its revert as a whole."""
from __future__ import annotations

import pytest

from stations.errors import Conflict, InvalidRecord, NotFound, StaleVersion
from stations.store import JournalEntry

pytest_plugins = ["store_backends"]  # the ``store`` fixture: once per backend

IN_370812 = [116.85, 35.45]  # WGS-84 [lon, lat] inside the fixture county 370812
NEW = {"type": "Feature", "geometry": {"type": "Point", "coordinates": IN_370812},
       "properties": {"name": "新驿站", "kind": "rest_station", "status": "open"}}


def _renamed(store, sid, name):
    feature = store.get(sid).to_feature()
    feature["properties"]["name"] = name
    return feature


def test_an_import_is_one_entry_listing_every_station_it_touched(store):
    entry = store.import_changes([NEW, _renamed(store, "JN-RS-0001", "新名")], remove=["JN-RS-0009"],
                                 who="alice", note="表格导入")
    assert entry.action == "import" and entry.who == "alice" and entry.note == "表格导入"
    assert entry.station_id is None and entry.id == store.history(limit=1)[0].id
    assert entry.changed == ("JN-RS-0001", "JN-RS-0009", "JN-RS-0011")  # the new one numbered after the highest
    assert store.get("JN-RS-0011").name == "新驿站" and store.get("JN-RS-0001").name == "新名"
    with pytest.raises(NotFound):
        store.get("JN-RS-0009")
    changes = entry.changes()
    assert changes["JN-RS-0011"][0] is None and changes["JN-RS-0009"][1] is None
    assert changes["JN-RS-0001"][0]["properties"]["name"] == "古槐路驿站"
    assert changes["JN-RS-0001"][1]["properties"]["name"] == "新名"
    # a station's own history shows the import that touched it; the JSON form reads back the same
    assert store.history("JN-RS-0001", limit=1)[0].id == entry.id
    assert all(e.id != entry.id for e in store.history("JN-RS-0002"))
    assert JournalEntry.from_dict(entry.to_dict()) == entry


def test_records_that_do_not_change_are_neither_written_nor_journalled(store, snapshot):
    before = snapshot(store)
    assert store.import_changes([s.to_feature() for s in store.all()]) is None
    assert snapshot(store) == before


def test_an_invalid_record_refuses_the_whole_import(store, snapshot):
    before = snapshot(store)
    bad = {**NEW, "properties": {**NEW["properties"], "kind": "kiosk"}}
    with pytest.raises(InvalidRecord) as caught:
        store.import_changes([_renamed(store, "JN-RS-0001", "新名"), bad], remove=["JN-RS-0009"])
    assert any(p.field == "kind" for p in caught.value.problems)
    with pytest.raises(NotFound):
        store.import_changes([], remove=["NOPE-1"])
    with pytest.raises(StaleVersion):
        store.import_changes([NEW], expected_store_version="stale")
    assert snapshot(store) == before


def test_reverting_an_import_restores_every_station_it_touched(store):
    records = [s.to_feature() for s in store.all()]
    entry = store.import_changes([NEW, _renamed(store, "JN-RS-0001", "新名")], remove=["JN-RS-0009"])
    assert store.revert(entry.id, who="admin", note="撤销导入") is None
    assert [s.to_feature() for s in store.all()] == records
    undo = store.history(limit=1)[0]
    assert undo.action == "import" and undo.reverts == entry.id and undo.changed == entry.changed
    store.revert(undo.id)  # and the undoing can itself be undone
    assert store.get("JN-RS-0001").name == "新名"


def test_an_import_cannot_be_reverted_over_later_changes(store):
    entry = store.import_changes([_renamed(store, "JN-RS-0001", "新名"), NEW])
    store.update("JN-RS-0001", {"phone": "0537-1111111"})
    with pytest.raises(Conflict, match="JN-RS-0001"):
        store.revert(entry.id)
    assert store.get("JN-RS-0001").name == "新名"
