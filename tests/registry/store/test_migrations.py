"""Schema migrations: an empty database gets exactly the modelled schema, and migrating is idempotent."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from registry.store.db import create_engine_for, migrate
from registry.store.models import Base

TABLES = {
    "organisations",
    "dcsa_carrier_endpoints",
    "dcsa_callbacks",
    "dcsa_surrender_requests",
    "org_keys",
    "ebls",
    "ebl_events",
    "indexer_checkpoints",
    "operations",
    "idempotency_keys",
    "documents",
    "org_profiles",
    "api_credentials",
    "carrier_codes",
    "pint_incoming",
    "pint_incoming_documents",
    "pint_outgoing",
    "pint_outgoing_steps",
    "governance_transactions",
    "chain_blocks",
    "chain_transactions",
}


def test_migrate_creates_the_modelled_schema_and_is_idempotent(db_url: str) -> None:
    """upgrade head twice: the tables of the models, nothing more, no drift, at the head revision."""
    migrate(db_url)
    migrate(db_url)
    engine = create_engine_for(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0012"]
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        event_indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("ebl_events")}
        assert event_indexes["ix_ebl_events_ebl_id_seq"] == ["ebl_id", "seq"]
        assert event_indexes["ix_ebl_events_actor_block_time"] == ["actor", "block_time"]
        assert event_indexes["ix_ebl_events_counterparty_block_time"] == ["counterparty", "block_time"]
        assert event_indexes["ix_ebl_events_action_block_time"] == ["action", "block_time"]
        uniques = [u["column_names"] for u in inspect(engine).get_unique_constraints("ebl_events")]
        assert ["tx_hash", "log_index"] in uniques
    finally:
        engine.dispose()


def test_events_indexed_before_revision_0004_keep_their_rows_without_a_block_hash(db_url: str) -> None:
    """Upgrading a database that already holds events adds the column and loses no row."""
    migrate(db_url, "0003")
    engine = create_engine_for(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ebls (ebl_id, status, kind, carrier, holder, surrender_reason,"
                    " issued_holder, document_hash, tdr_hash, seq, issued_block, issued_time, updated_block)"
                    " VALUES ('1', 'ACTIVE', 'TO_ORDER', :a, :a, 'NONE', :a, :h, :h, 0, 5, 1700000000, 5)"
                ),
                {"a": "0x" + "11" * 20, "h": "0x" + "22" * 32},
            )
            conn.execute(
                text(
                    "INSERT INTO ebl_events (ebl_id, seq, action, actor, counterparty, actor_key, data,"
                    " block_number, block_time, tx_hash, log_index)"
                    " VALUES ('1', 0, 'ISSUE', :a, :a, :a, :h, 5, 1700000000, :h, 0)"
                ),
                {"a": "0x" + "11" * 20, "h": "0x" + "22" * 32},
            )
        migrate(db_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ebl_id, block_number, block_hash FROM ebl_events")).all()
        assert [tuple(r) for r in rows] == [("1", 5, None)]
    finally:
        engine.dispose()


def test_sqlite_engines_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    """A SQLite file database is opened in WAL mode with enforced foreign keys."""
    engine = create_engine_for(f"sqlite:///{tmp_path}/settings.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()
