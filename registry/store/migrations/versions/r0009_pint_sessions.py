"""PINT sessions: envelopes received from other platforms (with their additional documents and the
signed response we gave) and transfers we send, with the journal of their steps.

NOTE for the merge: the agreed chain is 0007 (wip/dcsa) -> 0008 (wip/pintchain) -> 0009 (this). On
wip/pintwire it follows 0008 (wip/pintchain's, which itself follows 0006 until 0007 lands).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "pint_incoming",
        sa.Column("envelope_reference", sa.String(length=100), nullable=False),
        sa.Column("sending_platform", sa.String(length=4), nullable=False),
        sa.Column("transport_document_checksum", sa.String(length=64), nullable=False),
        sa.Column("last_entry_checksum", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("recipient_member", sa.String(length=42), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_code", sa.String(length=4), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("ebl_id", sa.String(length=78), nullable=True),
        sa.Column("operation_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("envelope_reference", name=op.f("pk_pint_incoming")),
    )
    op.create_index(op.f("ix_pint_incoming_ebl_id"), "pint_incoming", ["ebl_id"], unique=False)
    op.create_index(
        op.f("ix_pint_incoming_last_entry_checksum"), "pint_incoming", ["last_entry_checksum"], unique=False
    )
    op.create_index(
        op.f("ix_pint_incoming_sending_platform"), "pint_incoming", ["sending_platform"], unique=False
    )
    op.create_index(op.f("ix_pint_incoming_state"), "pint_incoming", ["state"], unique=False)
    op.create_index(
        op.f("ix_pint_incoming_transport_document_checksum"),
        "pint_incoming",
        ["transport_document_checksum"],
        unique=False,
    )
    op.create_table(
        "pint_outgoing",
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("ebl_id", sa.String(length=78), nullable=False),
        sa.Column("org", sa.String(length=42), nullable=False),
        sa.Column("platform", sa.String(length=4), nullable=False),
        sa.Column("action_code", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=True),
        sa.Column("envelope_checksum", sa.String(length=64), nullable=True),
        sa.Column("last_entry_checksum", sa.String(length=64), nullable=True),
        sa.Column("envelope_reference", sa.String(length=100), nullable=True),
        sa.Column("response_code", sa.String(length=4), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("export_operation_id", sa.String(length=36), nullable=True),
        sa.Column("close_operation_id", sa.String(length=36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_pint_outgoing")),
    )
    op.create_index(op.f("ix_pint_outgoing_ebl_id"), "pint_outgoing", ["ebl_id"], unique=False)
    op.create_index(
        op.f("ix_pint_outgoing_last_entry_checksum"), "pint_outgoing", ["last_entry_checksum"], unique=False
    )
    op.create_index(op.f("ix_pint_outgoing_step"), "pint_outgoing", ["step"], unique=False)
    op.create_table(
        "pint_incoming_documents",
        sa.Column("envelope_reference", sa.String(length=100), nullable=False),
        sa.Column("document_checksum", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_reference"],
            ["pint_incoming.envelope_reference"],
            name=op.f("fk_pint_incoming_documents_envelope_reference_pint_incoming"),
        ),
        sa.PrimaryKeyConstraint(
            "envelope_reference", "document_checksum", name=op.f("pk_pint_incoming_documents")
        ),
    )
    op.create_table(
        "pint_outgoing_steps",
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["pint_outgoing.transfer_id"],
            name=op.f("fk_pint_outgoing_steps_transfer_id_pint_outgoing"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "seq", name=op.f("pk_pint_outgoing_steps")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("pint_outgoing_steps")
    op.drop_table("pint_incoming_documents")
    op.drop_index(op.f("ix_pint_outgoing_step"), table_name="pint_outgoing")
    op.drop_index(op.f("ix_pint_outgoing_last_entry_checksum"), table_name="pint_outgoing")
    op.drop_index(op.f("ix_pint_outgoing_ebl_id"), table_name="pint_outgoing")
    op.drop_table("pint_outgoing")
    op.drop_index(op.f("ix_pint_incoming_transport_document_checksum"), table_name="pint_incoming")
    op.drop_index(op.f("ix_pint_incoming_state"), table_name="pint_incoming")
    op.drop_index(op.f("ix_pint_incoming_sending_platform"), table_name="pint_incoming")
    op.drop_index(op.f("ix_pint_incoming_last_entry_checksum"), table_name="pint_incoming")
    op.drop_index(op.f("ix_pint_incoming_ebl_id"), table_name="pint_incoming")
    op.drop_table("pint_incoming")
