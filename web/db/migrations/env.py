"""Alembic environment of the accounts database (run by ``web.db.migrate.upgrade``).

``upgrade`` passes an open connection in ``config.attributes["connection"]``. The version table is
``yizhan_app_version``: the station store's PostGIS backend keeps its own history in
``yizhan_store_version`` and may share the database. ``render_as_batch``: SQLite alters a table by
copying it, which Alembic's batch mode does.
"""
from __future__ import annotations

from alembic import context

from web.db.migrate import VERSION_TABLE
from web.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite", transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
