"""Custodial signing: each organisation's active key, cached, and the check of a client's signer.

A custodial write is signed with the organisation's keystore key that is active on chain too
(:meth:`SigningKeys.signing_key`, asked of the chain once and then cached until a rotation calls
:meth:`SigningKeys.forget`); a client-signed write must be signed by an active key of the organisation
it claims (:meth:`SigningKeys.require_org_key`).
"""

from __future__ import annotations

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from registry.chain.relayer import SignedEntry
from registry.errors import InvalidSignatureError, UnknownKeyError
from registry.keys import Domain, IssuanceMessage, KeyStore, TitleActionMessage
from registry.types import KeyStatus

__all__ = ["SigningKeys"]


class SigningKeys:
    """The organisations' custodial keys and the on-chain key registry they must be active in.

    Args:
        registry: the deployed registry contract (its ``keyInfo`` view).
        keystore: custodial keys (None: client-signed operations only).
        domain: the EIP-712 domain every message is signed for.
    """

    def __init__(self, registry: Contract, keystore: KeyStore | None, domain: Domain) -> None:
        self._registry = registry
        self._keystore = keystore
        self._domain = domain
        self._cache: dict[str, ChecksumAddress] = {}

    def signing_key(self, org: ChecksumAddress) -> ChecksumAddress:
        """The organisation's custodial key that is active both in the keystore and on chain.

        Raises:
            UnknownKeyError: no keystore, or none of the organisation's keys is active on chain.
        """
        cached = self._cache.get(org)
        if cached is not None:
            return cached
        if self._keystore is None:
            raise UnknownKeyError(f"no custodial key for {org}: this registry runs without a keystore")
        for info in self._keystore.list_keys(org):
            if not info.is_active:
                continue
            chain_org, status = self._registry.functions.keyInfo(info.address).call()
            if chain_org == org and KeyStatus(status) is KeyStatus.ACTIVE:
                self._cache[org] = info.address
                return info.address
        raise UnknownKeyError(f"no active custodial key of {org} is registered on chain")

    def forget(self, org: str) -> None:
        """Drop the cached custodial key of an organisation (after a rotation)."""
        self._cache.pop(to_checksum_address(org), None)

    def sign_custodial(
        self, org: ChecksumAddress, message: TitleActionMessage | IssuanceMessage
    ) -> SignedEntry:
        """``message`` signed with the organisation's custodial key (:meth:`signing_key`)."""
        key = self.signing_key(org)
        assert self._keystore is not None
        signature = self._keystore.signer(key).sign_digest(message.digest(self._domain))
        return SignedEntry(message, key, signature)

    def require_org_key(self, org: ChecksumAddress, key: ChecksumAddress) -> None:
        """``key`` (a client signature's signer) must be an active key of ``org`` on chain.

        Raises:
            InvalidSignatureError: revoked, another organisation's, or no registered key at all (the
                typed data signed differs from the typed data submitted).
        """
        chain_org, status = self._registry.functions.keyInfo(key).call()
        if chain_org == org and KeyStatus(status) is KeyStatus.ACTIVE:
            return
        if chain_org == org:  # the organisation's own key, revoked
            raise InvalidSignatureError("mismatch", f"the signature is by {key}, a revoked key of {org}")
        if KeyStatus(status) is not KeyStatus.NONE:
            raise InvalidSignatureError(
                "mismatch",
                f"the signature is by {key}, a key of another organisation ({chain_org}), not {org}",
            )
        # A key nobody registered: almost always the right key over different data, because every
        # change to the signed message changes the address the signature recovers to.
        raise InvalidSignatureError(
            "mismatch",
            f"the signature does not recover to an active key of {org} (it recovers to {key}, which "
            "is no registered key): the typed data signed is not the typed data submitted. Sign and "
            "submit the typed data exactly as prepare returned it; a wallet or JSON parser that turns "
            "the uint256 decimal strings into numbers rounds them and alters the message",
        )
