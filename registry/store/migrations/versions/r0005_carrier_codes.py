"""Carrier codes: each carrier's ``carrierCode`` / ``carrierCodeListProvider`` (SMDG or NMFTA), recorded at
onboarding, so issuance can refuse a document that names another carrier. A code belongs to one
organisation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "carrier_codes",
        sa.Column("code_list_provider", sa.String(length=5), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code_list_provider", "code", name=op.f("pk_carrier_codes")),
    )
    op.create_index(op.f("ix_carrier_codes_org"), "carrier_codes", ["org"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_carrier_codes_org"), table_name="carrier_codes")
    op.drop_table("carrier_codes")
