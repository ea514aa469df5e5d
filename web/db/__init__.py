"""The accounts database in the site: one :class:`~web.db.engine.Database` per app, a session per request.

Plain SQLAlchemy 2 rather than Flask-SQLAlchemy: the command line (``yizhan user``, ``token``, ``db``)
uses the same models and engine without building the site, the models do not depend on Flask,
and the station store's PostGIS backend is plain SQLAlchemy too.

- ``engine``: :class:`Database` (engine and sessions) from ``DATABASE_URL``.
- ``models``: the tables (users, user_counties, api_tokens, sign_ins, reports).
- ``migrate``: Alembic migrations (``upgrade``, ``current_revision``, ``head_revision``).

In a request, :func:`session` gives the request's session (made on first use, closed when the
request ends); work that must be kept is committed by the code that did it. :func:`init_app`
connects nothing: the engine connects on first use. The public pages only read which stations have
open workers' reports ("reported on <date>", ``web.reports.public``: at most every few seconds per
process, and a database that cannot be read shows no badge rather than an error). A database out of
reach, or not yet migrated, answers 503 (logged, naming the database without its password).
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from stations.errors import StoreUnavailable

from .engine import Database, redacted

log = logging.getLogger(__name__)

__all__ = ["Database", "database", "init_app", "session"]

_SESSION = "yizhan_db_session"


def database() -> Database:
    """The running app's accounts database."""
    return current_app.extensions["yizhan.db"]


def session() -> Session:
    """This request's (or app context's) session, closed when it ends."""
    opened = g.get(_SESSION)
    if opened is None:
        opened = database().session()
        setattr(g, _SESSION, opened)
    return opened


def _close_session(_exc: BaseException | None = None) -> None:
    opened = g.pop(_SESSION, None)
    if opened is not None:
        opened.close()


def _unavailable(exc: sa.exc.SQLAlchemyError):
    from ..errors import handle_domain_error

    source = redacted(database().url)
    text = str(exc).splitlines()[0][:300]
    missing = "no such table" in text or "does not exist" in text
    log.error("accounts database %s: %s%s", source, text,
              "; its tables are missing: run `yizhan db upgrade`" if missing else "")
    return handle_domain_error(StoreUnavailable("the accounts database cannot be used now", source))


def init_app(app: Flask) -> None:
    """The accounts database of ``app`` (``DATABASE_URL``): no connection is made here."""
    app.extensions["yizhan.db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)
    for error in (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.InterfaceError):
        app.register_error_handler(error, _unavailable)
