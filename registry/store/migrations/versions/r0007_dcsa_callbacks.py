"""DCSA platform APIs: each carrier's callback base URL, the persisted outbox of callbacks (issuance and
surrender requests) drained with retry and backoff, the surrender requests a carrier answers, and an
index on ``ebls.tdr_hash`` for the endorsement chain (one query by transport document reference).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "dcsa_carrier_endpoints",
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("token", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org", name=op.f("pk_dcsa_carrier_endpoints")),
    )
    op.create_table(
        "dcsa_callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("path", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("await_operation", sa.String(length=36), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dcsa_callbacks")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_dcsa_callbacks_dedupe_key")),
    )
    op.create_index(
        "ix_dcsa_callbacks_due", "dcsa_callbacks", ["delivered_at", "next_attempt_at"], unique=False
    )
    op.create_table(
        "dcsa_surrender_requests",
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("ebl_id", sa.String(length=78), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=42), nullable=False),
        sa.Column("answer", sa.String(length=4), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_dcsa_surrender_requests")),
        sa.UniqueConstraint("ebl_id", "seq", name=op.f("uq_dcsa_surrender_requests_ebl_id_seq")),
    )
    op.create_index(op.f("ix_ebls_tdr_hash"), "ebls", ["tdr_hash"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_ebls_tdr_hash"), table_name="ebls")
    op.drop_table("dcsa_surrender_requests")
    op.drop_index("ix_dcsa_callbacks_due", table_name="dcsa_callbacks")
    op.drop_table("dcsa_callbacks")
    op.drop_table("dcsa_carrier_endpoints")
