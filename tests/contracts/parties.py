"""The cast of the contract tests: organisations named after their business role, each with a key."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from registry.types import Role


def org_address(name: str) -> ChecksumAddress:
    """Deterministic identity address of a test organisation."""
    return to_checksum_address(keccak(text=f"ebl-test-org:{name}")[-20:])


def test_key(name: str, n: int = 0) -> LocalAccount:
    """Deterministic signing key for a test organisation (never use such keys outside tests)."""
    return Account.from_key(keccak(text=f"ebl-test-key:{name}:{n}"))


@dataclass(frozen=True)
class Party:
    """A member organisation (or an outsider) with one signing key."""

    name: str
    role: Role
    org: ChecksumAddress
    key: LocalAccount

    @property
    def address(self) -> ChecksumAddress:
        """The signing key's address (the transaction sender)."""
        return self.key.address


def party(name: str, role: Role) -> Party:
    return Party(name, role, org_address(name), test_key(name))


CAST = {
    "carrier": Role.CARRIER,
    "other_carrier": Role.CARRIER,
    "third_carrier": Role.CARRIER,
    "shipper": Role.TRADER,
    "bank": Role.BANK,
    "consignee": Role.TRADER,
    "buyer": Role.TRADER,
}
