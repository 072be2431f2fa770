"""Alembic environment: runs on the connection `fleetsim.db.migrate` hands over.

For `alembic revision --autogenerate` during development, set FLEETSIM_DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context

from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    engine = create_database_engine(os.environ.get("FLEETSIM_DATABASE_URL", "sqlite:///dev.db"))
    with engine.begin() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
