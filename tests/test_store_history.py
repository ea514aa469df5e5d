"""The store interface's journal, run on every backend: history entries, paging, reverting a change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stations.errors import Conflict, NotFound, ValidationError
from stations.store import ACTIONS, JournalEntry

pytest_plugins = ["store_backends"]  # the ``store`` fixture: once per backend

IN_370812 = [116.85, 35.45]  # WGS-84 [lon, lat] inside the fixture county 370812
NEW = {"type": "Feature", "geometry": {"type": "Point", "coordinates": IN_370812},
       "properties": {"name": "新驿站", "kind": "rest_station", "status": "open"}}


def test_each_change_is_one_entry_newest_first(store):
    start = datetime.now(timezone.utc).replace(microsecond=0)
    added = store.add(NEW, who="alice")
    store.update(added.id, {"status": "temporarily_closed"}, who="bob", note="停水检修")
    store.delete(added.id, who="carol")
    entries = store.history(added.id)
    assert [(e.action, e.who) for e in entries] == [("delete", "carol"), ("update", "bob"), ("add", "alice")]
    assert entries[0].id > entries[1].id > entries[2].id  # "change N": increasing, in order
    assert all(isinstance(e, JournalEntry) and e.station_id == added.id and e.action in ACTIONS for e in entries)
    assert all(start <= e.when <= datetime.now(timezone.utc) and e.when.utcoffset() == timedelta(0)
               for e in entries)
    delete, update, add = entries
    assert add.before is None and add.after["properties"]["name"] == "新驿站"
    assert update.before["properties"]["status"] == "open"
    assert update.after["properties"]["status"] == "temporarily_closed" and update.note == "停水检修"
    assert delete.after is None and delete.before == update.after
    assert store.history(limit=None)[:3] == entries  # the whole store's history holds them too


def test_an_entry_names_the_changed_fields_before_and_after(store):
    store.update("JN-RS-0001", {"name": "新名", "status": "closed"}, who="bob")
    entry = store.history("JN-RS-0001", limit=1)[0]
    assert entry.changed == ("name", "status")
    assert entry.changes() == {"name": ("古槐路驿站", "新名"), "status": ("open", "closed")}
    store.update("JN-RS-0001", {"geometry": {"type": "Point", "coordinates": IN_370812}})
    moved = store.history("JN-RS-0001", limit=1)[0]
    assert moved.changed == ("geometry", "county_code")
    assert moved.changes()["geometry"] == ({"type": "Point", "coordinates": [116.587, 35.415]},
                                           {"type": "Point", "coordinates": IN_370812})
    assert moved.changes()["county_code"] == ("370811", "370812")
    store.update("JN-RS-0001", {"opening_hours": None})
    assert store.history("JN-RS-0001", limit=1)[0].changes() == {"opening_hours": ("24/7", None)}


def test_an_entry_as_json(store):
    store.update("JN-RS-0002", {"name": "新名"}, who="bob")
    entry = store.history(limit=1)[0]
    data = entry.to_dict()
    assert list(data) == ["id", "when", "who", "action", "station_id", "changed", "note", "reverts", "before", "after"]
    assert data["changed"] == ["name"] and data["when"].endswith("+00:00")
    assert JournalEntry.from_dict(data) == entry


def test_history_of_one_station_pages_by_entry_id(store):
    for n in range(5):
        store.update("JN-RS-0001", {"beds": n + 1})
        store.update("JN-RS-0002", {"beds": n + 1})
    mine = store.history("JN-RS-0001", limit=None)
    assert len(mine) == 5 and [e.after["properties"]["beds"] for e in mine] == [5, 4, 3, 2, 1]
    first = store.history("JN-RS-0001", limit=2)
    assert first == mine[:2]
    assert store.history("JN-RS-0001", before=first[-1].id, limit=2) == mine[2:4]
    assert store.history("JN-RS-0404") == []
    assert len(store.history(limit=None)) == 10 and len(store.history()) == 10


def test_history_since_a_time(store):
    store.update("JN-RS-0001", {"beds": 1})
    hour = timedelta(hours=1)
    assert len(store.history(since=datetime.now(timezone.utc) - hour)) == 1
    assert store.history(since=datetime.now(timezone.utc) + hour) == []
    shanghai = timezone(timedelta(hours=8))
    assert len(store.history(since=datetime.now(shanghai) - hour)) == 1  # any time zone


def test_history_names_every_bad_argument(store):
    with pytest.raises(ValidationError) as excinfo:
        store.history(since=datetime.now(), before="x", limit=0)  # a naive time is ambiguous
    assert {p.field for p in excinfo.value.problems} == {"since", "before", "limit"}
    assert excinfo.value.http_status == 400


def test_one_entry_by_its_id(store):
    store.update("JN-RS-0003", {"name": "一"}, who="alice")
    entry = store.history(limit=1)[0]
    assert store.journal_entry(entry.id) == entry
    with pytest.raises(NotFound):
        store.journal_entry(entry.id + 1000)


def test_who_defaults_to_the_system_user(store):
    store.update("JN-RS-0003", {"name": "一"})
    assert store.history(limit=1)[0].who


def test_a_deleted_stations_history_remains(store):
    store.update("JN-RS-0005", {"name": "一"})
    store.delete("JN-RS-0005", who="admin")
    assert [e.action for e in store.history("JN-RS-0005")] == ["delete", "update"]


def test_a_refused_change_leaves_no_entry(store, other):
    seen = store.record_version("JN-RS-0001")
    other.update("JN-RS-0001", {"name": "先到"})
    count = len(store.history(limit=None))
    for attempt in (lambda: store.update("JN-RS-0001", {"name": "后到"}, expected_version=seen),
                    lambda: store.update("JN-RS-0001", {"kind": "spa"}),
                    lambda: store.add({**NEW, "properties": {**NEW["properties"], "id": "JN-RS-0002"}})):
        with pytest.raises((Conflict, ValidationError)):
            attempt()
    assert len(store.history(limit=None)) == count


def test_replacing_all_is_one_entry(store):
    store.save_all(store.all()[:3], who="importer")
    entry = store.history(limit=1)[0]
    assert (entry.action, entry.who, entry.station_id, entry.before, entry.after) == \
        ("replace_all", "importer", None, None, None)


# ---- reverting ----------------------------------------------------------------------------------

def test_reverting_an_update_restores_its_fields_only(store):
    store.update("JN-RS-0001", {"name": "改错的名字", "phone": "0537-1111111"}, who="bob")
    wrong = store.history(limit=1)[0]
    store.update("JN-RS-0001", {"status": "temporarily_closed"}, who="carol")
    reverted = store.revert(wrong.id, who="admin", note="改错了")
    assert (reverted.name, reverted.phone, reverted.status) == ("古槐路驿站", "0537-2345678", "temporarily_closed")
    assert store.get("JN-RS-0001") == reverted
    entry = store.history(limit=1)[0]
    assert (entry.action, entry.who, entry.reverts, entry.note) == ("update", "admin", wrong.id, "改错了")
    assert entry.changed == ("name", "phone")


def test_reverting_an_update_whose_field_changed_again_is_a_conflict(store, snapshot):
    store.update("JN-RS-0001", {"name": "第一次"})
    first = store.history(limit=1)[0]
    store.update("JN-RS-0001", {"name": "第二次"})
    before = snapshot(store)
    with pytest.raises(Conflict, match="name") as excinfo:
        store.revert(first.id)
    assert excinfo.value.http_status == 409
    assert snapshot(store) == before


def test_reverting_a_move_restores_the_position_and_county(store):
    store.update("JN-RS-0001", {"lon": IN_370812[0], "lat": IN_370812[1]})
    reverted = store.revert(store.history(limit=1)[0].id)
    assert (reverted.lon, reverted.lat, reverted.county_code) == (116.587, 35.415, "370811")


def test_reverting_an_add_deletes_the_station_unless_it_changed(store):
    added = store.add(NEW, who="alice")
    assert store.revert(store.history(limit=1)[0].id) is None
    with pytest.raises(NotFound):
        store.get(added.id)
    again = store.add(NEW)
    entry = store.history(limit=1)[0]
    store.update(again.id, {"name": "改过"})
    with pytest.raises(Conflict, match="changed since"):
        store.revert(entry.id)


def test_reverting_a_delete_adds_the_station_again(store):
    gone = store.delete("JN-CP-0002", who="admin")
    entry = store.history(limit=1)[0]
    assert store.revert(entry.id, who="admin") == gone == store.get("JN-CP-0002")
    assert store.history(limit=1)[0].action == "add"
    with pytest.raises(Conflict, match="exists"):
        store.revert(entry.id)


def test_a_replace_all_cannot_be_reverted(store):
    store.save_all(store.all())
    with pytest.raises(Conflict, match="cannot be reverted"):
        store.revert(store.history(limit=1)[0].id)
    with pytest.raises(NotFound):
        store.revert(10_000)
