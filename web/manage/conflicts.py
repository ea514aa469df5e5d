"""No lost update: a form saved over a newer version, shown with both versions side by side.

The form carries the record version it started from. When that is no longer the station's, the
journal tells what it was (the entry whose record before or after has that version) and who
changed it since. Then, field by field:

- the other editor's changes: the fields where the current record differs from that base;
- the user's changes: the fields where the submitted form differs from that base.

The form is shown again on the current version (its version in the hidden field) with the user's
changes typed over it: saving again applies exactly what the user changed onto the new version, and
keeps the other editor's changes in every other field. A field both changed is highlighted and shows
the user's value in the form, the other's beside it. Without the base in the journal (a record from
a whole-store load, a journal cut short) every field of the form stays as the user typed it, and the
fields that differ from the current record are highlighted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from stations.model import Station
from stations.store import JournalEntry
from stations.store.records import feature_version

from .forms import FIELDS, Draft, draft_comparable, merged_values, station_comparable

HISTORY_DEPTH = 200  # journal entries searched for the version a form started from


@dataclass(frozen=True)
class Row:
    """One field of the side-by-side comparison (values as ``forms.comparable`` texts)."""

    field: str
    mine: str
    theirs: str
    base: str | None
    other_changed: bool
    mine_changed: bool

    @property
    def clash(self) -> bool:
        """Both changed it, differently."""
        return self.other_changed and self.mine_changed and self.mine != self.theirs


@dataclass
class Conflict:
    current: Station
    values: dict[str, Any]  # the form shown again: the current version with the user's changes over it
    rows: list[Row]
    since: list[JournalEntry] = field(default_factory=list)  # the changes since the form's version, newest first
    base_found: bool = False

    @property
    def other_changed(self) -> list[str]:
        return [row.field for row in self.rows if row.other_changed]


def _feature_of(document: Mapping[str, Any] | None, station_id: str) -> Mapping[str, Any] | None:
    """The station's Feature in a journal entry's ``before``/``after`` (an import's is a collection)."""
    if not isinstance(document, Mapping):
        return None
    if document.get("type") == "FeatureCollection":
        for feature in document.get("features") or ():
            if (feature.get("properties") or {}).get("id") == station_id:
                return feature
        return None
    return document


def find_base(store, station_id: str, version: str) -> tuple[Station | None, list[JournalEntry]]:
    """(the record at ``version``, the journal entries since it, newest first), from the journal."""
    since: list[JournalEntry] = []
    for entry in store.history(station_id, limit=HISTORY_DEPTH):
        after = _feature_of(entry.after, station_id)
        if after is not None and feature_version(after) == version:
            return Station.from_feature(after), since
        since.append(entry)
        before = _feature_of(entry.before, station_id)
        if before is not None and feature_version(before) == version:
            return Station.from_feature(before), since
    return None, since


def compare(store, current: Station, version: str, draft: Draft, typed: Mapping[str, Any]) -> Conflict:
    """The conflict of a form started from ``version`` (``draft``: what it says; ``typed``: its fields as
    typed) with the station as it is now, ``current``."""
    base, since = find_base(store, current.id, version)
    theirs = station_comparable(current)
    mine = draft_comparable(draft)
    if draft.position is None:  # unreadable: keep what was typed, compare the rest
        mine["position"] = theirs["position"]
    if base is None:
        rows = [Row(name, mine[name], theirs[name], None, mine[name] != theirs[name], mine[name] != theirs[name])
                for name in FIELDS]
        return Conflict(current, dict(typed), [r for r in rows if r.other_changed], since, False)
    was = station_comparable(base)
    rows = [Row(name, mine[name], theirs[name], was[name], theirs[name] != was[name], mine[name] != was[name])
            for name in FIELDS]
    mine_changed = [r.field for r in rows if r.mine_changed]
    if draft.position is None and "position" not in mine_changed:
        mine_changed.append("position")
    values = merged_values(typed, current, mine_changed)
    shown = [r for r in rows if r.other_changed or (r.mine_changed and r.mine != r.theirs)]
    return Conflict(current, values, shown, since, True)
