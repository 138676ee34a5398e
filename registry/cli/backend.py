"""One interface, two transports: the CLI's commands are written once against :class:`Backend`.

* :class:`DirectBackend` drives an open :class:`~registry.runtime.Runtime` in this process.
* :class:`HttpBackend` talks to the FastAPI gateway (``/v1``, Bearer token); there the token decides
  who acts, so the ``actor`` arguments are ignored.

Both return the gateway's JSON (camelCase) of the same records (:mod:`registry.records`): the direct
backend dumps the records it builds, the gateway backend reads the gateway's answers into them first,
so one renderer serves both. eBL ids are decimal strings (they are uint256).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    pass


__all__ = [
    "CARRIER_ACTIONS",
    "Backend",
    "CliError",
    "GatewayError",
    "SurrenderFor",
    "camel",
    "org_ref",
    "parse_ebl_id",
]

SurrenderFor = Literal["DELIVERY", "AMENDMENT"]
CARRIER_ACTIONS = ("accept-surrender", "reject-surrender", "void")
"""Carrier actions on an existing eBL that take no argument (also their gateway path segment)."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ROLES = ("carrier", "bank", "trader")


class CliError(Exception):
    """A refused request the CLI shows as ``[code] detail`` (exit code 1)."""

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        self.code, self.detail, self.status = code, detail, status
        super().__init__(f"[{code}] {detail}")


class GatewayError(CliError):
    """The gateway answered with an RFC 9457 problem (``code`` and ``detail``)."""

    def __init__(self, code: str, detail: str, *, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(code, detail, status=status)
        self.problem = dict(problem)


def org_ref(text: str) -> str:
    """An organisation given as its address (0x + 40 hex) or as its legal identifier (LEI, DID ...)."""
    from eth_utils.address import to_checksum_address

    from registry.members import org_address_for

    text = text.strip()
    if _ADDRESS.match(text):
        return str(to_checksum_address(text))
    if text.lower().startswith("0x"):
        raise ValueError(f"not an organisation address (0x + 40 hex digits): {text!r}")
    return str(org_address_for(text))


def parse_ebl_id(text: str) -> int:
    """An eBL id in decimal or ``0x`` hex (the 32-byte form of ``eblIdHex``, or shorter)."""
    from registry.types import parse_ebl_id as parse

    return int(parse(text))


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel(value: Any) -> Any:
    """JSON-ready copy with camelCase keys; enums by name, datetimes ISO 8601, bytes 0x hex."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, Mapping):
        return {_camel_key(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [camel(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class Backend(Protocol):
    """What every ``ebl`` command needs; ``actor`` is the acting organisation (direct mode only)."""

    mode: str

    def close(self) -> None: ...

    # governance
    def add_org(
        self,
        identifier: str,
        role: str,
        name: str | None = None,
        carrier_codes: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]: ...
    def suspend(self, org: str) -> dict[str, Any]: ...
    def reinstate(self, org: str) -> dict[str, Any]: ...
    def organisation(self, org: str) -> dict[str, Any]: ...
    def keys(self, org: str | None) -> list[dict[str, Any]]: ...
    def rotate_key(self, org: str) -> dict[str, Any]: ...
    def identity(self, org: str) -> dict[str, Any]: ...
    def issue_credential(
        self, name: str, role: str, org: str | None, expires_at: datetime | None = None
    ) -> dict[str, Any]: ...
    def credentials(
        self, role: str | None = None, org: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]: ...
    def revoke_credential(self, credential_id: str) -> dict[str, Any]: ...

    # members: their own keys
    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]: ...
    def register_key(
        self, actor: str | None, typed_data: dict[str, Any], signature: str
    ) -> dict[str, Any]: ...
    def revoke_key(self, actor: str | None, key: str) -> dict[str, Any]: ...

    # carriers
    def issue(
        self, actor: str | None, document: dict[str, Any], to: str, endorsee: str | None
    ) -> dict[str, Any]: ...
    def carrier_action(self, actor: str | None, action: str, ebl_id: int) -> dict[str, Any]: ...
    def amend(
        self, actor: str | None, ebl_id: int, document: dict[str, Any], endorsee: str | None
    ) -> dict[str, Any]: ...
    def switch_to_paper(self, actor: str | None, ebl_id: int, paper_hash: bytes) -> dict[str, Any]: ...

    # holders
    def transfer(self, actor: str | None, ebl_id: int, to: str) -> dict[str, Any]: ...
    def endorse(self, actor: str | None, ebl_id: int, endorsee: str, to_order: bool) -> dict[str, Any]: ...
    def endorse_in_blank(self, actor: str | None, ebl_id: int) -> dict[str, Any]: ...
    def nominate(self, actor: str | None, ebl_id: int, nominee: str | None) -> dict[str, Any]: ...
    def reject(self, actor: str | None, ebl_id: int) -> dict[str, Any]: ...
    def surrender(
        self, actor: str | None, ebl_id: int, reason: SurrenderFor, reason_code: str | None
    ) -> dict[str, Any]: ...

    # PINT: the trust list (governance) and transfers to other platforms (holders)
    def platforms(self) -> list[dict[str, Any]]: ...
    def add_platform(self, platform: dict[str, Any]) -> dict[str, Any]: ...
    def remove_platform(self, code: str) -> None: ...
    def send_to_platform(
        self, actor: str | None, ebl_id: int, transfer: dict[str, Any]
    ) -> dict[str, Any]: ...
    def platform_transfers(self) -> list[dict[str, Any]]: ...
    def platform_transfer(self, transfer_id: str) -> dict[str, Any]: ...
    def incoming_envelopes(self) -> list[dict[str, Any]]: ...

    # reads
    def verify(self, ebl_id: int | None = None, *, document_text: str | None = None) -> dict[str, Any]: ...
    def history(self, ebl_id: int) -> list[dict[str, Any]]: ...
    def events(
        self, org: str, since: datetime, until: datetime, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]: ...


# ====================================================================== direct


def _address(text: str) -> str:
    from eth_utils.address import to_checksum_address

    if not _ADDRESS.match(text.strip()):
        raise ValueError(f"not a key address (0x + 40 hex digits): {text!r}")
    return str(to_checksum_address(text.strip()))


def _signature_bytes(text: str) -> bytes:
    text = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{130}", text):
        raise ValueError("a signature is 65 bytes as 0x-prefixed hex (130 hex digits)")
    return bytes.fromhex(text[2:])
