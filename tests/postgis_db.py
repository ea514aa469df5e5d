"""The PostgreSQL test database of the PostGIS store's tests: is it here, and a fresh schema per data set.

``YIZHAN_TEST_DATABASE_URL`` names the database (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``: CI's and the developers' machines have it, with
PostGIS installed by ``make test``). Each data set gets a schema of its own, migrated from scratch
(``yizhan_test_<session>_<n>``, about 40 ms), so tests never see each other's rows and test sessions
running at once never collide; the session drops its schemas when it ends.

Where the database, its Python libraries or PostGIS are missing, the tests that need it are skipped
with the reason (``pytest -rs`` lists it); with ``YIZHAN_TEST_REQUIRE_POSTGIS=1`` they fail instead.
"""
from __future__ import annotations

import atexit
import os
import secrets

import pytest

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_DATABASE_URL = os.environ.get("YIZHAN_TEST_DATABASE_URL") or DEFAULT_URL
SESSION = secrets.token_hex(4)
_state: dict = {}


def _find_reason() -> str | None:
    try:
        import alembic  # noqa: F401
        import psycopg  # noqa: F401
        import sqlalchemy as sa
    except ImportError as exc:
        return f"the PostGIS store's tests need {exc.name}, which is not installed (pip install -e .)"
    from stations.store.postgis.engine import UPGRADE_LOCK_KEY, parse_url, redacted

    url, _ = parse_url(TEST_DATABASE_URL)
    where = redacted(url)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5}, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            if connection.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first() is None:
                return (f"PostgreSQL at {where} has no PostGIS: install Debian's postgresql-<major>-postgis-3 "
                        "(`make postgis`, part of `make test`)")
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public"))
    except sa.exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"no PostgreSQL reachable at {where} ({first}); set YIZHAN_TEST_DATABASE_URL to a database with PostGIS"
    except sa.exc.ProgrammingError as exc:
        return f"PostGIS cannot be enabled in {where} ({str(exc.orig).strip().splitlines()[0]})"
    finally:
        engine.dispose()
    return None


def unavailable() -> str | None:
    """Why the PostGIS tests cannot run here (``None``: they can); found once per session."""
    if "reason" not in _state:
        _state["reason"] = _find_reason()
    return _state["reason"]


def require_postgis() -> None:
    """Skip the calling test, saying why, where the test database is out of reach (fail if required)."""
    reason = unavailable()
    if reason is not None:
        if os.environ.get("YIZHAN_TEST_REQUIRE_POSTGIS", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"YIZHAN_TEST_REQUIRE_POSTGIS is set but {reason}")
        pytest.skip(reason)


def fresh_schema() -> str:
    """A new schema of this session's, migrated to the store's latest revision and empty."""
    from stations.store.postgis import upgrade

    require_postgis()
    made = _state.setdefault("schemas", [])
    if not made:
        atexit.register(_drop_schemas)
    name = f"yizhan_test_{SESSION}_{len(made) + 1}"
    made.append(name)
    upgrade(TEST_DATABASE_URL, schema=name)
    return name


def unmigrated_schema() -> str:
    """A new schema name of this session's, not created (``upgrade`` makes it), dropped when the session ends."""
    require_postgis()
    made = _state.setdefault("schemas", [])
    if not made:
        atexit.register(_drop_schemas)
    name = f"yizhan_test_{SESSION}_{len(made) + 1}"
    made.append(name)
    return name


def store_url(schema: str) -> str:
    """The store URL of ``schema`` in the test database."""
    return f"{TEST_DATABASE_URL}{'&' if '?' in TEST_DATABASE_URL else '?'}schema={schema}"


def execute(sql: str, schema: str | None = None, **params) -> None:
    """Run one statement in the test database (in ``schema``)."""
    import sqlalchemy as sa

    from stations.store.postgis.engine import make_engine, parse_url

    url, _ = parse_url(TEST_DATABASE_URL)
    engine = make_engine(url, schema, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _drop_schemas() -> None:
    from contextlib import suppress

    for name in _state.get("schemas", []):
        with suppress(Exception):  # the database may be gone by now: nothing to clean then
            execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
