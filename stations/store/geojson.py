"""The GeoJSON file backend of the station store: one FeatureCollection file, a JSON-lines journal.

What it adds to the interface's contract (``stations.store.base``):

- The file on disk is the truth. Every read checks (by modification time, size and inode) whether
  another process replaced it and re-reads it if so.
- Writes are serialised by an exclusive file lock beside the store (``<file>.lock``; it works on a
  local disk, not across machines on a network file system). A write re-reads the file under the
  lock and applies its change to what is there now. A lock not obtained within ``LOCK_TIMEOUT_S``
  raises :class:`~stations.errors.StoreUnavailable`.
- A write replaces the file atomically (``stations.store.files``): it keeps its mode and, where the
  process may set them, its owner and group; temporary files of killed writers are removed.
- Each change appends a line to the journal (``journal.jsonl`` beside the store,
  ``stations.store.jsonl``) after the file is replaced; a crash between the two keeps the change
  and loses its journal line.
- A file that cannot be used (unreadable, not UTF-8, not JSON, invalid records) raises
  :class:`~stations.errors.StoredDataError` naming the file or the records; the failure is
  remembered for that version of the file and raised again without re-reading until it changes.
- The stations are held as a :class:`~stations.store.table.StationTable` (columns; records
  materialised on access). A file once validated is cached beside it (``stations.store.tablecache``:
  keyed by the file's bytes, the counties and the validator), so the next process reads it in a
  fraction of a second instead of validating it again; a write caches what it wrote. ``all()``
  materialises every record once per version (the first call at 186,100 stations: ~2 s).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from filelock import FileLock, Timeout

from ..errors import InvalidRecord, NotFound, Problem, StaleVersion, StoredDataError, StoreUnavailable, quote_value
from ..model import COORD_DECIMALS, Station
from . import tablecache
from .base import StationStore, StoreTransaction
from .files import (
    atomic_write_bytes, decode_stations_bytes, file_version, read_stations_text, remove_stale_temporaries,
    version_token,
)
from .journal import JournalEntry, new_entry
from .jsonl import JsonlJournal
from .query import Page, StationQuery
from .records import dumps, to_feature_collection, validate_features
from .table import StationTable

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30
#: how long a process waits for another one validating the same file (then it validates it itself)
CACHE_WAIT_S = 300
_EMPTY = StationTable.from_stations([])


def _as_stored(station: Station) -> Station:
    """``station`` with its position rounded as the file stores it (the same object when it is already)."""
    lon, lat = round(station.lon, COORD_DECIMALS), round(station.lat, COORD_DECIMALS)
    if lon == station.lon and lat == station.lat:
        return station
    return dataclasses.replace(station, lon=lon, lat=lat)


def _again(exc: BaseException) -> BaseException:
    """A copy of an exception without its traceback, to raise a remembered failure again."""
    clone = exc.__class__.__new__(exc.__class__)
    clone.__dict__.update(exc.__dict__)
    clone.args = exc.args
    return clone


class _FileTransaction(StoreTransaction):
    """The records of the file as read under the lock; changes are kept until the commit."""

    def __init__(self, by_id: Mapping[str, Station]):
        self.stations = dict(by_id)  # sorted by id: the file's order
        self.entries: list[JournalEntry] = []
        self.changed = False

    def get(self, station_id: str) -> Station | None:
        return self.stations.get(station_id)

    def first_id(self) -> str | None:
        return min(self.stations, default=None)

    def ids_with_prefix(self, prefix: str) -> Iterable[str]:
        return [sid for sid in self.stations if sid.startswith(prefix)]

    def put(self, station: Station) -> None:
        self.stations[station.id] = station
        self.changed = True

    def remove(self, station_id: str) -> None:
        del self.stations[station_id]
        self.changed = True

    def journal(self, entry: JournalEntry) -> None:
        self.entries.append(entry)


class GeoJSONStore(StationStore):
    """Stations in one GeoJSON file.

    Parameters
    ----------
    path : path of the FeatureCollection (WGS-84 lon/lat Points). A missing file is an empty store.
    counties : ``stations.counties.Counties`` used to check and derive ``county_code``;
        ``None`` skips the county checks.
    journal_path : the journal (JSON lines); default ``journal.jsonl`` beside the store.
    """

    def __init__(self, path: str | os.PathLike, counties=None, journal_path: str | os.PathLike | None = None):
        self.path = Path(path)
        self.counties = counties
        self.journal_path = Path(journal_path) if journal_path else self.path.with_name("journal.jsonl")
        self._journal = JsonlJournal(self.journal_path)
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_S)
        self._mutex = threading.RLock()
        self._loaded_version: tuple[int, int, int] | None = None
        self._table: StationTable = _EMPTY
        self._all: tuple[StationTable, list[Station]] | None = None  # (table, its stations materialised)
        self._all_lock = threading.Lock()
        # (file version, error) of the last failed read: raised again until the file changes
        self._failure: tuple[tuple[int, int, int], BaseException] | None = None

    def __repr__(self) -> str:
        return f"GeoJSONStore({str(self.path)!r})"

    # ---- reading -------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """A token that changes whenever the file changes (also by another process)."""
        self._refresh()
        return version_token(self._loaded_version)

    def _refresh(self) -> None:
        with self._mutex:
            current = file_version(self.path)
            if current is not None and current == self._loaded_version:
                return
            self._read()

    def _read(self) -> None:
        """(Re)read the file; raise StoredDataError listing every problem if it cannot be used.

        A failure is remembered for that version of the file (mtime, size, inode) and raised again
        without reading until the file changes: a bad 200 MB file is not re-validated per request.
        """
        version = file_version(self.path)
        if version is None:
            self._table, self._loaded_version, self._failure = _EMPTY, None, None
            return
        if self._failure is not None and self._failure[0] == version:
            raise _again(self._failure[1])
        try:
            table, version = self._load_table()
        except StoredDataError as exc:
            self._failure = (version, _again(exc))  # no traceback kept: it would hold the file's text
            log.debug("cannot use %s: %s", self.path, exc.summary())
            raise
        self._failure = None
        self._table = table
        self._loaded_version = version
        log.debug("loaded %d stations from %s", len(table), self.path)

    def _load_table(self) -> tuple[StationTable, tuple[int, int, int]]:
        """The file's table and the (mtime_ns, size, inode) of what was read: from the cache beside it
        when that was made from these very bytes, else validated (and then cached)."""
        try:
            fh = open(self.path, "rb")
        except OSError:
            read_stations_text(self.path)  # raises StoredDataError saying why the file cannot be read
            raise  # pragma: no cover - read_stations_text raised
        with fh:
            version, digest = tablecache.file_key(fh)
            key = tablecache.expected_key(version, digest, self.counties)
            table = tablecache.load(self.path, key)
            if table is not None:
                return table, version
            with self._cache_lock():
                table = tablecache.load(self.path, key)  # another process may have validated it meanwhile
                if table is not None:
                    return table, version
                fh.seek(0)
                text = decode_stations_bytes(fh.read(), str(self.path))
                stations, members = self._parse(text)
                del text
                table = StationTable.from_stations(stations, members)
                del stations
                if tablecache.worth_caching(version[1]) and tablecache.save(self.path, table, key):
                    table = tablecache.load(self.path, key) or table  # the records left in the cache file, not held
        return table, version

    @contextmanager
    def _cache_lock(self) -> Iterator[None]:
        """While validating: other processes opening the same file wait for the cache rather than
        validating it too (best effort: without a writable folder each validates on its own)."""
        lock = FileLock(str(tablecache.cache_path(self.path)) + ".lock", timeout=CACHE_WAIT_S)
        try:
            lock.acquire()
        except (Timeout, OSError):
            yield
            return
        try:
            yield
        finally:
            lock.release()

    def _parse(self, text: str) -> tuple[list[Station], dict[str, Any]]:
        where = str(self.path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoredDataError(Problem(where, "(file)", f"line {exc.lineno} column {exc.colno}",
                                          f"valid JSON ({exc.msg})"), where) from None
        except RecursionError:
            raise StoredDataError(Problem(where, "(file)", "deeply nested JSON",
                                          "a GeoJSON FeatureCollection"), where) from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            got = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise StoredDataError(Problem(where, "type", got, "a GeoJSON FeatureCollection"), where)
        stations, problems = validate_features(data.get("features"), self.counties)
        if problems:
            raise StoredDataError(problems, where)
        members = {k: v for k, v in data.items() if k not in ("type", "features")}
        return stations, members

    def table(self) -> StationTable:
        """The stations of the file as it is now, as columns (re-read if the file changed)."""
        with self._mutex:
            self._refresh()
            table = self._table
            if table.version is None and table is not _EMPTY:
                table.version = version_token(self._loaded_version)
            return table

    def all(self) -> list[Station]:
        table = self.table()
        with self._all_lock:  # materialised once per version (other readers of the version wait, not redo it)
            if self._all is None or self._all[0] is not table:
                self._all = (table, table.stations())
            return list(self._all[1])

    def get(self, station_id: str) -> Station:
        found = self.table().get(station_id)
        if found is None:
            raise NotFound(f"no station with id {quote_value(station_id)}")
        return found

    def _select(self, q: StationQuery, limit: int | None, offset: int) -> Page:
        return self.table().page(q, limit, offset)

    def collection_members(self) -> dict[str, Any]:
        return dict(self.table().members)

    def _history(self, station_id: str | None, since: datetime | None, before: int | None,
                 limit: int | None) -> list[JournalEntry]:
        return self._journal.select(station_id, since, before, limit)

    def journal_entry(self, entry_id: int) -> JournalEntry:
        entry = self._journal.get(entry_id)
        if entry is None:
            raise NotFound(f"no journal entry {quote_value(entry_id)} in {self.journal_path}")
        return entry

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            try:
                self._lock.acquire()
            except Timeout:
                raise StoreUnavailable(f"the stations file {self.path} is locked by another writer "
                                       f"(waited {LOCK_TIMEOUT_S} s); try again", str(self.path)) from None
            try:
                yield
            finally:
                self._lock.release()

    @contextmanager
    def _transaction(self, expected_store_version: str | None = None) -> Iterator[StoreTransaction]:
        with self._locked():
            self._check_store_version(expected_store_version)
            self._refresh()  # the file on disk is the truth: another process may have written
            members = dict(self._table.members)
            tx = _FileTransaction({s.id: s for s in self.all()})
            yield tx
            if tx.changed:
                digest = self._replace_file(to_feature_collection(tx.stations.values(), **members))
                tx.committed = self._journal.append(tx.entries)
                self._adopt(tx.stations.values(), members, digest)

    def save_all(self, stations: Iterable[Station], who: str = "", members: Mapping[str, Any] | None = None, *,
                 expected_store_version: str | None = None) -> None:
        """Replace the whole file, validated first. The current file is not read (so a broken file
        can be replaced)."""
        stations = list(stations)
        valid, problems = validate_features([s.to_feature() for s in stations], self.counties)
        if problems:
            raise InvalidRecord(problems)
        with self._locked():
            self._check_store_version(expected_store_version)
            if members is None:
                try:
                    members = self.collection_members()
                except StoredDataError:  # a broken file is replaced whole: it has no members to keep
                    members = {}
            digest = self._replace_file(to_feature_collection(stations, **members))
            self._journal.append([new_entry("replace_all", who, None, None, note=f"{len(stations)} stations")])
            self._adopt(valid, members, digest)

    def _replace_file(self, collection: Mapping[str, Any]) -> str:
        """Write the file atomically; the SHA-256 of the bytes written."""
        remove_stale_temporaries(self.path)
        data = dumps(collection).encode("utf-8")
        atomic_write_bytes(self.path, data)
        return hashlib.sha256(data).hexdigest()

    def _adopt(self, stations: Iterable[Station], members: Mapping[str, Any], digest: str) -> None:
        """Under the lock, after writing: hold the stations just written (validated, positions as the file
        has them) without reading the file again, and cache them for the other processes."""
        written = sorted((_as_stored(s) for s in stations), key=lambda s: s.id)
        table = StationTable.from_stations(written, members)
        version = file_version(self.path)
        self._table, self._loaded_version, self._failure = table, version, None
        with self._all_lock:
            self._all = (table, written)
        if version is not None and tablecache.worth_caching(version[1]):
            tablecache.save(self.path, table, tablecache.expected_key(version, digest, self.counties))

    def _check_store_version(self, expected: str | None) -> None:
        """Under the lock: StaleVersion unless the file is still at the ``expected`` store version."""
        if expected is None:
            return
        current = version_token(file_version(self.path))
        if current != expected:
            raise StaleVersion(f"the stations file {self.path} changed since it was read "
                               f"(version {quote_value(expected)}, now {current}); read it again and retry",
                               expected=expected, current_version=current)
