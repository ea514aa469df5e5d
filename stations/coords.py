"""Conversions between WGS-84, GCJ-02 (China's offset datum) and BD-09 (Baidu's).

GeoJSON, OpenStreetMap, Tianditu and phones' geolocation use WGS-84. AMap/Gaode and Tencent
use GCJ-02, a deliberately distorted copy of WGS-84 (about 500 m off near Jining). Baidu adds a
second distortion on top, BD-09. All functions take and return (lon, lat) in degrees, by name;
each accepts Python floats (returns floats) or numpy arrays of equal shape (returns arrays).

Outside mainland China's bounding box (see :func:`out_of_china`) no offset is applied.
The WGS-84 -> GCJ-02 formula is the widely published one (e.g. the coordtransform project);
:func:`gcj02_to_wgs84` inverts it by fixed-point iteration to well under a millimetre, not by
the common one-step approximation (typically 0.7 m off, up to ~5 m). The BD-09 pair is the
standard ``x_pi`` formula, whose two directions are not exact inverses: a BD-09 round trip is
off by up to ~0.2 m.
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import shapely

log = logging.getLogger(__name__)

__all__ = [
    "CRS_NAMES", "out_of_china", "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09",
    "bd09_to_gcj02", "wgs84_to_bd09", "bd09_to_wgs84", "convert", "transform_geometry",
]

CRS_NAMES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # semi-major axis of Krasovsky 1940, as used by GCJ-02 (metres)
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant
# Bounding box of mainland China used by the reference implementations (degrees).
_CHINA_BOX = (73.66, 3.86, 135.05, 53.55)  # min lon, min lat, max lon, max lat
_INVERSE_TOL_DEG = 1e-12  # about 0.1 micrometre
_INVERSE_MAX_ITER = 30


def _as_arrays(lon, lat):
    """Return float arrays and whether both inputs were scalars."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon and lat must have the same shape, got {lon_a.shape} and {lat_a.shape}")
    return lon_a, lat_a, lon_a.ndim == 0


def _out(lon_a, lat_a, scalar):
    if scalar:
        return float(lon_a), float(lat_a)
    return lon_a, lat_a


def _out_of_china(lon_a: np.ndarray, lat_a: np.ndarray) -> np.ndarray:
    minlon, minlat, maxlon, maxlat = _CHINA_BOX
    return ~((lon_a > minlon) & (lon_a < maxlon) & (lat_a > minlat) & (lat_a < maxlat))


def out_of_china(lon, lat):
    """Whether a position lies outside mainland China's bounding box (no GCJ-02 offset there).

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees (any of the three systems; the box is coarse).

    Returns
    -------
    bool or numpy.ndarray of bool
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    result = _out_of_china(lon_a, lat_a)
    return bool(result) if scalar else result


def _gcj_delta(lon_a: np.ndarray, lat_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 offset (degrees) at WGS-84 position (lon, lat)."""
    x = lon_a - 105.0
    y = lat_a - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat_a / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon_a, lat_a)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    """Convert WGS-84 to GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of float or of numpy.ndarray
        GCJ-02 degrees; unchanged outside China.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    return _out(lon_a + dlon, lat_a + dlat, scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 to WGS-84 precisely (iterative inverse of :func:`wgs84_to_gcj02`).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of float or of numpy.ndarray
        WGS-84 degrees, such that ``wgs84_to_gcj02`` maps them back to the input within
        about 1e-12 degrees; unchanged outside China.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    # Fixed point of w = g - delta(w): the offset varies slowly (its Jacobian is ~1e-5),
    # so each step gains about five digits; three or four steps reach machine precision.
    wlon, wlat = lon_a.copy(), lat_a.copy()
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _gcj_delta(wlon, wlat)
        new_lon, new_lat = lon_a - dlon, lat_a - dlat
        step = np.maximum(np.abs(new_lon - wlon), np.abs(new_lat - wlat))
        wlon, wlat = new_lon, new_lat
        if not np.any(step > _INVERSE_TOL_DEG):  # NaN inputs do not block convergence
            break
    outside = _out_of_china(lon_a, lat_a)
    wlon = np.where(outside, lon_a, wlon)
    wlat = np.where(outside, lat_a, wlat)
    return _out(wlon, wlat, scalar)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 to BD-09 (Baidu) with the standard ``x_pi`` formula.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of float or of numpy.ndarray
        BD-09 degrees; unchanged outside China.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    z = np.hypot(lon_a, lat_a) + 0.00002 * np.sin(lat_a * _X_PI)
    theta = np.arctan2(lat_a, lon_a) + 0.000003 * np.cos(lon_a * _X_PI)
    outside = _out_of_china(lon_a, lat_a)
    bd_lon = np.where(outside, lon_a, z * np.cos(theta) + 0.0065)
    bd_lat = np.where(outside, lat_a, z * np.sin(theta) + 0.006)
    return _out(bd_lon, bd_lat, scalar)


def bd09_to_gcj02(lon, lat):
    """Convert BD-09 (Baidu) to GCJ-02 with the standard ``x_pi`` formula.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of float or of numpy.ndarray
        GCJ-02 degrees; unchanged outside China.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    outside = _out_of_china(lon_a, lat_a)
    g_lon = np.where(outside, lon_a, z * np.cos(theta))
    g_lat = np.where(outside, lat_a, z * np.sin(theta))
    return _out(g_lon, g_lat, scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS-84 to BD-09 (via GCJ-02). Degrees in, degrees out."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 to WGS-84 (via GCJ-02, precise inverse). Degrees in, degrees out."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon, lat):
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(lon_a.copy(), lat_a.copy(), scalar)


_CONVERTERS: dict[tuple[str, str], Callable] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _check_crs(name: str, role: str) -> str:
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in CRS_NAMES:
        raise ValueError(f"unknown {role} CRS {name!r}; allowed: {', '.join(CRS_NAMES)}")
    return key


def convert(lon, lat, from_crs: str, to_crs: str):
    """Convert positions between two of "wgs84", "gcj02" and "bd09".

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees, in ``from_crs``.
    from_crs, to_crs : str
        One of ``CRS_NAMES`` (case and "-"/"_" are ignored, so "WGS-84" works).

    Returns
    -------
    (lon, lat) : tuple of float or of numpy.ndarray
        Degrees in ``to_crs``.

    Raises
    ------
    ValueError
        If a CRS name is unknown; the message names it and the allowed ones.
    """
    src = _check_crs(from_crs, "source")
    dst = _check_crs(to_crs, "target")
    if src == dst:
        return _identity(lon, lat)
    return _CONVERTERS[(src, dst)](lon, lat)


def transform_geometry(geom, func: Callable):
    """Apply a (vectorised) coordinate conversion to every vertex of a shapely geometry.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of geometries
        Geometry with (lon, lat) degrees; z values, if any, are kept.
    func : callable
        ``func(lons, lats) -> (lons, lats)`` on numpy arrays, e.g. :func:`gcj02_to_wgs84`.

    Returns
    -------
    shapely.Geometry
        A new geometry of the same type and structure.
    """

    def _xy(coords: np.ndarray) -> np.ndarray:
        lons, lats = func(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)])

    return shapely.transform(geom, _xy, include_z=False)
