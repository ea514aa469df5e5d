"""Demand layers (and planner-supplied candidate sites): weighted points read from GIS files or CSV.

A demand layer says where outdoor workers are: sanitation depots, delivery hubs, construction
sites, each with a weight (workers, shifts, or any other non-negative figure). Positions are
WGS-84 lon/lat degrees unless the reader is told otherwise (``crs="gcj02"`` for AMap exports,
``"bd09"`` for Baidu's) or the file names its own coordinate reference system (GeoPackage,
Shapefile), in which case they are converted to WGS-84 on reading.

Accepted inputs
---------------
GeoJSON
    A FeatureCollection of Point features with a numeric ``weight`` property (name configurable).
    Problems name the feature as ``features[i]`` (0-based, as in the JSON array) and its ``id``.
CSV
    UTF-8 (an Excel BOM is fine), comma-separated, a header row naming the columns
    ``lon``, ``lat`` and ``weight`` (case-insensitive; ``lng``/``longitude``/``经度``,
    ``latitude``/``纬度`` and ``权重`` are accepted too). Problems name the row as a spreadsheet
    does: the header is row 1, the first data row is row 2.
GeoPackage, Shapefile
    ``.gpkg``, ``.shp`` (with its ``.shx``, ``.dbf``, ``.prj`` beside it) or a zipped Shapefile
    ``.zip``, read with geopandas (pyogrio, GDAL): one layer of Point features (a MultiPoint of one
    point counts as that point) with a numeric ``weight`` field. The layer's coordinate reference
    system is honoured: a projected layer (say UTM 50N, EPSG:32650) or CGCS2000 (EPSG:4490) is
    reprojected to WGS-84. A layer without one (a Shapefile without ``.prj``) is read as WGS-84
    only when every coordinate looks like degrees; otherwise it is refused. Problems name the
    feature by its ``fid``, as QGIS's attribute table does.

Bad rows are never dropped silently: without ``strict`` they are skipped and each one is listed in
:attr:`PointLayer.skipped` (record, field, value, what is allowed); with ``strict=True`` the reader
raises :class:`stations.errors.ValidationError` listing every problem at once. A file that cannot be
read at all, lacks a required column, or has no usable row raises in either mode.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .coords import convert
from .errors import Problem, ValidationError

log = logging.getLogger(__name__)

__all__ = ["PointLayer", "load_demand", "load_candidates", "read_points", "as_point_layer"]

_ALIASES = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "weight": ("weight", "w", "权重"),
}
_LON_ALLOWED = "a number of degrees from -180 to 180 (WGS-84 longitude)"
_LAT_ALLOWED = "a number of degrees from -90 to 90 (WGS-84 latitude)"
_WEIGHT_ALLOWED = "a finite number >= 0"
#: Suffixes read through geopandas (any vector format GDAL reads could be; these are the tested ones).
_GIS_SUFFIXES = (".gpkg", ".shp", ".zip")
_GIS_ALLOWED = "a GeoPackage (.gpkg), a Shapefile (.shp) or a zipped Shapefile (.zip) with one point layer"


@dataclass
class PointLayer:
    """Weighted points in WGS-84 with a report of what was read and what was skipped.

    Attributes
    ----------
    lons, lats : numpy.ndarray of float
        WGS-84 degrees, one entry per accepted row.
    weights : numpy.ndarray of float
        Non-negative weights (1.0 each where the layer has no weights, e.g. candidate sites).
    source : str
        File name (or ``"<memory>"``).
    rows_read : int
        Data rows (CSV) or features (GeoJSON, GeoPackage, Shapefile) seen, accepted or not.
    skipped : list of Problem
        One entry per problem of a skipped row; a row with two bad fields appears twice.
    """

    lons: np.ndarray
    lats: np.ndarray
    weights: np.ndarray
    source: str = "<memory>"
    rows_read: int = 0
    skipped: list[Problem] = field(default_factory=list)

    @classmethod
    def from_points(cls, lons, lats, weights=None, source: str = "<memory>") -> "PointLayer":
        """Build from arrays of WGS-84 lon/lat degrees (and optional weights, default 1)."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        w = np.ones_like(lons) if weights is None else np.asarray(weights, dtype=float).ravel()
        if not (lons.shape == lats.shape == w.shape):
            raise ValueError(f"lons, lats and weights differ in length: {lons.size}, {lats.size}, {w.size}")
        bad = ~(np.isfinite(lons) & np.isfinite(lats) & np.isfinite(w)) | (w < 0)
        bad |= (np.abs(lons) > 180) | (np.abs(lats) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"point {i} is not usable: lon={lons[i]!r}, lat={lats[i]!r}, weight={w[i]!r}")
        return cls(lons, lats, w, source=source, rows_read=lons.size)

    def __len__(self) -> int:
        return int(self.lons.size)

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    def report(self) -> dict[str, Any]:
        """What was read: source, rows read, points kept, total weight and every skipped row."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "points": len(self),
            "total_weight": self.total_weight,
            "skipped_rows": len({p.record for p in self.skipped}),
            "skipped": [p.to_dict() for p in self.skipped],
        }


def _number(text: Any) -> float | None:
    """A finite float from a JSON number or a CSV cell, else None (bools and 'nan' are refused)."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        try:
            value = float(str(text).strip())
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def _check_row(record: str, lon_raw: Any, lat_raw: Any, weight_raw: Any, need_weight: bool,
               lon_field: str, lat_field: str, weight_field: str) -> tuple[list[Problem], tuple | None]:
    problems = []
    lon, lat = _number(lon_raw), _number(lat_raw)
    if lon is None or not -180 <= lon <= 180:
        problems.append(Problem(record, lon_field, lon_raw, _LON_ALLOWED))
    if lat is None or not -90 <= lat <= 90:
        hint = ""
        if lat is not None and lon is not None and abs(lon) <= 90 < abs(lat) <= 180:
            hint = "; longitude and latitude look swapped"
        problems.append(Problem(record, lat_field, lat_raw, _LAT_ALLOWED + hint))
    weight = 1.0
    if need_weight:
        weight = _number(weight_raw)
        if weight is None or weight < 0:
            problems.append(Problem(record, weight_field, weight_raw, _WEIGHT_ALLOWED))
    return problems, (None if problems else (lon, lat, weight))


def _finish(rows: list[tuple], problems: list[Problem], source: str, rows_read: int, strict: bool,
            crs: str) -> PointLayer:
    if problems and strict:
        raise ValidationError(problems)
    if not rows:
        raise ValidationError(problems or [Problem(source, "rows", 0, "at least one usable point")])
    arr = np.asarray(rows, dtype=float)
    lons, lats = arr[:, 0], arr[:, 1]
    if crs.lower().replace("-", "").replace("_", "") != "wgs84":
        lons, lats = convert(lons, lats, crs, "wgs84")
    if problems:
        log.warning("%s: skipped %d of %d rows with problems", source,
                    len({p.record for p in problems}), rows_read)
    return PointLayer(np.asarray(lons, float), np.asarray(lats, float), arr[:, 2], source=source,
                      rows_read=rows_read, skipped=problems)


def _find_column(header: list[str], key: str, preferred: str | None) -> int | None:
    names = [h.strip().lower() for h in header]
    wanted = (preferred.lower(),) if preferred else _ALIASES[key]
    for alias in wanted:
        if alias in names:
            return names.index(alias)
    return None


def _read_csv(text: str, source: str, need_weight: bool, weight_field: str, strict: bool,
              crs: str) -> PointLayer:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationError(Problem(source, "header", None, "a header row naming lon, lat, weight"))
    cols = {"lon": _find_column(header, "lon", None), "lat": _find_column(header, "lat", None)}
    if need_weight:
        preferred = None if weight_field == "weight" else weight_field
        cols["weight"] = _find_column(header, "weight", preferred)
    missing = [k if k != "weight" else weight_field for k, v in cols.items() if v is None]
    if missing:
        raise ValidationError([Problem(f"{source} row 1", "header", header,
                                       f"a column named {m!r}") for m in missing])
    rows, problems, rows_read = [], [], 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a row
        rows_read += 1
        record = f"{source} row {reader.line_num}"

        def cell(key: str) -> Any:
            i = cols.get(key)
            return cells[i] if i is not None and i < len(cells) else None

        row_problems, row = _check_row(record, cell("lon"), cell("lat"), cell("weight"), need_weight,
                                       header[cols["lon"]].strip(), header[cols["lat"]].strip(),
                                       header[cols["weight"]].strip() if need_weight else weight_field)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    return _finish(rows, problems, source, rows_read, strict, crs)


def _read_geojson(data: Any, source: str, need_weight: bool, weight_field: str, strict: bool,
                  crs: str) -> PointLayer:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise ValidationError(Problem(source, "type", got, "'FeatureCollection'"))
    features = data.get("features")
    if not isinstance(features, list):
        raise ValidationError(Problem(source, "features", features, "a list of Point features"))
    rows, problems = [], []
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = props if isinstance(props, dict) else {}
        fid = (feat.get("id") if isinstance(feat, dict) else None) or props.get("id")
        record = f"{source} features[{i}]" + (f" (id {fid})" if fid is not None else "")
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            got = geom.get("type") if isinstance(geom, dict) else geom
            problems.append(Problem(record, "geometry.type", got, "'Point'"))
            continue
        coords = geom.get("coordinates")
        if not isinstance(coords, (list, tuple)) or len(coords) < 2:
            problems.append(Problem(record, "geometry.coordinates", coords, "[lon, lat]"))
            continue
        # GeoJSON order is (lon, lat)
        row_problems, row = _check_row(record, coords[0], coords[1], props.get(weight_field), need_weight,
                                       "geometry.coordinates[0]", "geometry.coordinates[1]",
                                       f"properties.{weight_field}")
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    return _finish(rows, problems, source, len(features), strict, crs)


def _plain(value: Any) -> Any:
    """A cell as JSON can carry it: a missing (NaN) or infinite number becomes None."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _read_gis(path: Path, source: str, need_weight: bool, weight_field: str, strict: bool,
              crs: str) -> PointLayer:
    """A GeoPackage or Shapefile through geopandas, reprojected to WGS-84, checked row by row."""
    # Imported here: geopandas costs about half a second, which the web's start-up need not pay.
    import geopandas
    import pyogrio

    try:
        layers = [str(name) for name, geometry_type in pyogrio.list_layers(path) if geometry_type]
        if len(layers) != 1:
            raise ValidationError(Problem(source, "layers", layers, "exactly one layer of points"))
        frame = geopandas.read_file(path, engine="pyogrio", fid_as_index=True)
    except pyogrio.errors.DataSourceError as exc:
        raise ValidationError(Problem(source, "file", str(exc), _GIS_ALLOWED)) from None
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds  # all NaN when no feature has a geometry
        if frame.geometry.notna().any() and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValidationError(Problem(
                source, "crs", None, "a coordinate reference system (for a Shapefile, its .prj file): the "
                f"coordinates (x {minx:.6g} to {maxx:.6g}, y {miny:.6g} to {maxy:.6g}) are not degrees"))
        log.warning("%s names no coordinate reference system; its coordinates look like degrees: "
                    "read as WGS-84", source)
    elif not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)  # geopandas keeps (x, y) = (lon, lat) in EPSG:4326
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    weight_name = weight_field
    if need_weight:
        found = _find_column(columns, "weight", None if weight_field == "weight" else weight_field)
        if found is None:
            raise ValidationError(Problem(source, "fields", columns, f"a field named {weight_field!r}"))
        weight_name = columns[found]
    weights = frame[weight_name].tolist() if need_weight else [None] * len(frame)
    rows, problems = [], []
    for fid, geom, weight in zip(frame.index.tolist(), frame.geometry, weights):
        record = f"{source} fid {fid}"
        if geom is not None and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom is None or geom.is_empty:
            problems.append(Problem(record, "geometry", None, "a Point"))
            continue
        if geom.geom_type != "Point":
            problems.append(Problem(record, "geometry.type", geom.geom_type, "'Point'"))
            continue
        row_problems, row = _check_row(record, _plain(geom.x), _plain(geom.y), _plain(weight), need_weight,
                                       "geometry.x", "geometry.y", weight_name)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    return _finish(rows, problems, source, len(frame), strict, crs)


def read_points(path, *, weight_field: str | None = "weight", strict: bool = False,
                crs: str = "wgs84", fmt: str | None = None) -> PointLayer:
    """Read weighted (or unweighted) points from a GeoJSON, CSV, GeoPackage or Shapefile.

    Parameters
    ----------
    path : str or os.PathLike
        The file. ``.csv``/``.txt`` is CSV, ``.geojson``/``.json`` GeoJSON, ``.gpkg`` GeoPackage,
        ``.shp`` Shapefile, ``.zip`` zipped Shapefile; otherwise the content decides (a leading
        ``{`` means GeoJSON).
    weight_field : str or None
        Property/column holding the weight; ``None`` reads unweighted points (weight 1 each).
    strict : bool
        Raise on the first file with any bad row instead of skipping and reporting.
    crs : {"wgs84", "gcj02", "bd09"}
        Coordinate system of the positions; they are returned in WGS-84. A GeoPackage or Shapefile
        is first reprojected from its own coordinate reference system to EPSG:4326; ``"gcj02"``
        then says that its degrees are GCJ-02 (AMap exports label them EPSG:4326).
    fmt : {"csv", "geojson", "gis"} or None
        Force a format (``"gis"``: GeoPackage or Shapefile, read with geopandas).

    Returns
    -------
    PointLayer

    Raises
    ------
    stations.errors.ValidationError
        Unreadable file, missing column, no usable row, or (``strict``) any bad row.
    """
    path = Path(path)
    source = path.name
    need_weight = weight_field is not None
    if fmt == "gis" or (fmt is None and path.suffix.lower() in _GIS_SUFFIXES):
        if not path.is_file():
            raise ValidationError(Problem(source, "file", str(path), "an existing file"))
        return _read_gis(path, source, need_weight, weight_field or "weight", strict, crs)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(Problem(source, "file", str(path), "an existing file")) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(Problem(source, "encoding", f"byte {exc.start}", "UTF-8 text")) from None
    if fmt is None:
        suffix = path.suffix.lower()
        fmt = ("csv" if suffix in (".csv", ".txt") else "geojson" if suffix in (".geojson", ".json")
               else "geojson" if text.lstrip().startswith("{") else "csv")
    if fmt == "csv":
        return _read_csv(text, source, need_weight, weight_field or "weight", strict, crs)
    if fmt != "geojson":
        raise ValueError(f"unknown format {fmt!r}; allowed: 'csv', 'geojson', 'gis'")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(Problem(source, "json", f"line {exc.lineno} column {exc.colno}: {exc.msg}",
                                      "valid JSON (a GeoJSON FeatureCollection)")) from None
    return _read_geojson(data, source, need_weight, weight_field or "weight", strict, crs)


def load_demand(path, *, strict: bool = False, weight_field: str = "weight", crs: str = "wgs84") -> PointLayer:
    """Read a demand layer (points with a weight); see :func:`read_points`."""
    return read_points(path, weight_field=weight_field, strict=strict, crs=crs)


def load_candidates(path, *, strict: bool = False, crs: str = "wgs84") -> PointLayer:
    """Read planner-supplied candidate sites (points; any weight column is ignored)."""
    return read_points(path, weight_field=None, strict=strict, crs=crs)


def as_point_layer(value: Any, *, weighted: bool) -> PointLayer:
    """Accept a PointLayer, a path, or an iterable of (lon, lat[, weight]) tuples."""
    if isinstance(value, PointLayer):
        return value
    if isinstance(value, (str, Path)):
        return load_demand(value) if weighted else load_candidates(value)
    arr = np.asarray(list(value) if not isinstance(value, np.ndarray) else value, dtype=float)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise ValueError(f"points must be (lon, lat) or (lon, lat, weight) rows, got shape {arr.shape}")
    weights = arr[:, 2] if (weighted and arr.shape[1] == 3) else None
    return PointLayer.from_points(arr[:, 0], arr[:, 1], weights)
