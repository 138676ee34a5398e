"""Contract custom errors → the Python exception tree, generated from the ABI.

Every ``error`` in the contracts' ABI becomes a subclass of :class:`MembershipError` or
:class:`TitleError` (both :class:`~registry.errors.ContractRevertError`), named after the Solidity
error with an ``Error`` suffix (``TitleNotHolder`` → ``TitleNotHolderError``). Revert data is mapped
to them by selector, the way web3.py's ``error_formatters_utils`` maps panics and custom errors.

Arguments are decoded into the registry's types (an ``enum Status`` argument becomes a
:class:`~registry.types.Status`, ``enum Role`` a :class:`~registry.types.Role`, an action code an
:class:`~registry.types.Action`), and each error's message is a sentence in DCSA words from
:data:`REASONS` (``TitleWrongStatus`` → "the eBL is SURRENDERED"), never a Solidity signature or an
enum number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.chain.abi import signature, type_string
from registry.chain.artifacts import load_artifact
from registry.errors import ContractRevertError, TransactionFailedError
from registry.types import Action, DocumentKind, Role, Status

__all__ = [
    "REASONS",
    "MembershipError",
    "TitleError",
    "decode_revert",
    "error_class",
    "error_classes",
    "rpc_revert",
    "type_string",
]


class MembershipError(ContractRevertError):
    """Raised when the membership rules refuse an action (unknown key, suspended member ...)."""

    code = "membership_error"


class TitleError(ContractRevertError):
    """Raised when the title rules refuse an action (not holder, wrong status ...)."""

    code = "title_error"


REASONS: dict[str, str] = {
    # title records
    "TitleUnknownEbl": "no eBL with this id",
    "TitleAlreadyIssued": "this carrier already issued an eBL with this transport document reference",
    "TitleDuplicateDocument": (
        "this document (hash {docHash}) was already issued as eBL {existingEblId}: one record per "
        "document, and a document hash is never issued again"
    ),
    "TitleWrongStatus": "the eBL is {status}",
    "TitleNotHolder": "{org} is not the holder of the eBL",
    "TitleNotIssuingCarrier": "{org} is not the carrier that issued the eBL",
    "TitleNotEntitled": (
        "{org} holds the eBL but may not deal with its title: it is not the endorsee, the bill is not "
        "endorsed in blank, and no nomination names the counterparty"
    ),
    "TitleNotEndorsable": (
        "the eBL cannot be endorsed: a straight bill, or one endorsed with ENDORSE (not to order)"
    ),
    "TitleStraightBillRecipient": "a straight bill goes only to its named consignee, not to {to}",
    "TitleInvalidCounterparty": "{party} cannot be the counterparty of this action",
    "TitleNotEndorsee": "{org} is not the endorsee of the eBL, so it cannot nominate",
    "TitleNothingToReject": "the holder did not receive possession by the last action: nothing to reject",
    "TitleWrongSurrenderReason": "the surrender was requested for another reason than this action ends",
    "TitleZeroHash": "a document, paper document or envelope checksum must not be zero",
    "TitleInvalidAction": "the action {action} cannot be used here",
    "TitleInvalidKind": "there is no document kind {kind}",
    "TitleExpiredSignature": "the signature expired: its deadline {deadline} (unix time) has passed",
    "TitleInvalidSignature": "the signature was not made by {signer}",
    "TitleNonceUsed": "nonce {nonce} of {signer} was already used",
    "TitleOnlySelf": "the batch entry point is internal to the registry",
    "TitleERC721Disabled": "ERC-721 approvals and transfers are disabled: title moves only by title actions",
    # other platforms (PINT)
    "BridgeInvalidPlatform": (
        "{party} carries no eBL platform code: 1 to 4 ASCII bytes, left-aligned, the rest zero"
    ),
    # membership
    "MembershipUnauthorizedKey": "{key} is not an active key of a member organisation",
    "MembershipUnknownOrganisation": "{org} is not a member organisation",
    "MembershipOrganisationNotActive": "the organisation {org} is SUSPENDED",
    "MembershipOrganisationExists": "{org} is already a member organisation",
    "MembershipKeyExists": "the key {key} is already registered (a revoked key is never reused)",
    "MembershipKeyNotOwned": "the key {key} is not a key of {org}",
    "MembershipLastKey": "{org} cannot revoke {key}: it is its last active key",
    "MembershipRoleRequired": "{org} is not a {required}",
    "MembershipInvalidRole": "there is no such role",
    "MembershipZeroAddress": "the zero address is neither an organisation nor a key",
    # OpenZeppelin (governance, pause, EIP-712 domain)
    "AccessControlUnauthorizedAccount": "{account} lacks the governance role this needs",
    "AccessControlBadConfirmation": "a role may only be renounced by its own account",
    "EnforcedPause": "title actions are paused by governance",
    "ExpectedPause": "title actions are not paused",
    "InvalidShortString": "the EIP-712 domain name or version is too long",
    "StringTooLong": "the string is too long: {str}",
}
"""Solidity error name → its message in DCSA words; ``{arg}`` is the argument by name, an enum
argument spelled by its name (``SURRENDERED``, ``CARRIER``, ``TRANSFER``)."""

_ENUMS: dict[str, type[IntEnum]] = {"enum Status": Status, "enum Role": Role}
_CODES: dict[str, type[IntEnum]] = {"action": Action, "kind": DocumentKind}  # uint8 arguments by name


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


@cache
def _registry() -> tuple[
    dict[bytes, tuple[type[ContractRevertError], list[dict[str, Any]]]], dict[str, type]
]:
    by_selector: dict[bytes, tuple[type[ContractRevertError], list[dict[str, Any]]]] = {}
    by_name: dict[str, type] = {}
    for entry in load_artifact().abi:
        if entry["type"] != "error":
            continue
        name: str = entry["name"]
        inputs: list[dict[str, Any]] = entry["inputs"]
        sig = signature(entry)
        base: type[ContractRevertError]
        if name.startswith("Membership"):
            base = MembershipError
        elif name.startswith("Title"):
            base = TitleError
        else:
            base = ContractRevertError
        cls = type(
            f"{name}Error",
            (base,),
            {
                "__doc__": f"Raised when the contracts revert with ``{sig}``.",
                "__module__": __name__,
                "error_name": name,
                "code": _snake(name.removeprefix("Membership").removeprefix("Title")),
                "reason": REASONS.get(name, ""),
            },
        )
        by_selector[keccak(text=sig)[:4]] = (cls, inputs)
        by_name[name] = cls
    return by_selector, by_name


def error_classes() -> dict[str, type[ContractRevertError]]:
    """All generated error classes by Solidity error name."""
    return dict(_registry()[1])


def error_class(name: str) -> type[ContractRevertError]:
    """The generated class for one Solidity error name (e.g. ``"TitleNotHolder"``)."""
    try:
        cls: type[ContractRevertError] = _registry()[1][name]
    except KeyError:
        raise KeyError(f"no custom error named {name!r} in the contracts' ABI") from None
    return cls


def _normalise(value: object, param: Mapping[str, Any] | None = None) -> object:
    """A decoded argument in the registry's types: checksummed addresses, enum arguments as enums."""
    if param is not None and isinstance(value, int):
        enum = _ENUMS.get(str(param.get("internalType", "")))
        if enum is None and param.get("type") == "uint8":
            enum = _CODES.get(str(param.get("name", "")))
        if enum is not None:
            try:
                return enum(value)
            except ValueError:  # a number the enum does not define: shown as the number
                pass
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, tuple):
        return tuple(_normalise(v) for v in value)
    return value


def rpc_revert(error: object) -> ContractRevertError | TransactionFailedError | None:
    """The revert a JSON-RPC ``error`` object reports, decoded (not raised); None when the error is not a
    revert but a failure of the node or the request."""
    data = error.get("data") if isinstance(error, Mapping) else None
    if isinstance(data, Mapping):  # some nodes nest the revert data one level deeper
        data = data.get("data")
    if isinstance(data, str):
        return decode_revert(data)
    if "revert" in str(error).lower():
        return decode_revert(None)
    return None


def decode_revert(data: bytes | str | None) -> ContractRevertError | TransactionFailedError:
    """Turn revert data into the matching exception instance (not raised).

    Unknown selectors and empty data give a :class:`TransactionFailedError`.
    """
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data or len(data) < 4:
        return TransactionFailedError("transaction reverted without reason data")
    found = _registry()[0].get(data[:4])
    if found is None:
        return TransactionFailedError(f"transaction reverted with unknown data 0x{data.hex()}")
    cls, inputs = found
    values: Sequence[object] = decode([type_string(p) for p in inputs], data[4:]) if inputs else ()
    args = {
        p["name"] or f"arg{i}": _normalise(v, p) for i, (p, v) in enumerate(zip(inputs, values, strict=True))
    }
    return cls(args, data)
