"""The EIP-712 signatures inside a proven transaction: which relayed batch entry made an action, and
whether its signature recovers to the acting key.

A relayed transaction calls ``executeBatch(SignedAction[])`` or ``issueBatch(SignedIssuance[])`` on the
registry; each entry is ``(message, signer, signature)``. The transaction itself is proven (its hash,
and its place under the block's ``transactionsRoot``), so its calldata is too. :func:`signed_entry`
decodes the calldata with the artifact's ABI types (``eth_abi``), finds the entry for the action, and
recovers its signer from the EIP-712 digest under the registry's domain. A transaction that is not a
batch call (an organisation sending its own transaction) carries no EIP-712 signature: None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_abi.abi import decode as abi_decode

from registry.chain.abi import EXECUTE_BATCH, ISSUE_BATCH
from registry.keys.signatures import recover_signer
from registry.keys.typed_data import Domain, IssuanceMessage, TitleActionMessage
from registry.proofs.errors import BundleError
from registry.types import Action

__all__ = ["SignedAction", "signed_entry"]

# Position of ``to`` and ``data`` in the RLP list of each transaction type (legacy, EIP-2930, EIP-1559).
_TO_DATA = {0: (3, 5), 1: (4, 6), 2: (5, 7)}


@dataclass(frozen=True, slots=True)
class SignedAction:
    """A batch entry whose EIP-712 signature recovers to ``signer``."""

    signer: str
    signature: str
    nonce: int


def _call(raw: bytes, where: str) -> tuple[bytes, bytes]:
    kind = raw[0] if raw and raw[0] < 0x7F else 0
    if kind not in _TO_DATA:
        return b"", b""
    try:
        items = rlp.decode(raw[1:] if kind else raw)
        to, data = _TO_DATA[kind]
        return bytes(items[to]), bytes(items[data])
    except Exception:
        raise BundleError(f"{where}: the raw transaction does not decode", "transaction") from None


def signed_entry(
    raw: bytes,
    *,
    registry: str,
    chain_id: int,
    ebl_id: int,
    action: Action,
    actor_key: str,
    where: str,
    doc_hash: str | None = None,
    amends: int | None = None,
) -> SignedAction | None:
    """The entry of the batch in ``raw`` that made ``action`` on ``ebl_id``, its signature checked; None
    when the transaction is not a batch call to the registry. An issuance is found by its
    ``doc_hash`` (the ``Issued`` event's ``documentHash``), an action by eBL id and action; the issuance
    of an amended bill (``amends``: its predecessor) is the carrier's AMEND entry on the predecessor.

    Raises:
        BundleError: (``action_signature``) the batch holds no entry for the action by ``actor_key``,
            or that entry's signature does not recover to its signer.
    """
    to, data = _call(raw, where)
    if to.hex() != registry.lower().removeprefix("0x") or data[:4] not in (
        EXECUTE_BATCH.selector,
        ISSUE_BATCH.selector,
    ):
        return None
    issuance = data[:4] == ISSUE_BATCH.selector
    fn = ISSUE_BATCH if issuance else EXECUTE_BATCH
    try:
        (entries,) = abi_decode(list(fn.input_types), data[4:])
    except Exception:
        raise BundleError(f"{where}: the batch calldata does not decode", "transaction") from None
    domain = Domain(chain_id, registry)
    for struct, signer, signature in entries:
        message: Any
        if issuance:
            message = IssuanceMessage(*struct)
            if doc_hash is not None and "0x" + bytes(message.doc_hash).hex() != doc_hash:
                continue
        else:
            message = TitleActionMessage(*struct)
            wanted = (amends, int(Action.AMEND)) if amends is not None else (ebl_id, int(action))
            if (message.ebl_id, message.action) != wanted:
                continue
        if signer.lower() != actor_key.lower():
            continue
        recovered = recover_signer(message.digest(domain), bytes(signature))
        if recovered.lower() != signer.lower():
            raise BundleError(
                f"{where}: the EIP-712 signature recovers to {recovered}, not to {signer}", "action_signature"
            )
        return SignedAction(recovered, "0x" + bytes(signature).hex(), int(message.nonce))
    raise BundleError(
        f"{where}: the batch has no entry signed by the acting key {actor_key}", "action_signature"
    )
