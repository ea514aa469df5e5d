"""Connections of the PostGIS store: the engine from a URL, the schema, errors, migrations.

``STORE_URL`` is a SQLAlchemy URL for psycopg 3: ``postgresql+psycopg://user:password@host:5432/yizhan``
(``postgresql://`` and ``postgis://`` mean the same). A ``schema`` query parameter
(``...?schema=yizhan_stations``), or the ``schema`` option, puts the store's tables in that schema
(prepended to the connection's ``search_path``): the store can then share a database with others.

Migrations are Alembic's, in ``migrations/`` beside this module, with their own version table
``yizhan_store_version`` (never the accounts database's ``alembic_version``). :func:`upgrade` runs
them; its first migration runs ``CREATE EXTENSION IF NOT EXISTS postgis``, which needs a superuser
unless the extension exists already (a DBA runs ``CREATE EXTENSION postgis;`` once in the database).
"""
from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from ...errors import Problem, StoredDataError, StoreUnavailable, ValidationError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Alembic's version table of the station store (the accounts database keeps ``alembic_version``)
VERSION_TABLE = "yizhan_store_version"
#: the migration this code expects the database at (``upgrade`` brings it there)
SCHEMA_REVISION = "0001"
#: a write waits this long for another writer (the store-wide lock) before StoreUnavailable
LOCK_TIMEOUT_S = 30
#: key of the transaction-level advisory lock that serialises concurrent ``upgrade`` runs
UPGRADE_LOCK_KEY = 0x59697A68616E  # "Yizhan"
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SCHEMES = {"postgresql+psycopg", "postgresql", "postgis"}
ALLOWED = "postgresql+psycopg://user@host:5432/database, optionally ?schema=NAME"


def redacted(url: str | URL) -> str:
    """``url`` without its password, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def parse_url(url: str, schema: str | None = None) -> tuple[URL, str | None]:
    """(the SQLAlchemy URL for psycopg 3, the schema) from a store URL; :class:`ValidationError`
    naming ``STORE_URL`` if it is not one."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ValidationError(Problem("store", "STORE_URL", redacted(url), f"{ALLOWED} ({exc})")) from None
    if parsed.drivername not in _SCHEMES:
        raise ValidationError(Problem("store", "STORE_URL", redacted(url), ALLOWED))
    query = dict(parsed.query)
    from_url = query.pop("schema", None)
    if isinstance(from_url, tuple):
        from_url = from_url[-1]
    field = "schema" if schema else "STORE_URL"
    schema = schema or from_url or None
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ValidationError(Problem("store", field, schema, "a plain schema name: letters, digits and _, "
                                                              "at most 63, not starting with a digit"))
    return parsed.set(drivername="postgresql+psycopg", query=query), schema


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def make_engine(url: URL, schema: str | None, **options: Any) -> Engine:
    """A pooled engine whose connections put ``schema`` first on their search path."""
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"application_name": "yizhan"}, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cur:
            if schema is not None:
                cur.execute("SELECT set_config('search_path', %s || ', ' || current_setting('search_path'), false)",
                            (quote_ident(schema),))
        dbapi_connection.commit()

    return engine


def _pg_code(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


@contextmanager
def database_errors(source: str) -> Iterator[None]:
    """Turn the database's failures into the store's errors: out of reach or locked -> StoreUnavailable
    (503); no store tables -> StoredDataError (500) saying to run the migrations."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        code = _pg_code(exc)
        if code == "55P03":  # lock_not_available: lock_timeout passed
            raise StoreUnavailable(f"the station database {source} is being written by another writer "
                                   f"(waited {LOCK_TIMEOUT_S} s); try again", source) from None
        if code in ("42P01", "3F000"):  # undefined_table, invalid_schema_name
            raise StoredDataError(Problem(source, "(database)", "no station tables",
                                          "a database migrated by `yizhan db upgrade` "
                                          "(stations.store.postgis.upgrade(url))"), source) from None
        if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) or exc.connection_invalidated:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)) else ""
            raise StoreUnavailable(f"the station database {source} cannot be reached now ({reason})", source) from None
        raise


def check_revision(connection: sa.Connection, source: str) -> None:
    """StoredDataError unless the database's migrations are at :data:`SCHEMA_REVISION`."""
    found: list[str] = []
    if connection.execute(sa.text("SELECT to_regclass(:table)"), {"table": VERSION_TABLE}).scalar() is not None:
        found = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if found != [SCHEMA_REVISION]:
        raise StoredDataError(Problem(source, "(database)", f"migration {', '.join(found) or 'none'}",
                                      f"migration {SCHEMA_REVISION}: run `yizhan db upgrade` "
                                      "(stations.store.postgis.upgrade(url))"), source)


def upgrade(url: str, *, schema: str | None = None, revision: str = "head") -> None:
    """Bring the database (and ``schema``, created if missing) to ``revision`` of the store's migrations.

    Concurrent runs wait for each other (an advisory lock); a run on an up-to-date database changes
    nothing. The first migration creates the PostGIS extension if it is missing, which needs a
    superuser: otherwise a DBA runs ``CREATE EXTENSION postgis;`` in the database first.
    """
    from alembic import command
    from alembic.config import Config

    parsed, schema = parse_url(url, schema)
    source = redacted(parsed)
    engine = make_engine(parsed, schema, poolclass=sa.pool.NullPool)
    try:
        with database_errors(source), engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            if schema is not None:
                connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"))
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes.update(connection=connection, schema=schema)
            try:
                command.upgrade(config, revision)
            except sa.exc.ProgrammingError as exc:
                if _pg_code(exc) != "42501":  # insufficient_privilege
                    raise
                raise StoredDataError(Problem(source, "(database)", "PostGIS missing",
                                              "a database with PostGIS: a superuser runs `CREATE EXTENSION "
                                              f"postgis;` in it, then the upgrade again ({exc.orig})"),
                                      source) from None
        log.info("station store database %s%s at migration %s", source, f" schema {schema}" if schema else "",
                 revision)
    finally:
        engine.dispose()


def pid_guard(engine: Engine, state: dict) -> None:
    """After a fork, drop the pooled connections inherited from the parent (never share a socket)."""
    if state.get("pid") != os.getpid():
        if "pid" in state:
            engine.dispose(close=False)
        state["pid"] = os.getpid()
