"""Bills that leave for or arrive from other platforms (PINT): where an eBL went or came from, with the
envelope checksums; a foreign carrier (no member) and the registry bridge (no organisation) as NULLs.

``ebls``: ``platform`` / ``platform_checksum`` are the other platform of the latest cross-platform
action and its checksum (the envelope's, for an export; the last transfer-chain entry's, for an
import); ``origin_platform`` / ``origin_checksum`` the platform and last-entry checksum a record was
first imported from (NULL: issued here). ``carrier`` becomes nullable (a foreign carrier).
``ebl_events``: ``actor`` becomes nullable (the bridge acts for no organisation), ``platform`` names the
other platform of an export or import, ``endorsee`` the endorsee an import set (so a rollback can
replay it).

Revision ID: 0008
Revises: 0007 (the lead points it at 0007 when merging wip/dcsa; 0006 on wip/pintchain)
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
# TODO(lead, merge): "0007" once wip/dcsa's r0007 is merged; "0006" only on wip/pintchain.
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ebls") as batch:
        batch.alter_column("carrier", existing_type=sa.String(42), nullable=True)
        batch.add_column(sa.Column("platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("platform_checksum", sa.String(66), nullable=True))
        batch.add_column(sa.Column("origin_platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("origin_checksum", sa.String(66), nullable=True))
    with op.batch_alter_table("ebl_events") as batch:
        batch.alter_column("actor", existing_type=sa.String(42), nullable=True)
        batch.add_column(sa.Column("platform", sa.String(4), nullable=True))
        batch.add_column(sa.Column("endorsee", sa.String(42), nullable=True))


def downgrade() -> None:
    """Downgrade schema (refused while an index row needs a NULL carrier or actor)."""
    with op.batch_alter_table("ebl_events") as batch:
        batch.drop_column("endorsee")
        batch.drop_column("platform")
        batch.alter_column("actor", existing_type=sa.String(42), nullable=False)
    with op.batch_alter_table("ebls") as batch:
        batch.drop_column("origin_checksum")
        batch.drop_column("origin_platform")
        batch.drop_column("platform_checksum")
        batch.drop_column("platform")
        batch.alter_column("carrier", existing_type=sa.String(42), nullable=False)
