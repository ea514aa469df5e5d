"""Whole stores in and out: :func:`load` a file's features (in batches), :func:`dump` the file's text.

``yizhan db load FILE`` and ``yizhan db dump --format geojson`` are thin wrappers over these.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ...errors import InvalidRecord
from ..base import StationStore
from ..records import dumps, validate_features
from .store import BATCH_SIZE, PostGISStore


def load(store: StationStore, features: Any, batch_size: int = BATCH_SIZE,
         progress: Callable[[int, int], None] | None = None, *, who: str = "",
         members: Mapping[str, Any] | None = None, note: str | None = None) -> int:
    """Replace every station of ``store`` with ``features`` (GeoJSON Features, WGS-84); the count.

    All of them are validated first with the store's counties (:class:`InvalidRecord` listing every
    problem; nothing written). A database store then writes them in one transaction, by COPY in
    batches of ``batch_size``, calling ``progress(written, total)`` after each; any other store
    writes them with ``save_all``. One ``replace_all`` journal entry. ``members``: the collection's
    foreign members (``name``...), default: keep the store's.
    """
    stations, problems = validate_features(features, store.counties)
    if problems:
        raise InvalidRecord(problems)
    if isinstance(store, PostGISStore):
        store.replace_validated(stations, who, members, note=note, batch_size=batch_size, progress=progress)
    else:
        store.save_all(stations, who, members)
        if progress is not None:
            progress(len(stations), len(stations))
    return len(stations)


def dump(store: StationStore) -> str:
    """The store as the file store writes it: its FeatureCollection (by id, with its members) as
    ``stations.store.records.dumps`` formats it. Loaded into a file store and dumped again, it is
    byte for byte the same."""
    return dumps(store.to_geojson())
