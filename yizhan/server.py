"""``yizhan serve``: gunicorn running the site object that ``web.create_app(config)`` builds, in each worker.

No import string: :class:`SiteServer` is a ``gunicorn.app.base.BaseApplication`` whose ``load()``
calls ``create_app`` with the command line's settings (the rest comes from ``YIZHAN_*`` variables,
as for the site itself). ``yizhan serve`` checks the settings and the data files before gunicorn
starts, so a bad value stops it with one message instead of a loop of failing workers.

gthread workers: a request waiting for a background analysis (``web.background``) holds one of its
worker's threads, not the whole worker, so cheap requests go on being served.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from typing import Any, Mapping

from gunicorn.app.base import BaseApplication

from web.settings import SERVER_REQUEST_LINE_MAX

#: gunicorn's request limits, set deliberately: what exceeds them gets gunicorn's own short HTML answer
#: (414, 431) that the app never sees. The request line is at gunicorn's maximum, so that the app's own
#: limit (``MAX_URL_LENGTH``, 4,096 bytes by default) answers over-long URLs first, in the site's format.
REQUEST_LIMITS = {"limit_request_line": SERVER_REQUEST_LINE_MAX, "limit_request_fields": 100,
                  "limit_request_field_size": 8190}
#: Seconds a worker may go silent, its start included: gunicorn's own default. A worker is ready in a
#: few seconds also at national scale (186,100 stations: the file store's validated cache, or the
#: database's columns; ``scripts/bench_startup.py``), and a file store is validated once before the
#: workers start (:func:`prepare_store`).
DEFAULT_TIMEOUT_S = 30
WORKER_CLASSES = ("gthread", "sync")  # sync only to compare against (scripts/bench_http.py)
#: Options that older gunicorn versions do not know (left out there).
NEWER_OPTIONS = frozenset({"control_socket_disable"})


log = logging.getLogger(__name__)

_PREPARE = """
import sys
from stations.counties import Counties
from stations.store import open_store
open_store(sys.argv[1], Counties.load(sys.argv[2])).version
"""


def prepare_store(store_url: str, counties_path: str) -> str | None:
    """Before the workers start: read (validate) a file store once and leave its cache beside it, so that
    every worker starts from the cache in a fraction of a second. A database store needs nothing.

    It runs in a child process: gunicorn forks the workers from this one, and every worker would hold
    whatever the master had read. Returns what went wrong (the store's own message), or ``None``; a
    store that cannot be read does not stop the server (its pages say so until the file is fixed).
    """
    from stations.store.factory import DATABASE_SCHEMES

    scheme, sep, _ = str(store_url).partition("://")
    if sep and scheme.lower() in DATABASE_SCHEMES:
        return None
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _PREPARE, str(store_url), str(counties_path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    log.info("store %s read in %.1f s before the workers start", store_url, time.monotonic() - started)
    return None


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for a host name or an IPv4/IPv6 address."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def gunicorn_options(host: str, port: int, workers: int = 2, threads: int = 4, *,
                     timeout_s: int = DEFAULT_TIMEOUT_S, worker_class: str = "gthread", access_log: bool = True,
                     log_level: str = "info") -> dict[str, Any]:
    """gunicorn's settings for ``yizhan serve``.

    gunicorn's own handling of forwarded headers is off (no peer is trusted for ``X-Forwarded-*``,
    no header makes a request secure): the app's ``PROXY_COUNT`` setting is the one place that
    decides whom to trust (``web.hosts.trust_proxies``). gunicorn's control socket (one fixed path
    per user, ``~/.gunicorn/gunicorn.ctl``) is off: unused here, and two servers would share it.
    """
    options = {
        "bind": [bind_address(host, port)], "workers": workers, "worker_class": worker_class,
        "timeout": timeout_s, "accesslog": "-" if access_log else None, "loglevel": log_level,
        "forwarded_allow_ips": "", "secure_scheme_headers": {}, "control_socket_disable": True, **REQUEST_LIMITS,
    }
    if worker_class == "gthread":  # (gunicorn would turn sync workers with threads into gthread ones)
        options["threads"] = threads
    return options


#: What every worker imports to build the app. The master imports them once before it forks the workers,
#: so a worker (a new one too, after a crash or a timeout) starts by building the app, not by importing.
PRELOADED_MODULES = (
    "numpy", "stations.kdtree", "shapely", "pyproj", "sqlalchemy", "flask", "stations.nearest", "stations.coverage",
    "stations.store.table", "stations.store.tablecache", "web", "web.api", "web.pages", "web.planning",
    "web.background", "web.state", "web.auth", "web.db", "web.manage", "web.signin", "web.write_api",
    "web.security", "web.limits", "web.errors", "web.hosts", "web.i18n", "web.ogc", "web.reports", "web.lookups",
    "web.markers",
)


def preload_modules(names=PRELOADED_MODULES) -> None:
    """Import ``names`` (one that fails is left for the worker, which reports it)."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the worker imports it again and says what is wrong
            log.debug("not preloaded: %s (%s)", name, exc)


class SiteServer(BaseApplication):
    """gunicorn serving ``web.create_app(app_config)``; each worker builds its own app.

    The master imports the app's modules before forking (:func:`preload_modules`); each worker builds
    its app and makes it ready before it takes requests (``web.state.warm_up``: the store read, the
    nearest index built, the start's objects frozen out of the garbage collector's way).
    """

    def __init__(self, app_config: Mapping[str, Any], options: Mapping[str, Any], preload: bool = True):
        self.app_config = dict(app_config)
        self.options = dict(options)
        if preload:
            preload_modules()
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings or key not in NEWER_OPTIONS:
                self.cfg.set(key, value)

    def load(self):
        from web import create_app
        from web.state import warm_up

        app = create_app(self.app_config)
        warm_up(app)
        return app


def serve_command(host: str, port: int, workers: int = 2, threads: int = 4, *,
                  worker_class: str = "gthread", access_log: bool = True, log_level: str = "info",
                  timeout_s: int = DEFAULT_TIMEOUT_S, instance_secret_key: bool = True) -> list[str]:
    """The command that starts ``yizhan serve`` in a subprocess (tests and the HTTP benchmark).

    Settings reach it as ``YIZHAN_*`` variables in the subprocess's environment. A local run:
    without ``SECRET_KEY`` the instance folder's key signs the sessions (``--instance-secret-key``).
    """
    cmd = [sys.executable, "-m", "yizhan", "serve", "--host", host, "--port", str(port),
           "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
           "--timeout", str(timeout_s), "--log-level", log_level]
    return cmd + ([] if access_log else ["--no-access-log"]) + (["--instance-secret-key"] if instance_secret_key else [])
