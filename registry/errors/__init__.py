"""One rooted exception tree for everything ``registry`` raises.

::

    RegistryError
    ├── ConfigurationError
    ├── InvalidRequestError                (a value the registry cannot act on: a cursor, an expiry)
    ├── RegistryInUseError                 (another live process holds the data folder)
    ├── DocumentError
    │   ├── InvalidDocumentError           (schema or DCSA rule broken; carries every violation)
    │   │   └── DuplicateKeyError          (JSON text names a key twice in one object: I-JSON)
    │   ├── CarrierMismatchError           (the document names another carrier than its issuer)
    │   └── DocumentMismatchError          (presented JSON does not hash to the issued hash)
    ├── KeyManagementError
    │   ├── KeystoreError                  (missing, unreadable or corrupt keystore)
    │   ├── KeystoreLockedError            (wrong or missing passphrase)
    │   ├── UnknownKeyError
    │   ├── KeyRevokedError                (a signer was requested for a revoked key)
    │   ├── InvalidSignatureError          (malformed, malleable or not the expected signer)
    │   └── SigningError
    ├── ChainError
    │   ├── ArchiveError                   (the registry's chain archive cannot take a block)
    │   │   ├── ArchiveMismatchError       (a served block does not verify: header, parent, roots)
    │   │   └── ArchiveGapError            (the node no longer serves a block the archive needs)
    │   ├── LedgerUnavailableError         (a write while the chain is down or being recovered)
    │   ├── StateNotKeptError              (a read at a block older than the node's kept states)
    │   ├── ToolchainError                 (compiler / anvil missing or failing)
    │   ├── DeploymentMismatchError        (code on chain is not the code we built)
    │   ├── TransactionFailedError         (mined but reverted, or never mined)
    │   └── ContractRevertError            (a decoded custom error from the contracts)
    │       ├── MembershipError ...        (one subclass per ``Membership*`` error)
    │       └── TitleError ...             (one subclass per ``Title*`` error, e.g.
    │                                       TitleDuplicateDocumentError: one record per document)
    ├── StoreError
    │   ├── NotFoundError
    │   │   └── NoMatchingEblError         (a presented document matches no eBL)
    │   ├── CarrierCodeTakenError          (a carrier code already belongs to another organisation)
    │   └── IdempotencyConflictError
    └── PintError                          (DCSA PINT: platform interoperability)
        ├── SignatureRejected              (a JWS refused; ``cause`` says why: answers BSIG)
        ├── EnvelopeRefused                (an envelope refused with a PINT ``response_code``)
        ├── PlatformKeyError               (our platform key file is missing, unreadable, unsupported)
        ├── TrustListError                 (the trust list file or an entry of it is invalid)
        ├── UnknownPlatformError           (a platform code that is not on our trust list)
        ├── TransferInProgressError        (a bill already on its way to another platform)
        └── ResponseMismatchError          (a signed response that does not answer our envelope)

The per-contract-error subclasses are generated from the ABI in :mod:`registry.chain.errors`, so a
new custom error in Solidity needs no hand-written Python twin.

Error messages never contain private keys or passphrases.
"""

from registry.errors.base import (
    ConfigurationError,
    InvalidRequestError,
    RegistryError,
    RegistryInUseError,
)
from registry.errors.chain import (
    ArchiveError,
    ArchiveGapError,
    ArchiveMismatchError,
    ChainError,
    ContractRevertError,
    DeploymentMismatchError,
    LedgerUnavailableError,
    StateNotKeptError,
    ToolchainError,
    TransactionFailedError,
    render_value,
)
from registry.errors.documents import (
    CarrierMismatchError,
    DocumentError,
    DocumentMismatchError,
    DuplicateKeyError,
    InvalidDocumentError,
    Violation,
)
from registry.errors.keys import (
    InvalidSignatureError,
    KeyManagementError,
    KeyRevokedError,
    KeystoreError,
    KeystoreLockedError,
    SigningError,
    UnknownKeyError,
)
from registry.errors.pint import (
    EnvelopeRefused,
    PintError,
    PlatformKeyError,
    ResponseMismatchError,
    SignatureRejected,
    TransferInProgressError,
    TrustListError,
    UnknownPlatformError,
)
from registry.errors.store import (
    CarrierCodeTakenError,
    DcsaRequestConflictError,
    IdempotencyConflictError,
    NoMatchingEblError,
    NotFoundError,
    StoreError,
)

__all__ = [
    "ArchiveError",
    "ArchiveGapError",
    "ArchiveMismatchError",
    "CarrierCodeTakenError",
    "CarrierMismatchError",
    "ChainError",
    "ConfigurationError",
    "ContractRevertError",
    "DcsaRequestConflictError",
    "DeploymentMismatchError",
    "DocumentError",
    "DocumentMismatchError",
    "DuplicateKeyError",
    "EnvelopeRefused",
    "IdempotencyConflictError",
    "InvalidDocumentError",
    "InvalidRequestError",
    "InvalidSignatureError",
    "KeyManagementError",
    "KeyRevokedError",
    "KeystoreError",
    "KeystoreLockedError",
    "LedgerUnavailableError",
    "NoMatchingEblError",
    "NotFoundError",
    "PintError",
    "PlatformKeyError",
    "RegistryError",
    "RegistryInUseError",
    "ResponseMismatchError",
    "SignatureRejected",
    "SigningError",
    "StateNotKeptError",
    "StoreError",
    "ToolchainError",
    "TransactionFailedError",
    "TransferInProgressError",
    "TrustListError",
    "UnknownKeyError",
    "UnknownPlatformError",
    "Violation",
    "render_value",
]
