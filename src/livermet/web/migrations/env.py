"""Alembic environment: the engine comes from ``config.attributes`` (see web/db.py)."""

from alembic import context

from livermet.web.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
