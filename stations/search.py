"""Finding stations by what someone typed: every word in the station's name, address, county, host or id.

Shared by the directory's search box (``/list?q=``) and the place search (``/api/places``), which looks for
stations first and asks the geocoder only when no station matches.
"""
from __future__ import annotations

from typing import Iterable

from .model import Station

__all__ = ["words", "matches_text", "find"]


def words(text: str) -> list[str]:
    """The words of ``text``, case-folded (split on white space)."""
    return text.casefold().split()


def matches_text(station: Station, wanted: Iterable[str], county: str = "") -> bool:
    """Whether every word of ``wanted`` (case-folded) occurs in the station's name, address, county name,
    host or id."""
    hay = " ".join([station.name, station.address or "", county, station.host or "", station.id]).casefold()
    return all(word in hay for word in wanted)


def find(stations: Iterable[Station], text: str, county_names: dict[str, str] | None = None,
         limit: int | None = None) -> list[Station]:
    """The stations matching every word of ``text``, those whose name holds the whole text first, then by
    name; at most ``limit``. No words: none."""
    wanted = words(text)
    if not wanted:
        return []
    names = county_names or {}
    found = [s for s in stations if matches_text(s, wanted, names.get(s.county_code or "", ""))]
    whole = text.strip().casefold()
    found.sort(key=lambda s: (whole not in s.name.casefold(), s.name, s.id))
    return found if limit is None else found[:limit]
