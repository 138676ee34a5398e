"""Initial schema: chain index (organisations, org_keys, ebls, ebl_events, indexer_checkpoints) and
operation journal (operations, idempotency_keys).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ebls",
        sa.Column("ebl_id", sa.String(length=78), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("carrier", sa.String(length=42), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("endorsee", sa.String(length=42), nullable=True),
        sa.Column("nominee", sa.String(length=42), nullable=True),
        sa.Column("previous_holder", sa.String(length=42), nullable=True),
        sa.Column("surrender_reason", sa.String(length=16), nullable=False),
        sa.Column("issued_holder", sa.String(length=42), nullable=False),
        sa.Column("issued_endorsee", sa.String(length=42), nullable=True),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("tdr_hash", sa.String(length=66), nullable=False),
        sa.Column("predecessor", sa.String(length=78), nullable=True),
        sa.Column("successor", sa.String(length=78), nullable=True),
        sa.Column("paper_hash", sa.String(length=66), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("issued_block", sa.BigInteger(), nullable=False),
        sa.Column("issued_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ebl_id", name=op.f("pk_ebls")),
    )
    op.create_index(op.f("ix_ebls_holder"), "ebls", ["holder"], unique=False)
    op.create_index(op.f("ix_ebls_status"), "ebls", ["status"], unique=False)

    op.create_table(
        "indexer_checkpoints",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indexer_checkpoints")),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
    )
    op.create_index("ix_operations_status_updated_at", "operations", ["status", "updated_at"], unique=False)
    op.create_index(op.f("ix_operations_tx_hash"), "operations", ["tx_hash"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("identifier_hash", sa.String(length=66), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("status_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_organisations")),
        sa.UniqueConstraint("index", name=op.f("uq_organisations_index")),
    )
    op.create_table(
        "ebl_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("ebl_id", sa.String(length=78), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=42), nullable=False),
        sa.Column("counterparty", sa.String(length=42), nullable=True),
        sa.Column("actor_key", sa.String(length=42), nullable=False),
        sa.Column("data", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ebl_id"], ["ebls.ebl_id"], name=op.f("fk_ebl_events_ebl_id_ebls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebl_events")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_ebl_events_tx_hash_log_index")),
    )
    op.create_index("ix_ebl_events_action_block_time", "ebl_events", ["action", "block_time"], unique=False)
    op.create_index("ix_ebl_events_actor_block_time", "ebl_events", ["actor", "block_time"], unique=False)
    op.create_index("ix_ebl_events_block_number", "ebl_events", ["block_number"], unique=False)
    op.create_index(
        "ix_ebl_events_counterparty_block_time", "ebl_events", ["counterparty", "block_time"], unique=False
    )
    op.create_index("ix_ebl_events_ebl_id_seq", "ebl_events", ["ebl_id", "seq"], unique=True)

    op.create_table(
        "idempotency_keys",
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=66), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_idempotency_keys_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("org", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_operation_id"), "idempotency_keys", ["operation_id"], unique=False
    )

    op.create_table(
        "org_keys",
        sa.Column("key", sa.String(length=42), nullable=False),
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_block", sa.BigInteger(), nullable=False),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org"], ["organisations.address"], name=op.f("fk_org_keys_org_organisations")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_org_keys")),
    )
    op.create_index(op.f("ix_org_keys_org"), "org_keys", ["org"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_org_keys_org"), table_name="org_keys")

    op.drop_table("org_keys")
    op.drop_index(op.f("ix_idempotency_keys_operation_id"), table_name="idempotency_keys")

    op.drop_table("idempotency_keys")
    op.drop_index("ix_ebl_events_ebl_id_seq", table_name="ebl_events")
    op.drop_index("ix_ebl_events_counterparty_block_time", table_name="ebl_events")
    op.drop_index("ix_ebl_events_block_number", table_name="ebl_events")
    op.drop_index("ix_ebl_events_actor_block_time", table_name="ebl_events")
    op.drop_index("ix_ebl_events_action_block_time", table_name="ebl_events")

    op.drop_table("ebl_events")
    op.drop_table("organisations")
    op.drop_index(op.f("ix_operations_tx_hash"), table_name="operations")
    op.drop_index("ix_operations_status_updated_at", table_name="operations")

    op.drop_table("operations")
    op.drop_table("indexer_checkpoints")
    op.drop_index(op.f("ix_ebls_status"), table_name="ebls")
    op.drop_index(op.f("ix_ebls_holder"), table_name="ebls")

    op.drop_table("ebls")
