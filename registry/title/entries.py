"""The signed entry a write becomes: fresh nonces, the request fingerprint, and the journal's form of it.

A custodial write builds its message here (:class:`NonceAllocator` gives it a nonce that never repeats);
a client-signed one arrives as EIP-712 typed data (:func:`title_action_from_typed`). Either way the
signed entry is journaled as a plain dictionary (:func:`entry_to_dict`) before the relayer sees it, and
read back from the journal when :mod:`registry.title.recovery` resubmits it (:func:`entry_from_dict`).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from eth_utils.address import to_checksum_address

from registry.chain.relayer import SignedEntry
from registry.errors import InvalidSignatureError
from registry.keys import IssuanceMessage, TitleActionMessage

__all__ = [
    "NonceAllocator",
    "entry_from_dict",
    "entry_to_dict",
    "request_hash",
    "title_action_from_typed",
]


class NonceAllocator:
    """Unordered EIP-712 nonces that never repeat across restarts and pack 256 to a storage word.

    High bits: milliseconds at start-up and 24 random bits (several processes never collide);
    low 32 bits: a counter, so consecutive nonces share the contract's bitmap word and a batch of one
    signer's entries pays for one word write.
    """

    def __init__(self) -> None:
        self._base = (time.time_ns() // 1_000_000) << 56 | secrets.randbits(24) << 32
        self._counter = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """A fresh nonce."""
        with self._lock:
            self._counter += 1
            return self._base | self._counter


def request_hash(*parts: object) -> str:
    """The fingerprint of a request, stored with its idempotency key: a retry with the same key must
    carry the same request (else :class:`~registry.errors.IdempotencyConflictError`)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def entry_to_dict(entry: SignedEntry) -> dict[str, Any]:
    """A signed entry as the journal keeps it (bytes as 0x-hex)."""
    message = entry.message
    fields = {attr: getattr(message, attr) for _, attr, _ in message.FIELDS}
    return {
        "kind": entry.kind,
        "message": {k: ("0x" + v.hex()) if isinstance(v, bytes) else v for k, v in fields.items()},
        "signer": entry.signer,
        "signature": "0x" + entry.signature.hex(),
    }


def entry_from_dict(data: Mapping[str, Any]) -> SignedEntry:
    """The signed entry a journal row holds (the inverse of :func:`entry_to_dict`)."""
    fields: dict[str, Any] = {
        k: bytes.fromhex(v[2:]) if isinstance(v, str) and v.startswith("0x") and len(v) == 66 else v
        for k, v in data["message"].items()
    }
    message: TitleActionMessage | IssuanceMessage = (
        IssuanceMessage(**fields) if data["kind"] == "issuance" else TitleActionMessage(**fields)
    )
    return SignedEntry(message, to_checksum_address(data["signer"]), bytes.fromhex(data["signature"][2:]))


def title_action_from_typed(typed: Mapping[str, Any]) -> TitleActionMessage:
    """The ``TitleAction`` a client signed, from its EIP-712 typed data.

    Raises:
        InvalidSignatureError: the typed data is not a well-formed ``TitleAction``.
    """
    try:
        return TitleActionMessage.from_typed_data(typed)
    except (TypeError, ValueError) as exc:
        raise InvalidSignatureError("typed_data", f"malformed TitleAction typed data: {exc}") from None
