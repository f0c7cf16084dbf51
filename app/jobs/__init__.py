"""Job records (SQLAlchemy), the queue (Huey) and the reaper: the state of experiments."""
