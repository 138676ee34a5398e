"""Recorded events: one action on an eBL as the index holds it, and a page of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import computed_field

from registry.records.fields import EblIdField, EblIdHex, Record
from registry.types import ebl_id_hex

if TYPE_CHECKING:
    from registry.store.queries import EventRecord

__all__ = ["EventOut", "EventPageOut"]


class EventOut(Record):
    ebl_id: EblIdField
    seq: int
    action: str
    actor: str | None
    """None for the registry bridge's actions (CLOSE_EXPORT, CANCEL_EXPORT, IMPORT_TITLE)."""
    counterparty: str | None
    actor_key: str
    data: str
    block_number: int
    block_time: datetime
    tx_hash: str
    log_index: int
    platform: str | None = None
    """The other platform of an export or import (START_EXPORT ... IMPORT_TITLE), e.g. ``WAVE``."""

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex:
        return ebl_id_hex(self.ebl_id)

    @classmethod
    def from_domain(cls, e: EventRecord) -> EventOut:
        return cls(
            ebl_id=e.ebl_id,
            seq=e.seq,
            action=e.action.dcsa_code,
            actor=e.actor,
            counterparty=e.counterparty,
            actor_key=e.actor_key,
            data=e.data,
            block_number=e.block_number,
            block_time=datetime.fromtimestamp(e.block_time, UTC),
            tx_hash=e.tx_hash,
            log_index=e.log_index,
            platform=e.platform,
        )


class EventPageOut(Record):
    events: list[EventOut]
    next_cursor: str | None
