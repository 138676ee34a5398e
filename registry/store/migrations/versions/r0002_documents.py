"""Documents: every transport document exactly as issued, by eBL id and document hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "documents",
        sa.Column("ebl_id", sa.String(length=78), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ebl_id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_document_hash"), "documents", ["document_hash"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_documents_document_hash"), table_name="documents")
    op.drop_table("documents")
