"""The station store interface: what every backend (a GeoJSON file, PostgreSQL/PostGIS) guarantees.

Units and reference system: positions are WGS-84 longitude/latitude in degrees, named ``lon`` and
``lat``, GeoJSON order ``[lon, lat]``; they are stored rounded to ``COORD_DECIMALS`` (7, about 1 cm).
Records are :class:`~stations.model.Station` objects; their exchange form is the GeoJSON Feature
of ``Station.to_feature()``.

Concurrency contract (the same for every backend):

- A store object may be used from several threads; several processes (and, for a database, several
  servers) may open the same data. A change is visible to every other store object of the same data
  once the write returns (a file store re-reads a file that changed; a database store reads the
  database).
- Every write is validated first (:class:`~stations.errors.InvalidRecord`, 422, listing every problem
  of the record) and atomic: all of it or nothing, and its journal entry with it.
- Writes are serialised: each applies to the data as stored at that moment, so two writers changing
  different records both keep their change.
- A write based on an earlier read passes the version it read: ``expected_version`` (a record's
  :meth:`StationStore.record_version`) for ``update``/``delete``, ``expected_store_version`` (the
  store-wide :attr:`StationStore.version`) for ``add``/``save_all``. It is compared while the write
  holds the data; if it is stale, :class:`~stations.errors.StaleVersion` (a ``Conflict``, 412) is
  raised and nothing is written. Without it the last writer wins.
- A record's version is the same value in every process and backend (a hash of its canonical JSON,
  :func:`~stations.store.records.record_version`); quoted, it is an HTTP ETag.

Errors carry their HTTP status: ``ValidationError`` 400 (a bad argument), ``InvalidRecord`` 422,
``NotFound`` 404, ``Conflict`` 409, ``StaleVersion`` 412, ``StoredDataError`` 500 (stored data that
cannot be used), ``StoreUnavailable`` 503 (storage out of reach).

A backend implements the abstract methods: reading (``version``, ``all``, ``get``, ``_select``,
``_history``, ``journal_entry``), ``save_all``, and ``_transaction``, which gives the shared write
logic here (validation, id assignment, version checks, journal entries, reverts) a
:class:`StoreTransaction` to read and change records in.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import Conflict, InvalidRecord, NotFound, Problem, ValidationError, quote_value
from ..model import Station
from .journal import JournalEntry, collection_by_id, new_entry, new_import_entry
from .query import Page, StationQuery, check_paging
from .records import (
    apply_changes, as_feature, check_record_version, feature_version, field_value, id_prefix, next_id,
    record_version, to_feature_collection, validate_features, validated,
)

if TYPE_CHECKING:
    from .table import StationTable

#: entries :meth:`StationStore.history` gives when no ``limit`` is passed
HISTORY_LIMIT = 100


class StoreTransaction(ABC):
    """One atomic change of a backend's data, as the shared write logic sees it.

    Opened by :meth:`StationStore._transaction`; what it does takes effect when the ``with`` block
    ends without an exception (data and journal together), and not at all otherwise. While it is
    open no other writer changes the records it reads (a file lock; row locks or a serialisable
    transaction in a database).

    ``committed``: after the block, the journal entries as the backend numbered them (a backend that
    does not tell leaves it empty).
    """

    committed: tuple[JournalEntry, ...] | list[JournalEntry] = ()

    @abstractmethod
    def get(self, station_id: str) -> Station | None:
        """The record as stored now, or ``None``."""

    @abstractmethod
    def first_id(self) -> str | None:
        """The smallest stored id (its city part names new ids), or ``None`` when empty."""

    @abstractmethod
    def ids_with_prefix(self, prefix: str) -> Iterable[str]:
        """Every stored id that starts with ``prefix`` (to number a new id)."""

    @abstractmethod
    def put(self, station: Station) -> None:
        """Store ``station`` (validated already), adding it or replacing the record with its id."""

    @abstractmethod
    def remove(self, station_id: str) -> None:
        """Remove the record ``station_id`` (it exists)."""

    @abstractmethod
    def journal(self, entry: JournalEntry) -> None:
        """Keep ``entry`` (its ``id`` is ``None``: the backend numbers it) with this change."""


class StationStore(ABC):
    """Stations with validated, atomic, journalled writes and optimistic concurrency.

    ``counties`` (``stations.counties.Counties`` or ``None``) checks and derives ``county_code``:
    a record without one gets the county its point falls in; a given one must match it; a point
    outside every county is refused. ``None`` skips the county checks.
    """

    counties: Any = None

    # ---- reading -------------------------------------------------------------------------
    @property
    @abstractmethod
    def version(self) -> str:
        """An opaque token of the whole store's content: it changes whenever any record changes
        (also by another process or server) and only then. For caches, and as
        ``expected_store_version``."""

    @abstractmethod
    def all(self) -> list[Station]:
        """Every station, sorted by id (code-point order)."""

    @abstractmethod
    def get(self, station_id: str) -> Station:
        """The station with this id; :class:`~stations.errors.NotFound` (404) if there is none."""

    def table(self) -> "StationTable":
        """The stations as compact columns (:class:`~stations.store.table.StationTable`, id order), for
        indexes such as the nearest lookup: a backend reads what the columns need (the file store keeps
        its table; a database store sends one query) and materialises records only on access."""
        from .table import StationTable

        return StationTable.from_stations(self.all(), self.collection_members())

    def record_version(self, station_id: str) -> str:
        """The current version of one record (see :func:`~stations.store.records.record_version`),
        to pass as ``expected_version``; :class:`NotFound` if there is no such record."""
        return record_version(self.get(station_id))

    def query(self, *, kind: str | Iterable[str] | None = None, county: str | Iterable[str] | None = None,
              status: str | Iterable[str] | None = None, amenity: Iterable[str] = (),
              bbox: tuple[float, float, float, float] | None = None,
              limit: int | None = None, offset: int = 0) -> Page:
        """The stations that pass every given filter, one page of them, in id order.

        Parameters
        ----------
        kind, county, status : one value or several (a station matches if its value is one of them).
        amenity : names the station must all have.
        bbox : (minlon, minlat, maxlon, maxlat), WGS-84 degrees, edges included; not across the
            antimeridian.
        limit : at most this many items (``None``: all). ``offset``: skip this many matches first.

        Returns a :class:`Page` (a sequence of stations with ``total`` and ``next_offset``).
        :class:`~stations.errors.ValidationError` (400) names every bad argument;
        :class:`~stations.errors.NotFound` (404) an unknown county code.
        """
        q = StationQuery.build(kind=kind, county=county, status=status, amenity=amenity, bbox=bbox,
                               counties=self.counties)
        check_paging(limit, offset)
        return self._select(q, limit, offset)

    @abstractmethod
    def _select(self, q: StationQuery, limit: int | None, offset: int) -> Page:
        """Backend part of :meth:`query`: the page of stations ``q.matches``, by id (arguments checked)."""

    def collection_members(self) -> dict[str, Any]:
        """Foreign members of the FeatureCollection (such as ``name``) that :meth:`to_geojson` keeps."""
        return {}

    def to_geojson(self, stations: Iterable[Station] | None = None) -> dict[str, Any]:
        """An RFC 7946 FeatureCollection (WGS-84) of ``stations`` (default: all), sorted by id."""
        return to_feature_collection(self.all() if stations is None else stations, **self.collection_members())

    def history(self, station_id: str | None = None, *, since: datetime | None = None,
                before: int | None = None, limit: int | None = HISTORY_LIMIT) -> list[JournalEntry]:
        """Journal entries, newest first: of one station (``station_id``) or of the whole store.

        ``since``: only entries made at or after this aware datetime; ``before``: only entries
        with a smaller id (the next page after the last entry of this one); ``limit``: at most this
        many (``None``: all). A station's history stays readable after it was deleted.
        """
        problems = []
        if since is not None and (not isinstance(since, datetime) or since.tzinfo is None):
            problems.append(Problem("history", "since", since, "an aware datetime (with a time zone)"))
        if before is not None and (not isinstance(before, int) or isinstance(before, bool)):
            problems.append(Problem("history", "before", before, "a journal entry id"))
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            problems.append(Problem("history", "limit", limit, "a whole number >= 1, or None for all"))
        if problems:
            raise ValidationError(problems)
        return self._history(station_id, since, before, limit)

    @abstractmethod
    def _history(self, station_id: str | None, since: datetime | None, before: int | None,
                 limit: int | None) -> list[JournalEntry]:
        """Backend part of :meth:`history` (arguments checked)."""

    @abstractmethod
    def journal_entry(self, entry_id: int) -> JournalEntry:
        """The journal entry with this id; :class:`NotFound` if there is none."""

    # ---- writing -------------------------------------------------------------------------
    @abstractmethod
    def _transaction(self, expected_store_version: str | None = None) -> AbstractContextManager[StoreTransaction]:
        """A :class:`StoreTransaction`; :class:`StaleVersion` first if the store is no longer at
        ``expected_store_version``."""

    def add(self, item: Station | Mapping[str, Any], who: str = "", *,
            expected_store_version: str | None = None, note: str | None = None) -> Station:
        """Add a station (a ``Station`` or a GeoJSON Feature); return it as stored.

        Without ``properties.id`` it gets the next free id of its kind (``JN-RS-0013``): the city
        part of the store's ids, the kind's prefix, one more than the highest number in use.
        An id in use: :class:`Conflict` (409). ``expected_store_version`` as in the module notes.
        """
        feature = as_feature(item)
        with self._transaction(expected_store_version) as tx:
            props = feature["properties"]
            if not props.get("id"):
                prefix = id_prefix(props.get("kind"), tx.first_id())
                props["id"] = next_id(prefix, tx.ids_with_prefix(prefix))
            station = validated(feature, self.counties)
            if tx.get(station.id) is not None:
                raise Conflict(f"a station with id {quote_value(station.id)} already exists")
            tx.put(station)
            tx.journal(new_entry("add", who, None, station, note=note))
        return station

    def update(self, station_id: str, changes: Mapping[str, Any], who: str = "", *,
               expected_version: str | None = None, note: str | None = None) -> Station:
        """Change some fields of a station; return it as stored.

        ``changes`` maps property names to new values (``None`` removes an optional one) and may
        move the point by ``geometry`` (a GeoJSON Point) or by ``lon``/``lat``: a move derives the
        county again, unless ``county_code`` is given too, which is then checked against the new
        position. The id cannot change. A change that changes nothing writes nothing.
        ``expected_version``: the record's version the change is based on (else last writer wins).
        """
        with self._transaction() as tx:
            before = tx.get(station_id)
            if before is None:
                raise NotFound(f"no station with id {quote_value(station_id)}")
            check_record_version(before, expected_version)
            after = validated(apply_changes(before, changes), self.counties)
            if after.to_feature() == before.to_feature():
                return before
            tx.put(after)
            tx.journal(new_entry("update", who, before, after, note=note))
        return after

    def delete(self, station_id: str, who: str = "", *, expected_version: str | None = None,
               note: str | None = None) -> Station:
        """Remove a station; return it as it was. Its journal entries remain (see :meth:`revert`).

        A station that closes is better given ``status: closed`` (an update): it stays on record.
        """
        with self._transaction() as tx:
            before = tx.get(station_id)
            if before is None:
                raise NotFound(f"no station with id {quote_value(station_id)}")
            check_record_version(before, expected_version)
            tx.remove(station_id)
            tx.journal(new_entry("delete", who, before, None, note=note))
        return before

    def import_changes(self, put: Iterable[Station | Mapping[str, Any]], remove: Iterable[str] = (),
                       who: str = "", *, expected_store_version: str | None = None,
                       note: str | None = None) -> JournalEntry | None:
        """Add or replace the records ``put`` and remove the ids ``remove``, all together: one
        ``import`` journal entry, revertible as a whole (:meth:`revert`).

        A record without ``properties.id`` gets the next free id of its kind (as :meth:`add`); one
        with an id replaces the stored record of that id, or is added. Every record is validated
        first (:class:`InvalidRecord` listing every problem of every record; nothing written); an id
        to remove that is not stored: :class:`NotFound`. Records equal to the stored ones are not
        written and not journalled. Returns the journal entry (numbered where the backend says), or
        ``None`` when nothing changed.
        """
        items = [as_feature(item) for item in put]
        gone = list(dict.fromkeys(remove))
        with self._transaction(expected_store_version) as tx:
            assigned: set[str] = set()
            for feature in items:
                props = feature["properties"]
                if not props.get("id"):
                    prefix = id_prefix(props.get("kind"), tx.first_id())
                    props["id"] = next_id(prefix, [*tx.ids_with_prefix(prefix), *assigned])
                    assigned.add(props["id"])
            stations, problems = validate_features(items, self.counties)
            if problems:
                raise InvalidRecord(problems)
            clash = sorted({s.id for s in stations} & set(gone))
            if clash:
                raise InvalidRecord([Problem(sid, "id", sid, "either kept or removed, not both") for sid in clash])
            before: list[Station] = []
            after: list[Station] = []
            for station in stations:
                station = Station.from_feature(station.to_feature())  # as stored: lon/lat rounded
                current = tx.get(station.id)
                if current is not None and current.to_feature() == station.to_feature():
                    continue
                if current is not None:
                    before.append(current)
                tx.put(station)
                after.append(station)
            for sid in gone:
                current = tx.get(sid)
                if current is None:
                    raise NotFound(f"no station with id {quote_value(sid)} to remove")
                before.append(current)
                tx.remove(sid)
            if not before and not after:
                return None
            entry = new_import_entry(who, before, after, note=note)
            tx.journal(entry)
        return tx.committed[-1] if tx.committed else entry

    def revert(self, entry_id: int, who: str = "", *, note: str | None = None) -> Station | None:
        """Undo the change of journal entry ``entry_id``; the undoing is a new entry (``reverts``).

        An update: its fields get their values from before it, if each still has the value that
        change gave it (else :class:`Conflict` naming the fields changed since). An add: the
        station is deleted, if unchanged since. A delete: the station is added again, if its id is
        free. A ``replace_all`` cannot be reverted (:class:`Conflict`). Returns the station as it
        is now (``None`` after undoing an add).
        """
        entry = self.journal_entry(entry_id)
        sid = entry.station_id
        with self._transaction() as tx:
            current = tx.get(sid) if sid is not None else None
            if entry.action == "update":
                if current is None:
                    raise Conflict(f"cannot revert change {entry_id}: station {sid} was deleted since")
                now = current.to_feature()
                moved_on = [f for f in entry.changed if field_value(now, f) != field_value(entry.after, f)]
                if moved_on:
                    raise Conflict(f"cannot revert change {entry_id} of station {sid}: "
                                   f"{', '.join(moved_on)} changed again since; revert the later change first")
                undo = {f: field_value(entry.before, f) for f in entry.changed}
                result = validated(apply_changes(current, undo), self.counties)
                tx.put(result)
                tx.journal(new_entry("update", who, current, result, note=note, reverts=entry_id))
                return result
            if entry.action == "add":
                if current is None:
                    raise Conflict(f"cannot revert change {entry_id}: station {sid} was deleted since")
                if entry.after is None or record_version(current) != feature_version(entry.after):
                    raise Conflict(f"cannot revert change {entry_id}: station {sid} was changed since it "
                                   "was added; revert the later changes first")
                tx.remove(sid)
                tx.journal(new_entry("delete", who, current, None, note=note, reverts=entry_id))
                return None
            if entry.action == "import":
                self._revert_import(tx, entry, who, note)
                return None
            if entry.action == "delete":
                if current is not None or entry.before is None:
                    raise Conflict(f"cannot revert change {entry_id}: a station with id {sid} exists again")
                result = validated(entry.before, self.counties)
                tx.put(result)
                tx.journal(new_entry("add", who, None, result, note=note, reverts=entry_id))
                return result
            raise Conflict(f"change {entry_id} ({entry.action}) replaced the whole store and cannot be "
                           "reverted; restore a backup instead")

    def _revert_import(self, tx: StoreTransaction, entry: JournalEntry, who: str, note: str | None) -> None:
        """Inside a transaction: put back every station of an ``import`` entry as it was before it."""
        before, after = collection_by_id(entry.before), collection_by_id(entry.after)
        moved_on = []
        for sid in entry.changed:
            current = tx.get(sid)
            left = after.get(sid)
            if (current is None) != (left is None) or (
                    current is not None and record_version(current) != feature_version(left)):
                moved_on.append(sid)
        if moved_on:
            shown = ", ".join(moved_on[:20]) + (f" and {len(moved_on) - 20} more" if len(moved_on) > 20 else "")
            raise Conflict(f"cannot revert change {entry.id} (an import of {len(entry.changed)} stations): "
                           f"{shown} changed since; revert the later changes first")
        restored = [validated(before[sid], self.counties) for sid in entry.changed if sid in before]
        undone = [tx.get(sid) for sid in entry.changed if sid in after]
        for sid in entry.changed:
            if sid in after and sid not in before:
                tx.remove(sid)
        for station in restored:
            tx.put(station)
        tx.journal(new_import_entry(who, undone, restored, note=note, reverts=entry.id))

    @abstractmethod
    def save_all(self, stations: Iterable[Station], who: str = "", members: Mapping[str, Any] | None = None, *,
                 expected_store_version: str | None = None) -> None:
        """Replace every station (importers, the sample builder, loading a database), validated
        first (:class:`InvalidRecord` listing every problem; nothing written). One ``replace_all``
        journal entry. ``members``: the collection's foreign members (default: keep them)."""

    # ---- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Release what the store holds (connections); the file store holds nothing."""

    def __enter__(self) -> "StationStore":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
