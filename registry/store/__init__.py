"""The registry's database: chain index (organisations, eBLs, events), operation journal, migrations.

* :mod:`registry.store.models` — the tables (SQLAlchemy 2, portable SQLite / PostgreSQL).
* :mod:`registry.store.db` — engines and :func:`~registry.store.db.migrate` (Alembic, programmatic).
* :mod:`registry.store.indexer` — folds the registry's events into the tables, idempotently.
* :mod:`registry.store.queries` — indexed read queries (title state, history, events by organisation).
"""
