"""The accounts database's connections: the engine from ``DATABASE_URL`` and sessions (SQLAlchemy 2).

No Flask here: the site (``web.db``) and the command line (``yizhan user``, ``yizhan token``,
``yizhan db``) open the same :class:`Database`. ``DATABASE_URL`` is checked by ``web.settings``:
``sqlite:////absolute/path.sqlite3`` (the default, in the instance folder) or
``postgresql+psycopg://user:password@host:5432/database``. A PostgreSQL URL may put the tables in
a schema of their own with libpq's ``options`` (``...?options=-csearch_path%3Dyizhan_app``): the
station store's PostGIS backend may share the database, its tables and Alembic history apart.

SQLite: foreign keys on, write-ahead log (readers do not wait for the one writer), and a writer
waits up to :data:`SQLITE_BUSY_TIMEOUT_S` for another (several gunicorn workers share the file).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

#: a writer waits this long for another before "database is locked"
SQLITE_BUSY_TIMEOUT_S = 15


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url`` (checked by ``web.settings.DatabaseUrl``); SQLite's folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = os.path.dirname(parsed.database or "")
        if folder:
            os.makedirs(folder, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                                  **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"application_name": "yizhan-web"}, **options)


class Database:
    """The accounts database of one site: an engine and its sessions (``expire_on_commit=False``: objects
    read in a request stay readable after its commit)."""

    def __init__(self, url: str, **engine_options: Any):
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends without an exception, else rolled back."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({redacted(self.url)!r})"
