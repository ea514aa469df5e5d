"""``yizhan serve``: gunicorn running the site object that ``web.create_app(config)`` builds, in each worker.

No import string: :class:`SiteServer` is a ``gunicorn.app.base.BaseApplication`` whose ``load()``
calls ``create_app`` with the command line's settings (the rest comes from ``YIZHAN_*`` variables,
as for the site itself). ``yizhan serve`` checks the settings and the data files before gunicorn
starts, so a bad value stops it with one message instead of a loop of failing workers.

gthread workers: a request waiting for a background analysis (``web.background``) holds one of its
worker's threads, not the whole worker, so cheap requests go on being served.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping

from gunicorn.app.base import BaseApplication

from web.settings import SERVER_REQUEST_LINE_MAX

#: gunicorn's request limits, set deliberately: what exceeds them gets gunicorn's own short HTML answer
#: (414, 431) that the app never sees. The request line is at gunicorn's maximum, so that the app's own
#: limit (``MAX_URL_LENGTH``, 4,096 bytes by default) answers over-long URLs first, in the site's format.
REQUEST_LIMITS = {"limit_request_line": SERVER_REQUEST_LINE_MAX, "limit_request_fields": 100,
                  "limit_request_field_size": 8190}
#: Seconds a worker may go silent, its start included. Each worker builds the app when it starts
#: (county outlines, store): a national-size data set takes tens of seconds today, so the default
#: stays at 120 s until the store loads fast (issue 13); gunicorn's own default is 30 s.
DEFAULT_TIMEOUT_S = 120
WORKER_CLASSES = ("gthread", "sync")  # sync only to compare against (scripts/bench_http.py)
#: Options that older gunicorn versions do not know (left out there).
NEWER_OPTIONS = frozenset({"control_socket_disable"})


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


class SiteServer(BaseApplication):
    """gunicorn serving ``web.create_app(app_config)``; each worker builds its own app."""

    def __init__(self, app_config: Mapping[str, Any], options: Mapping[str, Any]):
        self.app_config = dict(app_config)
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings or key not in NEWER_OPTIONS:
                self.cfg.set(key, value)

    def load(self):
        from web import create_app
        return create_app(self.app_config)


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
