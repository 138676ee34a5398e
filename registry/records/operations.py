"""An operation: where an accepted write stands (pending, submitted, final or failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, computed_field

from registry.records.fields import EblIdField, EblIdHex, Record, hex_or_none
from registry.records.problems import problem_code_of

if TYPE_CHECKING:
    from registry.title import Operation

__all__ = ["OperationOut"]


class OperationOut(Record):
    operation_id: str
    action: str
    ebl_id: EblIdField | None = Field(description="The eBL acted on (null for a refused batch item)")
    status: str
    successor_ebl_id: EblIdField | None = Field(
        default=None, description="AMEND: the amended eBL issued in place of ``eblId`` (its successor)"
    )
    tx_hash: str | None = None
    block_number: int | None = None
    error_code: str | None = Field(default=None, description="A failed operation's problem code")
    error_detail: str | None = Field(default=None, description="Why it failed, in DCSA words")
    error: str | None = Field(default=None, description="A failed operation's contract error name")

    @computed_field(description="``eblId`` as 0x-prefixed 32-byte hex")
    def ebl_id_hex(self) -> EblIdHex | None:
        return hex_or_none(self.ebl_id)

    @computed_field(description="``successorEblId`` as 0x-prefixed 32-byte hex")
    def successor_ebl_id_hex(self) -> EblIdHex | None:
        return hex_or_none(self.successor_ebl_id)

    @classmethod
    def from_domain(cls, op: Operation) -> OperationOut:
        """The record of a title service :class:`~registry.title.Operation`: ``errorCode`` is the problem
        code, ``error`` the contract error name when there is one beside it."""
        code = problem_code_of(op.error_code)
        return cls(
            operation_id=op.operation_id,
            action=op.action.dcsa_code,
            ebl_id=int(op.ebl_id),
            successor_ebl_id=op.successor_ebl_id,
            status=op.status,
            tx_hash=op.tx_hash,
            block_number=op.block_number,
            error_code=code,
            error_detail=op.error_detail,
            error=op.error_code if op.error_code not in (None, code) else None,
        )
