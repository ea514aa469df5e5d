"""The GeoJSON station store: validated reads, atomic locked writes, an audit journal.

One class with a small interface (``all/get/query/add/update/delete``) so that a database
backend can slot in later. What it guarantees, and what it does not:

- The file on disk is the truth. Every read checks (by modification time, size and inode) whether
  another process replaced it and re-reads it if so.
- Writes are serialised by an exclusive file lock beside the store (``<file>.lock``; it works on a
  local disk, not across machines on a network file system). A write re-reads the file under the
  lock and applies its change to what is there now, so two processes changing *different* records
  keep both changes.
- A write is atomic: a temporary file in the same folder, fsync, rename over the store. A reader, or
  a process killed mid-write, sees the old file or the new one, never half of one. A temporary file
  left by a killed writer is removed by a later write. The file keeps its mode and, where the
  process may set them, its owner and group.
- A change based on an earlier read (read, edit, save) is only safe with an expected version:
  ``update``/``delete`` take ``expected_version`` (from :meth:`GeoJSONStore.record_version`),
  ``add``/``save_all`` take ``expected_store_version`` (from :attr:`GeoJSONStore.version`). The
  version is compared under the lock and a stale one raises :class:`~stations.errors.StaleVersion`
  with nothing written. Without it the last writer wins and may overwrite a change made since its
  read.
- Each change appends a line to the journal after the file is replaced; a crash between the two
  keeps the change and loses its journal line.
- A file that cannot be used (unreadable, not UTF-8, not JSON, invalid records) raises
  :class:`~stations.errors.StoredDataError` naming the file or the records; the failure is
  remembered for that version of the file and raised again without re-reading until it changes.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from filelock import FileLock

from .errors import Conflict, NotFound, Problem, StaleVersion, StoredDataError, ValidationError, quote_value
from .model import AMENITIES, KINDS, STATUSES, Station
from .validate import check_counties, check_feature_shape, check_properties, record_label

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30
#: a temporary file of this store older than this is left from an interrupted write and removed.
#: Under the lock every temporary file is stale already (each writer holds the lock while its
#: temporary file exists); the age only guards against a writer the lock cannot see (another host).
STALE_TEMPORARY_S = 600
#: temporary files are named ``.<store file name>.<8 of these>.tmp``, as ``tempfile.mkstemp`` names them
_TEMPORARY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _file_version(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _version_token(version: tuple[int, int, int] | None) -> str:
    return "empty" if version is None else f"{version[0]:x}-{version[1]:x}-{version[2]:x}"


def record_version(station: Station) -> str:
    """The version of one record: 16 hex digits of the SHA-256 of its canonical JSON.

    The canonical JSON is the record's GeoJSON Feature (``Station.to_feature()``: WGS-84 lon/lat
    rounded to ``COORD_DECIMALS``, properties without nulls) dumped with sorted keys, no spaces,
    non-ASCII text as is, encoded as UTF-8. It depends on the record's content only, not on the file
    or the backend, so a database backend computes the same value. Quoted, it serves as an HTTP ETag.
    """
    canonical = json.dumps(station.to_feature(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def read_stations_text(path: Path) -> str:
    """The text of a stations file; :class:`StoredDataError` naming the path if it cannot be read as UTF-8.

    A UTF-8 byte-order mark (as Windows Notepad writes) is accepted and dropped.
    """
    where = str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise StoredDataError(Problem(where, "(file)", "a directory",
                                      "a GeoJSON file, but this path is a directory"), where) from None
    except OSError as exc:
        raise StoredDataError(Problem(where, "(file)", type(exc).__name__,
                                      f"a readable GeoJSON file ({exc.strerror or exc})"), where) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StoredDataError(Problem(
            where, "(file)", f"byte {exc.start} (line {line})",
            "UTF-8 text, but the file is not UTF-8 (perhaps GBK or GB18030): "
            "convert it to UTF-8 or use `yizhan import`, which reads GBK"), where) from None


def _again(exc: BaseException) -> BaseException:
    """A copy of an exception without its traceback, to raise a remembered failure again."""
    clone = exc.__class__.__new__(exc.__class__)
    clone.__dict__.update(exc.__dict__)
    clone.args = exc.args
    return clone


def validate_features(features: Any, counties=None) -> tuple[list[Station], list[Problem]]:
    """Validate a list of features; return the stations and every problem found."""
    if not isinstance(features, list):
        return [], [Problem("(file)", "features", type(features).__name__, "a list of GeoJSON Features")]
    problems: list[Problem] = []
    placed = []
    seen: dict[str, str] = {}
    good = []
    for index, feature in enumerate(features):
        label = record_label(feature, index)
        shape_problems, pos = check_feature_shape(feature, label)
        problems.extend(shape_problems)
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        if not isinstance(props, Mapping):
            continue
        record_problems = check_properties(props, label)
        problems.extend(record_problems)
        fid = props.get("id")
        if isinstance(fid, str):
            if fid in seen:
                problems.append(Problem(label, "id", fid, f"a unique id; also used by {seen[fid]}"))
            seen[fid] = f"record #{index + 1}"
        if pos is not None:
            placed.append((label, props, pos))
        if pos is not None and not shape_problems and not record_problems:
            good.append((label, feature, props, pos))
    problems.extend(check_counties(placed, counties))
    if problems:
        return [], problems
    codes = counties.locate_many([p[0] for *_, p in good], [p[1] for *_, p in good]) if counties else None
    stations = []
    for i, (_, feature, props, _) in enumerate(good):
        station = Station.from_feature(feature)
        if codes is not None and station.county_code is None:
            station = _replace(station, county_code=codes[i])
        stations.append(station)
    return stations, []


def _replace(station: Station, **changes: Any) -> Station:
    from dataclasses import replace
    return replace(station, **changes)


def to_feature_collection(stations: Iterable[Station], **members: Any) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of the stations, sorted by id."""
    features = [s.to_feature() for s in sorted(stations, key=lambda s: s.id)]
    return {"type": "FeatureCollection", **members, "features": features}


def dumps(collection: Mapping[str, Any]) -> str:
    """Stable, pretty text: one property per line so that a change is a small diff."""
    return json.dumps(collection, ensure_ascii=False, indent=2) + "\n"


class GeoJSONStore:
    """Stations in one GeoJSON file.

    Parameters
    ----------
    path : path of the FeatureCollection (WGS-84 lon/lat Points).
    counties : ``stations.counties.Counties`` used to check and derive ``county_code``;
        ``None`` skips the county checks.
    journal_path : the audit journal (JSON lines); default ``journal.jsonl`` beside the store.
    """

    def __init__(self, path: str | os.PathLike, counties=None, journal_path: str | os.PathLike | None = None):
        self.path = Path(path)
        self.counties = counties
        self.journal_path = Path(journal_path) if journal_path else self.path.with_name("journal.jsonl")
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_S)
        self._mutex = threading.RLock()
        self._loaded_version: tuple[int, int, int] | None = None
        self._stations: list[Station] = []
        self._by_id: dict[str, Station] = {}
        self._members: dict[str, Any] = {}
        # (file version, error) of the last failed read: raised again until the file changes
        self._failure: tuple[tuple[int, int, int], BaseException] | None = None

    # ---- reading -------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """A token that changes whenever the file changes (also by another process).

        For caches, and as ``expected_store_version`` of :meth:`add` and :meth:`save_all`.
        """
        self._refresh()
        return _version_token(self._loaded_version)

    def _refresh(self) -> None:
        with self._mutex:
            current = _file_version(self.path)
            if current is not None and current == self._loaded_version:
                return
            self._read()

    def _read(self) -> None:
        """(Re)read the file; raise StoredDataError listing every problem if it cannot be used.

        A failure is remembered for that version of the file (mtime, size, inode) and raised again
        without reading until the file changes: a bad 200 MB file is not re-validated per request.
        """
        version = _file_version(self.path)
        if version is None:
            self._stations, self._by_id, self._members, self._loaded_version = [], {}, {}, None
            self._failure = None
            return
        if self._failure is not None and self._failure[0] == version:
            raise _again(self._failure[1])
        try:
            stations, members = self._parse(read_stations_text(self.path))
        except StoredDataError as exc:
            self._failure = (version, _again(exc))  # no traceback kept: it would hold the file's text
            log.debug("cannot use %s: %s", self.path, exc.summary())
            raise
        self._failure = None
        self._stations = sorted(stations, key=lambda s: s.id)
        self._by_id = {s.id: s for s in self._stations}
        self._members = members
        self._loaded_version = version
        log.debug("loaded %d stations from %s", len(stations), self.path)

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

    def all(self) -> list[Station]:
        """Every station, sorted by id."""
        self._refresh()
        return list(self._stations)

    def get(self, station_id: str) -> Station:
        self._refresh()
        try:
            return self._by_id[station_id]
        except KeyError:
            raise NotFound(f"no station with id {quote_value(station_id)}") from None

    def record_version(self, station_id: str) -> str:
        """The current version of one record (see :func:`record_version`), for ``expected_version``."""
        return record_version(self.get(station_id))

    def query(self, kind: str | None = None, county: str | None = None, status: str | None = None,
              amenity: Iterable[str] = (), bbox: tuple[float, float, float, float] | None = None) -> list[Station]:
        """Stations matching every given filter. ``bbox`` is (minlon, minlat, maxlon, maxlat)."""
        if kind is not None and kind not in KINDS:
            raise ValidationError(Problem("query", "kind", kind, "one of " + ", ".join(KINDS)))
        if status is not None and status not in STATUSES:
            raise ValidationError(Problem("query", "status", status, "one of " + ", ".join(STATUSES)))
        wanted = set(amenity or ())
        unknown = wanted - set(AMENITIES)
        if unknown:
            raise ValidationError(Problem("query", "amenity", sorted(unknown)[0], "one of " + ", ".join(AMENITIES)))
        if county is not None and self.counties is not None and county not in self.counties.codes:
            raise NotFound(f"no county with code {county!r}; known: {', '.join(self.counties.codes)}")
        out = []
        for s in self.all():
            if kind is not None and s.kind != kind:
                continue
            if status is not None and s.status != status:
                continue
            if county is not None and s.county_code != county:
                continue
            if wanted and not wanted.issubset(s.amenities):
                continue
            if bbox is not None and not (bbox[0] <= s.lon <= bbox[2] and bbox[1] <= s.lat <= bbox[3]):
                continue
            out.append(s)
        return out

    def to_geojson(self, stations: Iterable[Station] | None = None) -> dict[str, Any]:
        self._refresh()
        return to_feature_collection(self._stations if stations is None else stations, **self._members)

    # ---- writing -------------------------------------------------------------------------
    def add(self, item: Station | Mapping[str, Any], who: str = "", *,
            expected_store_version: str | None = None) -> Station:
        """Add a station (a Station or a GeoJSON Feature); an id is assigned if missing.

        ``expected_store_version``: the store's :attr:`version` the caller read (e.g. when it checked
        for duplicates); :class:`StaleVersion` with nothing written if the file changed since.
        """
        feature = item.to_feature() if isinstance(item, Station) else _as_feature(item)

        def change(current: dict[str, Station]) -> tuple[Station | None, Station]:
            props = feature.setdefault("properties", {})
            if not props.get("id"):
                props["id"] = self._next_id(current, props.get("kind"))
            if props["id"] in current:
                raise Conflict(f"a station with id {quote_value(props['id'])} already exists")
            return None, self._validated(feature)

        return self._write("add", change, who, expected_store_version)

    def update(self, station_id: str, changes: Mapping[str, Any], who: str = "", *,
               expected_version: str | None = None) -> Station:
        """Change some fields; ``geometry`` or ``lon``/``lat`` move the point (its county is derived
        again unless ``county_code`` is given too, which is then checked against the new position).

        ``expected_version``: the record's version (:meth:`record_version`) the change is based on;
        if the record changed since, :class:`StaleVersion` is raised and nothing is written.
        """
        changes = dict(changes)

        def change(current: dict[str, Station]) -> tuple[Station | None, Station]:
            if station_id not in current:
                raise NotFound(f"no station with id {quote_value(station_id)}")
            before = current[station_id]
            _check_record_version(before, expected_version)
            feature = before.to_feature()
            moved = "geometry" in changes or "lon" in changes or "lat" in changes
            if "geometry" in changes:
                feature["geometry"] = changes.pop("geometry")
            if "lon" in changes or "lat" in changes:
                lon = changes.pop("lon", before.lon)
                lat = changes.pop("lat", before.lat)
                feature["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
            if moved and "county_code" not in changes:
                # a new position has its county derived again (a given county_code is checked)
                feature["properties"].pop("county_code", None)
            if changes.get("id", station_id) != station_id:
                raise ValidationError(Problem(station_id, "id", changes["id"], "ids are stable and cannot change"))
            for key, value in changes.items():
                if value is None:
                    feature["properties"].pop(key, None)
                else:
                    feature["properties"][key] = value
            return before, self._validated(feature)

        return self._write("update", change, who)

    def delete(self, station_id: str, who: str = "", *, expected_version: str | None = None) -> None:
        """Remove a station; ``expected_version`` as in :meth:`update`."""
        def change(current: dict[str, Station]) -> tuple[Station | None, Station | None]:
            if station_id not in current:
                raise NotFound(f"no station with id {quote_value(station_id)}")
            _check_record_version(current[station_id], expected_version)
            return current[station_id], None

        self._write("delete", change, who)

    def save_all(self, stations: Iterable[Station], who: str = "", members: Mapping[str, Any] | None = None, *,
                 expected_store_version: str | None = None) -> None:
        """Replace the whole file (used by importers and the sample builder), validated first.

        The current file is not read (so a broken file can be replaced). ``expected_store_version``:
        the :attr:`version` the new content was computed from; :class:`StaleVersion` with nothing
        written if the file changed since.
        """
        stations = list(stations)
        _, problems = validate_features([s.to_feature() for s in stations], self.counties)
        if problems:
            raise ValidationError(problems)
        with self._mutex, self._lock:
            self._check_store_version(expected_store_version)
            text = dumps(to_feature_collection(stations, **(members if members is not None else self._members)))
            self._remove_stale_temporaries()
            self._atomic_write(text)
            self._journal("replace_all", who, None, {"count": len(stations)})
            self._read()

    def _validated(self, feature: dict[str, Any]) -> Station:
        stations, problems = validate_features([feature], self.counties)
        if problems:
            raise ValidationError(problems)
        return stations[0]

    def _next_id(self, current: Mapping[str, Station], kind: Any) -> str:
        prefix = KINDS.get(kind, {}).get("prefix", "XX") if isinstance(kind, str) else "XX"
        city = "JN"
        if current:
            city = next(iter(current)).split("-")[0]
        numbers = [int(m.group(1)) for sid in current
                   if (m := re.fullmatch(rf"{re.escape(city)}-{prefix}-(\d+)", sid))]
        return f"{city}-{prefix}-{max(numbers, default=0) + 1:04d}"

    def _write(self, action: str, change, who: str, expected_store_version: str | None = None):
        with self._mutex, self._lock:
            self._check_store_version(expected_store_version)
            self._read()  # the file on disk is the truth: another process may have written
            current = dict(self._by_id)
            before, after = change(current)  # checks an expected record version: compare-and-set
            if before is not None:
                del current[before.id]
            if after is not None:
                current[after.id] = after
            text = dumps(to_feature_collection(current.values(), **self._members))
            self._remove_stale_temporaries()
            self._atomic_write(text)
            self._journal(action, who, before, after)
            self._read()
        return after

    def _check_store_version(self, expected: str | None) -> None:
        """Under the lock: StaleVersion unless the file is still at the ``expected`` store version."""
        if expected is None:
            return
        current = _version_token(_file_version(self.path))
        if current != expected:
            raise StaleVersion(f"the stations file {self.path} changed since it was read "
                               f"(version {quote_value(expected)}, now {current}); read it again and retry",
                               expected=expected, current_version=current)

    def _temporary_name(self) -> str:
        return f".{self.path.name}.{''.join(secrets.choice(_TEMPORARY_CHARS) for _ in range(8))}.tmp"

    def _remove_stale_temporaries(self) -> None:
        """Under the lock: remove this store's temporary files left by killed writers.

        Only names this store makes (``.<file name>.<8 random characters>.tmp``, the pattern of
        ``tempfile.mkstemp`` that earlier versions used), only regular files, only if older than
        ``STALE_TEMPORARY_S``; never another program's files.
        """
        pattern = re.compile(rf"\.{re.escape(self.path.name)}\.[{_TEMPORARY_CHARS}]{{8}}\.tmp")
        folder = self.path.parent
        now = time.time()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if not pattern.fullmatch(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_TEMPORARY_S:
                    os.unlink(entry.path)
                    log.warning("removed %s, left by an interrupted write of %s", entry.path, self.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not remove the stale temporary file %s: %s", entry.path, exc)

    def _atomic_write(self, text: str) -> None:
        """Write to a temporary file in the same folder, fsync, rename over, fsync the folder.

        The new file keeps the mode of the file it replaces and, where this process may set them,
        its owner and group; a new store gets the mode ``open()`` gives (0666 less the umask).
        """
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        try:
            old = os.stat(self.path)
        except FileNotFoundError:
            old = None
        # The temporary file is never more open than the file it replaces (the umask may narrow it
        # further until the exact mode is set below).
        create_mode = stat.S_IMODE(old.st_mode) & 0o777 if old is not None else 0o666
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            tmp = folder / self._temporary_name()
            try:
                fd = os.open(tmp, flags, create_mode)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free temporary file name in {folder}")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                if old is not None:
                    self._copy_owner_and_mode(fh.fileno(), old)
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _copy_owner_and_mode(self, fd: int, old: os.stat_result) -> None:
        """Give the open temporary file the owner, group and mode of the file it replaces."""
        new = os.fstat(fd)
        if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
            try:
                os.fchown(fd, old.st_uid, old.st_gid)  # root (or the same owner) may
            except OSError:
                try:
                    os.fchown(fd, -1, old.st_gid)  # a member of the group may keep the group
                except OSError as exc:
                    log.warning("%s: cannot keep its owner %d and group %d (%s); it is now owned by "
                                "this process's user", self.path, old.st_uid, old.st_gid, exc.strerror)
        os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which may clear setuid/setgid bits

    def _journal(self, action: str, who: str, before: Any, after: Any) -> None:
        def dump(value: Any) -> Any:
            return value.to_feature() if isinstance(value, Station) else value

        entry = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "who": who or _default_user(),
            "action": action,
            "before": dump(before),
            "after": dump(after),
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n"
        with open(self.journal_path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def _check_record_version(current: Station, expected: str | None) -> None:
    """StaleVersion unless ``current`` is still at the ``expected`` record version (None: no check)."""
    if expected is None:
        return
    now = record_version(current)
    if now != expected:
        raise StaleVersion(f"station {current.id} was changed by someone else since it was read "
                           f"(version {quote_value(expected)}, now {now}); nothing was saved: "
                           f"reload it, redo the change and save again",
                           record_id=current.id, expected=expected, current_version=now, current=current)


def _as_feature(item: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValidationError(Problem("record", "(record)", type(item).__name__, "a GeoJSON Feature"))
    feature = json.loads(json.dumps(item))  # a deep copy; the caller's object is not changed
    if "properties" not in feature or not isinstance(feature.get("properties"), dict):
        feature["properties"] = feature.get("properties") or {}
    return feature


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"
