"""Signing keys: the :class:`Signer` interface, the encrypted local keystore, EIP-712 typed data.

Typical use::

    from registry.keys import Domain, KeyStore, PassphraseSource, TitleActionMessage

    store = KeyStore("/var/lib/ebl/keys", PassphraseSource.from_file("/run/secrets/keystore"))
    info = store.create_key("maersk", label="ops-2025")
    signer = store.signer(info.address)
    signature = signer.sign_digest(TitleActionMessage(...).digest(Domain(chain_id, registry)))

``KeyRevokedError`` and ``InvalidSignatureError`` live in :mod:`registry.errors` and are re-exported here.
"""

from registry.keys._keystore import KeyInfo, KeyRevokedError, KeyStore, PassphraseSource
from registry.keys._local import LocalSigner
from registry.keys._signer import Signer
from registry.keys.signatures import recover_signer, verify_typed_signature
from registry.keys.typed_data import (
    Domain,
    InvalidSignatureError,
    IssuanceMessage,
    KeyRegistrationMessage,
    TitleActionMessage,
)

__all__ = [
    "Domain",
    "InvalidSignatureError",
    "IssuanceMessage",
    "KeyInfo",
    "KeyRegistrationMessage",
    "KeyRevokedError",
    "KeyStore",
    "LocalSigner",
    "PassphraseSource",
    "Signer",
    "TitleActionMessage",
    "recover_signer",
    "verify_typed_signature",
]
