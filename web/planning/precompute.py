"""The planner's default view computed ahead of the planners, and the last figures shown while new ones come.

An analysis takes seconds for a city and about a minute for the whole country; the planner's page
must answer within its time budget (``COVERAGE_TIME_BUDGET_S``) all the same:

- **Ahead of time.** When a server process (``yizhan serve``: ``web.state.warm_up`` marks it
  ``AppState.serving``) sees a store version it has not seen (at its start, and at the first request
  after any server's change, through ``AppState.on_new_version``), it starts the analysis of
  ``/planning``'s default view in the background pool (``Background.start``: it does not wait), at most
  once per ``COVERAGE_PRECOMPUTE_S`` (60 s; ``0``: never): a change within the interval is picked up by a
  timer when it ends. So the
  first planner of the day, or after a change, finds the figures ready (``AppState.offer`` keeps them
  for that version).
- **The last figures meanwhile.** When the current version's figures are not ready within
  ``STALE_WAIT_S``, the page shows the last ones computed (``AppState.last``: an earlier version's)
  with their age, "数据更新于 5 分钟前，正在重新计算" (:func:`stale_notice`), instead of a 503; a
  reload shows the new ones once computed. The API and the downloads still wait or answer 503: what
  they give is always the current version's.

A server's processes share the answers through files in the instance folder (``web.coverage_files``):
one computes them (the pool's children are niced: requests come first), the others and the next
start read them; after a restart the newest file of an earlier version is the last figures shown.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from flask import Flask, current_app, g

from .. import i18n
from ..background import background, run_coverage
from ..state import Kept, state

log = logging.getLogger(__name__)

#: at most one precomputation per server process per this many seconds (a busy store changes often);
#: the ``COVERAGE_PRECOMPUTE_S`` setting (``0``: none)
INTERVAL_S = 60.0
#: how long the planner's page waits for new figures before showing the last ones with their age
STALE_WAIT_S = 1.0


def processes() -> int:
    """Processes an analysis may share a national set of counties out over (``analyse(workers=)``):
    the CPUs, from a (niced) child of the process pool; one where analyses run in threads."""
    return (os.cpu_count() or 1) if current_app.config.get("COVERAGE_EXECUTOR") == "process" else 1


def default_query():
    """``/planning`` without parameters, as its request model reads it (radius rounded, defaults)."""
    from werkzeug.datastructures import MultiDict

    from ..requests.layer import RequestContext
    from .parameters import PlanningQuery

    return PlanningQuery.from_args(MultiDict(), RequestContext())


def start(app: Flask) -> bool:
    """Start the default view's analysis of the store's current version, unless it is there or running."""
    from .routes import coverage_job, coverage_key, from_files

    with app.app_context():
        st = state()
        p = default_query()
        key = coverage_key(p)
        version = st.store.version
        if st.peek(key) is not None or from_files(p, version, stale_ok=True) is not None:
            return False
        started = background().start((version, key), run_coverage, coverage_job(p),
                                     on_done=lambda done: st.offer(done[0], key, done[1]))
    if started:
        log.info("precomputing the planner's default view for store version %s", version)
    return started


class _Schedule:
    """When this process last started a precomputation, and the timer that will start the next one."""

    def __init__(self, interval_s: float) -> None:
        self.lock = threading.Lock()
        self.interval_s = interval_s
        self.last = -interval_s
        self.timer: threading.Timer | None = None


def _start_logged(app: Flask) -> None:
    try:
        start(app)
    except Exception:  # noqa: BLE001 - never a request's failure; the page computes on demand
        log.exception("the planner's default view could not be precomputed")


def _when_due(app: Flask, schedule: _Schedule) -> None:
    with schedule.lock:
        schedule.timer, schedule.last = None, time.monotonic()
    _start_logged(app)


def on_new_version(app: Flask, version: str) -> None:
    """``AppState``'s listener: a server process saw a new store version."""
    if not app.extensions["yizhan"].serving:
        return  # the command line, tests: no background work
    interval_s = float(app.config.get("COVERAGE_PRECOMPUTE_S", INTERVAL_S))
    if interval_s <= 0:
        return  # switched off: the first planner after a change computes it
    schedule: _Schedule = app.extensions.setdefault("yizhan.precompute", _Schedule(interval_s))
    with schedule.lock:
        wait_s = schedule.last + schedule.interval_s - time.monotonic()
        if wait_s > 0:  # started one a moment ago: the latest version then, when the interval ends
            if schedule.timer is None:
                schedule.timer = threading.Timer(wait_s, _when_due, (app, schedule))
                schedule.timer.daemon = True
                schedule.timer.start()
            return
        schedule.last = time.monotonic()
    _start_logged(app)


def stale(kept: Kept) -> dict[str, Any]:
    """The last answers, for this request's page, which says how old they are (:func:`stale_notice`)."""
    g.coverage_stale = kept.made_at
    return kept.value


def stale_notice() -> str | None:
    """"数据更新于 5 分钟前，正在重新计算" when this request shows earlier figures, else ``None``."""
    made_at = g.get("coverage_stale")
    if made_at is None:
        return None
    lang = i18n.get_lang()
    minutes = int(max(0.0, time.time() - made_at) // 60)
    if minutes < 1:
        age = i18n.translate("planning.stale.under_a_minute", lang)
    elif minutes < 120:
        age = i18n.translate("planning.stale.minutes", lang, n=minutes)
    else:
        age = i18n.translate("planning.stale.hours", lang, n=minutes // 60)
    return i18n.translate("planning.stale", lang, age=age)


def register(app: Flask) -> None:
    """Listen for new store versions; give the planner's template :func:`stale_notice`."""
    app.extensions["yizhan"].on_new_version(lambda version: on_new_version(app, version))
    app.context_processor(lambda: {"planning_stale": stale_notice})
