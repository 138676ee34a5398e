"""Alembic environment of the registry store (run through :func:`registry.store.db.migrate`)."""
