"""Membership: onboarding and suspension by governance, key rotation by the organisation itself.

Governance actions are plain transactions from the governance key (the contract checks
``DEFAULT_ADMIN_ROLE``). Key rotation is two signed actions of the organisation's own key, relayed
like any title action: the current key adds the new one, then revokes itself. Title never moves,
because it belongs to the organisation, not to a key.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from registry.chain.build import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.errors import decode_revert, error_class
from registry.chain.fees import FeePolicy
from registry.errors import TransactionFailedError
from registry.keys import KeyInfo, KeyStore, Signer
from registry.title.service import TitleService
from registry.types import Action, OrgAddress, OrgStatus, Role

__all__ = ["MembershipService", "Organisation", "org_address_for"]


def org_address_for(identifier: str) -> OrgAddress:
    """The stable identity address of an organisation, derived from its legal identifier (LEI, DID ...).

    It is not a key: nothing can sign for it. It names the organisation on chain (holder, endorsee,
    ERC-721 owner) for as long as the organisation exists, whatever keys it rotates through.
    """
    if not identifier.strip():
        raise ValueError("an organisation needs a legal identifier (LEI, DID, ...)")
    return OrgAddress(to_checksum_address(keccak(text=f"ebl-registry:org:{identifier.strip()}")[-20:]))


@dataclass(frozen=True)
class Organisation:
    """A member as the chain knows it."""

    address: OrgAddress
    index: int
    role: Role
    status: OrgStatus
    key_count: int


class MembershipService:
    """Onboard, suspend and reinstate organisations; rotate their keys.

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment.
        governance: signer holding ``DEFAULT_ADMIN_ROLE``.
        keystore: where organisations' custodial keys live.
        title: the title service that signs and relays the organisations' own key actions.
    """

    def __init__(
        self, w3: Web3, deployment: Deployment, governance: Signer, keystore: KeyStore, title: TitleService
    ) -> None:
        self._w3 = w3
        self._deployment = deployment
        self._governance = governance
        self._keystore = keystore
        self._title = title
        self._fees = FeePolicy(w3, refresh=0.0)  # governance sends rarely: ask the node each time
        self.registry: Contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)

    def onboard(self, identifier: str, role: Role) -> tuple[Organisation, KeyInfo]:
        """Register an organisation with a fresh custodial key; returns it and its key (public facts only).

        Raises:
            ContractRevertError: e.g. ``MembershipOrganisationExists``.
        """
        org = org_address_for(identifier)
        if self.organisation(org).status is not OrgStatus.NONE:  # refuse before creating a key
            raise error_class("MembershipOrganisationExists")({"org": org})
        key = self._keystore.create_key(org, label="initial")
        self._governance_tx(
            self.registry.functions.registerOrganisation(
                org, int(role), keccak(text=identifier.strip()), key.address
            )
        )
        return self.organisation(org), key

    def suspend(self, org: str) -> Organisation:
        """Suspend: the organisation can neither act nor receive title; what it holds stays put."""
        address = to_checksum_address(org)
        self._governance_tx(self.registry.functions.suspendOrganisation(address))
        return self.organisation(address)

    def reinstate(self, org: str) -> Organisation:
        """Lift a suspension."""
        address = to_checksum_address(org)
        self._governance_tx(self.registry.functions.reinstateOrganisation(address))
        return self.organisation(address)

    def rotate_key(self, org: str) -> KeyInfo:
        """Replace the organisation's custodial key: add a new key on chain, then revoke the old one.

        Returns:
            The new key's public facts.
        """
        address = to_checksum_address(org)
        old = self._title.signing_key(address)
        new = self._keystore.create_key(address, label="rotated")
        self._title.act(address, Action.ADD_KEY, 0, party=new.address)
        self._title.act(address, Action.REVOKE_KEY, 0, party=old)
        self._keystore.mark_revoked(old)
        self._title.forget_key(address)
        return new

    def organisation(self, org: str) -> Organisation:
        """The organisation's on-chain record (index 0 and role NONE when unknown)."""
        address = to_checksum_address(org)
        index, role, status, key_count = self.registry.functions.organisation(address).call()
        return Organisation(OrgAddress(address), int(index), Role(role), OrgStatus(status), int(key_count))

    def keys(self, org: str) -> list[KeyInfo]:
        """The organisation's custodial keys, active and revoked (public facts only)."""
        return self._keystore.list_keys(to_checksum_address(org))

    def _governance_tx(self, fn: object) -> None:
        sender: ChecksumAddress = self._governance.address
        data = fn._encode_transaction_data()  # type: ignore[attr-defined]
        try:
            self._w3.eth.call({"from": sender, "to": self._deployment.address, "data": data})
        except (ContractCustomError, ContractLogicError) as exc:
            raise decode_revert(getattr(exc, "data", None)) from None
        raw = self._governance.sign_transaction(
            {
                "to": self._deployment.address,
                "data": data,
                "gas": 500_000,
                **self._fees.fields(),
                "nonce": self._w3.eth.get_transaction_count(sender, "pending"),
                "chainId": self._deployment.chain_id,
                "value": 0,
            }
        )
        receipt = self._w3.eth.wait_for_transaction_receipt(
            self._w3.eth.send_raw_transaction(raw), timeout=120
        )
        if receipt["status"] != 1:
            raise TransactionFailedError(f"governance transaction {receipt['transactionHash'].hex()} failed")
