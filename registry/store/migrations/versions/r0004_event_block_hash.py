"""Events remember the hash of the block they were indexed from, so a rollback can prove where the
index and the chain agree (a resubmitted transaction can land at the same height on a new branch).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ebl_events") as batch:
        batch.add_column(sa.Column("block_hash", sa.String(length=66), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ebl_events") as batch:
        batch.drop_column("block_hash")
