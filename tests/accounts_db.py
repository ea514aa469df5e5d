"""The accounts database backends the database tests run on: SQLite always, PostgreSQL where reachable.

``database_url`` is parametrised over both. PostgreSQL: ``YIZHAN_TEST_DATABASE_URL``, else
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` (CI's: trust auth); each test gets a schema of
its own (first on the connection's ``search_path``, through libpq's ``options``), dropped afterwards,
so parallel runs never see each other's tables. Unreachable, those tests skip saying why (``-rs``).
``accounts_app`` builds the site on a migrated database of that backend.
"""
from __future__ import annotations

import os
import uuid
from functools import lru_cache
from urllib.parse import quote

import pytest

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("YIZHAN_TEST_DATABASE_URL") or DEFAULT_POSTGRES


@lru_cache(maxsize=1)
def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for the tests (``None``: it can)."""
    try:
        import psycopg  # noqa: F401
        import sqlalchemy as sa
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    url = postgres_base_url()
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect: skip, saying so
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {url} is not reachable ({first}); set YIZHAN_TEST_DATABASE_URL to run these"
    return None


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty accounts database (not yet migrated), of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
        return
    why = postgres_unreachable()
    if why:
        pytest.skip(why)
    import sqlalchemy as sa

    schema = f"yizhan_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_base_url(), poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(postgres_base_url(), schema)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(database_url):
    """The database of ``database_url``, at the newest migration."""
    from web.db import migrate

    migrate.upgrade(database_url)
    return database_url
