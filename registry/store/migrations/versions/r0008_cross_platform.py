"""Bills that leave for or arrive from other platforms (PINT): where an eBL went or came from, with the
envelope checksums.

``ebls``: ``platform`` / ``platform_checksum`` are the other platform of the latest cross-platform
action and its checksum (the envelope's, for an export; the last transfer-chain entry's, for an
import); ``origin_platform`` / ``origin_checksum`` the platform and last-entry checksum a record was
first imported from (NULL: issued here). A foreign carrier (no member) is the zero address in
``carrier``.
``ebl_events``: the bridge's actions have the zero address as ``actor`` (it acts for no organisation;
columns stay NOT NULL, so SQLite needs no table rebuild under its foreign keys), ``platform`` names the
other platform of an export or import, ``endorsee`` the endorsee an import set (so a rollback can
replay it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ebls") as batch:
        batch.add_column(sa.Column("platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("platform_checksum", sa.String(66), nullable=True))
        batch.add_column(sa.Column("origin_platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("origin_checksum", sa.String(66), nullable=True))
    with op.batch_alter_table("ebl_events") as batch:
        batch.add_column(sa.Column("platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("endorsee", sa.String(42), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ebl_events") as batch:
        batch.drop_column("endorsee")
        batch.drop_column("platform")
    with op.batch_alter_table("ebls") as batch:
        batch.drop_column("origin_checksum")
        batch.drop_column("origin_platform")
        batch.drop_column("platform_checksum")
        batch.drop_column("platform")
