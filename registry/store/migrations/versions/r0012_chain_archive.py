"""The registry's chain archive: verified block headers, raw transactions and receipts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "chain_blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("header", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_chain_blocks")),
        sa.UniqueConstraint("hash", name=op.f("uq_chain_blocks_hash")),
    )
    op.create_table(
        "chain_transactions",
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tx_hash", name=op.f("pk_chain_transactions")),
    )
    op.create_index(
        "ix_chain_transactions_block_number", "chain_transactions", ["block_number"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_chain_transactions_block_number", table_name="chain_transactions")
    op.drop_table("chain_transactions")
    op.drop_table("chain_blocks")
