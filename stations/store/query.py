"""What a store query asks for (checked once, for every backend) and the page it answers with."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ..errors import NotFound, Problem, ValidationError
from ..model import AMENITIES, KINDS, STATUSES, Station

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Page(Sequence):
    """One page of a query's answer: a sequence of stations in id order, and where it sits.

    ``total`` counts every station that matched, on all pages; ``offset`` is the position of the
    first item among them; ``limit`` the page size asked for (``None``: no limit). A ``Page`` is a
    ``Sequence`` of its items: ``len(page)``, ``page[0]``, ``for s in page``.
    """

    items: tuple[Station, ...]
    total: int
    offset: int = 0
    limit: int | None = None

    @property
    def next_offset(self) -> int | None:
        """The ``offset`` of the next page, or ``None`` when this is the last."""
        end = self.offset + len(self.items)
        return end if end < self.total else None

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):  # type: ignore[override]
        return self.items[index]

    def __iter__(self) -> Iterator[Station]:
        return iter(self.items)


def _names(name: str, value: Any, problems: list[Problem]) -> frozenset[str] | None:
    """``None``, or one name or a collection of names ("any of") as a set; a problem otherwise."""
    if value is None:
        return None
    values = (value,) if isinstance(value, str) else value
    try:
        chosen = frozenset(values)
    except TypeError:
        chosen = frozenset([value])
    if not all(isinstance(v, str) for v in chosen):
        problems.append(Problem("query", name, value, "a name or a list of names"))
        return None
    return chosen


def _one_or_many(name: str, value: Any, allowed: Iterable[str], problems: list[Problem]) -> frozenset[str] | None:
    """:func:`_names`, each one of ``allowed``."""
    chosen = _names(name, value, problems)
    allowed = tuple(allowed)
    for item in sorted(chosen or ()):
        if item not in allowed:
            problems.append(Problem("query", name, item, "one of " + ", ".join(allowed)))
    return chosen


def _bbox(value: Any, problems: list[Problem]) -> BBox | None:
    allowed = ("(minlon, minlat, maxlon, maxlat) in WGS-84 degrees, west <= east and south <= north, "
               "longitudes -180..180, latitudes -90..90")
    if value is None:
        return None
    try:
        numbers = tuple(value)
    except TypeError:
        numbers = ()
    if (len(numbers) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and math.isfinite(v) for v in numbers)):
        problems.append(Problem("query", "bbox", value, allowed))
        return None
    minlon, minlat, maxlon, maxlat = (float(v) for v in numbers)
    if not (-180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90):
        problems.append(Problem("query", "bbox", value, allowed))
        return None
    return minlon, minlat, maxlon, maxlat


@dataclass(frozen=True)
class StationQuery:
    """Checked filters of :meth:`StationStore.query`. Every given filter must hold.

    ``kinds``, ``counties``, ``statuses``: the station's value is one of them (``None``: any);
    ``amenities``: the station has every one; ``bbox``: (minlon, minlat, maxlon, maxlat), WGS-84
    degrees, edges included, not across the antimeridian. A database backend translates these
    into SQL; :meth:`matches` is the reference that the contract tests hold every backend to.
    """

    kinds: frozenset[str] | None = None
    counties: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    amenities: frozenset[str] = frozenset()
    bbox: BBox | None = None

    @classmethod
    def build(cls, *, kind: Any = None, county: Any = None, status: Any = None, amenity: Any = (),
              bbox: Any = None, counties=None) -> "StationQuery":
        """Check the arguments of ``query``: :class:`ValidationError` listing every bad one (400);
        :class:`NotFound` for a county code that ``counties`` does not know (404)."""
        problems: list[Problem] = []
        kinds = _one_or_many("kind", kind, KINDS, problems)
        statuses = _one_or_many("status", status, STATUSES, problems)
        amenities = _one_or_many("amenity", amenity or (), AMENITIES, problems) or frozenset()
        codes = _names("county", county, problems)
        box = _bbox(bbox, problems)
        if problems:
            raise ValidationError(problems)
        if codes is not None and counties is not None:
            unknown = sorted(codes - set(counties.codes))
            if unknown:
                raise NotFound(f"no county with code {unknown[0]!r}; known: {', '.join(counties.codes)}")
        return cls(kinds=kinds, counties=codes, statuses=statuses, amenities=amenities, bbox=box)

    def matches(self, station: Station) -> bool:
        """Whether ``station`` passes every filter."""
        if self.kinds is not None and station.kind not in self.kinds:
            return False
        if self.statuses is not None and station.status not in self.statuses:
            return False
        if self.counties is not None and station.county_code not in self.counties:
            return False
        if self.amenities and not self.amenities.issubset(station.amenities):
            return False
        if self.bbox is not None:
            minlon, minlat, maxlon, maxlat = self.bbox
            if not (minlon <= station.lon <= maxlon and minlat <= station.lat <= maxlat):
                return False
        return True


def check_paging(limit: Any, offset: Any) -> None:
    """:class:`ValidationError` (400) naming ``limit`` or ``offset`` unless both are whole numbers
    >= 0 (``limit`` may be ``None``: no limit)."""
    problems = []
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        problems.append(Problem("query", "limit", limit, "a whole number >= 0, or None for no limit"))
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        problems.append(Problem("query", "offset", offset, "a whole number >= 0"))
    if problems:
        raise ValidationError(problems)


def paginate(stations: Sequence[Station], limit: int | None, offset: int) -> Page:
    """The page of ``stations`` (all matches, in id order) at ``offset``, at most ``limit`` long."""
    end = None if limit is None else offset + limit
    return Page(items=tuple(stations[offset:end]), total=len(stations), offset=offset, limit=limit)
