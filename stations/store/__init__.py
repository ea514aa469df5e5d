"""The station store: one small interface, a GeoJSON file backend, and a factory.

- ``base``: :class:`StationStore`, the interface every backend implements (its docstring states
  units, reference system and the concurrency contract), and :class:`StoreTransaction`.
- ``query``: :class:`StationQuery` (checked filters) and :class:`Page` (what ``query`` answers).
- ``journal``: :class:`JournalEntry`, one change as the journal keeps it.
- ``records``: shared record logic: validation, id assignment, change sets, record versions.
- ``geojson``: :class:`GeoJSONStore`, the file backend (``files``: its disk work; ``jsonl``: its journal).
- ``factory``: :func:`open_store` from a path or URL.
"""
from .base import HISTORY_LIMIT, StationStore, StoreTransaction
from .factory import open_store
from .files import STALE_TEMPORARY_S, read_stations_text
from .geojson import LOCK_TIMEOUT_S, GeoJSONStore
from .journal import ACTIONS, JournalEntry
from .query import Page, StationQuery
from .records import (
    apply_changes, changed_fields, dumps, record_version, to_feature_collection, validate_features, validated,
)

__all__ = [
    "ACTIONS", "HISTORY_LIMIT", "LOCK_TIMEOUT_S", "STALE_TEMPORARY_S",
    "GeoJSONStore", "JournalEntry", "Page", "StationQuery", "StationStore", "StoreTransaction",
    "apply_changes", "changed_fields", "dumps", "open_store", "read_stations_text", "record_version",
    "to_feature_collection", "validate_features", "validated",
]
