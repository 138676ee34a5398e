"""Membership: onboarding and suspension by governance, key rotation by the organisation itself.

Governance actions are plain transactions from the governance key (the contract checks
``DEFAULT_ADMIN_ROLE``), journalled before they are sent and recovered after a crash like title actions
(:mod:`registry.governance`). Key rotation is two signed actions of the organisation's own key, relayed
like any title action: the current key adds the new one, then revokes itself. Title never moves,
because it belongs to the organisation, not to a key.

Self-service keys: a member registers a wallet key it holds itself (the gateway never sees it). The
key proves possession by signing an EIP-712 ``KeyRegistration`` naming the organisation, itself, a
nonce and a deadline under the registry's domain (chain id and contract); the organisation's
authorisation is its API credential, and its custodial key then adds the new key on chain (keys are
added only by the organisation itself). :meth:`MembershipService.org_keys` lists every key the chain
knows for an organisation, custodial or not; :meth:`MembershipService.revoke_key` revokes one (the
contract refuses the last).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from registry.chain.artifacts import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.errors import error_class
from registry.documents import CarrierCode
from registry.errors import InvalidSignatureError, NotFoundError
from registry.governance import GovernanceSender
from registry.keys import KeyInfo, KeyStore, Signer
from registry.keys.signatures import recover_signer, verify_typed_signature
from registry.keys.typed_data import KeyRegistrationMessage
from registry.store.carriers import SqlCarrierCodes
from registry.store.governance import SqlGovernanceJournal
from registry.store.indexer import Indexer
from registry.store.queries import indexed_keys
from registry.title import Operation, TitleService
from registry.types import Action, KeyStatus, OrgAddress, OrgStatus, Role

__all__ = [
    "CARRIER_CODE_LISTS",
    "MembershipService",
    "OrgKey",
    "Organisation",
    "carrier_code",
    "org_address_for",
]

CARRIER_CODE_LISTS = ("SMDG", "NMFTA")
"""The code lists a ``carrierCodeListProvider`` names (DCSA eBL 3.0): SMDG liner codes, NMFTA SCACs."""
_CODE = re.compile(r"^\S{1,4}$")

KEY_PROOF_TTL = 600
"""Seconds a key-registration challenge stays valid."""

KEY_PROOF_MAX_TTL = 3600
"""A proof whose deadline lies further ahead than this is refused (it would outlive its purpose)."""


def carrier_code(code: str, code_list_provider: str) -> CarrierCode:
    """A carrier code as the DCSA schema allows it: 1 to 4 non-blank characters on SMDG or NMFTA.

    Raises:
        ValueError: another code list, or a malformed code.
    """
    if code_list_provider not in CARRIER_CODE_LISTS:
        lists = " or ".join(CARRIER_CODE_LISTS)
        raise ValueError(f"carrierCodeListProvider must be {lists}, not {code_list_provider!r}")
    if not _CODE.match(code):
        raise ValueError(f"carrierCode must be 1 to 4 characters without blanks, not {code!r}")
    return CarrierCode(code, code_list_provider)


def _checked_codes(role: Role, codes: Sequence[CarrierCode]) -> tuple[CarrierCode, ...]:
    checked = tuple(dict.fromkeys(carrier_code(c.code, c.code_list_provider) for c in codes))
    if role is Role.CARRIER and not checked:
        raise ValueError("a carrier is onboarded with its carrierCode and carrierCodeListProvider")
    if role is not Role.CARRIER and checked:
        raise ValueError(f"only carriers have carrier codes, not a {role.name.lower()}")
    return checked


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


@dataclass(frozen=True)
class OrgKey:
    """A signing key of an organisation as the chain records it (public facts only; its wire shape is
    :class:`registry.records.OrgKeyOut`).

    Attributes:
        address: the key's address.
        status: ``"active"`` or ``"revoked"`` (a revoked key is never reusable).
        custodial: True when the gateway's keystore holds the key; False for a key the member holds.
        label: the keystore's label of a custodial key.
        added_block: the block of its ``KeyAdded`` event.
        revoked_block: the block of its ``KeyRevoked`` event, if revoked.
    """

    address: ChecksumAddress
    status: Literal["active", "revoked"]
    custodial: bool
    label: str | None
    added_block: int
    revoked_block: int | None


class MembershipService:
    """Onboard, suspend and reinstate organisations; rotate their keys.

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment.
        governance: signer holding ``DEFAULT_ADMIN_ROLE``.
        keystore: where organisations' custodial keys live.
        title: the title service that signs and relays the organisations' own key actions.
        carrier_codes: each carrier's codes, recorded at onboarding.
        gas_price: a fixed legacy gas price (wei) for governance transactions; None follows the node.
        governance_journal: where governance transactions are journalled before they are sent (the
            runtime's database); None sends them unjournalled.
        index: the chain index (and its archive): where old key events are read, and where a
            governance transaction the node no longer serves is found on recovery.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        governance: Signer,
        keystore: KeyStore,
        title: TitleService,
        *,
        carrier_codes: SqlCarrierCodes,
        gas_price: int | None = None,
        governance_journal: SqlGovernanceJournal | None = None,
        index: Indexer | None = None,
    ) -> None:
        self._w3 = w3
        self._deployment = deployment
        self._governance = governance
        self._keystore = keystore
        self._title = title
        self._index = index
        self.carrier_codes = carrier_codes
        """Each carrier's ``carrierCode`` / ``carrierCodeListProvider`` pairs, recorded at onboarding."""
        self.governance = GovernanceSender(
            w3,
            deployment,
            governance,
            governance_journal,
            gas_price=gas_price,
            archive=index.archive if index is not None else None,
            gate=title.writes,
        )
        """Sends (and after a crash resends) the governance transactions."""
        self.registry: Contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)

    def onboard(
        self, identifier: str, role: Role, carrier_codes: Sequence[CarrierCode] = ()
    ) -> tuple[Organisation, KeyInfo]:
        """Register an organisation with a fresh custodial key; returns it and its key (public facts only).

        A carrier names its codes (``carrierCode`` on ``carrierCodeListProvider``, SMDG or NMFTA: at
        least one), the codes its transport documents carry; each code belongs to one organisation.
        Other roles have none.

        Raises:
            ValueError: a carrier without codes, codes for another role, or a malformed code.
            CarrierCodeTakenError: a code already belongs to another organisation.
            ContractRevertError: e.g. ``MembershipOrganisationExists``.
        """
        codes = _checked_codes(role, carrier_codes)
        org = org_address_for(identifier)
        if self.organisation(org).status is not OrgStatus.NONE:  # refuse before creating a key
            raise error_class("MembershipOrganisationExists")({"org": org})
        self.carrier_codes.claim(org, codes)  # a code another carrier owns: refused before anything else
        try:
            key = self._keystore.create_key(org, label="initial")
            self._governance_tx(
                self.registry.functions.registerOrganisation(
                    org, int(role), keccak(text=identifier.strip()), key.address
                )
            )
        except BaseException:
            self.carrier_codes.release(org, codes)
            raise
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

    # ------------------------------------------------------------------ self-service keys

    def org_keys(self, org: str) -> list[OrgKey]:
        """Every key the chain has recorded for the organisation, in the order they were added:
        custodial keys and keys the member holds itself, active and revoked.

        Read from the index up to the block it has applied, and from the chain's ``KeyAdded`` /
        ``KeyRevoked`` events after it (so a key just added is listed): the node may no longer serve
        the logs of old blocks. Without an index (tools that run no gateway), every event from the
        node since the deployment block.
        """
        address = to_checksum_address(org)
        added: dict[ChecksumAddress, int] = {}
        revoked_at: dict[ChecksumAddress, int] = {}
        since = self._deployment.block_number
        if self._index is not None:
            since = self._index.applied_block() + 1
            for indexed, added_block, revoked_block in indexed_keys(self._index.engine, address):
                key = to_checksum_address(indexed)
                if revoked_block is not None and revoked_block < since:
                    revoked_at[key] = revoked_block
                if added_block < since:
                    added[key] = added_block
        fresh = since <= self._w3.eth.block_number
        new = self._logs("KeyAdded", since, address) if fresh else []
        for lg in sorted(new, key=lambda lg: (lg["blockNumber"], lg["logIndex"])):
            added.setdefault(to_checksum_address(lg["args"]["key"]), int(lg["blockNumber"]))
        gone = self._logs("KeyRevoked", since, address) if fresh else []
        revoked_at |= {to_checksum_address(lg["args"]["key"]): int(lg["blockNumber"]) for lg in gone}
        custodial = {k.address: k for k in self._keystore.list_keys(address)}
        out: list[OrgKey] = []
        for key, added_block in added.items():
            info = custodial.get(key)
            out.append(
                OrgKey(
                    address=key,
                    status="revoked" if key in revoked_at else "active",
                    custodial=info is not None,
                    label=info.label if info is not None else None,
                    added_block=added_block,
                    revoked_block=revoked_at.get(key),
                )
            )
        return out

    def _logs(self, event: str, since: int, org: str) -> list[Any]:
        found = self.registry.events[event]().get_logs(from_block=since, argument_filters={"org": org})
        return list(found)

    def org_key(self, org: str, key: str) -> OrgKey:
        """One key of the organisation (``NotFoundError`` when the chain has no such key for it)."""
        wanted = to_checksum_address(key)
        for found in self.org_keys(org):
            if found.address == wanted:
                return found
        raise NotFoundError(f"key of {to_checksum_address(org)}", wanted)

    def key_challenge(self, org: str, key: str, *, ttl: int = KEY_PROOF_TTL) -> dict[str, Any]:
        """The EIP-712 ``KeyRegistration`` typed data the new key signs (``eth_signTypedData_v4``) to
        prove the member holds it: the organisation, the key, a random nonce and a deadline ``ttl``
        seconds ahead, under the registry's domain."""
        message = KeyRegistrationMessage(
            organisation=to_checksum_address(org),
            key=to_checksum_address(key),
            nonce=secrets.randbits(128),
            deadline=int(time.time()) + ttl,
        )
        return message.to_typed_data(self._title.domain)

    def register_key(
        self, org: str, typed_data: Mapping[str, Any], signature: bytes
    ) -> tuple[ChecksumAddress, Operation]:
        """Add a key the member holds itself, given its signed ``KeyRegistration`` proof.

        The proof must name ``org``, be signed by the key it names under this registry's domain, and
        be within its deadline; the organisation's custodial key then adds the key on chain.

        Returns:
            The key and its ``ADD_KEY`` operation (final unless the ledger is slow).

        Raises:
            InvalidSignatureError: malformed proof (``typed_data``), another organisation
                (``organisation``), deadline passed or too far ahead (``expired`` / ``deadline``),
                or not signed by the key it names (``mismatch``).
            ContractRevertError: the chain refuses, e.g. ``MembershipKeyExists`` for a key already
                registered or revoked.
            UnknownKeyError: the gateway holds no custodial key of the organisation to add it with.
        """
        address = to_checksum_address(org)
        try:
            message = KeyRegistrationMessage.from_typed_data(typed_data)
        except (TypeError, ValueError) as exc:
            raise InvalidSignatureError(
                "typed_data", f"malformed KeyRegistration typed data: {exc}"
            ) from None
        if message.organisation != address:
            raise InvalidSignatureError(
                "organisation",
                f"the proof names organisation {message.organisation}, but the credential acts for {address}",
            )
        now = int(time.time())
        if message.deadline < now:
            raise InvalidSignatureError(
                "expired", f"the proof's deadline {message.deadline} has passed: ask for a new challenge"
            )
        if message.deadline > now + KEY_PROOF_MAX_TTL:
            raise InvalidSignatureError(
                "deadline", f"the proof's deadline is more than {KEY_PROOF_MAX_TTL} s ahead"
            )
        # Recover over *our* domain, then check the client's payload hashes the same: a proof made for
        # another chain or registry recovers to another address and is refused.
        signer = recover_signer(message.digest(self._title.domain), signature)
        if signer != message.key:
            raise InvalidSignatureError(
                "mismatch",
                f"the proof is not signed by {message.key} under this registry's domain (it recovers to "
                f"{signer}): sign the typed data exactly as the challenge returned it, with that key",
            )
        verify_typed_signature(typed_data, signature, signer)
        key = to_checksum_address(message.key)
        return key, self._title.act(address, Action.ADD_KEY, 0, party=key)

    def revoke_key(self, org: str, key: str) -> Operation | None:
        """Revoke one of the organisation's keys, signed with its custodial key.

        Revoking a key already revoked changes nothing (returns None). The contract refuses the
        organisation's last active key (``MembershipLastKey``). When the key is the gateway's
        custodial key, it is marked revoked in the keystore too.

        Raises:
            NotFoundError: the key is not one of the organisation's.
            ContractRevertError: e.g. ``MembershipLastKey``.
        """
        address = to_checksum_address(org)
        wanted = to_checksum_address(key)
        owner, status = self.registry.functions.keyInfo(wanted).call()
        if to_checksum_address(owner) != address or KeyStatus(status) is KeyStatus.NONE:
            raise NotFoundError(f"key of {address}", wanted)
        if KeyStatus(status) is KeyStatus.REVOKED:
            return None
        op = self._title.act(address, Action.REVOKE_KEY, 0, party=wanted)
        if op.status == "final" and any(k.address == wanted for k in self._keystore.list_keys(address)):
            self._keystore.mark_revoked(wanted)
        self._title.forget_key(address)
        return op

    def _governance_tx(self, fn: object) -> None:
        data = fn._encode_transaction_data()  # type: ignore[attr-defined]
        self.governance.send(bytes.fromhex(data.removeprefix("0x")), f"{fn.fn_name} {fn.args[0]}")  # type: ignore[attr-defined]
