"""The PostgreSQL/PostGIS station store: ``STORE_URL=postgresql+psycopg://user@host/yizhan``.

- ``store``: :class:`PostGISStore`, the backend (tables, versions, journal, transactions).
- ``engine``: the URL, connections, errors and :func:`upgrade` (the Alembic migrations in
  ``migrations/``, version table ``yizhan_store_version``).
- ``bulk``: :func:`load` (a file's features into a store, in batches) and :func:`dump` (a store as
  the file store's exact text).

Needs SQLAlchemy, psycopg 3 and Alembic (installed with the site: the accounts database uses them
too) and a database with PostGIS.
"""
from __future__ import annotations

from typing import Any

from .bulk import dump, load
from .engine import LOCK_TIMEOUT_S, SCHEMA_REVISION, VERSION_TABLE, upgrade
from .store import BATCH_SIZE, PostGISStore

__all__ = ["BATCH_SIZE", "LOCK_TIMEOUT_S", "SCHEMA_REVISION", "VERSION_TABLE", "PostGISStore", "dump", "load",
           "open_url", "upgrade"]


def open_url(url: str, counties=None, **options: Any) -> PostGISStore:
    """The store at ``url`` (``open_store`` calls this); ``options``: ``schema``, ``engine_options``."""
    return PostGISStore(url, counties, **options)
