"""Indexes for a member's list of bills: held (by holder, newest issuance first) and formerly held.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_ebls_holder_issued_block", "ebls", ["holder", "issued_block", "ebl_id"])
    op.create_index("ix_ebl_events_actor_ebl_id", "ebl_events", ["actor", "ebl_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_ebl_events_actor_ebl_id", table_name="ebl_events")
    op.drop_index("ix_ebls_holder_issued_block", table_name="ebls")
