"""County-level divisions of a city: outlines (WGS-84), names, areas, populations, lookup.

Reads ``geodata/counties.geojson`` (built by :mod:`stations.geodata`): a FeatureCollection
whose features carry ``adcode`` (6-digit string), ``name``, ``area_km2`` and ``population``.
"""
from __future__ import annotations

import json
import logging
import math
import pickle
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient

from . import countycache
from .errors import NotFound, Problem, ValidationError

log = logging.getLogger(__name__)

__all__ = ["Counties", "geodesic_area_km2"]

_GEOD = Geod(ellps="WGS84")


def geodesic_area_km2(geom) -> float:
    """Area of a (multi)polygon on the WGS-84 ellipsoid, in km².

    Parameters
    ----------
    geom : shapely.Polygon or shapely.MultiPolygon (or a collection holding them)
        Lon/lat degrees, WGS-84. Ring orientation does not matter; holes are subtracted.

    Returns
    -------
    float
        Geodesic area in square kilometres (pyproj.Geod, WGS84 ellipsoid).
    """
    polygons = shapely.get_parts(geom)
    total_m2 = 0.0
    for part in polygons:
        if part.geom_type == "Polygon" and not part.is_empty:
            # exterior counter-clockwise, holes clockwise: what Geod expects for a signed sum
            area_m2, _ = _GEOD.geometry_area_perimeter(orient(part, sign=1.0))
            total_m2 += area_m2
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            total_m2 += geodesic_area_km2(part) * 1e6
    return abs(total_m2) / 1e6


def _problem(record: str, field: str, value: Any, allowed: str) -> ValidationError:
    return ValidationError(Problem(record, field, value, allowed))


def _fresh_copies(records: list[dict]) -> list[dict]:
    """``records`` with their names, codes and figures copied anew, the geometries as they are.

    They came out of the parsed file, where each sits among millions of coordinate lists and floats
    that are freed once the counties are built. Kept as they are, each would keep its 256 KB arena of
    Python's small-object allocator, and all the memory in it, for as long as the counties live (the
    country's 95 MB file: ~650 MB per process that loads it); copies made together fill a few arenas.
    """
    values = pickle.loads(pickle.dumps([{k: v for k, v in r.items() if k != "geometry"} for r in records]))
    return [{**copied, "geometry": r["geometry"]} for copied, r in zip(values, records)]


def _read_bytes(path: Path) -> bytes:
    where = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _problem(where, "file", where, "an existing counties GeoJSON file") from None
    except OSError as exc:
        raise _problem(where, "file", where, f"a readable file ({exc.strerror})") from exc


def _read_features(path: Path, raw: bytes) -> list[dict]:
    """Check the FeatureCollection read from ``path``; every problem names the file and field."""
    where = str(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(where, "encoding", f"byte {exc.start}",
                       "UTF-8 text, but the file is not UTF-8 (perhaps GBK): convert it to UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(where, "json", f"line {exc.lineno} column {exc.colno}: {exc.msg}",
                       "valid JSON (a GeoJSON FeatureCollection)") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise _problem(where, "type", got, "'FeatureCollection'")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise _problem(where, "features", features, "a non-empty list of county features")
    return features


class Counties:
    """The county-level divisions of one city, with a fast point lookup.

    Build with :meth:`load` (from a file) or :meth:`from_geojson` (from a dict).
    All geometries are shapely (Multi)Polygons in WGS-84 lon/lat degrees.
    """

    def __init__(self, records: Iterable[dict]):
        rows = sorted(records, key=lambda r: r["adcode"])
        self._rows = {r["adcode"]: r for r in rows}
        self.codes: list[str] = [r["adcode"] for r in rows]
        self._geoms = np.array([r["geometry"] for r in rows], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._union = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def load(cls, path) -> "Counties":
        """Read a counties GeoJSON file.

        Raises
        ------
        stations.errors.ValidationError
            If the file is missing, is not JSON, or a feature lacks a valid adcode or geometry;
            the problem names the file and the field.
        """
        path = Path(path)
        raw = _read_bytes(path)
        digest = countycache.file_digest(raw)  # a large file: its outlines are kept beside it in WKB
        records = countycache.read(path, digest) if digest else None
        if records is not None:
            return cls(records)
        counties = cls.from_geojson({"type": "FeatureCollection", "features": _read_features(path, raw)},
                                    source=str(path))
        if digest:
            countycache.write(path, digest, list(counties._rows.values()))
        return counties

    @classmethod
    def from_geojson(cls, data: dict, source: str = "<geojson>") -> "Counties":
        """Build from a GeoJSON FeatureCollection dict (positions WGS-84 lon/lat)."""
        problems: list[Problem] = []
        records: list[dict] = []
        seen: set[str] = set()
        for i, feat in enumerate(data.get("features") or []):
            props = (feat or {}).get("properties") or {}
            record = f"{source} feature {i}"
            code = props.get("adcode")
            if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
                problems.append(Problem(record, "properties.adcode", code, "a 6-digit adcode string"))
                continue
            record = f"{source} feature {i} ({code})"
            if code in seen:
                problems.append(Problem(record, "properties.adcode", code, "a unique adcode"))
                continue
            try:
                geom = shape(feat["geometry"])
            except Exception as exc:  # shapely raises several types for bad GeoJSON
                problems.append(Problem(record, "geometry", str(exc), "a GeoJSON (Multi)Polygon"))
                continue
            if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
                problems.append(Problem(record, "geometry", geom.geom_type, "a GeoJSON (Multi)Polygon"))
                continue
            seen.add(code)
            records.append({
                "adcode": code,
                "name": props.get("name") or code,
                "area_km2": props.get("area_km2"),
                "population": props.get("population"),
                "geometry": geom,
            })
        if not records and not problems:
            problems.append(Problem(source, "features", [], "at least one county feature"))
        if problems:
            raise ValidationError(problems)
        return cls(_fresh_copies(records))

    # -- attributes ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self._rows

    def __repr__(self) -> str:
        return f"Counties({len(self)} counties: {', '.join(self.codes)})"

    def _row(self, code: str) -> dict:
        try:
            return self._rows[code]
        except KeyError:
            raise NotFound(f"unknown county code {code!r}; known: {', '.join(self.codes)}") from None

    def name(self, code: str) -> str:
        """Chinese name of the county with this adcode (NotFound if unknown)."""
        return self._row(code)["name"]

    def geometry(self, code: str):
        """Outline of the county (shapely, WGS-84 lon/lat degrees)."""
        return self._row(code)["geometry"]

    def population(self, code: str) -> int | None:
        """Resident population (persons), or None where unknown."""
        return self._row(code)["population"]

    def area_km2(self, code: str) -> float:
        """Geodesic area in km² (stored value, else computed from the outline)."""
        row = self._row(code)
        if row["area_km2"] is None:
            row["area_km2"] = round(geodesic_area_km2(row["geometry"]), 1)
        return row["area_km2"]

    def union(self):
        """Outline of the whole city: the union of all counties (shapely, WGS-84)."""
        if self._union is None:
            self._union = shapely.union_all(self._geoms)
        return self._union

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of all counties, degrees WGS-84."""
        b = shapely.total_bounds(self._geoms)
        return tuple(float(v) for v in b)

    # -- lookup -------------------------------------------------------------------------
    def locate(self, lon: float, lat: float) -> str | None:
        """Adcode of the county containing a WGS-84 position, or None outside every county.

        A point exactly on a shared border goes to the lower adcode.
        """
        lon, lat = float(lon), float(lat)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        candidates = self._tree.query(shapely.Point(lon, lat))  # bounding boxes only
        for idx in sorted(candidates):
            if shapely.intersects_xy(self._geoms[idx], lon, lat):
                return self.codes[idx]
        return None

    def locate_many(self, lons, lats) -> list[str | None]:
        """Vectorised :meth:`locate` for arrays of WGS-84 lon/lat degrees."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        if lons.shape != lats.shape:
            raise ValueError(f"lons and lats differ in length: {lons.size} and {lats.size}")
        found = np.full(lons.size, len(self.codes), dtype=np.int64)
        ok = np.isfinite(lons) & np.isfinite(lats)
        if ok.any():
            points = shapely.points(lons[ok], lats[ok])
            in_idx, tree_idx = self._tree.query(points)  # bounding-box candidates
            hit = shapely.intersects_xy(self._geoms[tree_idx], lons[ok][in_idx], lats[ok][in_idx])
            rows = np.flatnonzero(ok)[in_idx[hit]]
            np.minimum.at(found, rows, tree_idx[hit])  # lowest adcode wins on borders
        return [self.codes[i] if i < len(self.codes) else None for i in found]

    def select(self, adcode: str | None = None, name: str | None = None,
               bbox: tuple[float, float, float, float] | None = None) -> list[str]:
        """Adcodes, in order, of the counties with this ``adcode``, this exact ``name``, and whose outline
        intersects ``bbox`` (minlon, minlat, maxlon, maxlat; WGS-84 degrees, edges included): each
        filter given must hold."""
        codes = list(self.codes)
        if adcode is not None:
            codes = [c for c in codes if c == adcode]
        if name is not None:
            codes = [c for c in codes if self._rows[c]["name"] == name]
        if bbox is not None and codes:
            box = shapely.box(*bbox)
            codes = [c for c in codes if shapely.intersects(self._rows[c]["geometry"], box)]
        return codes

    # -- output -------------------------------------------------------------------------
    def to_feature(self, code: str) -> dict:
        """One county as a GeoJSON Feature (WGS-84): adcode, name, area_km2, population; NotFound if unknown."""
        row = self._row(code)
        return {
            "type": "Feature",
            "properties": {
                "adcode": code,
                "name": row["name"],
                "area_km2": self.area_km2(code),
                "population": row["population"],
            },
            "geometry": mapping(row["geometry"]),
        }

    def to_geojson(self) -> dict:
        """FeatureCollection (WGS-84) with adcode, name, area_km2 and population per county."""
        return {"type": "FeatureCollection", "features": [self.to_feature(code) for code in self.codes]}
