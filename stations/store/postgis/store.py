"""The PostgreSQL/PostGIS backend of the station store.

What it adds to the interface's contract (``stations.store.base``):

- The database is the truth; every read asks it. ``all()`` keeps the last full read and reuses it
  while the store-wide version has not moved (one indexed read of a one-row table per call).
  ``table()`` (what the nearest index is built from) reads only the columns it needs, in one query
  of one row per column (``string_agg``, ~0.6 s for 186,100 stations), not the records' JSONB; the
  records of an answer are then read by id, in one query.
- Tables (migration ``0001``): ``stations`` (a ``geometry(Point, 4326)`` column with a GiST index;
  ``kind``, ``status``, ``county_code`` and ``amenities`` as columns for the filters, ``amenities`` a
  ``text[]`` with a GIN index; the whole record as ``properties`` JSONB; ``version``, the record's
  content hash), ``station_journal`` (one row per change, ids from an identity sequence) and
  ``station_store`` (one row: the store-wide ``version`` counter and the collection's members).
- A write is one database transaction: it first locks the ``station_store`` row
  (``SELECT ... FOR UPDATE``, waiting at most ``LOCK_TIMEOUT_S``, then
  :class:`~stations.errors.StoreUnavailable`), so writers are serialised store-wide across every
  process and server, checks ``expected_store_version`` against that row, reads and changes the
  records, inserts the journal row and bumps the version; all of it commits together or not at all.
  Journal ids are therefore increasing in the order of the changes (a rolled-back write leaves a gap).
- The store-wide ``version`` is ``<counter>-<store id>``: the counter is bumped by every write, the
  store id is random per database (a database created again never repeats an old token).
- JSONB keeps every value of a record except floats written in exponent form (``1e+20``), which
  it turns into whole numbers; no valid station has such a value short of a floor area of 10^16 m².
"""
from __future__ import annotations

import json
import logging
import struct
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy import text

from ...errors import InvalidRecord, NotFound, StaleVersion, StoreUnavailable, quote_value
from ...model import Station
from ..base import StationStore, StoreTransaction
from ..journal import JournalEntry, new_entry
from ..query import Page, StationQuery
from ..records import feature_version, validate_features
from ..table import AMENITY_BIT, KIND_KEYS, STATUS_KEYS, FetchRecords, StationTable, code_column, make_station
from . import engine
from .engine import check_revision, database_errors, make_engine, parse_url, pid_guard, redacted

log = logging.getLogger(__name__)

#: stations written per COPY batch by ``save_all`` and ``load``
BATCH_SIZE = 5000

_RECORD = "properties, ST_X(geom) AS lon, ST_Y(geom) AS lat"
_UPSERT = text("""
    INSERT INTO stations (id, name, kind, status, county_code, amenities, geom, properties, version)
    VALUES (:id, :name, :kind, :status, :county_code, CAST(:amenities AS text[]),
            ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), CAST(:properties AS jsonb), :version)
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, status = EXCLUDED.status,
        county_code = EXCLUDED.county_code, amenities = EXCLUDED.amenities, geom = EXCLUDED.geom,
        properties = EXCLUDED.properties, version = EXCLUDED.version""")
_JOURNAL = text("""
    INSERT INTO station_journal (at, who, action, station_id, changed, note, reverts, before, after)
    VALUES (:at, :who, :action, :station_id, CAST(:changed AS text[]), :note, :reverts,
            CAST(:before AS json), CAST(:after AS json))
    RETURNING id""")
_ENTRY = "id, at, who, action, station_id, changed, note, reverts, before, after"
_COPY = "COPY stations (id, name, kind, status, county_code, amenities, geom, properties, version) FROM STDIN"
#: one page of a query, in one statement: the matches' count, and the page as [properties, lon, lat]
#: per station in id order, parsed by one json.loads (not a row object and a JSON document each). Two
#: scalar subqueries, not ``count(*) OVER ()``: a window over every match would read and sort all of
#: their records before the limit (the whole national store's first page: 150 ms against 22 ms this
#: way; a county's box: the same either way)
_PAGE = """
    SELECT (SELECT count(*) FROM stations WHERE {where}) AS total,
           (SELECT json_agg(json_build_array(properties, lon, lat) ORDER BY id)
            FROM (SELECT id, properties, ST_X(geom) AS lon, ST_Y(geom) AS lat
                  FROM stations WHERE {where} ORDER BY id LIMIT :limit OFFSET :offset) AS page) AS items"""
_EWKB_POINT = struct.Struct("<BIIdd")  # little-endian, Point with SRID flag, SRID, x (lon), y (lat)
#: the columns of ``table()``, each as one text (one query, one row: no 186,100 row objects); the
#: subquery's order is the aggregates' (checked after parsing)
_TABLE = text("""
    SELECT count(*) AS n, max(octet_length(id)) AS width,
           string_agg(convert_to(id, 'UTF8') || decode(repeat('00', :width - octet_length(id)), 'hex'), ''::bytea)
               AS ids,
           string_agg(ST_X(geom)::text, ' ') AS lon, string_agg(ST_Y(geom)::text, ' ') AS lat,
           string_agg(coalesce(array_position(CAST(:kinds AS text[]), kind) - 1, -1)::text, ' ') AS kind,
           string_agg(coalesce(array_position(CAST(:statuses AS text[]), status) - 1, -1)::text, ' ') AS status,
           string_agg(coalesce(amenities::text, '{}'), ' ') AS amenities,
           string_agg(coalesce(hours, E'\\x1f'), E'\\x1e') AS hours,
           string_agg(coalesce(county_code, ''), ' ') AS county,
           string_agg(CASE WHEN sample THEN '1' ELSE '0' END, '') AS sample
    FROM (SELECT id, geom, kind, status, amenities, properties->>'opening_hours' AS hours, county_code,
                 coalesce((properties->>'sample')::boolean, false) AS sample
          FROM stations ORDER BY id) AS ordered""")


def hilbert_order(lon: Sequence[float], lat: Sequence[float], bits: int = 16) -> np.ndarray:
    """The positions of the points (WGS-84 degrees) in the order of a Hilbert curve over a 2^bits x
    2^bits grid of the globe (~600 m cells at 16 bits): consecutive positions are near neighbours."""
    n = 1 << bits
    x = np.clip(((np.asarray(lon, dtype=float) + 180) / 360 * n).astype(np.int64), 0, n - 1)
    y = np.clip(((np.asarray(lat, dtype=float) + 90) / 180 * n).astype(np.int64), 0, n - 1)
    key = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s:  # the classic xy2d: the quadrant's offset, then the quadrant turned to the curve's frame
        rx, ry = (x & s) > 0, (y & s) > 0
        key += s * s * ((3 * rx) ^ ry)
        flip = ~ry & rx
        x, y = np.where(flip, n - 1 - x, x), np.where(flip, n - 1 - y, y)
        x, y = np.where(ry, x, y), np.where(ry, y, x)
        s >>= 1
    return np.argsort(key, kind="stable")


def _station(properties: Mapping[str, Any], lon: float, lat: float, shared: dict | None = None) -> Station:
    """A stored record (its ``properties`` are ``Station.to_properties()``: validated, no nulls)."""
    return make_station(dict(properties), float(lon), float(lat), shared)


def _row_values(station: Station) -> dict[str, Any]:
    """The columns of one (validated) station, its version computed as every backend does."""
    feature = station.to_feature()
    lon, lat = feature["geometry"]["coordinates"]  # GeoJSON order is (lon, lat)
    return {"id": station.id, "name": station.name, "kind": station.kind, "status": station.status,
            "county_code": station.county_code, "amenities": list(station.amenities), "lon": lon, "lat": lat,
            "properties": json.dumps(feature["properties"], ensure_ascii=False),
            "version": feature_version(feature)}


def _copy_row(station: Station) -> tuple:
    v = _row_values(station)
    geom = _EWKB_POINT.pack(1, 0x20000001, 4326, v["lon"], v["lat"]).hex()
    return (v["id"], v["name"], v["kind"], v["status"], v["county_code"], v["amenities"], geom,
            v["properties"], v["version"])


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(id=row.id, when=row.at.astimezone(timezone.utc), who=row.who, action=row.action,
                        station_id=row.station_id, before=row.before, after=row.after,
                        changed=tuple(row.changed or ()), note=row.note, reverts=row.reverts)


def _token(row: Any) -> str:
    return f"{row.version}-{row.store_id.hex[:12]}"


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(q: StationQuery) -> tuple[str, dict[str, Any]]:
    """The SQL condition of a checked query (the reference is ``StationQuery.matches``)."""
    clauses, params = [], {}
    for column, values in (("kind", q.kinds), ("status", q.statuses), ("county_code", q.counties)):
        if values is not None:
            clauses.append(f"{column} = ANY(CAST(:{column} AS text[]))")
            params[column] = sorted(values)
    if q.amenities:
        clauses.append("amenities @> CAST(:amenities AS text[])")
        params["amenities"] = sorted(q.amenities)
    if q.bbox is not None:
        # && finds the candidates in the GiST index; the exact test keeps the edges as matches() does
        clauses.append("geom && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)"
                       " AND ST_X(geom) BETWEEN :minlon AND :maxlon AND ST_Y(geom) BETWEEN :minlat AND :maxlat")
        params.update(zip(("minlon", "minlat", "maxlon", "maxlat"), q.bbox))
    return " AND ".join(clauses) or "true", params


def _parse_table(row: Any, hours: list | None, members: Mapping[str, Any], records: FetchRecords) -> StationTable:
    """The :class:`StationTable` of ``_TABLE``'s one row (``hours``: the opening hours read apart).

    Numbers are parsed by numpy from the texts and the ids taken as fixed-width bytes, so that no
    Python object per station is made (a peak of small objects would stay in the process's heap);
    the code columns are read one at a time.
    """
    n = row.n
    if not n:
        return StationTable.from_stations([], members, records=records)
    texts = dict(row._mapping)

    def numbers(name: str, dtype) -> np.ndarray:
        values = np.fromstring(texts.pop(name), dtype=dtype, sep=" ")
        if len(values) != n:
            raise ValueError(f"{name}: {len(values)} values for {n} stations")
        return values

    ids = np.frombuffer(bytes(texts.pop("ids")), dtype=f"S{row.width}").copy()
    columns = {"lon": numbers("lon", np.float64), "lat": numbers("lat", np.float64),
               "kind": numbers("kind", np.int8), "status": numbers("status", np.int8)}
    bits_of: dict[str, int] = {}

    def bits(text_value: str) -> int:
        found = bits_of.get(text_value)
        if found is None:
            found = sum(AMENITY_BIT.get(a, 0) for a in set(text_value[1:-1].split(",")))
            bits_of[text_value] = found
        return found

    columns["amenity_bits"] = np.fromiter((bits(a) for a in texts.pop("amenities").split(" ")), np.int64, n)
    bits_of.clear()
    hours_texts: list[Any] = [None]
    hour_values = hours if hours is not None else (None if h == "\x1f" else h for h in texts.pop("hours").split("\x1e"))
    columns["hours"] = code_column(hour_values, hours_texts)
    county_codes: list[Any] = [None]
    columns["county"] = code_column((c or None for c in texts.pop("county").split(" ")), county_codes)
    columns["sample"] = np.frombuffer(texts.pop("sample").encode("ascii"), dtype=np.uint8) == ord("1")
    if n > 1 and not bool(np.all(ids[:-1] < ids[1:])):  # the aggregates did not keep the order: sort here
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        columns = {k: v[order] for k, v in columns.items()}
    return StationTable(ids=ids, **columns, hours_texts=hours_texts, county_codes=county_codes, records=records,
                        members=members)


class _DatabaseTransaction(StoreTransaction):
    """Reads and changes inside one database transaction that holds the store-wide write lock."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.changed = False
        self.numbered: list[JournalEntry] = []

    def get(self, station_id: str) -> Station | None:
        row = self.connection.execute(text(f"SELECT {_RECORD} FROM stations WHERE id = :id"),
                                      {"id": station_id}).first()
        return None if row is None else _station(row.properties, row.lon, row.lat)

    def first_id(self) -> str | None:
        return self.connection.execute(text("SELECT min(id) FROM stations")).scalar()

    def ids_with_prefix(self, prefix: str) -> Iterable[str]:
        """The id with the highest number after ``prefix`` (all that ``next_id`` needs), found by the
        primary key's index rather than by sending every id of a kind."""
        highest = self.connection.execute(text(
            "SELECT max(substr(id, :n + 1)::numeric) FROM stations "
            "WHERE id LIKE :pattern AND substr(id, :n + 1) ~ '^[0-9]+$'"),
            {"n": len(prefix), "pattern": _like_prefix(prefix)}).scalar()
        return [] if highest is None else [f"{prefix}{int(highest)}"]

    def put(self, station: Station) -> None:
        self.connection.execute(_UPSERT, _row_values(station))
        self.changed = True

    def remove(self, station_id: str) -> None:
        self.connection.execute(text("DELETE FROM stations WHERE id = :id"), {"id": station_id})
        self.changed = True

    def journal(self, entry: JournalEntry) -> None:
        dump = lambda f: None if f is None else json.dumps(f, ensure_ascii=False)  # noqa: E731
        entry_id = self.connection.execute(_JOURNAL, {
            "at": entry.when, "who": entry.who, "action": entry.action, "station_id": entry.station_id,
            "changed": list(entry.changed), "note": entry.note, "reverts": entry.reverts,
            "before": dump(entry.before), "after": dump(entry.after)}).scalar_one()
        self.numbered.append(entry.with_id(entry_id))
        self.changed = True


class PostGISStore(StationStore):
    """Stations in a PostgreSQL/PostGIS database (migrated by :func:`~stations.store.postgis.upgrade`).

    Parameters
    ----------
    url : ``postgresql+psycopg://user:password@host:5432/database`` (``postgresql://``, ``postgis://``
        too), optionally ``?schema=NAME``.
    counties : ``stations.counties.Counties`` used to check and derive ``county_code``; ``None`` skips
        the county checks.
    schema : the schema of the store's tables (else the URL's ``schema``, else the search path's first).
    engine_options : passed to ``sqlalchemy.create_engine`` (``pool_size``, ``max_overflow``, ...).
    """

    def __init__(self, url: str, counties=None, *, schema: str | None = None,
                 engine_options: Mapping[str, Any] | None = None):
        self.url, self.schema = parse_url(url, schema)
        self.source = redacted(self.url) + (f" schema {self.schema}" if self.schema else "")
        self.counties = counties
        self._engine = make_engine(self.url, self.schema, **dict(engine_options or {}))
        # one-statement reads (the version each request checks, a record, the journal): autocommit,
        # no transaction to begin and roll back around them: ~0.3 ms instead of ~0.6 ms on loopback
        self._reader = make_engine(self.url, self.schema, **{**dict(engine_options or {}),
                                                             "isolation_level": "AUTOCOMMIT",
                                                             "pool_reset_on_return": None})
        self._process: dict[str, int] = {}
        self._reader_process: dict[str, int] = {}
        self._checked = False
        self._cache: tuple[str, list[Station]] | None = None  # (store version, all stations)
        self._table: tuple[str, StationTable] | None = None  # (store version, its table)
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostGISStore({self.source!r})"

    @contextmanager
    def _connect(self, *, snapshot: bool = False) -> Iterator[sa.Connection]:
        """A pooled connection; ``snapshot``: its reads share one read-only REPEATABLE READ snapshot."""
        pid_guard(self._engine, self._process)
        with database_errors(self.source):
            if not self._checked:
                with self._engine.connect() as connection:
                    check_revision(connection, self.source)
                self._checked = True
            with self._engine.connect() as connection:
                if snapshot:
                    connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                yield connection

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A pooled autocommit connection for reads that need no snapshot (each statement on its own)."""
        if not self._checked:
            with self._connect():
                pass
        pid_guard(self._reader, self._reader_process)
        with database_errors(self.source), self._reader.connect() as connection:
            yield connection

    # ---- reading -------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """``<write counter>-<store id>``: changes with every write, by any process or server."""
        with self._read() as connection:
            return _token(connection.execute(text("SELECT store_id, version FROM station_store")).one())

    def all(self) -> list[Station]:
        with self._connect(snapshot=True) as connection:
            version = _token(connection.execute(text("SELECT store_id, version FROM station_store")).one())
            cached = self._cache
            if cached is not None and cached[0] == version:
                return list(cached[1])
            rows = connection.execute(text(f"SELECT {_RECORD} FROM stations ORDER BY id"))
            shared: dict = {}  # repeated values (kind, hours...) held once
            stations = [_station(r.properties, r.lon, r.lat, shared) for r in rows]
            connection.rollback()
            connection.invalidate()  # closed, not pooled: libpq keeps its input buffer as large as this answer
        with self._cache_lock:
            self._cache = (version, stations)
        log.debug("read %d stations from %s at version %s", len(stations), self.source, version)
        return list(stations)

    def table(self) -> StationTable:
        """The stations' columns (id, lon, lat, kind, status, amenities, opening_hours, county) in one query;
        kept while the store's version stays. Records are read by id when an answer needs them."""
        with self._connect(snapshot=True) as connection:
            store_row = connection.execute(text("SELECT store_id, version FROM station_store")).one()
            version = _token(store_row)
            cached = self._table
            if cached is not None and cached[0] == version:
                return cached[1]
            last_entry = connection.execute(text("SELECT coalesce(max(id), 0) FROM station_journal")).scalar()
            width = connection.execute(text("SELECT coalesce(max(octet_length(id)), 1) FROM stations")).scalar()
            row = connection.execute(_TABLE, {"kinds": list(KIND_KEYS), "statuses": list(STATUS_KEYS),
                                              "width": width}).one()
            hours = None
            if row.n and len(row.hours.split("\x1e")) != row.n:  # a text holding the separator: read them apart
                hours = [h for (h,) in connection.execute(
                    text("SELECT properties->>'opening_hours' FROM stations ORDER BY id"))]
            members = connection.execute(text("SELECT members FROM station_store")).scalar() or {}
            connection.rollback()
            connection.invalidate()  # closed, not pooled: libpq keeps its input buffer as large as this answer
        table = _parse_table(row, hours, members, FetchRecords(self._fetch, self._gone))
        table.version, table.mark = version, (store_row.store_id.hex, int(last_entry))
        with self._cache_lock:
            self._table = (version, table)
        log.debug("read the columns of %d stations from %s at version %s", len(table), self.source, version)
        return table

    def changes(self, mark: tuple[str, int], limit: int = 5000) -> tuple[str, dict[str, Station | None]] | None:
        """(the store's version, {id: the station as it is now, or ``None`` if removed}) of every station
        changed since a table's ``mark`` (its journal position), read in one snapshot; ``None`` when that
        cannot be told cheaply: another database, a whole replacement, more than ``limit`` stations."""
        store_key, since = mark
        with self._connect(snapshot=True) as connection:
            store_row = connection.execute(text("SELECT store_id, version FROM station_store")).one()
            if store_row.store_id.hex != store_key:
                return None
            ids: dict[str, None] = {}
            for entry in connection.execute(text("SELECT action, station_id, changed FROM station_journal "
                                                 "WHERE id > :since ORDER BY id"), {"since": since}):
                if entry.action == "replace_all":
                    return None
                ids.update(dict.fromkeys(entry.changed if entry.action == "import" else [entry.station_id]))
                if len(ids) > limit:
                    return None
            rows = connection.execute(text(f"SELECT {_RECORD} FROM stations WHERE id = ANY(CAST(:ids AS text[]))"),
                                      {"ids": list(ids)}) if ids else []
            found = {r.properties["id"]: _station(r.properties, r.lon, r.lat) for r in rows}
        return _token(store_row), {sid: found.get(sid) for sid in ids}

    def _fetch(self, ids: list[str]) -> dict[str, Station]:
        with self._read() as connection:
            rows = connection.execute(text(f"SELECT {_RECORD} FROM stations WHERE id = ANY(CAST(:ids AS text[]))"),
                                      {"ids": ids})
            return {r.properties["id"]: _station(r.properties, r.lon, r.lat) for r in rows}

    def _gone(self, station_id: str) -> Exception:
        return StoreUnavailable(f"station {station_id} was removed from {self.source} while an answer was being "
                                "read; ask again", self.source)

    def get(self, station_id: str) -> Station:
        if isinstance(station_id, str):
            with self._read() as connection:
                row = connection.execute(text(f"SELECT {_RECORD} FROM stations WHERE id = :id"),
                                         {"id": station_id}).first()
            if row is not None:
                return _station(row.properties, row.lon, row.lat)
        raise NotFound(f"no station with id {quote_value(station_id)}")

    def record_version(self, station_id: str) -> str:
        """The stored content hash (written with the record; equal to ``record_version(get(id))``)."""
        if isinstance(station_id, str):
            with self._read() as connection:
                version = connection.execute(text("SELECT version FROM stations WHERE id = :id"),
                                             {"id": station_id}).scalar()
            if version is not None:
                return version
        raise NotFound(f"no station with id {quote_value(station_id)}")

    def _select(self, q: StationQuery, limit: int | None, offset: int) -> Page:
        """One statement (one snapshot and one round trip, no transaction to open and close): the
        number of matches, and the page's records as one JSON array in id order."""
        where, params = _where(q)
        with self._read() as connection:
            row = connection.execute(text(_PAGE.format(where=where)),
                                     {**params, "limit": limit, "offset": offset}).one()
        items = tuple(_station(p, lon, lat) for p, lon, lat in row.items or ())
        return Page(items=items, total=row.total, offset=offset, limit=limit)

    def collection_members(self) -> dict[str, Any]:
        with self._read() as connection:
            return dict(connection.execute(text("SELECT members FROM station_store")).scalar() or {})

    def _history(self, station_id: str | None, since: datetime | None, before: int | None,
                 limit: int | None) -> list[JournalEntry]:
        clauses, params = [], {"limit": limit}
        if station_id is not None:  # its own entries, and the imports that touched it (JournalEntry.concerns)
            clauses.append("(station_id = :station_id OR (action = 'import' "
                           "AND changed @> ARRAY[CAST(:station_id AS text)]))")
            params["station_id"] = station_id
        if since is not None:
            clauses.append("at >= :since")
            params["since"] = since
        if before is not None:
            clauses.append("id < :before")
            params["before"] = before
        where = " AND ".join(clauses) or "true"
        with self._read() as connection:
            rows = connection.execute(
                text(f"SELECT {_ENTRY} FROM station_journal WHERE {where} ORDER BY id DESC LIMIT :limit"), params)
            return [_entry(r) for r in rows]

    def journal_entry(self, entry_id: int) -> JournalEntry:
        row = None
        if isinstance(entry_id, int) and not isinstance(entry_id, bool) and -2**63 <= entry_id < 2**63:
            with self._read() as connection:
                row = connection.execute(text(f"SELECT {_ENTRY} FROM station_journal WHERE id = :id"),
                                         {"id": entry_id}).first()
        if row is None:
            raise NotFound(f"no journal entry {quote_value(entry_id)} in {self.source}")
        return _entry(row)

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, expected_store_version: str | None = None) -> Iterator[_DatabaseTransaction]:
        with self._connect() as connection:
            with connection.begin():
                connection.execute(text(f"SET LOCAL lock_timeout = '{int(engine.LOCK_TIMEOUT_S * 1000)}ms'"))
                current = _token(connection.execute(
                    text("SELECT store_id, version FROM station_store FOR UPDATE")).one())
                if expected_store_version is not None and expected_store_version != current:
                    raise StaleVersion(f"the station database {self.source} changed since it was read "
                                       f"(version {quote_value(expected_store_version)}, now {current}); "
                                       "read it again and retry", expected=expected_store_version,
                                       current_version=current)
                tx = _DatabaseTransaction(connection)
                yield tx
                if tx.changed:
                    connection.execute(text("UPDATE station_store SET version = version + 1"))
            tx.committed = tuple(tx.numbered)  # committed: the entries as the sequence numbered them

    def save_all(self, stations: Iterable[Station], who: str = "", members: Mapping[str, Any] | None = None, *,
                 expected_store_version: str | None = None) -> None:
        """Replace every station, validated first, in one transaction (COPY in batches)."""
        stations = list(stations)
        _, problems = validate_features([s.to_feature() for s in stations], self.counties)
        if problems:
            raise InvalidRecord(problems)
        self.replace_validated(stations, who, members, expected_store_version=expected_store_version)

    def replace_validated(self, stations: list[Station], who: str = "", members: Mapping[str, Any] | None = None,
                          *, expected_store_version: str | None = None, note: str | None = None,
                          batch_size: int = BATCH_SIZE,
                          progress: Callable[[int, int], None] | None = None) -> None:
        """``save_all`` of stations validated already (by ``validate_features`` with this store's
        counties): delete every row, COPY the new ones in batches of ``batch_size`` (calling
        ``progress(written, total)`` after each), one ``replace_all`` journal entry, one commit.

        The rows are written along a Hilbert curve, so that neighbours share the table's pages: a
        county's box reads a few dozen pages rather than one page per station (the national store's
        box p99 in the database 14 ms in id order, 7 ms this way)."""
        stations = [stations[i] for i in hilbert_order([s.lon for s in stations], [s.lat for s in stations])]
        with self._transaction(expected_store_version) as tx:
            connection = tx.connection
            connection.execute(text("DELETE FROM stations"))
            raw = connection.connection.driver_connection  # psycopg's, in the same transaction
            with raw.cursor() as cursor:
                for start in range(0, len(stations), max(1, batch_size)):
                    batch = stations[start:start + max(1, batch_size)]
                    with cursor.copy(_COPY) as copy:
                        for station in batch:
                            copy.write_row(_copy_row(station))
                    if progress is not None:
                        progress(start + len(batch), len(stations))
            if members is not None:
                connection.execute(text("UPDATE station_store SET members = CAST(:members AS json)"),
                                   {"members": json.dumps(dict(members), ensure_ascii=False)})
            connection.execute(text("ANALYZE stations"))
            tx.journal(new_entry("replace_all", who, None, None, note=note or f"{len(stations)} stations"))

    # ---- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()
        self._reader.dispose()
