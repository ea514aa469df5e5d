"""Coverage analyses off the request path: a bounded pool, a time budget, 503 while computing.

An analysis with new parameters costs 0.1-1 s of CPU (more on large data); the rest of the site
answers in milliseconds. So analyses run in a small pool (``COVERAGE_WORKERS``, default one niced
child process per server process: CPU-bound numpy/shapely work there neither holds the server's
GIL nor outranks the cheap requests for the CPU), a request waits for its analysis at most
``COVERAGE_TIME_BUDGET_S`` and then answers 503 with ``Retry-After`` while the analysis goes on;
its result lands in the app's cache (``web.state``), so the retry is served at once. At most
``COVERAGE_QUEUE_MAX`` analyses are queued or running and at most that many requests wait per
server process; beyond that a request answers 503 at once. The same parameters asked for again
while their analysis runs wait for that one analysis (one per store version and parameters).

Measured (2 cores, two processes each spinning a Python loop while an analysis runs beside it):
an analysis in a thread of the same process leaves them 66 % of their quiet throughput, in a
child process at nice 10 about 100 %.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import weakref
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, Response, current_app, render_template
from werkzeug.exceptions import ServiceUnavailable

from stations import report
from stations.counties import Counties
from stations.coverage import COVERING_KINDS, analyse
from stations.store import StationStore, open_store

from . import errors

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait before it asks again (``Retry-After``).
RETRY_AFTER_S = 3
#: Niceness added to the analysis processes: the server's own processes come first.
NICE_INCREMENT = 10


class Computing(ServiceUnavailable):
    """503: the answer is being computed (or the queue is full); ask again after ``retry_after`` s."""


# ---- the job (runs in the pool: a child process, or a thread) ----------------------------------

@dataclass(frozen=True)
class CoverageJob:
    """What an analysis needs; plain values, so it pickles to a child process."""

    stations_path: str  # the store: a file path or a database URL (STORE_URL)
    counties_path: str
    radius_m: float
    new_sites: int
    include_planned: bool
    county: str | None
    max_candidates: int
    max_demand_points: int
    kinds: tuple[str, ...] = COVERING_KINDS  # the kinds that count towards coverage (``covering_kinds``)
    water_mask_path: str | None = None  # WATER_MASK_PATH: water taken out of the land
    processes: int = 1  # the analysis shares many counties out over this many processes (``analyse(workers=)``)
    cache_dir: str | None = None  # a serving process: the answers kept there as files (``web.coverage_files``)


_opened: dict[tuple[str, str], tuple[Counties, StationStore]] = {}
_opened_lock = threading.Lock()


def _open(stations_path: str, counties_path: str) -> tuple[Counties, StationStore]:
    """The counties and the store of these paths, opened once per process (the store re-reads on change)."""
    key = (stations_path, counties_path)
    with _opened_lock:
        if key not in _opened:
            counties = Counties.load(counties_path)
            _opened[key] = (counties, open_store(stations_path, counties=counties))
        return _opened[key]


_water: dict[tuple, Any] = {}


def water_mask(path: str | None):
    """The water mask in ``path`` (``stations.water.load_water``), read once per process and file version."""
    if path is None:
        return None
    from stations.water import load_water

    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    with _opened_lock:
        if key not in _water:
            _water.clear()
            _water[key] = load_water(path)
        return _water[key]


def run_coverage(job: CoverageJob) -> tuple[str, dict[str, Any]]:
    """(store version, answers): the ``/api/coverage`` JSON and the gaps before and after new sites.

    With ``job.cache_dir``, the answers of the store's version are read from its file if another
    process wrote it (one computes, under a lock, the others wait and read), else computed and written.
    """
    if job.cache_dir is None:
        return _compute(job)
    from . import coverage_files

    with coverage_files.computing(job.cache_dir, job):
        _, store = _open(job.stations_path, job.counties_path)
        version = store.version
        found = coverage_files.load(job.cache_dir, job, version)
        if found is not None:
            return version, found[0]
        version, answers = _compute(job)
        return version, coverage_files.store(job.cache_dir, job, version, answers)


def _compute(job: CoverageJob) -> tuple[str, dict[str, Any]]:
    counties, store = _open(job.stations_path, job.counties_path)
    water = water_mask(job.water_mask_path)
    for _ in range(5):  # the file may change while it is read: the version must be the one analysed
        version = store.version
        stations = store.all()
        if store.version == version:
            break
    result = analyse(counties, stations, radius_m=job.radius_m, include_planned=job.include_planned,
                     new_sites=job.new_sites, county=job.county, max_candidates=job.max_candidates,
                     max_demand_points=job.max_demand_points, kinds=job.kinds, water=water,
                     workers=job.processes)
    answers = {"data": result.to_dict(), "gaps": result.gaps_geojson(after=False),
               "gaps_after": result.gaps_geojson(after=True) if job.new_sites else None,
               "facts": {**report.store_facts(stations), "version": version}}  # for the reports' info
    return version, answers


def _lower_priority() -> None:
    try:
        os.nice(NICE_INCREMENT)
    except OSError:  # not permitted here: run at the server's priority
        pass


# ---- the pool ------------------------------------------------------------------------------------

class Background:
    """One per app: the executor, the analyses in flight, and the count of waiting requests."""

    def __init__(self, kind: str, workers: int, queue_max: int):
        self.kind, self.workers, self.queue_max = kind, workers, queue_max
        self._executor: Executor | None = None
        self._pending: dict[Any, Future] = {}
        self._waiting = 0
        self._lock = threading.RLock()  # a done future runs its callback at once, in the adding thread

    def _new_executor(self) -> Executor:
        if self.kind == "thread":
            return ThreadPoolExecutor(self.workers, thread_name_prefix="yizhan-coverage")
        # forkserver: children start from a clean, single-threaded server process with the analysis
        # modules imported once (fork from a threaded server is unsafe; spawn re-imports per pool).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_lower_priority)

    def run(self, key: Any, fn: Callable[[Any], Any], arg: Any, budget_s: float,
            on_done: Callable[[Any], None], on_start: Callable[[], None] | None = None) -> Any:
        """``fn(arg)`` in the pool, once per ``key`` at a time; its value, or :class:`Computing`.

        ``on_done(value)`` is called when the job finishes (also after the request gave up);
        ``on_start()`` when this request started a new job.
        """
        with self._lock:
            future = self._pending.get(key)
            if future is None:
                if len(self._pending) >= self.queue_max:
                    raise _busy("the server is busy with other analyses")
                future = self._submit(fn, arg)
                self._pending[key] = future
                future.add_done_callback(lambda f: self._finished(key, f, on_done))
                if on_start is not None:
                    on_start()
            waiting = not future.done()
            if waiting:
                if self._waiting >= self.queue_max:
                    raise _busy("this analysis is being computed")
                self._waiting += 1
        try:
            return future.result(timeout=budget_s)
        except FutureTimeout:
            raise _busy("this analysis is being computed") from None
        except BrokenProcessPool:
            with self._lock:
                self._executor = None  # a child died (killed, out of memory): the next job starts a new pool
            raise _busy("the analysis was interrupted") from None
        finally:
            if waiting:
                with self._lock:
                    self._waiting -= 1

    def start(self, key: Any, fn: Callable[[Any], Any], arg: Any, on_done: Callable[[Any], None]) -> bool:
        """``fn(arg)`` in the pool without waiting for it (a precomputation); ``on_done(value)`` when it
        ends. Whether it was started: not when the same ``key`` is running or the queue is full."""
        with self._lock:
            if key in self._pending or len(self._pending) >= self.queue_max:
                return False
            future = self._submit(fn, arg)
            self._pending[key] = future
            future.add_done_callback(lambda f: self._finished(key, f, on_done))
        return True

    def _submit(self, fn, arg) -> Future:
        if self._executor is None:
            self._executor = self._new_executor()
        try:
            return self._executor.submit(fn, arg)
        except BrokenProcessPool:
            self._executor = self._new_executor()
            return self._executor.submit(fn, arg)

    def _finished(self, key: Any, future: Future, on_done: Callable[[Any], None]) -> None:
        try:
            if not future.cancelled() and future.exception() is None:
                on_done(future.result())
            elif not future.cancelled():
                log.warning("background analysis %r failed: %r", key, future.exception())
        except Exception:
            log.exception("storing the result of %r failed", key)
        finally:
            with self._lock:
                if self._pending.get(key) is future:
                    del self._pending[key]

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _busy(why: str) -> Computing:
    return Computing(f"{why}; retry in {RETRY_AFTER_S} s: the answer is kept once computed",
                     retry_after=RETRY_AFTER_S)


def background() -> Background:
    return current_app.extensions["yizhan.background"]


# ---- answers ---------------------------------------------------------------------------------

def computing_page(exc: Computing) -> Response:
    """503 while computing: JSON under /api (``web.errors``), else a page that reloads itself."""
    if errors.wants_json():
        return errors.handle_http_error(exc)
    try:
        html = render_template("computing.html", retry_after=exc.retry_after or RETRY_AFTER_S,
                               message=exc.description)
    except Exception:  # outside the planner's pages (no strings): the site's plain error page
        log.exception("computing.html failed to render")
        return errors.handle_http_error(exc)
    response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(math.ceil(exc.retry_after or RETRY_AFTER_S))
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """A :class:`Background` for ``app`` (its pool starts with the first analysis) and the 503 page."""
    config = app.config
    bg = Background(config["COVERAGE_EXECUTOR"], config["COVERAGE_WORKERS"], config["COVERAGE_QUEUE_MAX"])
    app.extensions["yizhan.background"] = bg
    weakref.finalize(app, bg.shutdown)
    app.register_error_handler(Computing, computing_page)
