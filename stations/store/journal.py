"""The journal's entries: who changed which station when, and each changed field before -> after.

Backend-agnostic: the file store keeps entries as JSON lines (``stations.store.jsonl``), a database
store in a table; both build them with :func:`new_entry` and give them out as :class:`JournalEntry`.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from ..model import Station
from .records import changed_fields, field_value, to_feature_collection

#: what a journal entry records: one station added, changed or deleted, the whole store replaced, or
#: an import (several stations added, changed and removed together, revertible as a whole)
ACTIONS = ("add", "update", "delete", "replace_all", "import")


@dataclass(frozen=True)
class JournalEntry:
    """One change, as the journal keeps it.

    ``id``: a whole number, unique and increasing in the order of the changes, never reused: "change
    N" (``None`` only before the backend stores the entry). ``when``: an aware datetime in UTC, whole
    seconds. ``who``: the account or system user that made the change. ``action``: one of
    :data:`ACTIONS`. ``station_id``: the station changed (``None`` for ``replace_all``).
    ``before``/``after``: the record's GeoJSON Feature (WGS-84, as ``Station.to_feature()``) before
    and after the change; ``None`` before an ``add``, after a ``delete``, and both for ``replace_all``.
    ``changed``: the names of the fields that differ (``geometry`` for the position, else property
    names). ``note``: free text given with the change (a reason). ``reverts``: the id of the entry
    this change undid, when it is a revert.

    An ``import`` entry changes several stations at once: ``station_id`` is ``None``, ``changed``
    lists the ids of the stations it added, changed or removed (sorted), and ``before``/``after`` are
    FeatureCollections of those stations only, as they were before and after (a station added is in
    ``after`` only, one removed in ``before`` only). :meth:`concerns` tells whether it touched a station.
    """

    id: int | None
    when: datetime
    who: str
    action: str
    station_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed: tuple[str, ...]
    note: str | None = None
    reverts: int | None = None

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Each changed field: (value before, value after); the position as its GeoJSON geometry.

        For an ``import``: each station touched, by id: (its Feature before, its Feature after),
        ``None`` for a station that did not exist before or does not exist after.
        """
        if self.action == "import":
            before, after = collection_by_id(self.before), collection_by_id(self.after)
            return {sid: (before.get(sid), after.get(sid)) for sid in self.changed}
        return {f: (field_value(self.before, f), field_value(self.after, f)) for f in self.changed}

    def concerns(self, station_id: str) -> bool:
        """Whether this change touched the station ``station_id`` (an import: any of its stations)."""
        if self.action == "import":
            return station_id in self.changed
        return self.station_id == station_id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in a stable key order (``when`` as ISO 8601 with its offset)."""
        return {"id": self.id, "when": self.when.isoformat(timespec="seconds"), "who": self.who,
                "action": self.action, "station_id": self.station_id, "changed": list(self.changed),
                "note": self.note, "reverts": self.reverts, "before": self.before, "after": self.after}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], default_id: int | None = None) -> "JournalEntry":
        """An entry from :meth:`to_dict`'s shape; also reads the older lines without ``id``,
        ``station_id`` and ``changed`` (they are given ``default_id`` and derived from
        ``before``/``after``) and the older ``replace_all`` line whose ``after`` held a count."""
        before, after = data.get("before"), data.get("after")
        note = data.get("note")
        if data.get("action") == "replace_all":
            if isinstance(after, Mapping) and "count" in after and note is None:
                note = f"{after['count']} stations"
            before = after = None
        station_id = data.get("station_id")
        if station_id is None and data.get("action") not in ("replace_all", "import"):
            station_id = field_value(after or before, "id")
        changed = data.get("changed")
        when = datetime.fromisoformat(data["when"])
        return cls(id=data.get("id", default_id), when=when if when.tzinfo else when.replace(tzinfo=timezone.utc),
                   who=data.get("who") or "", action=data["action"], station_id=station_id,
                   before=before, after=after,
                   changed=tuple(changed) if changed is not None else changed_fields(before, after),
                   note=note, reverts=data.get("reverts"))

    def with_id(self, entry_id: int) -> "JournalEntry":
        return replace(self, id=entry_id)


def new_entry(action: str, who: str, before: Station | None, after: Station | None, *,
              note: str | None = None, reverts: int | None = None, station_id: str | None = None) -> JournalEntry:
    """An entry (without its id) for a change made now; ``who`` defaults to the system user."""
    before_f = before.to_feature() if before is not None else None
    after_f = after.to_feature() if after is not None else None
    if station_id is None:
        station_id = (after or before).id if (after or before) is not None else None
    return JournalEntry(id=None, when=datetime.now(timezone.utc).replace(microsecond=0),
                        who=who or default_user(), action=action, station_id=station_id,
                        before=before_f, after=after_f, changed=changed_fields(before_f, after_f),
                        note=note, reverts=reverts)


def new_import_entry(who: str, before: Iterable[Station], after: Iterable[Station], *,
                     note: str | None = None, reverts: int | None = None) -> JournalEntry:
    """An ``import`` entry (without its id) for a change of several stations made now: ``before`` the
    stations touched as they were (those changed or removed), ``after`` as they are (added or changed)."""
    before_fc = to_feature_collection(before)
    after_fc = to_feature_collection(after)
    ids = sorted({f["properties"]["id"] for f in before_fc["features"] + after_fc["features"]})
    return JournalEntry(id=None, when=datetime.now(timezone.utc).replace(microsecond=0),
                        who=who or default_user(), action="import", station_id=None,
                        before=before_fc, after=after_fc, changed=tuple(ids), note=note, reverts=reverts)


def collection_by_id(collection: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The Features of an ``import`` entry's ``before`` or ``after`` FeatureCollection, by station id."""
    if not collection:
        return {}
    return {f["properties"]["id"]: f for f in collection.get("features") or ()}


def default_user() -> str:
    """The system user's name (a CLI's or script's changes), else ``unknown``."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"
