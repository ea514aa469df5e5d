"""Per-app domain objects: the store, the counties, and indexes keyed on the store's version."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, NamedTuple

from flask import Flask, current_app

from stations.counties import Counties
from stations.store import open_store

log = logging.getLogger(__name__)

class _Build:
    """One build of a cache entry in progress: the threads asking for the same key wait on it."""

    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        """Wait for the build; its value, or its exception raised again."""
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


class _Nearest(NamedTuple):
    """The nearest index of one store version: ``index`` answers; ``base`` is the index built from a
    table (``index`` itself, or the base a ``PatchedIndex`` patches) and ``mark`` where its changes start."""

    version: str
    index: Any
    base: Any
    mark: Any


class Kept(NamedTuple):
    """A result offered for a store version, kept after that version has passed (``AppState.last``)."""

    version: str
    made_at: float  # time.time() when it was offered
    value: Any


class AppState:
    """Holds the store and caches derived data (nearest index, coverage) per store version.

    Every lookup reads the store's version (a file store: a ``stat``; a database: one read of a
    one-row table), so a change made by another process or server is seen by the next request here.
    The first lookup that sees a new version calls the functions registered with
    :meth:`on_new_version` (the planner's precomputation).
    """

    #: at most this many derived results are kept (coverage results hold geometry: bound memory)
    MAX_ENTRIES = 24
    #: results offered (``offer``) kept past their version, for ``last``: the newest few
    MAX_KEPT = 8

    def __init__(self, store_url: str, counties_path: str):
        self.counties = Counties.load(counties_path)
        self.store = open_store(store_url, counties=self.counties)  # a file path or a database URL
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Any, _Build] = {}
        self._kept: OrderedDict[Any, Kept] = OrderedDict()
        self._seen: str | None = None
        self._listeners: list[Callable[[str], None]] = []
        #: set by ``warm_up``: this process serves requests (``yizhan serve``), so background work may start
        self.serving = False
        self._nearest: _Nearest | None = None
        self._nearest_lock = threading.Lock()
        self._rebasing = False

    def on_new_version(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(version)`` whenever a lookup sees a store version it had not seen (errors logged)."""
        self._listeners.append(listener)

    def _version(self) -> str:
        version = self.store.version
        if version != self._seen:
            with self._lock:
                new, self._seen = version != self._seen, version
            if new:
                for listener in list(self._listeners):
                    try:
                        listener(version)
                    except Exception:  # noqa: BLE001 - a listener's failure must not fail the request
                        log.exception("a listener for store version %s failed", version)
        return version

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per (store version, key); old versions dropped, least recently used evicted.

        Two threads asking for the same missing key build it once: the second waits for the first
        and gets its value. If the build raises, every thread that waited for it gets the same
        exception (as ``concurrent.futures.Future.result()`` does): a build that fails, say on an
        unreadable store, is not repeated once per waiting request. A failure is not cached: the
        next call after it builds again.
        """
        version = self._version()
        full = (version, key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
            running = self._building.get(full)
            leader = running is None
            if leader:
                running = self._building[full] = _Build()
        if not leader:
            return running.result()
        try:
            running.value = build()
        except BaseException as exc:
            running.error = exc
            raise
        else:
            with self._lock:
                for old in [k for k in self._cache if k[0] != version]:
                    del self._cache[old]
                self._cache[full] = running.value
                while len(self._cache) > self.MAX_ENTRIES:
                    self._cache.popitem(last=False)
        finally:
            with self._lock:
                self._building.pop(full, None)  # success or failure: no build entry outlives its build
            running.done.set()
        return running.value

    def peek(self, key: Any, default: Any = None) -> Any:
        """The cached value of ``key`` for the current store version, or ``default`` (builds nothing)."""
        full = (self._version(), key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        return default

    def last(self, key: Any) -> Kept | None:
        """The newest value offered for ``key`` (of this or an earlier store version), or ``None``."""
        with self._lock:
            return self._kept.get(key)

    def offer(self, version: str, key: Any, value: Any, made_at: float | None = None) -> bool:
        """Keep ``value``, computed elsewhere from store ``version``, if that is still the current one.

        Whether current or not, it is also kept as ``key``'s last value (:meth:`last`), unless a newer
        one is kept already: what a page may show, with its age (``made_at``, ``time.time()`` by
        default: now), while the current one is computed.
        """
        with self._lock:
            known = self._kept.get(key)
            if known is None or known.version != version:
                self._kept[key] = Kept(version, time.time() if made_at is None else made_at, value)
                self._kept.move_to_end(key)
                while len(self._kept) > self.MAX_KEPT:
                    self._kept.popitem(last=False)
        if version != self._version():
            return False  # the data changed meanwhile: the value is stale
        with self._lock:
            for old in [k for k in self._cache if k[0] != version]:
                del self._cache[old]
            self._cache[(version, key)] = value
            self._cache.move_to_end((version, key))
            while len(self._cache) > self.MAX_ENTRIES:
                self._cache.popitem(last=False)
        return True

    #: a store that tells its changes (``store.changes(mark)``: PostGIS) is answered from the last index
    #: built and the stations changed since, up to this many of them; past it, the index is built again
    PATCH_MAX = 5000
    #: from this many changed stations on, a new index is built in the background (the patch keeps
    #: answering meanwhile)
    REBASE_AFTER = 300

    def nearest_index(self):
        """The nearest index of the store's current version.

        Built from the store's columns (``store.table()``: a national store's worker holds ids, positions
        and filter codes, not 186,100 records). After a change, a store that tells its changes (PostGIS)
        is answered from the last index built and the stations changed since (a
        ``stations.nearest_patch.PatchedIndex``: the same answers, milliseconds to make), so that editors
        writing several times a second never make a request wait for a national rebuild.
        """
        version = self._version()
        current = self._nearest
        if current is not None and current.version == version:
            return current.index
        with self._nearest_lock:  # one thread builds; the others wait for it, then take its index
            current = self._nearest
            if current is not None and current.version == self.store.version:
                return current.index
            patched = self._patch(current) if current is not None else None
            if patched is not None:
                return patched.index
            return self._build_nearest().index

    def _build_nearest(self) -> _Nearest:
        from stations.nearest import NearestIndex

        version = self.store.version
        table = self.store.table()
        base = NearestIndex.from_table(table)
        self._nearest = _Nearest(table.version or version, base, base, table.mark)
        return self._nearest

    def _patch(self, current: _Nearest) -> _Nearest | None:
        """``current``'s base with the changes since (``None``: the store cannot tell them cheaply)."""
        from stations.nearest_patch import PatchedIndex

        changes = getattr(self.store, "changes", None)
        if changes is None or current.mark is None:
            return None
        found = changes(current.mark, limit=self.PATCH_MAX)
        if found is None:
            return None
        version, changed = found
        index = PatchedIndex(current.base, changed) if changed else current.base
        self._nearest = _Nearest(version, index, current.base, current.mark)
        if len(changed) >= self.REBASE_AFTER and not self._rebasing:
            self._rebasing = True
            threading.Thread(target=self._rebase, name="yizhan-nearest-rebase", daemon=True).start()
        return self._nearest

    def _rebase(self) -> None:
        """In the background: a new index of the store as it is now; the next requests patch that one."""
        from stations.nearest import NearestIndex

        try:
            table = self.store.table()
            base = NearestIndex.from_table(table)
            with self._nearest_lock:
                current = self._nearest
                if current is None or current.mark is None or table.mark is None or table.mark[1] >= current.mark[1]:
                    self._nearest = _Nearest(table.version, base, base, table.mark)
            log.debug("nearest index rebuilt at store version %s", table.version)
        except Exception:  # noqa: BLE001 - the patched index goes on answering; the next change tries again
            log.exception("the nearest index could not be rebuilt in the background")
        finally:
            self._rebasing = False


def init_state(app: Flask) -> None:
    app.extensions["yizhan"] = AppState(app.config["STORE_URL"], app.config["COUNTIES_PATH"])


def state() -> AppState:
    return current_app.extensions["yizhan"]


def warm_up(app: Flask) -> None:
    """Make a server process ready before its first request (``yizhan serve`` calls it in each worker).

    The store's current version is read, its nearest index built and asked the map's question and the
    plain one (``/api/nearest``, through the app: the trees they filter on built now), so the first
    answer is as quick as the next; then the objects of the start (modules, the app, the index) are moved out of the garbage
    collector's way (``gc.freeze``: a full collection would otherwise walk them all, pausing a request
    for 100-200 ms now and then) and the memory the start freed is handed back to the system. A store
    that cannot be read now only logs: its requests say so until it is fixed.
    """
    with app.app_context():
        state().serving = True
        try:
            state().nearest_index()
            minlon, minlat, maxlon, maxlat = state().counties.bounds
        except Exception as exc:  # noqa: BLE001 - reported by every request that needs the store
            log.warning("the store could not be read at start (%s); requests will say so", exc)
            minlon = None
    if minlon is not None:  # the map's question and the plain one: their filtered trees built now, not by a worker
        client, public = app.test_client(), app.config.get("PUBLIC_URL")
        where = f"lat={(minlat + maxlat) / 2:.5f}&lon={(minlon + maxlon) / 2:.5f}"
        for extra in ("&rank=open_first&serves=passing_worker", ""):
            answer = client.get(f"/api/nearest?{where}{extra}", base_url=public or "http://localhost")
            log.debug("warm-up /api/nearest?%s%s: %s", where, extra, answer.status_code)
    gc.collect()
    gc.freeze()
    trim_memory()


def trim_memory() -> None:
    """Give memory freed by the C allocator back to the system (glibc's ``malloc_trim``; elsewhere nothing)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass
