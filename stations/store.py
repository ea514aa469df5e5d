"""The GeoJSON station store: validated reads, atomic locked writes, an audit journal.

One class with a small interface (``all/get/query/add/update/delete``) so that a database
backend can slot in later. The file on disk is the truth: every read checks whether another
process changed it, and every write re-reads it under an exclusive file lock first, so two
processes (server workers, the CLI) never lose each other's updates.
"""
from __future__ import annotations

import getpass
import json
import logging
import os
import re
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from filelock import FileLock

from .errors import Conflict, NotFound, Problem, ValidationError
from .model import AMENITIES, KINDS, STATUSES, Station
from .validate import check_counties, check_feature_shape, check_properties, record_label

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30


def _file_version(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


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

    # ---- reading -------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """A token that changes whenever the file changes (also by another process)."""
        self._refresh()
        v = self._loaded_version
        return "empty" if v is None else f"{v[0]:x}-{v[1]:x}-{v[2]:x}"

    def _refresh(self) -> None:
        with self._mutex:
            current = _file_version(self.path)
            if current is not None and current == self._loaded_version:
                return
            self._read()

    def _read(self) -> None:
        """(Re)read the file; raise ValidationError listing every problem if it is invalid."""
        version = _file_version(self.path)
        if version is None:
            self._stations, self._by_id, self._members, self._loaded_version = [], {}, {}, None
            return
        text = self.path.read_text(encoding="utf-8")
        stations, members = self._parse(text)
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
            raise ValidationError(Problem(where, "(file)", f"line {exc.lineno} column {exc.colno}",
                                          f"valid JSON ({exc.msg})")) from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            got = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise ValidationError(Problem(where, "type", got, "a GeoJSON FeatureCollection"))
        stations, problems = validate_features(data.get("features"), self.counties)
        if problems:
            raise ValidationError(problems)
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
            raise NotFound(f"no station with id {station_id!r}") from None

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
    def add(self, item: Station | Mapping[str, Any], who: str = "") -> Station:
        """Add a station (a Station or a GeoJSON Feature); an id is assigned if missing."""
        feature = item.to_feature() if isinstance(item, Station) else _as_feature(item)

        def change(current: dict[str, Station]) -> tuple[Station | None, Station]:
            props = feature.setdefault("properties", {})
            if not props.get("id"):
                props["id"] = self._next_id(current, props.get("kind"))
            if props["id"] in current:
                raise Conflict(f"a station with id {props['id']!r} already exists")
            return None, self._validated(feature)

        return self._write("add", change, who)

    def update(self, station_id: str, changes: Mapping[str, Any], who: str = "") -> Station:
        """Change some fields; ``lon``/``lat`` move the point (its county is derived again)."""
        changes = dict(changes)

        def change(current: dict[str, Station]) -> tuple[Station | None, Station]:
            if station_id not in current:
                raise NotFound(f"no station with id {station_id!r}")
            before = current[station_id]
            feature = before.to_feature()
            if "geometry" in changes:
                feature["geometry"] = changes.pop("geometry")
            if "lon" in changes or "lat" in changes:
                lon = changes.pop("lon", before.lon)
                lat = changes.pop("lat", before.lat)
                feature["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
                if "county_code" not in changes:
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

    def delete(self, station_id: str, who: str = "") -> None:
        def change(current: dict[str, Station]) -> tuple[Station | None, Station | None]:
            if station_id not in current:
                raise NotFound(f"no station with id {station_id!r}")
            return current[station_id], None

        self._write("delete", change, who)

    def save_all(self, stations: Iterable[Station], who: str = "", members: Mapping[str, Any] | None = None) -> None:
        """Replace the whole file (used by importers and the sample builder), validated first."""
        stations = list(stations)
        _, problems = validate_features([s.to_feature() for s in stations], self.counties)
        if problems:
            raise ValidationError(problems)
        with self._mutex, self._lock:
            text = dumps(to_feature_collection(stations, **(members if members is not None else self._members)))
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

    def _write(self, action: str, change, who: str):
        with self._mutex, self._lock:
            self._read()  # the file on disk is the truth: another process may have written
            current = dict(self._by_id)
            before, after = change(current)
            if before is not None:
                del current[before.id]
            if after is not None:
                current[after.id] = after
            text = dumps(to_feature_collection(current.values(), **self._members))
            self._atomic_write(text)
            self._journal(action, who, before, after)
            self._read()
        return after

    def _atomic_write(self, text: str) -> None:
        """Write to a temporary file in the same folder, fsync, rename over, fsync the folder."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
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
