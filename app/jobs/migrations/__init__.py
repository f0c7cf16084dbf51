"""Alembic migrations of the job database; ``app.jobs.schema.migrate`` runs them."""
