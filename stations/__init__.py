"""Yizhan's domain: stations, their store, coordinates, counties, nearest lookup and coverage.

This package imports no Flask; ``web`` is a thin layer over it.
"""
from .errors import Conflict, NotFound, Problem, StaleVersion, StoredDataError, ValidationError, YizhanError
from .model import AMENITIES, KINDS, STATUSES, Station

__all__ = [
    "AMENITIES", "KINDS", "STATUSES", "Station",
    "Conflict", "NotFound", "Problem", "StaleVersion", "StoredDataError", "ValidationError", "YizhanError",
]
