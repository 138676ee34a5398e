"""A verification: the authoritative title state of one eBL, anchored at one block."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import computed_field

from registry.records.fields import EblIdField, EblIdHex, Record, hex_or_none
from registry.records.members import OrganisationOut
from registry.types import ebl_id_hex

if TYPE_CHECKING:
    from registry.title import Verification

__all__ = ["VerificationOut"]


class VerificationOut(Record):
    """The authoritative title state, anchored at one block (LR-02: any file is a non-authoritative copy)."""

    ebl_id: EblIdField
    status: str
    live: bool
    holder: OrganisationOut
    endorsee: OrganisationOut | None
    carrier: OrganisationOut | None
    """None for a bill of a foreign carrier, imported from another platform (PINT)."""
    kind: str
    blank_endorsed: bool
    document_hash: str
    presented_hash: str | None
    document_matches: bool | None
    amended: bool
    predecessor: EblIdField | None
    successor: EblIdField | None
    paper_document_hash: str | None
    anchored_block: int
    anchored_block_hash: str
    anchored_at: datetime
    registry: str
    chain_id: int
    exported_to: str | None = None
    """EXPORT_PENDING / EXPORTED: the DCSA code of the platform the bill was sent to (PINT)."""
    export_envelope_checksum: str | None = None
    """EXPORT_PENDING / EXPORTED: the checksum of the envelope it was sent in, as recorded on chain."""

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)

    @computed_field(description="``predecessor`` as 0x-prefixed 32-byte hex")
    def predecessor_hex(self) -> EblIdHex | None:
        return hex_or_none(self.predecessor)

    @computed_field(description="``successor`` as 0x-prefixed 32-byte hex")
    def successor_hex(self) -> EblIdHex | None:
        return hex_or_none(self.successor)

    @classmethod
    def from_domain(
        cls,
        v: Verification,
        registry: str,
        chain_id: int,
        orgs: Mapping[str, OrganisationOut] | None = None,
    ) -> VerificationOut:
        """The record of a title service :class:`~registry.title.Verification` on deployment
        ``registry`` of chain ``chain_id``; ``orgs`` names the parties it knows profiles of (by
        address), any other party is its address alone."""
        known = orgs or {}

        def org(address: str | None) -> OrganisationOut | None:
            return None if address is None else known.get(address, OrganisationOut(address=address))

        holder, carrier = org(v.holder), org(v.carrier)
        assert holder is not None
        return cls(
            ebl_id=int(v.ebl_id),
            status=v.status.name,
            live=v.live,
            holder=holder,
            endorsee=org(v.endorsee),
            carrier=carrier,
            kind=v.kind.name,
            blank_endorsed=v.blank_endorsed,
            document_hash=v.document_hash,
            presented_hash=v.presented_hash,
            document_matches=v.document_matches,
            amended=v.amended,
            predecessor=v.predecessor,
            successor=v.successor,
            paper_document_hash=v.paper_document_hash,
            anchored_block=v.block_number,
            anchored_block_hash=v.block_hash,
            anchored_at=v.block_time,
            registry=registry,
            chain_id=chain_id,
            exported_to=v.exported_to,
            export_envelope_checksum=v.export_envelope_checksum,
        )
