"""The dry run of an import: what a table would add, change, leave unchanged, remove or keep, and why
each rejected row is rejected. Nothing is written here (``stations.importing.apply`` writes a plan).

Matching rows to stations keeps ids stable across imports: a row with an id (``编号``) is that
station (or a new one with that id); a row without one is the station with the same name in the same
county (the county column, else the county of its position), or a new station with the next free id
of its kind (as the store would number it). Columns the file has replace the station's values (a
blank cell removes an optional value; a blank ``类型``/``状态`` keeps the station's); columns it does
not have leave them as they are. ``mode="replace"`` removes the stations no row names, ``merge``
keeps them; a station whose row was rejected is always kept as it is.

A row without a position but with an address is geocoded (``geocoding``, a
``stations.geocoding.GeocodingService``), unless it is a station whose stored address is the same
(its stored position stays). A geocoded point is used only at an accepted precision
(``ImportOptions.accept_precision``, by default an exact address or place, not a road or a county) and
inside the county the row names.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..coords import CRS_NAMES
from ..errors import InvalidRecord, Problem, ValidationError
from ..model import KINDS, PROPERTY_ORDER, Station
from ..store.records import apply_changes, changed_fields, id_prefix, next_id, validate_features, validated
from .problems import RowProblem
from .readers import Table
from .rows import HeaderMap, ParsedRow, map_headers, parse_row

log = logging.getLogger(__name__)

MODES = ("merge", "replace")
ACTIONS = ("add", "change", "unchanged", "remove", "keep")
#: consecutive geocoder failures (timeouts, server errors) after which the remaining rows are not asked
GEOCODE_MAX_FAILURES = 5
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ImportOptions:
    """How to read and apply a table.

    ``crs``: the system of its positions (``wgs84``, ``gcj02`` from AMap or Tencent, ``bd09`` from
    Baidu), converted to WGS-84. ``mode``: ``merge`` keeps stations the file does not name,
    ``replace`` removes them. ``skip_bad``: import the good rows even if some are rejected (else
    nothing changes). ``fix_swapped``: exchange latitude and longitude where only that puts the point
    in a county. ``default_kind``: the kind of new rows that give none (else they are rejected).
    ``region``: words put before an address for geocoding when it lacks them (the city, ``济宁市``).
    ``accept_precision``: geocoder precisions used (``exact``; add ``road`` to accept road-level).
    ``allowed_counties``: the adcodes whose stations this import may change (an editor's counties;
    ``None``: all): a row for a station elsewhere (before or after) is rejected, and ``replace`` removes
    only stations in these counties.
    """

    crs: str = "wgs84"
    mode: str = "merge"
    skip_bad: bool = False
    fix_swapped: bool = False
    default_kind: str | None = None
    region: str | None = None
    accept_precision: tuple[str, ...] = ("exact",)
    allowed_counties: tuple[str, ...] | None = None

    def check(self) -> None:
        """:class:`ValidationError` naming every bad option."""
        problems = []
        if self.crs not in CRS_NAMES:
            problems.append(Problem("import", "crs", self.crs, "one of " + ", ".join(CRS_NAMES)))
        if self.mode not in MODES:
            problems.append(Problem("import", "mode", self.mode, "one of " + ", ".join(MODES)))
        if self.default_kind is not None and self.default_kind not in KINDS:
            problems.append(Problem("import", "default_kind", self.default_kind, "one of " + ", ".join(KINDS)))
        if problems:
            raise ValidationError(problems)

    def to_dict(self) -> dict[str, Any]:
        return {"crs": self.crs, "mode": self.mode, "skip_bad": self.skip_bad, "fix_swapped": self.fix_swapped,
                "default_kind": self.default_kind, "region": self.region,
                "accept_precision": list(self.accept_precision),
                "allowed_counties": None if self.allowed_counties is None else list(self.allowed_counties)}


@dataclass(frozen=True)
class PlannedStation:
    """One station's fate: ``action`` (add, change, unchanged, remove, keep), the ``row`` that names it
    (None for a station no row names), the record ``before`` and ``after`` (None where it does not
    exist), and the ``fields`` a change changes (``geometry`` for the position)."""

    action: str
    station_id: str
    row: int | None
    before: Station | None
    after: Station | None
    fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        shown = self.after or self.before
        return {"action": self.action, "id": self.station_id, "row": self.row, "name": shown.name,
                "kind": shown.kind, "county_code": shown.county_code, "lon": shown.lon, "lat": shown.lat,
                "fields": list(self.fields),
                "before": self.before.to_feature() if self.before and self.action in ("change", "remove") else None,
                "after": self.after.to_feature() if self.after and self.action in ("add", "change") else None}


@dataclass
class RowOutcome:
    """What became of one row: ``action`` add, change, unchanged, rejected or skipped (the template's
    example row), the station id it names, its problems (all severities)."""

    number: int
    action: str
    station_id: str | None
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class ImportPlan:
    """The dry run's answer (see the module docstring); :func:`apply_import` writes it.

    ``store_version``: the store as read; writing the plan requires it unchanged. ``digest``: a short
    hash of what would be written, to check that the plan confirmed is the plan applied.
    """

    table: Table
    options: ImportOptions
    store_version: str
    header_map: HeaderMap
    file_problems: list[RowProblem]
    rows: list[RowOutcome]
    stations: list[PlannedStation]
    geocoding: dict[str, Any] = field(default_factory=dict)

    def _with(self, action: str) -> list[PlannedStation]:
        return [s for s in self.stations if s.action == action]

    @property
    def added(self) -> list[PlannedStation]:
        return self._with("add")

    @property
    def changed(self) -> list[PlannedStation]:
        return self._with("change")

    @property
    def unchanged(self) -> list[PlannedStation]:
        return self._with("unchanged")

    @property
    def removed(self) -> list[PlannedStation]:
        return self._with("remove")

    @property
    def kept(self) -> list[PlannedStation]:
        return self._with("keep")

    @property
    def rejected(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.action == "rejected"]

    @property
    def problems(self) -> list[RowProblem]:
        """Every problem: the file's first, then each row's, in row order."""
        return self.file_problems + [p for r in self.rows for p in r.problems]

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.is_error]

    @property
    def file_ok(self) -> bool:
        return not any(p.is_error for p in self.file_problems)

    @property
    def can_apply(self) -> bool:
        """Whether :func:`apply_import` would write: the file is readable and no row is rejected (or
        ``skip_bad`` lets the good rows in)."""
        return self.file_ok and (not self.rejected or self.options.skip_bad)

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def digest(self) -> str:
        """16 hex digits naming exactly what would be written, and on which store version."""
        writes = [(s.action, s.station_id, s.after.to_feature() if s.after else None)
                  for s in self.stations if s.action in ("add", "change", "remove")]
        text = json.dumps([self.store_version, writes], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def counts(self) -> dict[str, int]:
        problems = self.problems
        return {"rows": len(self.rows), "added": len(self.added), "changed": len(self.changed),
                "unchanged": len(self.unchanged), "removed": len(self.removed), "kept": len(self.kept),
                "rejected": len(self.rejected), "skipped": sum(r.action == "skipped" for r in self.rows),
                "errors": sum(p.severity == "error" for p in problems),
                "warnings": sum(p.severity == "warning" for p in problems)}

    def stations_after(self, current: Iterable[Station]) -> list[Station]:
        """Every station as the store would hold it after the import (from ``current``, the store's
        stations as read for the plan): for a loader that replaces a whole store (``save_all``)."""
        by_id = {s.id: s for s in current}
        for planned in self.stations:
            if planned.action == "remove":
                by_id.pop(planned.station_id, None)
            elif planned.action in ("add", "change"):
                by_id[planned.station_id] = planned.after
        return sorted(by_id.values(), key=lambda s: s.id)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The dry-run report as JSON (for the upload page): how the file was read, counts, problems,
        every row's outcome and every station's action (with positions, for a map)."""
        return {
            "source": self.table.source, "format": self.table.format, "sheet": self.table.sheet,
            "encoding": self.table.encoding, "options": self.options.to_dict(),
            "store_version": self.store_version, "digest": self.digest, "can_apply": self.can_apply,
            "counts": self.counts(),
            "headers": [{"header": h, "field": self.header_map_field(i)} for i, h in enumerate(self.table.headers)],
            "problems": [p.to_dict(lang) for p in self.file_problems],
            "rows": [{"row": r.number, "action": r.action, "id": r.station_id,
                      "problems": [p.to_dict(lang) for p in r.problems]} for r in self.rows],
            "stations": [s.to_dict() for s in self.stations if s.action != "keep" or s.row is not None],
            "geocoding": self.geocoding,
        }

    def header_map_field(self, index: int) -> str | None:
        return next((f for f, i in self.header_map.index.items() if i == index), None)


# ---- planning ---------------------------------------------------------------------------------------

def plan_import(table: Table, store, counties, options: ImportOptions | None = None, *, geocoding=None,
                progress: Progress | None = None) -> ImportPlan:
    """The dry run of importing ``table`` into ``store`` (see the module docstring).

    ``counties``: ``stations.counties.Counties`` (positions and county names are checked against it).
    ``geocoding``: a ``GeocodingService`` for rows with an address and no position (None: such rows
    are rejected). ``progress(done, total, label)`` is called while geocoding.
    """
    options = options or ImportOptions()
    options.check()
    version = store.version  # before reading the records: a write in between makes the plan stale, not wrong
    current = store.all()
    hmap = map_headers(table.headers)
    file_problems = list(table.problems) + hmap.problems
    plan = ImportPlan(table, options, version, hmap, file_problems, [], [])
    if not all(not p.is_error for p in hmap.problems):
        plan.rows = [RowOutcome(r.number, "rejected", None) for r in table.rows]
        plan.stations = [PlannedStation("keep", s.id, None, s, s) for s in current]
        return plan
    parsed = [parse_row(r, hmap, counties, crs=options.crs, fix_swapped=options.fix_swapped) for r in table.rows]
    _Planner(plan, parsed, current, counties, geocoding, progress).run()
    return plan


class _Planner:
    def __init__(self, plan: ImportPlan, parsed: list[ParsedRow], current: list[Station], counties, geocoding,
                 progress: Progress | None):
        self.plan, self.parsed, self.counties = plan, [p for p in parsed], counties
        self.options, self.hmap = plan.options, plan.header_map
        self.geocoding, self.progress = geocoding, progress
        self.existing = {s.id: s for s in current}
        self.by_key: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for s in current:
            self.by_key[(s.name, s.county_code)].append(s.id)
            self.by_name[s.name].append(s.id)
        self.targets: dict[int, Station | None] = {}  # row number -> the station it names (None: new)
        self.claims: dict[str, list[ParsedRow]] = defaultdict(list)  # station id -> the rows naming it
        self.ids: dict[int, str] = {}  # row number -> the id its station has or gets

    def problem(self, row: ParsedRow, code: str, name: str | None, value: Any, severity: str = "error",
                **params: Any) -> None:
        row.problems.append(RowProblem(code, severity, row.number, self.hmap.column_of(name), name, value, params))

    # -- steps ------------------------------------------------------------------------------------
    def run(self) -> None:
        rows = [r for r in self.parsed if not r.example]
        self.check_duplicates(rows)
        for row in rows:
            self.match(row)
        self.check_claims()
        self.geocode([r for r in rows if r.ok and self.wants_geocoding(r)])
        for row in rows:
            if row.ok and row.lon is None and self.targets.get(row.number) is None:
                self.problem(row, "no_position", "address" if row.address else None, row.address)
        self.assign_ids([r for r in rows if r.ok])
        self.build(rows)

    def check_duplicates(self, rows: list[ParsedRow]) -> None:
        by_id: dict[str, list[ParsedRow]] = defaultdict(list)
        by_key: dict[tuple, list[ParsedRow]] = defaultdict(list)
        for row in rows:
            sid = row.values.get("id")
            if sid:
                by_id[sid].append(row)
            elif row.values.get("name"):
                by_key[(row.values["name"], row.county_given or row.county_found)].append(row)
        for sid, same in by_id.items():
            if len(same) > 1:
                numbers = "、".join(str(r.number) for r in same)
                for row in same:
                    self.problem(row, "duplicate_id", "id", sid, rows=numbers)
        for (name, county), same in by_key.items():
            if len(same) > 1:
                numbers = "、".join(str(r.number) for r in same)
                for row in same:
                    self.problem(row, "duplicate_key", "name", f"{name} {county or ''}".strip(), rows=numbers)

    def match(self, row: ParsedRow) -> None:
        """Which stored station a row names (``self.targets``), by id or by name + county."""
        sid, name = row.values.get("id"), row.values.get("name")
        target = None
        if sid:
            target = self.existing.get(sid)
        elif name:
            county = row.county_given or row.county_found
            found = self.by_key.get((name, county), []) if county else self.by_name.get(name, [])
            if len(found) > 1:
                self.problem(row, "ambiguous_match", "name", f"{name} {county or ''}".strip(), ids="、".join(found))
                return
            target = self.existing[found[0]] if found else None
        self.targets[row.number] = target
        if target is not None:
            self.claims[target.id].append(row)

    def check_claims(self) -> None:
        """A station named by two rows (one by its id, one by name + county): both are rejected."""
        for sid, rows in self.claims.items():
            if len(rows) > 1:
                numbers = "、".join(str(r.number) for r in rows)
                for row in rows:
                    if not any(p.code == "duplicate_id" for p in row.problems):
                        self.problem(row, "duplicate_id", "name", sid, rows=numbers)

    def wants_geocoding(self, row: ParsedRow) -> bool:
        if not row.needs_geocoding:
            return False
        target = self.targets.get(row.number)
        return target is None or (target.address or "") != (row.address or "")

    def query_of(self, row: ParsedRow) -> str:
        address = row.address or ""
        county = self.counties.name(row.county_given) if row.county_given and self.counties is not None else ""
        prefix = ""
        if county and county not in address:
            prefix = county
        region = self.options.region or ""
        if region and region not in address:
            prefix = region + prefix
        return prefix + address

    def geocode(self, rows: list[ParsedRow]) -> None:
        stats = {"provider": getattr(self.geocoding, "provider", None), "rows": len(rows), "found": 0,
                 "asked": 0, "cached": 0}
        self.plan.geocoding = stats
        if not rows:
            return
        if self.geocoding is None:
            for row in rows:
                self.problem(row, "geocoding_off", "address", row.address)
            return
        from ..geocoding import GeocodingFailed  # only when geocoding

        provider = self.geocoding.provider
        asked_before, cached_before = self.geocoding.asked, self.geocoding.cached
        stopped: str | None = None
        failures = 0
        for done, row in enumerate(rows, start=1):
            if stopped is not None:
                self.problem(row, "geocode_stopped", "address", row.address, provider=provider, reason=stopped)
                continue
            try:
                result = self.geocoding.geocode(self.query_of(row), city=self.options.region)
                failures = 0
            except GeocodingFailed as exc:
                failures += 1
                self.problem(row, "geocode_failed", "address", row.address, provider=provider, reason=exc.reason)
                if exc.fatal or failures >= GEOCODE_MAX_FAILURES:
                    stopped = exc.reason
                continue
            finally:
                if self.progress is not None:
                    self.progress(done, len(rows), row.address or "")
            self.take_geocode(row, result, provider)
        stats.update(asked=self.geocoding.asked - asked_before, cached=self.geocoding.cached - cached_before,
                     found=sum(any(p.code == "geocoded" for p in r.problems) for r in rows), stopped=stopped)

    def take_geocode(self, row: ParsedRow, result, provider: str) -> None:
        if result is None:
            self.problem(row, "not_geocoded", "address", row.address, provider=provider)
            return
        level = result.level or result.precision
        if result.precision not in self.options.accept_precision:
            self.problem(row, "geocode_imprecise", "address", row.address, provider=provider, level=level)
            return
        found = self.counties.locate(result.lon, result.lat) if self.counties is not None else None
        wanted = row.county_given
        if self.counties is not None and (found is None or (wanted and found != wanted)):
            county = self.counties.name(wanted) if wanted else "、".join(self.counties.name(c)
                                                                         for c in self.counties.codes)
            self.problem(row, "geocode_outside", "address", row.address, provider=provider, lon=result.lon,
                         lat=result.lat, county=county)
            return
        row.lon, row.lat, row.county_found = result.lon, result.lat, found
        self.problem(row, "geocoded", "address", row.address, "info", provider=provider, level=level)

    def assign_ids(self, rows: list[ParsedRow]) -> None:
        """Ids of the rows' stations: the matched station's, the row's own, else the next of its kind
        (``records.next_id`` over the stored ids and the file's, as the store would number them)."""
        taken = set(self.existing) | {r.values["id"] for r in self.parsed if r.values.get("id")}
        first = min(self.existing, default=None)
        last: dict[str, str] = {}  # prefix -> the last id given (each next one counts from it)
        for row in rows:
            target = self.targets.get(row.number)
            if target is not None:
                self.ids[row.number] = target.id
            elif row.values.get("id"):
                self.ids[row.number] = row.values["id"]
            else:
                kind = row.values.get("kind") or self.options.default_kind
                prefix = id_prefix(kind, first)
                if prefix not in last:
                    last[prefix] = next_id(prefix, [t for t in taken if t.startswith(prefix)])
                else:
                    last[prefix] = next_id(prefix, [last[prefix]])
                self.ids[row.number] = last[prefix]

    def feature_of(self, row: ParsedRow, target: Station | None) -> dict[str, Any] | None:
        values = {k: v for k, v in row.values.items() if k in PROPERTY_ORDER and k != "id"}
        if target is not None:
            changes = {k: v for k, v in values.items() if v is not None or k not in ("name", "kind", "status")}
            for key, value in list(changes.items()):  # cells are read stripped: "古槐路驿站 " stored stays as is
                stored = getattr(target, key, None)
                if isinstance(value, str) and isinstance(stored, str) and stored != value and stored.strip() == value:
                    del changes[key]
            if row.lon is not None:
                changes["lon"], changes["lat"] = row.lon, row.lat  # a move derives the county again
            return apply_changes(target, changes)
        if row.lon is None:
            return None
        props = {k: v for k, v in values.items() if v is not None}
        props["id"] = self.ids[row.number]
        props.setdefault("kind", self.options.default_kind)
        props.setdefault("status", "open")
        if props["kind"] is None:
            self.problem(row, "required", "kind", None)
            return None
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": props}

    def validate_all(self, rows: list[ParsedRow]) -> dict[int, Station]:
        """Each good row's record as the store would hold it, validated as the store validates (all
        at once; row by row only to say which rows are refused, when some are)."""
        features = {row.number: self.feature_of(row, self.targets.get(row.number)) for row in rows}
        features = {n: f for n, f in features.items() if f is not None}
        stations, problems = validate_features(list(features.values()), self.counties)
        if not problems:
            return {n: Station.from_feature(s.to_feature()) for n, s in zip(features, stations)}  # rounded
        checked = {}
        by_number = {row.number: row for row in rows}
        for number, feature in features.items():
            try:
                checked[number] = validated(feature, self.counties)
            except InvalidRecord as exc:
                for p in exc.problems:
                    self.problem(by_number[number], "invalid", p.field, p.value, reason=f"{p.field}: {p.allowed}")
        return checked

    def allowed(self, target: Station | None, after: Station, row: ParsedRow) -> bool:
        """Whether the row's station is in the counties this import may change (else a problem)."""
        allowed = self.options.allowed_counties
        if allowed is None:
            return True
        outside = [c for c in dict.fromkeys([target.county_code if target else None, after.county_code])
                   if c is not None and c not in allowed] or ([] if after.county_code else ["-"])
        if not outside:
            return True
        name = self.counties.name if self.counties is not None else str
        self.problem(row, "county_not_allowed", "county", after.county_code,
                     county="、".join(name(c) if c != "-" else c for c in outside),
                     allowed="、".join(name(c) for c in allowed))
        return False

    def build(self, rows: list[ParsedRow]) -> None:
        plan = self.plan
        claimed: dict[str, int] = {}  # station id -> the row that decides it
        checked = self.validate_all([r for r in self.parsed if not r.example and r.ok])
        for row in self.parsed:
            if row.example:
                plan.rows.append(RowOutcome(row.number, "skipped", None, row.problems))
                continue
            target = self.targets.get(row.number)
            after = checked.get(row.number) if row.ok else None
            if after is not None and not self.allowed(target, after, row):
                after = None
            sid = self.ids.get(row.number) or (target.id if target is not None else row.values.get("id"))
            if after is None or not row.ok:
                if target is not None:
                    self.problem(row, "kept_rejected", None, target.id, "info")
                    if target.id not in claimed:
                        plan.stations.append(PlannedStation("keep", target.id, row.number, target, target))
                        claimed[target.id] = row.number
                plan.rows.append(RowOutcome(row.number, "rejected", sid, row.problems))
                continue
            claimed[after.id] = row.number
            if target is None:
                plan.stations.append(PlannedStation("add", after.id, row.number, None, after))
                plan.rows.append(RowOutcome(row.number, "add", after.id, row.problems))
                continue
            fields = changed_fields(target.to_feature(), after.to_feature())
            action = "change" if fields else "unchanged"
            plan.stations.append(PlannedStation(action, after.id, row.number, target, after, fields))
            plan.rows.append(RowOutcome(row.number, action, after.id, row.problems))
        allowed = self.options.allowed_counties
        for sid, station in self.existing.items():
            if sid in claimed:
                continue
            mine = allowed is None or station.county_code in allowed
            action = "remove" if self.options.mode == "replace" and mine else "keep"
            plan.stations.append(PlannedStation(action, sid, None, station, None if action == "remove" else station))
        plan.stations.sort(key=lambda s: (ACTIONS.index(s.action), s.station_id))
