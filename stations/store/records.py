"""Records on their way into any store: validation, id assignment, changes, versions, GeoJSON form.

Backend-agnostic: the file store and a database store call these, so that both accept, refuse,
number and version records alike. Positions are WGS-84 (lon, lat) degrees, stored rounded to
``COORD_DECIMALS``.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterable, Mapping

from ..errors import InvalidRecord, Problem, StaleVersion, ValidationError, quote_value
from ..model import COORD_DECIMALS, KINDS, PROPERTY_ORDER, Station
from ..validate import check_counties, check_feature_shape, check_properties, record_label

#: the first part of an assigned id when the store is empty (``JN-RS-0001``: Jining)
DEFAULT_CITY = "JN"
#: the change keys that move a station
POSITION_KEYS = ("geometry", "lon", "lat")


def record_version(station: Station) -> str:
    """The version of one record: 16 hex digits of the SHA-256 of its canonical JSON.

    The canonical JSON is the record's GeoJSON Feature (``Station.to_feature()``: WGS-84 lon/lat
    rounded to ``COORD_DECIMALS``, properties without nulls) dumped with sorted keys, no spaces,
    non-ASCII text as is, encoded as UTF-8. It depends on the record's content only, not on the file
    or the backend, so every backend computes the same value. Quoted, it serves as an HTTP ETag.
    """
    return feature_version(station.to_feature())


def feature_version(feature: Mapping[str, Any]) -> str:
    """:func:`record_version` of a record already in its ``to_feature()`` form (e.g. a journal's)."""
    canonical = json.dumps(feature, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def check_record_version(current: Station, expected: str | None) -> None:
    """:class:`StaleVersion` unless ``current`` is still at the ``expected`` version (None: no check)."""
    if expected is None:
        return
    now = record_version(current)
    if now != expected:
        raise StaleVersion(f"station {current.id} was changed by someone else since it was read "
                           f"(version {quote_value(expected)}, now {now}); nothing was saved: "
                           f"reload it, redo the change and save again",
                           record_id=current.id, expected=expected, current_version=now, current=current)


def validate_features(features: Any, counties=None) -> tuple[list[Station], list[Problem]]:
    """Validate a list of features; return the stations and every problem found.

    A station without ``county_code`` gets the county its point falls in (when ``counties`` is
    given); a given one must match it. Ids must be unique within ``features``.
    """
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
            good.append((feature, pos))
    problems.extend(check_counties(placed, counties))
    if problems:
        return [], problems
    codes = counties.locate_many([p[0] for _, p in good], [p[1] for _, p in good]) if counties else None
    stations = []
    for i, (feature, _) in enumerate(good):
        station = Station.from_feature(feature)
        if codes is not None and station.county_code is None:
            station = _replace(station, county_code=codes[i])
        stations.append(station)
    return stations, []


def validated(feature: Mapping[str, Any], counties=None) -> Station:
    """One record, validated, in its stored form (position rounded); :class:`InvalidRecord` listing
    every problem otherwise."""
    stations, problems = validate_features([feature], counties)
    if problems:
        raise InvalidRecord(problems)
    return Station.from_feature(stations[0].to_feature())  # as stored: lon/lat rounded


def _replace(station: Station, **changes: Any) -> Station:
    from dataclasses import replace
    return replace(station, **changes)


def as_feature(item: Station | Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a record as a GeoJSON Feature dict (the caller's object is never changed)."""
    if isinstance(item, Station):
        return item.to_feature()
    if not isinstance(item, Mapping):
        raise InvalidRecord(Problem("record", "(record)", type(item).__name__, "a GeoJSON Feature"))
    try:
        feature = json.loads(json.dumps(item))
    except (TypeError, ValueError) as exc:
        raise InvalidRecord(Problem(record_label(item), "(record)", str(exc), "JSON values only")) from None
    if not isinstance(feature.get("properties"), dict):
        feature["properties"] = feature.get("properties") or {}
    return feature


def apply_changes(before: Station, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The Feature of ``before`` with ``changes`` applied (not yet validated).

    ``changes`` maps property names to new values (``None`` removes an optional property) and may
    move the point by ``geometry`` (a GeoJSON Point, WGS-84) or by ``lon``/``lat`` (degrees), not
    both. A move drops ``county_code`` so that validation derives it from the new position, unless
    the changes set ``county_code`` too: then validation checks it against the position. Likewise
    a change of ``status`` drops ``status_reason`` and ``reopens_on``, which belong to the status they
    explain, unless the changes set them too (reopening a station clears "closed for repairs, reopens
    on 12-01"). The id cannot change.
    """
    if not isinstance(changes, Mapping):
        raise ValidationError(Problem(before.id, "(changes)", type(changes).__name__,
                                      "a mapping of field names to new values"))
    changes = dict(changes)
    feature = before.to_feature()
    props = feature["properties"]
    if "geometry" in changes and ("lon" in changes or "lat" in changes):
        raise InvalidRecord(Problem(before.id, "geometry", changes["geometry"],
                                    "a new position as geometry or as lon/lat, not both"))
    if "geometry" in changes:
        feature["geometry"] = changes.pop("geometry")
    elif "lon" in changes or "lat" in changes:
        lon = changes.pop("lon", before.lon)
        lat = changes.pop("lat", before.lat)
        feature["geometry"] = {"type": "Point", "coordinates": [lon, lat]}  # GeoJSON order is (lon, lat)
    if _moved(before, feature["geometry"]) and "county_code" not in changes:
        props.pop("county_code", None)  # derived again from the new position
    if changes.get("id", before.id) != before.id:
        raise InvalidRecord(Problem(before.id, "id", changes["id"], "ids are stable and cannot change"))
    if changes.get("status", before.status) != before.status:
        for key in STATUS_DETAILS:
            if key not in changes:
                props.pop(key, None)  # they explained the status that is changing
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return feature


#: the properties that explain a station's status: a change of status drops them unless it sets them
STATUS_DETAILS = ("status_reason", "reopens_on")


def _moved(before: Station, geometry: Any) -> bool:
    """Whether ``geometry`` is another position than ``before``'s (anything malformed counts as moved)."""
    try:
        lon, lat = geometry["coordinates"][:2]
        return before.to_feature()["geometry"]["coordinates"] != [round(lon, COORD_DECIMALS),
                                                                 round(lat, COORD_DECIMALS)]
    except (TypeError, KeyError, IndexError, ValueError):
        return True


def field_value(feature: Mapping[str, Any] | None, field: str) -> Any:
    """A field of a record Feature: ``geometry`` is the geometry, any other name a property."""
    if feature is None:
        return None
    if field == "geometry":
        return feature.get("geometry")
    return (feature.get("properties") or {}).get(field)


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Names of the fields that differ between two record Features (either may be None).

    ``geometry`` first, then properties in the stored order (``PROPERTY_ORDER``).
    """
    names = set((before or {}).get("properties") or {}) | set((after or {}).get("properties") or {})
    ordered = ["geometry"] + [k for k in PROPERTY_ORDER if k in names] + sorted(names - set(PROPERTY_ORDER))
    return tuple(f for f in ordered if field_value(before, f) != field_value(after, f))


def id_prefix(kind: Any, first_id: str | None) -> str:
    """The prefix of a new id: the city part of the store's ids (``JN``) and the kind's (``RS``)."""
    city = first_id.split("-")[0] if first_id else DEFAULT_CITY
    kind_part = KINDS.get(kind, {}).get("prefix", "XX") if isinstance(kind, str) else "XX"
    return f"{city}-{kind_part}-"


def next_id(prefix: str, taken: Iterable[str]) -> str:
    """``prefix`` and one more than the highest number among the ``taken`` ids (4 digits at least)."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
    numbers = [int(m.group(1)) for sid in taken if (m := pattern.fullmatch(sid))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def to_feature_collection(stations: Iterable[Station], **members: Any) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of the stations, sorted by id."""
    features = [s.to_feature() for s in sorted(stations, key=lambda s: s.id)]
    return {"type": "FeatureCollection", **members, "features": features}


def dumps(collection: Mapping[str, Any]) -> str:
    """Stable, pretty text: one property per line so that a change is a small diff."""
    return json.dumps(collection, ensure_ascii=False, indent=2) + "\n"
