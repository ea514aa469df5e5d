"""The k nearest stations by PostGIS's own KNN, re-ranked exactly on the WGS-84 ellipsoid.

The site answers ``/api/nearest`` from its in-process index (``stations.nearest.NearestIndex`` over
``store.table()``): measured at 186,100 stations it is ~20x faster than this (``scripts/bench_nearest_db.py``),
so this is the check that both give the same ranking (``tests/test_nearest_postgis.py``), and a way to
ask the database directly.

``ORDER BY geom::geography <-> point LIMIT n`` walks a GiST index on ``(geom::geography)`` (where
there is one: the benchmark makes it; without it PostgreSQL sorts every matching row) in order of the
distance on a sphere of radius ``R`` (PostGIS's mean radius of the spheroid; geodetic latitude taken as
spherical latitude, as ``NearestIndex`` does), so the central angle of a candidate is ``d / R``. As in
``stations.nearest``, a station at central angle ``θ`` is at least ``M_LO * θ`` metres away on the
ellipsoid: once the k-th best exact distance ``U`` found is below ``M_LO * θ_last`` of the farthest
candidate fetched, no station not yet fetched can enter the answer; otherwise twice as many are fetched.
Exact distances: ``pyproj.Geod(ellps="WGS84").inv``; ties by id.
"""
from __future__ import annotations

import math
from typing import Iterable

from sqlalchemy import text

from ...model import Station
from ...nearest import M_LO, Hit, NearestIndex, _GEOD

#: PostGIS's sphere for geography KNN: the WGS-84 spheroid's mean radius (2a + b) / 3, metres
SPHERE_RADIUS_M = (2 * 6378137.0 + 6378137.0 * (1 - 1 / 298.257223563)) / 3
#: allowance for PostGIS's and our rounding of distances, metres
_EPS_M = 1e-3


def nearest(store, lon: float, lat: float, k: int = 5, *, kind: str | None = None,
            amenities: Iterable[str] = (), statuses: Iterable[str] | None = ("open",),
            max_distance_m: float | None = None) -> list[Hit]:
    """The ``k`` stations of a PostGIS ``store`` nearest to (lon, lat) (WGS-84 degrees), nearest first,
    exact geodesic metres, ties by id; the filters as :meth:`NearestIndex.query`'s."""
    lon, lat = NearestIndex._check_lon_lat(lon, lat)
    k = NearestIndex._check_k(k)
    max_d = NearestIndex._check_max_distance(max_distance_m)
    clauses, params = [], {"lon": lon, "lat": lat}
    if kind is not None:
        clauses.append("kind = :kind")
        params["kind"] = kind
    if statuses is not None:
        clauses.append("status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = sorted({statuses} if isinstance(statuses, str) else set(statuses))
    wanted = sorted({amenities} if isinstance(amenities, str) else set(amenities))
    if wanted:
        clauses.append("amenities @> CAST(:amenities AS text[])")
        params["amenities"] = wanted
    where = " AND ".join(clauses) or "true"
    point = "CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography)"
    sql = text(f"SELECT properties, ST_X(geom) AS lon, ST_Y(geom) AS lat, geom::geography <-> {point} AS d "
               f"FROM stations WHERE {where} ORDER BY geom::geography <-> {point} LIMIT :limit")
    limit = 2 * k + 4
    with store._read() as connection:
        while True:
            rows = connection.execute(sql, {**params, "limit": limit}).all()
            found = []
            for row in rows:
                s = _GEOD.inv(lon, lat, row.lon, row.lat)[2]
                if s <= max_d:
                    found.append((s, row.properties["id"], row))
            found.sort(key=lambda f: (f[0], f[1]))
            if len(rows) < limit:  # every matching station fetched
                break
            bound = min(found[k - 1][0] if len(found) >= k else math.inf, max_d)
            theta_last = rows[-1].d / SPHERE_RADIUS_M
            if M_LO * theta_last > bound + _EPS_M:
                break
            limit *= 2
    return [Hit(Station.from_feature({"geometry": {"coordinates": [r.lon, r.lat]}, "properties": r.properties}), s)
            for s, _, r in found[:k]]
