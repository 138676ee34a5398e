"""Domain types shared by every layer of the registry.

The enums mirror ``contracts/lib/TitleTypes.sol`` value for value (a test compares them with the
compiled ABI), and carry the DCSA eBL 3.0 spelling of each code so that history read from the chain
can be laid beside any DCSA endorsement chain.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import NewType

__all__ = [
    "Action",
    "DocumentHash",
    "DocumentKind",
    "EblId",
    "KeyStatus",
    "OrgAddress",
    "OrgStatus",
    "Role",
    "Status",
    "SurrenderReason",
    "ebl_id_hex",
    "parse_ebl_id",
]

EblId = NewType("EblId", int)
"""On-chain id of one eBL title record (``uint256``): keccak256 of (issuing carrier, TDR hash).

In JSON an eBL id is a decimal string (``"2305...1187"``: a bare number near 10^76 loses digits in
JavaScript), with its 0x-prefixed 32-byte hex form beside it (:func:`ebl_id_hex`); every input takes
either form, and a JSON number too (:func:`parse_ebl_id`).
"""

_UINT256 = 1 << 256
_DECIMAL = re.compile(r"[0-9]{1,78}")
_HEX = re.compile(r"0[xX][0-9a-fA-F]{1,64}")


def parse_ebl_id(value: object) -> EblId:
    """An eBL id from any form a client may send: a decimal string, a 0x-hex string (the 32-byte form
    or shorter) or an integer (a JSON number that was parsed exactly).

    Raises:
        ValueError: not a uint256 in one of those forms (a float, a bool, out of range, other text).
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        hint = (
            " (a JSON number this large is rounded: send the decimal string)"
            if isinstance(value, float)
            else ""
        )
        raise ValueError(f"an eBL id is a decimal string, a 0x-hex string or an integer, not {value!r}{hint}")
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL.fullmatch(text):
            value = int(text)
        elif _HEX.fullmatch(text):
            value = int(text, 16)
        else:
            raise ValueError(f"not an eBL id (decimal or 0x-prefixed hex uint256): {value!r}")
    if not 0 <= value < _UINT256:
        raise ValueError(f"eBL id out of uint256 range: {value}")
    return EblId(value)


def ebl_id_hex(ebl_id: int) -> str:
    """The eBL id as 0x-prefixed 32-byte hex (66 characters, lowercase)."""
    return f"0x{ebl_id:064x}"


OrgAddress = NewType("OrgAddress", str)
"""Checksummed identity address of a member organisation (stable across key rotation)."""

DocumentHash = NewType("DocumentHash", str)
"""SHA-256 over the RFC 8785 canonical JSON of a transport document, 64 lowercase hex digits."""


class Role(IntEnum):
    """On-chain role of a member organisation (``TitleTypes.Role``)."""

    NONE = 0
    CARRIER = 1
    BANK = 2
    TRADER = 3  # shipper, consignee, forwarder, notify party acting for itself


class OrgStatus(IntEnum):
    """Standing of a member organisation (``TitleTypes.OrgStatus``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class KeyStatus(IntEnum):
    """Standing of a signing key (``TitleTypes.KeyStatus``); revoked keys are never reusable."""

    NONE = 0
    ACTIVE = 1
    REVOKED = 2


class DocumentKind(IntEnum):
    """Negotiability of the bill (``TitleTypes.DocumentKind``)."""

    STRAIGHT = 0  # non-negotiable: goes only to the named consignee
    TO_ORDER = 1  # negotiable: title moves by endorsement


class Status(IntEnum):
    """Life-cycle status of a title record (``TitleTypes.Status``)."""

    NONE = 0
    ACTIVE = 1
    SURRENDER_REQUESTED = 2
    SURRENDERED = 3  # terminal: accomplished, delivered
    SURRENDERED_FOR_AMENDMENT = 4  # carrier holds it until void / amend / switch to paper
    VOIDED = 5  # terminal
    SWITCHED_TO_PAPER = 6  # terminal
    EXPORT_PENDING = 7  # sent to another platform (PINT), awaiting its answer: frozen
    EXPORTED = 8  # held on another platform: terminal here until the same bill is imported back

    @property
    def is_terminal(self) -> bool:
        """True for the absorbing states in which every write reverts (Exported is not one: the
        registry bridge re-activates it when the bill comes back; see :attr:`is_held_here`)."""
        return self in (Status.SURRENDERED, Status.VOIDED, Status.SWITCHED_TO_PAPER)

    @property
    def is_held_here(self) -> bool:
        """False once the bill is held elsewhere (ended, or exported to another platform)."""
        return self not in (Status.NONE, Status.EXPORTED) and not self.is_terminal


class SurrenderReason(IntEnum):
    """Why a surrender was requested (``TitleTypes.SurrenderReason``)."""

    NONE = 0
    DELIVERY = 1
    AMENDMENT = 2
    SWITCH_TO_PAPER = 3


class Action(IntEnum):
    """Every title and membership action (``TitleTypes.Action``), with its DCSA code."""

    ISSUE = 0
    TRANSFER = 1
    ENDORSE = 2
    ENDORSE_TO_ORDER = 3
    BLANK_ENDORSE = 4
    NOMINATE = 5
    REJECT = 6
    SURRENDER_FOR_DELIVERY = 7
    SURRENDER_FOR_AMENDMENT = 8
    ACCEPT_SURRENDER = 9
    REJECT_SURRENDER = 10
    VOID = 11
    AMEND = 12
    SWITCH_TO_PAPER = 13
    ADD_KEY = 14
    REVOKE_KEY = 15
    START_EXPORT = 16  # the holder sends the bill to another platform (PINT)
    CLOSE_EXPORT = 17  # the registry bridge: the other platform accepted (RECE)
    CANCEL_EXPORT = 18  # the registry bridge: refused or undeliverable, back to the holder
    IMPORT_TITLE = 19  # the registry bridge: a bill arrived from another platform

    @property
    def dcsa_code(self) -> str:
        """The action code as DCSA eBL 3.0 / PINT spells it (SACC, SREJ, ...)."""
        return _DCSA_CODES.get(self, self.name)


_DCSA_CODES = {
    Action.ACCEPT_SURRENDER: "SACC",
    Action.REJECT_SURRENDER: "SREJ",
    Action.SWITCH_TO_PAPER: "SWTP",
}
