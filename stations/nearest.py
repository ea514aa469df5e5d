"""Exact k-nearest stations by geodesic distance on the WGS-84 ellipsoid.

A ``scipy.spatial.cKDTree`` over unit-sphere xyz (geodetic latitude used as the spherical
latitude) proposes candidates; ``pyproj.Geod(ellps="WGS84").inv`` gives their exact distances.

Why the result equals a brute-force geodesic search
----------------------------------------------------
In (lat, lon) the ellipsoid's metric is ``ds² = M(φ)² dφ² + N(φ)² cos²φ dλ²`` and the unit
sphere's is ``dσ² = dφ² + cos²φ dλ²``. Both radii of curvature lie in
``[a(1-e²), a/sqrt(1-e²)] = [M_LO, M_HI]`` (6,335,439 m .. 6,399,594 m), so every curve is between
``M_LO`` and ``M_HI`` times as long on the ellipsoid as on the unit sphere. Taking the shortest
curve on each surface: ``M_LO * θ <= s <= M_HI * θ`` for the central angle ``θ`` (``θ = 2 asin(c/2)``
for the chord ``c``; chord order is angle order). So once the k-th best station found is at most
``U`` metres away, any station with ``θ > U / M_LO`` cannot be in the answer; the tree is asked for
more candidates until the farthest one fetched lies beyond that angle. Small absolute margins
cover float rounding of the chords (``_CHORD_EPS``) and of the geodesic solver (``_GEOD_EPS_M``).
Ties in distance are broken by station id.

Open first (``query_open_first``)
---------------------------------
A worker wants the nearest place that is open now: the stations open at a moment come first, nearest
first, then the others that match (closed then, or without readable hours), nearest first. Both parts
are exact: the open ones are an open-filtered query; when fewer than ``k`` are open, every open match
has been found (``m`` of them), and the ``k`` nearest matches of all hold at most those ``m``, so the
nearest ``k - m`` others are among them.
"""
from __future__ import annotations

import logging
import math
import numbers
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

import numpy as np
from pyproj import Geod

from .errors import Problem, ValidationError
from .kdtree import cKDTree
from .model import AMENITIES, KINDS, STATUSES, Station
from .serves import SERVES

log = logging.getLogger(__name__)

__all__ = ["Hit", "NearestIndex", "RANKS"]

_GEOD = Geod(ellps="WGS84")
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
M_LO = _A * (1 - _E2)  # meridional radius at the equator: the smallest radius of curvature
M_HI = _A / math.sqrt(1 - _E2)  # radius of curvature at the poles: the largest
_CHORD_EPS = 1e-12  # unit-sphere chord rounding allowance (~6 µm); true rounding is ~1e-15
_GEOD_EPS_M = 1e-6  # geodesic solver allowance; GeographicLib is accurate to 15 nm
_SCALAR_INV_MAX = 24  # up to this many candidates, a loop of scalar Geod.inv calls is faster
_CACHE_SIZE = 16  # filtered sub-indexes kept (LRU)
_BATCH_CHUNK = 8192
_DEFAULT_KEY = (None, 0, frozenset({"open"}), False, None)
_NO_FILTER_KEY = (None, 0, None, False, None)
RANKS = ("distance", "open_first")


def _fmt_allowed(vocab: Iterable[str]) -> str:
    return "one of: " + ", ".join(vocab)


def _bad(field: str, value: Any, allowed: str) -> ValidationError:
    return ValidationError(Problem("nearest query", field, value, allowed))


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: a station and its geodesic distance (metres, WGS-84) from the query point."""

    station: Station
    distance_m: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON result shape; ``distance_m`` rounded to 0.1 m."""
        s = self.station
        return {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "lon": s.lon,
            "lat": s.lat,
            "distance_m": round(self.distance_m, 1),
            "county_code": s.county_code,
            "status": s.status,
            "amenities": list(s.amenities),
            "opening_hours": s.opening_hours,
        }


def _xyz(lon_deg, lat_deg):
    """Unit-sphere xyz for arrays of (lon, lat) degrees, shape (n, 3)."""
    lon = np.radians(lon_deg)
    lat = np.radians(lat_deg)
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def _relevant_chord(bound_m: float) -> float:
    """Largest (computed) chord of a station whose computed geodesic distance can be <= bound_m."""
    theta = (bound_m + _GEOD_EPS_M) / M_LO
    if theta >= math.pi:
        return math.inf
    return 2.0 * math.sin(theta / 2.0) + _CHORD_EPS


class _SubIndex:
    """A tree over the stations passing the static filters (kind, amenities, statuses, 24/7, serves)."""

    __slots__ = ("n", "tree", "gidx", "identity")

    def __init__(self, gidx: np.ndarray, xyz: np.ndarray):
        # positions and ranks are the index's own arrays at ``gidx`` (no copies: a national subset's
        # would be ~4.5 MB each)
        self.n = len(gidx)
        self.gidx = gidx
        self.identity = bool(self.n == 0 or (gidx[0] == 0 and gidx[-1] == self.n - 1))
        self.tree = cKDTree(xyz, balanced_tree=False, copy_data=False) if self.n else None  # xyz is never changed: no copy


class NearestIndex:
    """Exact k-nearest lookup over a fixed list of stations (WGS-84 geodesic metres).

    Parameters
    ----------
    stations : sequence of Station
        Positions are WGS-84 degrees; each must have finite lon in [-180, 180], lat in [-90, 90].
    """

    def __init__(self, stations: Sequence[Station]):
        self._stations = list(stations)
        n = len(self._stations)
        problems: list[Problem] = []
        self._lon = self._station_coords("lon", [s.lon for s in self._stations], 180.0, problems)
        self._lat = self._station_coords("lat", [s.lat for s in self._stations], 90.0, problems)
        if problems:
            raise ValidationError(problems)
        self._xyz = _xyz(self._lon, self._lat).reshape(n, 3)
        ids = [s.id for s in self._stations]
        self._rank = np.empty(n, dtype=np.int64)
        self._rank[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
        self._amen_bit = {a: 1 << i for i, a in enumerate(AMENITIES)}
        self._columns: tuple | None = None  # (kind, status, amenity bits), built on first filter
        self._always: np.ndarray | None = None  # open 24/7 per station, built on first such filter
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, _SubIndex] = OrderedDict()
        self._default: _SubIndex | None = None
        self._all = _SubIndex(np.arange(n), self._xyz)
        self._table = None
        log.debug("nearest index over %d stations", n)

    @classmethod
    def from_table(cls, table) -> "NearestIndex":
        """The index of a store's :class:`~stations.store.table.StationTable` (``StationStore.table()``):
        built from its columns, materialising only the stations of each answer. A set of ``serves`` is
        tested once per distinct (kind, status, amenities, opening_hours, county_code) on a stand-in
        station with those values: its test may read only these fields."""
        self = cls.__new__(cls)
        self._stations = table  # a Sequence of Stations, each materialised when an answer needs it
        self._table = table
        n = len(table)
        self._lon = np.asarray(table.lon, dtype=float)  # the table's own columns (never changed)
        self._lat = np.asarray(table.lat, dtype=float)
        self._xyz = None  # computed for each tree built (a national table: 4.5 MB less held)
        self._rank = np.arange(n, dtype=np.int64)  # the table is in id order
        self._amen_bit = {a: 1 << i for i, a in enumerate(AMENITIES)}
        self._columns = (table.kind_names(), table.status_names(), np.asarray(table.amenity_bits, dtype=np.int64))
        self._always = None
        self._lock = threading.Lock()
        self._cache = OrderedDict()
        self._default = None
        self._all = None  # the tree over every station, built when a query needs it (most ask for a subset)
        log.debug("nearest index over a table of %d stations", n)
        return self

    def _station_coords(self, field: str, values: list, limit: float, problems: list) -> np.ndarray:
        """Station coordinates as a float array; appends a Problem for every bad one."""
        n = len(values)
        if {type(v) for v in values} <= {float, int}:
            arr = np.array(values, dtype=float).reshape(n)
            bad = ~((arr >= -limit) & (arr <= limit))  # also catches NaN
        else:
            arr = np.zeros(n)
            bad = np.ones(n, dtype=bool)
        for i in np.flatnonzero(bad).tolist():
            v = values[i]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (-limit <= v <= limit):
                problems.append(Problem(self._stations[i].id, field, v,
                                        f"a finite number in [-{limit:g}, {limit:g}] (WGS-84 degrees)"))
            else:
                arr[i] = float(v)
        return arr

    def _filter_columns(self) -> tuple:
        """(kind, status, amenity bits) arrays; call with the lock held."""
        if self._columns is None:
            n = len(self._stations)
            kind = np.array([s.kind for s in self._stations] + [None], dtype=object)[:n]
            status = np.array([s.status for s in self._stations] + [None], dtype=object)[:n]
            bits_of: dict[tuple, int] = {}
            for s in self._stations:
                have = tuple(s.amenities)
                if have not in bits_of:
                    bits_of[have] = sum({self._amen_bit.get(a, 0) for a in have})
            bits = np.fromiter((bits_of[tuple(s.amenities)] for s in self._stations), np.int64, n)
            self._columns = (kind, status, bits)
        return self._columns

    def _always_column(self) -> np.ndarray:
        """Whether each station's opening_hours parse and are 24/7; call with the lock held."""
        if self._always is None:
            from stations.hours import open_around_the_clock  # lazy: only the open_24_7 filter needs it

            memo: dict[str | None, bool] = {}
            texts = self._opening_hours_list()
            for text in texts:
                if text not in memo:
                    memo[text] = open_around_the_clock(text)
            self._always = np.fromiter((memo[text] for text in texts), bool, len(texts))
        return self._always

    def _full(self) -> _SubIndex:
        """The tree over every station (an index of a table builds it on first use)."""
        if self._all is None:
            self._all = _SubIndex(np.arange(len(self._lon)), self._xyz_of(None))
        return self._all

    def _xyz_of(self, g) -> np.ndarray:
        """Unit-sphere xyz of the stations ``g`` (``None``: all), computed as ``__init__`` computes them."""
        if self._xyz is not None:
            return self._xyz if g is None else self._xyz[g]
        lon, lat = (self._lon, self._lat) if g is None else (self._lon[g], self._lat[g])
        return _xyz(lon, lat).reshape(len(lon), 3)

    def _materialise(self, indices: list) -> list[Station]:
        """The stations at these indices; from a table, all in one read (a database: one query)."""
        if self._table is not None:
            return self._table.take(indices)
        stations = self._stations
        return [stations[g] for g in indices]

    def _opening_hours_list(self) -> list:
        """Every station's ``opening_hours`` text (or ``None``), in index order."""
        if self._table is not None:
            return self._table.hours_list()
        return [s.opening_hours for s in self._stations]

    def _hours_at(self, g: int) -> str | None:
        if self._table is not None:
            return self._table.hours_at(g)
        return self._stations[g].opening_hours

    def _serves_column(self, name: str) -> np.ndarray:
        """Whether each station is in the set ``name`` (``stations.serves.SERVES``); call with the lock held."""
        test = SERVES[name]
        table = self._table
        if table is None:
            return np.fromiter((test(st) for st in self._stations), bool, len(self._stations))
        keys = np.column_stack([table.kind, table.status, table.amenity_bits, table.hours, table.county])
        combos, inverse = np.unique(keys, axis=0, return_inverse=True)
        kinds, statuses = table.kind_names(), table.status_names()
        first = {}
        for i, row in enumerate(inverse.reshape(-1).tolist()):
            first.setdefault(row, i)
        answers = np.zeros(len(combos), dtype=bool)
        for row, i in first.items():
            stand_in = Station(id="-", name="-", kind=kinds[i], lon=0.0, lat=0.0, county_code=table.county_at(i),
                               opening_hours=table.hours_at(i), status=statuses[i],
                               amenities=tuple(a for a, bit in self._amen_bit.items() if table.amenity_bits[i] & bit))
            answers[row] = bool(test(stand_in))
        return answers[inverse.reshape(-1)]

    def __len__(self) -> int:
        return len(self._stations)

    # ---------------------------------------------------------------- validation

    @staticmethod
    def _check_lon_lat(lon: Any, lat: Any) -> tuple[float, float]:
        for field, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            if type(value) is not float and (
                    isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise _bad(field, value, f"a number in [-{limit:g}, {limit:g}] (WGS-84 degrees)")
            if not (-limit <= value <= limit):  # also false for NaN
                raise _bad(field, value, f"a finite number in [-{limit:g}, {limit:g}] (WGS-84 degrees)")
        return float(lon), float(lat)

    @staticmethod
    def _check_k(k: Any) -> int:
        if type(k) is not int and (isinstance(k, bool) or not isinstance(k, numbers.Integral)):
            raise _bad("k", k, "an integer >= 1")
        if k < 1:
            raise _bad("k", k, "an integer >= 1")
        return int(k)

    @staticmethod
    def _check_max_distance(max_distance_m: Any) -> float:
        if max_distance_m is None:
            return math.inf
        if isinstance(max_distance_m, bool) or not isinstance(max_distance_m, numbers.Real) \
                or not math.isfinite(max_distance_m) or max_distance_m < 0:
            raise _bad("max_distance_m", max_distance_m, "None or a finite number of metres >= 0")
        return float(max_distance_m)

    def _filter_key(self, kind: Any, amenities: Any, statuses: Any, open_24_7: Any = False,
                    serves: Any = None) -> tuple:
        if open_24_7 is False and kind is None and amenities == () and statuses == ("open",) and serves is None:
            return _DEFAULT_KEY
        if not isinstance(open_24_7, (bool, np.bool_)):
            raise _bad("open_24_7", open_24_7, "True or False")
        if serves is not None and (not isinstance(serves, str) or serves not in SERVES):
            raise _bad("serves", serves, "None or " + _fmt_allowed(SERVES))
        if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
            raise _bad("kind", kind, "None or " + _fmt_allowed(KINDS))
        if isinstance(amenities, str):
            amenities = (amenities,)
        try:
            amenities = tuple(amenities or ())
        except TypeError:
            raise _bad("amenities", amenities, "an iterable of " + _fmt_allowed(AMENITIES)) from None
        bits = 0
        for a in amenities:
            if not isinstance(a, str) or a not in AMENITIES:
                raise _bad("amenities", a, _fmt_allowed(AMENITIES))
            bits |= self._amen_bit[a]
        if statuses is not None:
            if isinstance(statuses, str):
                statuses = (statuses,)
            try:
                statuses = tuple(statuses)
            except TypeError:
                raise _bad("statuses", statuses,
                           "None (any) or an iterable of " + _fmt_allowed(STATUSES)) from None
            if not statuses:
                raise _bad("statuses", statuses,
                           "None (any) or at least one of: " + ", ".join(STATUSES))
            for st in statuses:
                if not isinstance(st, str) or st not in STATUSES:
                    raise _bad("statuses", st, _fmt_allowed(STATUSES))
            statuses = frozenset(statuses)
        return (kind, bits, statuses, bool(open_24_7), serves)

    @staticmethod
    def _check_open_at(open_at: Any) -> datetime | None:
        if open_at is not None and not isinstance(open_at, datetime):
            raise _bad("open_at", open_at, "None or a datetime (naive = Asia/Shanghai)")
        return open_at

    # ---------------------------------------------------------------- sub-indexes

    def _sub(self, key: tuple) -> _SubIndex:
        if key == _NO_FILTER_KEY:
            return self._full()
        if key is _DEFAULT_KEY and self._default is not None:
            return self._default
        with self._lock:
            sub = self._cache.get(key)
            if sub is not None:
                self._cache.move_to_end(key)
                return sub
            kind, bits, statuses, open_24_7, serves = key
            kind_col, status_col, bits_col = self._filter_columns()
            mask = np.ones(len(self._stations), dtype=bool)
            if kind is not None:
                mask &= kind_col == kind
            if bits:
                mask &= (bits_col & bits) == bits
            if statuses is not None:
                mask &= np.isin(status_col, list(statuses))
            if open_24_7:
                mask &= self._always_column()
            if serves is not None:
                mask &= self._serves_column(serves)
            if mask.all():
                sub = self._full()
            else:
                g = np.flatnonzero(mask)
                sub = _SubIndex(g, self._xyz_of(g))
            self._cache[key] = sub
            if key is _DEFAULT_KEY:
                self._default = sub  # the common query skips the lock and the LRU
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return sub

    # ---------------------------------------------------------------- queries

    def query(self, lon: float, lat: float, k: int = 5, kind: str | None = None,
              amenities: Iterable[str] = (), statuses: Iterable[str] | None = ("open",),
              open_at: datetime | None = None, max_distance_m: float | None = None,
              open_24_7: bool = False, serves: str | None = None) -> list[Hit]:
        """The ``k`` stations nearest to (lon, lat), nearest first, exact geodesic metres.

        Parameters
        ----------
        lon, lat : float
            Query point, WGS-84 degrees.
        k : int
            How many stations; fewer are returned when fewer match.
        kind : str, optional
            Only this kind (a key of ``KINDS``).
        amenities : iterable of str
            Every one of these amenities is required (keys of ``AMENITIES``).
        statuses : iterable of str or None
            Allowed statuses (keys of ``STATUSES``); ``None`` allows any.
        open_at : datetime, optional
            Only stations whose ``opening_hours`` say open at that time (naive = Asia/Shanghai).
            Stations without opening hours, or with unparseable ones, count as not open.
        max_distance_m : float, optional
            Only stations at most this many geodesic metres away.
        open_24_7 : bool
            Only stations open around the clock (``OpeningHours.is_24_7``, however written).
            Stations without opening hours, or with unparseable ones, are left out.
        serves : str, optional
            Only the stations of that set (a key of ``stations.serves.SERVES``, e.g. ``passing_worker``).

        Raises
        ------
        ValueError (``ValidationError``) naming the parameter, the bad value and what is allowed.
        """
        lon, lat = self._check_lon_lat(lon, lat)
        if type(k) is not int or k < 1:
            k = self._check_k(k)
        key = self._filter_key(kind, amenities, statuses, open_24_7, serves)
        max_d = math.inf if max_distance_m is None else self._check_max_distance(max_distance_m)
        if open_at is not None:
            self._check_open_at(open_at)
        sub = self._sub(key)
        if sub.n == 0:
            return []
        lon_r = math.radians(lon)
        lat_r = math.radians(lat)
        cos_lat = math.cos(lat_r)
        q = (cos_lat * math.cos(lon_r), cos_lat * math.sin(lon_r), math.sin(lat_r))
        return self._query_one(sub, lon, lat, q, k, max_d, open_at, None)

    def query_open_first(self, lon: float, lat: float, at: datetime, k: int = 5, kind: str | None = None,
                         amenities: Iterable[str] = (), statuses: Iterable[str] | None = ("open",),
                         max_distance_m: float | None = None, open_24_7: bool = False,
                         serves: str | None = None) -> list[Hit]:
        """The ``k`` best stations for someone at (lon, lat) at the moment ``at``: those open then (status
        ``open`` and opening hours that say so), nearest first, then the other matches, nearest first
        (see the module doc). The filters are :meth:`query`'s; ``at`` naive = Asia/Shanghai."""
        if not isinstance(at, datetime):
            raise _bad("at", at, "a datetime (naive = Asia/Shanghai)")
        filters = {"kind": kind, "amenities": amenities, "max_distance_m": max_distance_m, "open_24_7": open_24_7,
                   "serves": serves}
        if isinstance(statuses, str):
            statuses = (statuses,)
        may_be_open = statuses is None or "open" in tuple(statuses)
        first = self.query(lon, lat, k, statuses=("open",), open_at=at, **filters) if may_be_open else []
        if len(first) >= k:
            return first
        found = {hit.station.id for hit in first}
        rest = [hit for hit in self.query(lon, lat, k, statuses=statuses, **filters) if hit.station.id not in found]
        return first + rest[:k - len(first)]

    def _query_one(self, sub: _SubIndex, lon: float, lat: float, q: tuple, k: int,
                   max_d: float, open_at: datetime | None, kp: int | None) -> list[Hit]:
        n = sub.n
        ub = _relevant_chord(max_d) if max_d != math.inf else math.inf
        is_open_memo: dict | None = None
        if open_at is not None:
            is_open_memo = {}
        if kp is None:
            kp = 2 * k + 4 if open_at is None else 4 * k + 8
        kp = min(kp, n)
        while True:
            if kp == 1:  # cKDTree returns scalars for k=1
                d1, i1 = sub.tree.query(q, k=1, distance_upper_bound=ub)
                chords, idx = [float(d1)], [int(i1)]
            else:
                d, i = sub.tree.query(q, k=kp, distance_upper_bound=ub)
                chords, idx = d.tolist(), i.tolist()
            if is_open_memo is not None:
                keep = [j for j, c in enumerate(chords)
                        if c != math.inf and self._open(sub, idx[j], open_at, is_open_memo)]
                chords_v = [chords[j] for j in keep]
                idx_v = [idx[j] for j in keep]
            else:
                chords_v, idx_v = chords, idx
            # Upper bound U of the k-th distance (M_HI * angle), then the largest chord that can
            # reach U (_relevant_chord, inlined: hot path).
            c_k = chords_v[k - 1] if len(chords_v) >= k else math.inf
            if c_k != math.inf:
                half = (c_k + _CHORD_EPS) / 2.0
                bound = M_HI * 2.0 * math.asin(half if half < 1.0 else 1.0) + _GEOD_EPS_M
                if max_d < bound:
                    bound = max_d
            else:
                bound = max_d
            theta = (bound + _GEOD_EPS_M) / M_LO
            c_rel = 2.0 * math.sin(theta / 2.0) + _CHORD_EPS if theta < math.pi else math.inf
            last = chords[-1]
            if kp >= n or last == math.inf or last > c_rel:
                break
            kp = min(2 * kp, n)
        m = 0
        for c in chords_v:
            if c > c_rel or c == math.inf:
                break
            m += 1
        if m == 0:
            return []
        cand = idx_v[:m]
        stations = self._stations
        if m <= _SCALAR_INV_MAX:
            gidx = None if sub.identity else sub.gidx
            inv = _GEOD.inv
            lons, lats, rank = self._lon, self._lat, self._rank
            rows = []
            for j in cand:
                g = j if gidx is None else gidx[j]
                s = inv(lon, lat, lons[g], lats[g])[2]
                if s <= max_d:
                    rows.append((s, rank[g], g))  # ties by id (rank is id order)
            rows.sort()
            top = rows[:k]
            return [Hit(st, row[0]) for st, row in zip(self._materialise([row[2] for row in top]), top)]
        cand_a = np.asarray(cand)
        g_a = sub.gidx[cand_a]
        dist = _GEOD.inv(np.full(m, lon), np.full(m, lat), self._lon[g_a], self._lat[g_a])[2]
        ok = dist <= max_d
        cand_a, g_a, dist = cand_a[ok], g_a[ok], dist[ok]
        order = np.lexsort((self._rank[g_a], dist))[:k]
        gsel = sub.gidx[cand_a[order]].tolist()
        return [Hit(st, s) for st, s in zip(self._materialise(gsel), dist[order].tolist())]

    def _open(self, sub: _SubIndex, j: int, at: datetime, memo: dict) -> bool:
        """Open at ``at``; stations without (readable) hours are not reported as open."""
        text = self._hours_at(sub.gidx[j])
        res = memo.get(text)
        if res is None:
            from stations.hours import open_state  # lazy: only the open_at filter needs it

            res = memo[text] = open_state(text, at) is True
        return res

    def query_batch(self, lons: Sequence[float], lats: Sequence[float], k: int = 5,
                    kind: str | None = None, amenities: Iterable[str] = (),
                    statuses: Iterable[str] | None = ("open",), open_at: datetime | None = None,
                    max_distance_m: float | None = None, open_24_7: bool = False,
                    serves: str | None = None) -> list[list[Hit]]:
        """``query`` for many points at once (vectorised); one result list per point, same filters."""
        lon_a = self._check_arrays("lons", lons, 180.0)
        lat_a = self._check_arrays("lats", lats, 90.0)
        if lon_a.shape != lat_a.shape:
            raise _bad("lats", f"{lat_a.size} values", f"as many values as lons ({lon_a.size})")
        k = self._check_k(k)
        key = self._filter_key(kind, amenities, statuses, open_24_7, serves)
        max_d = self._check_max_distance(max_distance_m)
        open_at = self._check_open_at(open_at)
        sub = self._sub(key)
        m = lon_a.size
        if sub.n == 0:
            return [[] for _ in range(m)]
        xyz = _xyz(lon_a, lat_a).reshape(m, 3)
        if open_at is not None:
            return [self._query_one(sub, float(lon_a[i]), float(lat_a[i]), tuple(xyz[i].tolist()),
                                    k, max_d, open_at, None) for i in range(m)]
        out: list[list[Hit]] = []
        for start in range(0, m, _BATCH_CHUNK):
            stop = min(start + _BATCH_CHUNK, m)
            out.extend(self._batch_chunk(sub, lon_a[start:stop], lat_a[start:stop],
                                         xyz[start:stop], k, max_d))
        return out

    @staticmethod
    def _check_arrays(field: str, values: Any, limit: float) -> np.ndarray:
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError):
            arr = np.asarray([None])
        if arr.dtype.kind not in "iuf" and arr.size:  # no str, bool, None, objects
            raise _bad(field, values, "a sequence of numbers (WGS-84 degrees)")
        arr = arr.astype(float)
        if arr.ndim != 1:
            raise _bad(field, f"array of shape {arr.shape}", "a one-dimensional sequence of numbers")
        bad = ~((arr >= -limit) & (arr <= limit))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad(f"{field}[{i}]", float(arr[i]), f"a finite number in [-{limit:g}, {limit:g}]")
        return arr

    def _batch_chunk(self, sub: _SubIndex, lon_a: np.ndarray, lat_a: np.ndarray, xyz: np.ndarray,
                     k: int, max_d: float) -> list[list[Hit]]:
        n = sub.n
        m = len(lon_a)
        kp = min(2 * k + 4, n)
        ub = _relevant_chord(max_d) if max_d != math.inf else math.inf
        d, idx = sub.tree.query(xyz, k=kp, distance_upper_bound=ub)
        d = d.reshape(m, kp)
        idx = idx.reshape(m, kp)
        # Same bound as _query_one, row-wise.
        c_k = d[:, k - 1] if kp >= k else np.full(m, np.inf)
        with np.errstate(invalid="ignore"):
            half = np.minimum((c_k + _CHORD_EPS) / 2.0, 1.0)
            bound = np.where(np.isinf(c_k), np.inf, M_HI * 2.0 * np.arcsin(half) + _GEOD_EPS_M)
            bound = np.minimum(bound, max_d)
            theta = (bound + _GEOD_EPS_M) / M_LO
            c_rel = np.where(theta >= np.pi, np.inf, 2.0 * np.sin(np.minimum(theta, np.pi) / 2.0)
                             + _CHORD_EPS)
        last = d[:, -1]
        done = (kp >= n) | np.isinf(last) | (last > c_rel)
        rel = (d <= c_rel[:, None]) & np.isfinite(d) & done[:, None]
        rows, cols = np.nonzero(rel)
        j = idx[rows, cols]
        dist = np.full((m, kp), np.inf)
        g_j = sub.gidx[j]
        dist[rows, cols] = _GEOD.inv(lon_a[rows], lat_a[rows], self._lon[g_j], self._lat[g_j])[2]
        dist[dist > max_d] = np.inf
        safe_idx = np.minimum(idx, n - 1)
        order = np.lexsort((self._rank[sub.gidx[safe_idx]], dist), axis=-1)[:, :k]
        top_d = np.take_along_axis(dist, order, axis=-1)
        top_g = sub.gidx[np.take_along_axis(safe_idx, order, axis=-1)]
        width = top_d.shape[1]
        # Flat lists: no per-row list objects for the garbage collector to track.
        found = np.isfinite(top_d).sum(axis=1).tolist()
        top_d_l, top_g_l = top_d.ravel().tolist(), top_g.ravel().tolist()
        done_l = done.tolist()
        stations = self._stations
        if self._table is not None:  # every answer's station in one read (a database: one query)
            wanted = sorted({top_g_l[c] for r in range(m) if done_l[r] for c in range(r * width, r * width + found[r])})
            stations = dict(zip(wanted, self._table.take(wanted)))
        out: list[list[Hit]] = []
        for r in range(m):
            if not done_l[r]:
                out.append(self._query_one(sub, float(lon_a[r]), float(lat_a[r]),
                                           tuple(xyz[r].tolist()), k, max_d, None, 2 * kp))
                continue
            base = r * width
            out.append([Hit(stations[top_g_l[c]], top_d_l[c]) for c in range(base, base + found[r])])
        return out
