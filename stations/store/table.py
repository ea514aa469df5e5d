"""A store's stations at one version as compact columns: what the hot paths need, without 186,100 objects.

A :class:`StationTable` holds, in id order (code-point order, as ``StationStore.all()``), one numpy
column per field the lookups filter on: the ids (UTF-8 bytes, whose byte order is code-point order),
WGS-84 ``lon``/``lat`` degrees, ``kind``, ``status``, ``amenity_bits`` (bit ``i`` = ``AMENITY_KEYS[i]``),
``hours`` and ``county`` (codes into ``hours_texts`` / ``county_codes``, whose entry 0 is ``None``).
The whole records are materialised as :class:`~stations.model.Station` objects only when asked for,
from a record source: the file store's compact JSON of each record (in memory, or mapped from the
cache file beside the store, ``stations.store.tablecache``, read by ``pread``), or the database (``FetchRecords``: one
query for the records of an answer).

Used by the nearest index (``NearestIndex.from_table``), by the file store's ``get`` and ``query``
(``select`` filters with numpy; a bounding box through a longitude-sorted index), and built by each
backend's ``StationStore.table()``. 186,100 stations take ~12 MB of columns; their records ~45 MB
(in the cache file: never resident).
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..model import AMENITIES, KINDS, STATUSES, Station
from .query import Page, StationQuery

KIND_KEYS: tuple[str, ...] = tuple(KINDS)
STATUS_KEYS: tuple[str, ...] = tuple(STATUSES)
AMENITY_KEYS: tuple[str, ...] = tuple(AMENITIES)
AMENITY_BIT = {name: 1 << i for i, name in enumerate(AMENITY_KEYS)}
#: materialised stations kept per table (the answers asked for again and again: a city's centre)
CACHED_STATIONS = 4096
#: a take of more stations than this (a page of a listing) is not kept: it would push the answers out
CACHED_TAKE_MAX = 64


def amenity_bits(amenities: Iterable[str]) -> int:
    """The bit set of amenity names (unknown names count for nothing)."""
    bits = 0
    for name in amenities:
        bits |= AMENITY_BIT.get(name, 0)
    return bits


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Station) if f.default is not dataclasses.MISSING}
#: properties whose values repeat from station to station: materialised stations share one object each
SHARED_VALUES = ("kind", "county_code", "opening_hours", "host", "status", "status_reason", "reopens_on",
                 "opened_on", "last_verified_on", "source")


def make_station(props: dict[str, Any], lon: float, lat: float, shared: dict | None = None) -> Station:
    """A Station from its stored properties (``Station.to_properties()``, JSON-decoded) and position.

    ``shared``: a dict in which repeated values (the kind, the hours, the amenity set...) are looked up,
    so that many stations hold one string each rather than a copy each.
    """
    amenities = props.get("amenities")
    if amenities is not None:
        props["amenities"] = tuple(amenities)
    if shared is not None:
        for key in SHARED_VALUES:
            value = props.get(key)
            if value is not None:
                props[key] = shared.setdefault(value, value)
        if amenities is not None:
            props["amenities"] = shared.setdefault(props["amenities"], props["amenities"])
    # what Station(lon=lon, lat=lat, **props) makes, without its 21 frozen-field assignments (5x faster):
    # the properties are a stored record's (every key a field, validated), the rest the fields' defaults
    station = object.__new__(Station)
    values = station.__dict__
    values.update(_DEFAULTS)
    values.update(props)
    values["lon"], values["lat"] = lon, lat
    return station


def encode_ids(ids: Sequence[str]) -> np.ndarray:
    """Ids as a numpy bytes column (UTF-8: byte order is code-point order, what ``searchsorted`` needs)."""
    if not len(ids):
        return np.zeros(0, dtype="S1")
    return np.array([i.encode("utf-8") for i in ids])


def code_column(values: Iterable[Any], texts: list) -> np.ndarray:
    """Codes of ``values`` into ``texts`` (extended as new values come; ``texts[0]`` is ``None``)."""
    index = {t: i for i, t in enumerate(texts)}
    out = []
    for value in values:
        code = index.get(value)
        if code is None:
            code = index[value] = len(texts)
            texts.append(value)
        out.append(code)
    return np.array(out, dtype=np.int32)


class BlobRecords:
    """Records as compact JSON properties, one after the other in one buffer (bytes, or a mapped file)."""

    def __init__(self, buffer: Any, offsets: np.ndarray, start: int = 0):
        self.buffer, self.offsets, self.start = buffer, offsets, start

    def properties(self, i: int) -> dict[str, Any]:
        begin = self.start + int(self.offsets[i])
        return json.loads(self.buffer[begin:self.start + int(self.offsets[i + 1])])

    def take(self, table: "StationTable", indices: Sequence[int]) -> list[Station]:
        lon, lat = table.lon, table.lat
        shared: dict = {}
        return [make_station(self.properties(i), float(lon[i]), float(lat[i]), shared) for i in indices]

    @classmethod
    def of(cls, stations: Sequence[Station]) -> "BlobRecords":
        parts = [json.dumps(s.to_properties(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                 for s in stations]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        return cls(b"".join(parts), offsets)


class FileRecords:
    """Records as compact JSON in a file (the cache beside a stations file), read with ``pread`` when asked
    for: nothing of them is resident in the process (a mapped file would be, 64 KB around every record read)."""

    def __init__(self, fd: int, offsets: np.ndarray, start: int):
        self.fd, self.offsets, self.start = fd, offsets, start
        self._close = weakref.finalize(self, os.close, fd)

    def properties(self, i: int) -> dict[str, Any]:
        begin, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return json.loads(os.pread(self.fd, end - begin, self.start + begin))

    def take(self, table: "StationTable", indices: Sequence[int]) -> list[Station]:
        indices = list(indices)
        if len(indices) > len(table) // 4:  # many: one read of the whole region
            whole = BlobRecords(os.pread(self.fd, int(self.offsets[-1]), self.start), self.offsets)
            return whole.take(table, indices)
        lon, lat = table.lon, table.lat
        shared: dict = {}
        return [make_station(self.properties(i), float(lon[i]), float(lat[i]), shared) for i in indices]


class FetchRecords:
    """Records read when asked for: ``fetch(ids) -> {id: Station}`` (a database store's one query)."""

    def __init__(self, fetch: Callable[[list[str]], Mapping[str, Station]], missing: Callable[[str], Exception]):
        self.fetch, self.missing = fetch, missing

    def take(self, table: "StationTable", indices: Sequence[int]) -> list[Station]:
        ids = [table.id_at(i) for i in indices]
        found = self.fetch(ids)
        out = []
        for sid in ids:
            station = found.get(sid)
            if station is None:
                raise self.missing(sid)  # deleted since the table was read: the caller's store has moved on
            out.append(station)
        return out


class StationTable(Sequence):
    """The stations of one store version as columns (see the module docstring); a ``Sequence`` of
    ``Station``s in id order whose items are materialised on access."""

    def __init__(self, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, kind: np.ndarray, status: np.ndarray,
                 amenity_bits: np.ndarray, hours: np.ndarray, hours_texts: Sequence[str | None],
                 county: np.ndarray, county_codes: Sequence[str | None], records: Any,
                 members: Mapping[str, Any] | None = None, sample: np.ndarray | None = None):
        self.ids, self.lon, self.lat = ids, lon, lat
        self.kind, self.status, self.amenity_bits = kind, status, amenity_bits
        self.hours, self.hours_texts = hours, tuple(hours_texts)
        self.county, self.county_codes = county, tuple(county_codes)
        self.sample = np.zeros(len(ids), dtype=bool) if sample is None else np.asarray(sample, dtype=bool)
        self.records = records
        self.members = dict(members or {})
        #: the store version these columns are of (set by the store that read them)
        self.version: str | None = None
        #: where the store's changes after this version start (``store.changes(mark)``; a database's
        #: journal position), or ``None`` where the store cannot tell its changes
        self.mark: Any = None
        self._cache: OrderedDict[int, Station] = OrderedDict()
        self._lock = threading.Lock()
        self._lon_order: tuple[np.ndarray, np.ndarray] | None = None

    # ---- building ------------------------------------------------------------------------
    @classmethod
    def from_stations(cls, stations: Sequence[Station], members: Mapping[str, Any] | None = None,
                      records: Any = None) -> "StationTable":
        """The table of ``stations`` (sorted by id here if they are not); records kept as compact JSON
        unless ``records`` gives another source."""
        stations = list(stations)
        if any(stations[i].id >= stations[i + 1].id for i in range(len(stations) - 1)):
            stations.sort(key=lambda s: s.id)
        n = len(stations)
        bits_of: dict[tuple, int] = {}
        hours_texts: list[str | None] = [None]
        county_codes: list[str | None] = [None]
        return cls(
            ids=encode_ids([s.id for s in stations]),
            lon=np.array([s.lon for s in stations], dtype=np.float64).reshape(n),
            lat=np.array([s.lat for s in stations], dtype=np.float64).reshape(n),
            kind=np.array([KIND_KEYS.index(s.kind) if s.kind in KINDS else -1 for s in stations],
                          dtype=np.int8).reshape(n),
            status=np.array([STATUS_KEYS.index(s.status) if s.status in STATUSES else -1 for s in stations],
                            dtype=np.int8).reshape(n),
            amenity_bits=np.array([bits_of.setdefault(s.amenities, amenity_bits(s.amenities)) for s in stations],
                                  dtype=np.int64).reshape(n),
            hours=code_column((s.opening_hours for s in stations), hours_texts).reshape(n), hours_texts=hours_texts,
            county=code_column((s.county_code for s in stations), county_codes).reshape(n), county_codes=county_codes,
            records=records if records is not None else BlobRecords.of(stations), members=members,
            sample=np.array([bool(s.sample) for s in stations], dtype=bool).reshape(n))

    # ---- the sequence of stations ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.take(range(*index.indices(len(self))))
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(index)
        with self._lock:
            station = self._cache.get(i)
            if station is not None:
                self._cache.move_to_end(i)
                return station
        return self.take([i])[0]

    def take(self, indices: Iterable[int]) -> list[Station]:
        """The stations at ``indices`` (materialised; the last few thousand are kept)."""
        indices = [int(i) for i in indices]
        out: dict[int, Station] = {}
        with self._lock:
            for i in indices:
                station = self._cache.get(i)
                if station is not None:
                    out[i] = station
        wanted = [i for i in dict.fromkeys(indices) if i not in out]
        if wanted:
            made = self.records.take(self, wanted)
            with self._lock:
                for i, station in zip(wanted, made):
                    out[i] = station
                    if len(wanted) <= CACHED_TAKE_MAX:
                        self._cache[i] = station
                while len(self._cache) > CACHED_STATIONS:
                    self._cache.popitem(last=False)
        return [out[i] for i in indices]

    def stations(self) -> list[Station]:
        """Every station, materialised (``StationStore.all()``): ~1-2 s per 100,000."""
        if isinstance(self.records, (BlobRecords, FileRecords)):
            return self.records.take(self, range(len(self)))
        return self.take(range(len(self)))

    # ---- columns -----------------------------------------------------------------------------
    def id_at(self, i: int) -> str:
        return self.ids[i].decode("utf-8")

    def position(self, station_id: Any) -> int | None:
        """The index of ``station_id``, or ``None``."""
        if not isinstance(station_id, str) or not len(self):
            return None
        try:
            key = station_id.encode("utf-8")
        except UnicodeError:
            return None
        if len(key) > self.ids.dtype.itemsize or key.endswith(b"\x00"):
            return None
        i = int(np.searchsorted(self.ids, key))
        return i if i < len(self) and self.ids[i] == key else None

    def get(self, station_id: Any) -> Station | None:
        i = self.position(station_id)
        return None if i is None else self[i]

    def kind_names(self) -> np.ndarray:
        """Each station's kind (an object array of names)."""
        return np.array(KIND_KEYS + (None,), dtype=object)[self.kind]

    def status_names(self) -> np.ndarray:
        return np.array(STATUS_KEYS + (None,), dtype=object)[self.status]

    def hours_at(self, i: int) -> str | None:
        return self.hours_texts[self.hours[i]]

    def hours_list(self) -> list[str | None]:
        texts = self.hours_texts
        return [texts[c] for c in self.hours.tolist()]

    def county_at(self, i: int) -> str | None:
        return self.county_codes[self.county[i]]

    def any_sample(self) -> bool:
        """Whether any station is sample data (``sample: true``)."""
        return bool(self.sample.any())

    def count_status(self, *statuses: str) -> int:
        """How many stations have one of ``statuses``."""
        codes = [STATUS_KEYS.index(s) for s in statuses if s in STATUSES]
        return int(np.isin(self.status, codes).sum())

    # ---- queries -----------------------------------------------------------------------------
    def _in_bbox(self, minlon: float, minlat: float, maxlon: float, maxlat: float) -> np.ndarray:
        """Indices (ascending) of the stations in the box, edges included: a binary search in the
        longitude-sorted order, then the latitudes of that band."""
        if self._lon_order is None:
            order = np.argsort(self.lon, kind="stable").astype(np.int32 if len(self) < 2**31 else np.int64)
            self._lon_order = (order, self.lon[order])
        order, sorted_lon = self._lon_order
        lo = int(np.searchsorted(sorted_lon, minlon, side="left"))
        hi = int(np.searchsorted(sorted_lon, maxlon, side="right"))
        band = order[lo:hi]
        lat = self.lat[band]
        return np.sort(band[(lat >= minlat) & (lat <= maxlat)])

    def select(self, q: StationQuery) -> np.ndarray:
        """Indices (ascending: id order) of the stations that ``q.matches``."""
        found = self._in_bbox(*q.bbox) if q.bbox is not None else np.arange(len(self))
        keep = np.ones(len(found), dtype=bool)
        if q.kinds is not None:
            keep &= np.isin(self.kind[found], [KIND_KEYS.index(k) for k in q.kinds if k in KINDS])
        if q.statuses is not None:
            keep &= np.isin(self.status[found], [STATUS_KEYS.index(s) for s in q.statuses if s in STATUSES])
        if q.counties is not None:
            codes = [i for i, c in enumerate(self.county_codes) if c in q.counties]
            keep &= np.isin(self.county[found], codes)
        if q.amenities:
            if any(a not in AMENITY_BIT for a in q.amenities):
                keep[:] = False
            else:
                bits = amenity_bits(q.amenities)
                keep &= (self.amenity_bits[found] & bits) == bits
        return found if keep.all() else found[keep]

    def page(self, q: StationQuery, limit: int | None, offset: int) -> Page:
        """``StationStore.query``'s page: the matches in id order, ``limit`` of them from ``offset``."""
        found = self.select(q)
        end = None if limit is None else offset + limit
        return Page(items=tuple(self.take(found[offset:end])), total=len(found), offset=offset, limit=limit)
