"""Alembic's environment: run the migrations on the connection the caller hands over
(``config.attributes["connection"]``); this project never connects from here."""

from __future__ import annotations

from alembic import context

from app.jobs.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
