"""Per-app domain objects: the store, the counties, and indexes keyed on the store's version."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

from flask import Flask, current_app

from stations.counties import Counties
from stations.store import GeoJSONStore


class AppState:
    """Holds the store and caches derived data (nearest index, coverage) per store version."""

    #: at most this many derived results are kept (coverage results hold geometry: bound memory)
    MAX_ENTRIES = 24

    def __init__(self, stations_path: str, counties_path: str):
        self.counties = Counties.load(counties_path)
        self.store = GeoJSONStore(stations_path, counties=self.counties)
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per (store version, key); old versions dropped, least recently used evicted.

        Two threads asking for the same missing key build it once: the second waits for the first.
        """
        version = self.store.version
        full = (version, key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
            key_lock = self._building.setdefault(full, threading.Lock())
        with key_lock:
            with self._lock:
                if full in self._cache:
                    return self._cache[full]
            value = build()
            with self._lock:
                for old in [k for k in self._cache if k[0] != version]:
                    del self._cache[old]
                self._cache[full] = value
                while len(self._cache) > self.MAX_ENTRIES:
                    self._cache.popitem(last=False)
                self._building.pop(full, None)
        return value

    def peek(self, key: Any, default: Any = None) -> Any:
        """The cached value of ``key`` for the current store version, or ``default`` (builds nothing)."""
        full = (self.store.version, key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        return default

    def offer(self, version: str, key: Any, value: Any) -> bool:
        """Keep ``value``, computed elsewhere from store ``version``, if that is still the current one."""
        if version != self.store.version:
            return False  # the data changed meanwhile: the value is stale
        with self._lock:
            for old in [k for k in self._cache if k[0] != version]:
                del self._cache[old]
            self._cache[(version, key)] = value
            self._cache.move_to_end((version, key))
            while len(self._cache) > self.MAX_ENTRIES:
                self._cache.popitem(last=False)
        return True

    def nearest_index(self):
        from stations.nearest import NearestIndex
        return self.cached("nearest", lambda: NearestIndex(self.store.all()))


def init_state(app: Flask) -> None:
    app.extensions["yizhan"] = AppState(app.config["STATIONS_PATH"], app.config["COUNTIES_PATH"])


def state() -> AppState:
    return current_app.extensions["yizhan"]
