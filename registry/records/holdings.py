"""A member's bills: one line of its held, awaiting or formerly-held list, and a page of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import Field, computed_field

from registry.records.fields import EblIdField, EblIdHex, Record
from registry.records.members import OrganisationOut
from registry.types import ebl_id_hex

if TYPE_CHECKING:
    from registry.store.holdings import Holding, HoldingPage

__all__ = ["HoldingOut", "HoldingPageOut"]


class HoldingOut(Record):
    """One bill of the member's list: its title as indexed, and why it waits for the member."""

    ebl_id: EblIdField
    status: str
    kind: str
    carrier: OrganisationOut | None = Field(
        description="The issuing carrier; null for a bill a carrier of another platform issued"
    )
    holder: OrganisationOut
    endorsee: OrganisationOut | None
    nominee: OrganisationOut | None
    document_hash: str
    issued_block: int
    issued_at: datetime
    updated_block: int
    awaiting: str | None = Field(
        description="Why the bill waits for the member's action: TRANSFER_RECEIVED (it may reject the "
        "transfer), NOMINATION (endorse to the endorsee's nominee), SURRENDER_REQUESTED (accept or reject "
        "the surrender), SURRENDERED_FOR_AMENDMENT (amend, void or switch to paper); null when nothing is "
        "awaited"
    )

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)

    @classmethod
    def from_domain(cls, h: Holding, orgs: Mapping[str, OrganisationOut] | None = None) -> HoldingOut:
        """The record of one :class:`~registry.store.holdings.Holding`; ``orgs`` names the parties it
        knows profiles of (by address), any other party is its address alone."""
        known = orgs or {}

        def org(address: str) -> OrganisationOut:
            return known.get(address) or OrganisationOut(address=address)

        t = h.title
        return cls(
            ebl_id=t.ebl_id,
            status=t.status.name,
            kind=t.kind.name,
            carrier=None if t.carrier is None else org(t.carrier),
            holder=org(t.holder),
            endorsee=None if t.endorsee is None else org(t.endorsee),
            nominee=None if t.nominee is None else org(t.nominee),
            document_hash=t.document_hash,
            issued_block=t.issued_block,
            issued_at=datetime.fromtimestamp(t.issued_time, UTC),
            updated_block=t.updated_block,
            awaiting=None if h.awaiting is None else h.awaiting.value,
        )


class HoldingPageOut(Record):
    """A page of the member's bills, newest issuance first; ``nextCursor`` fetches the next page."""

    items: list[HoldingOut]
    next_cursor: str | None

    @classmethod
    def from_domain(
        cls, page: HoldingPage, orgs: Mapping[str, OrganisationOut] | None = None
    ) -> HoldingPageOut:
        return cls(items=[HoldingOut.from_domain(h, orgs) for h in page.items], next_cursor=page.next_cursor)
