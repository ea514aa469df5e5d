"""Alembic environment of the station store's migrations (run by ``stations.store.postgis.upgrade``).

``upgrade`` passes an open connection (its search path already starts with the store's schema) in
``config.attributes["connection"]`` and the schema in ``["schema"]``. Run from the ``alembic``
command instead, the URL comes from ``sqlalchemy.url``. The version table is
``yizhan_store_version``, so the accounts database's own Alembic history never collides with it.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

VERSION_TABLE = "yizhan_store_version"


def _run(connection, schema) -> None:
    context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE,
                      version_table_schema=schema, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    _run(connection, config.attributes.get("schema"))
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as opened:
        _run(opened, None)
    engine.dispose()
