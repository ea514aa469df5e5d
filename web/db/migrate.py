"""The accounts database's migrations (Alembic, in ``migrations/`` beside this module, shipped as package data).

:func:`upgrade` brings a database to the newest migration (``yizhan db upgrade``, and ``yizhan serve``
before its workers start); :func:`current_revision` and :func:`head_revision` say where it is and
where it should be. The version table is :data:`VERSION_TABLE`, never Alembic's default
``alembic_version`` nor the station store's ``yizhan_store_version``, so both histories may live in
one database. On PostgreSQL concurrent upgrades wait for each other (an advisory lock); on SQLite
the first write of the migration takes the file's write lock.
"""
from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from .engine import make_engine, redacted

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "yizhan_app_version"
#: key of the transaction-level advisory lock that serialises concurrent upgrades (PostgreSQL)
UPGRADE_LOCK_KEY = 0x59697A68616E01  # "Yizhan" + 1: not the station store's key


def _config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration of this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The migration the database at ``url`` is at (``None``: none yet, an empty database)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> str:
    """Bring the database at ``url`` to ``revision`` (default: the newest); returns the revision it is at.

    A database already there is left as it is (nothing but a read of the version table).
    """
    from alembic import command

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            command.upgrade(_config(connection), revision)
    finally:
        engine.dispose()
    now = current_revision(url)
    log.info("accounts database %s at migration %s", redacted(url), now)
    return now or ""
