"""Who a station serves: named sets of stations that the map offers by default.

A worker passing by wants somewhere to drink and rest, not a convalescence base for model workers.
``passing_worker`` is that set: every rest station (户外劳动者驿站, which exist for them), and the
workers' cultural palaces that offer drinking water. The other kinds stay a filter away (``kind=``).

``SERVES`` maps a name to its test (a plain function of a :class:`~stations.model.Station`); the
catalogue holds a label (``serves.<name>``) and what the set contains (``serves.<name>.contains``),
which the pages show above the list.
"""
from __future__ import annotations

from typing import Callable

from .model import Station

__all__ = ["SERVES", "serves"]


def _passing_worker(station: Station) -> bool:
    return station.kind == "rest_station" or (
        station.kind == "cultural_palace" and "drinking_water" in station.amenities)


#: name -> whether a station belongs to the set
SERVES: dict[str, Callable[[Station], bool]] = {
    "passing_worker": _passing_worker,
}


def serves(station: Station, name: str | None) -> bool:
    """Whether ``station`` is in the set ``name`` (``None``: every station). ``KeyError`` for an unknown name."""
    return True if name is None else SERVES[name](station)
