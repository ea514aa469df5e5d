"""The nearest index of a store that keeps changing: a base index and the stations changed since, exactly.

Rebuilding a national index (186,100 stations: reading the columns, building the trees) takes about
a second; with editors writing several times a second, every answer would wait for a rebuild. A
:class:`PatchedIndex` answers from the index of an earlier version (its *base*) and the records changed
since then (read by id: a few milliseconds), with the same answers as an index of the current records:

- the base is asked for ``k`` stations, the changed ones among them dropped (their base records are out
  of date; a removed one is never read), and asked again for as many more as were dropped until ``k``
  are left or it has no more (changes are few and scattered: nearly always one question);
- a small index of the changed stations as they are now (``NearestIndex``, the same filters) is asked
  for ``k``;
- the two are merged by distance (and, for ``query_open_first``, open ones first), ties by id, and
  cut at ``k``. The true ``k`` nearest of the current records are among the merged ones: at most ``e``
  of the base's are dropped, and a changed station is in the small index with its current record.

Built by ``web.state.AppState.nearest_index`` from a store's ``changes(mark)`` (the PostGIS store: its
journal since the base's table was read); a new base is built in the background once enough changes
have gathered.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from .model import Station
from .nearest import Hit, NearestIndex

__all__ = ["PatchedIndex"]


class _PatchedTable:
    """The base index's table, except that a changed station is given as it is now (a removed one as a
    stand-in made from the table's columns): those are dropped from the base's answers anyway, and never
    read from the store."""

    def __init__(self, table, changed: Mapping[str, Station | None]):
        self._table, self._changed = table, changed

    def __getattr__(self, name: str):
        return getattr(self._table, name)

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, index):
        return self.take([index])[0]

    def take(self, indices) -> list[Station]:
        table, changed = self._table, self._changed
        indices = [int(i) for i in indices]
        out: dict[int, Station] = {}
        rest = []
        for i in indices:
            sid = table.id_at(i)
            if sid in changed:
                out[i] = changed[sid] or Station(id=sid, name=sid, kind="rest_station",  # removed: a stand-in
                                                 lon=float(table.lon[i]), lat=float(table.lat[i]))
            else:
                rest.append(i)
        out.update(zip(rest, table.take(rest)))
        return [out[i] for i in indices]


def _base_view(base: NearestIndex, changed: Mapping[str, Station | None]) -> NearestIndex:
    """``base`` answering with :class:`_PatchedTable`'s stations (its trees and caches shared)."""
    import copy

    view = copy.copy(base)
    patched = _PatchedTable(base._table, changed)
    view._table = patched
    view._stations = patched
    return view


class PatchedIndex:
    """``NearestIndex``'s answers over a base index (of a table) and the stations changed since it.

    Parameters
    ----------
    base : NearestIndex
        Built with ``NearestIndex.from_table`` from an earlier version of the store.
    changed : mapping of station id -> Station or None
        Every station added, changed or removed since the base's version, as it is now (``None``:
        removed).
    """

    def __init__(self, base: NearestIndex, changed: Mapping[str, Station | None]):
        if getattr(base, "_table", None) is None:
            raise ValueError("a PatchedIndex needs a base built from a table (NearestIndex.from_table)")
        self.base = base
        self.changed = dict(changed)
        table = base._table
        in_base = {sid for sid in self.changed if table.position(sid) is not None}
        self._excluded = len(in_base)
        present = [s for s in self.changed.values() if s is not None]
        self._view = _base_view(base, self.changed)
        self._delta = NearestIndex(present) if present else None
        self._len = len(base) - len(in_base) + len(present)

    def __len__(self) -> int:
        return self._len

    def _merge(self, base_hits: list[Hit], delta_hits: list[Hit], k: int, first=None) -> list[Hit]:
        hits = [h for h in base_hits if h.station.id not in self.changed] + delta_hits
        if first is None:
            hits.sort(key=lambda h: (h.distance_m, h.station.id))
        else:
            hits.sort(key=lambda h: (0 if first(h) else 1, h.distance_m, h.station.id))
        return hits[:k]

    def _from_base(self, ask, k: int) -> list[Hit]:
        """The base's best answers that are not changed stations, ``k`` of them (or all it has): each of
        its answers is exact for its ``n``, so the unchanged ones among its best ``n`` are the best unchanged."""
        n = k
        while True:
            hits = ask(n)
            kept = [h for h in hits if h.station.id not in self.changed]
            if len(kept) >= k or len(hits) < n or n >= k + self._excluded:
                return kept
            n = min(n + (k - len(kept)), k + self._excluded)

    def query(self, lon: float, lat: float, k: int = 5, **filters: Any) -> list[Hit]:
        """:meth:`NearestIndex.query` of the current records (the same parameters)."""
        k = NearestIndex._check_k(k)
        base_hits = self._from_base(lambda n: self._view.query(lon, lat, n, **filters), k)
        delta_hits = self._delta.query(lon, lat, k, **filters) if self._delta is not None else []
        return self._merge(base_hits, delta_hits, k)

    def query_open_first(self, lon: float, lat: float, at: datetime, k: int = 5, **filters: Any) -> list[Hit]:
        """:meth:`NearestIndex.query_open_first` of the current records (the same parameters)."""
        from .hours import open_state

        k = NearestIndex._check_k(k)
        base_hits = self._from_base(lambda n: self._view.query_open_first(lon, lat, at, n, **filters), k)
        delta_hits = self._delta.query_open_first(lon, lat, at, k, **filters) if self._delta is not None else []
        statuses = filters.get("statuses", ("open",))
        if isinstance(statuses, str):
            statuses = (statuses,)
        may_be_open = statuses is None or "open" in tuple(statuses)

        def first(hit: Hit) -> bool:  # what query_open_first puts first: open, and open at ``at``
            return may_be_open and hit.station.status == "open" and open_state(hit.station.opening_hours, at) is True

        return self._merge(base_hits, delta_hits, k, first)
