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
    │   ├── LedgerUnavailableError         (a write while the chain is down or being recovered)
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

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.pint.codes import ResponseCode, SignatureCause

__all__ = [
    "CarrierCodeTakenError",
    "CarrierMismatchError",
    "ChainError",
    "ConfigurationError",
    "ContractRevertError",
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


class RegistryError(Exception):
    """Base for every error raised by ``registry``.

    Catch this to handle any failure of the registry layer::

        try:
            service.transfer(...)
        except RegistryError as exc:
            log.warning("registry refused: %s (%s)", exc, exc.code)
    """

    code: str = "registry_error"
    """Stable machine-readable code, used by the gateway as the problem+json ``code``."""


class ConfigurationError(RegistryError):
    """Raised when settings are missing, contradictory or unsafe."""

    code = "configuration_error"


class InvalidRequestError(RegistryError, ValueError):
    """Raised for a value the registry cannot act on (a cursor it did not hand out, a credential expiry
    in the past); a ``ValueError`` too, so callers catching bad arguments still do."""

    code = "invalid_request"


class RegistryInUseError(RegistryError):
    """Raised when a registry is opened on a data folder that another live process holds (a gateway, an
    ``ebl dev up``, a direct-mode ``ebl`` command): opening it too would run a second chain on the same
    state and a second relayer with the same key.

    Attributes:
        data_dir: the data folder (absolute).
        pid: the holding process, or None when it could not be read.
        holder: what the holding process is ("the gateway", "ebl issue" ...).
        url: the holder's gateway URL, when it serves one.
    """

    code = "registry_in_use"

    def __init__(self, data_dir: str, pid: int | None, holder: str, url: str | None = None) -> None:
        self.data_dir, self.pid, self.holder, self.url = data_dir, pid, holder, url
        who = f"{holder} pid {pid}" if pid is not None else holder
        hint = f"use --gateway {url} or stop it" if url else "use --gateway URL or stop it"
        super().__init__(f"the registry in {data_dir} is in use by {who}; {hint}")


# --- documents -------------------------------------------------------------------------------


class DocumentError(RegistryError):
    """Raised when a transport document cannot be accepted or verified."""

    code = "document_error"


@dataclass(frozen=True)
class Violation:
    """One broken rule in a document: where (JSON path), which rule, and a human message."""

    path: str
    rule: str
    message: str


class InvalidDocumentError(DocumentError):
    """Raised when a transport document breaks the DCSA schema or a DCSA business rule."""

    code = "invalid_document"

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        first = self.violations[0] if self.violations else Violation("$", "unknown", "invalid document")
        more = f" (+{len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
        super().__init__(f"{first.path}: {first.message} [{first.rule}]{more}")


_DUPLICATE_MESSAGE = "duplicate object key: this key appears more than once in its object (I-JSON, RFC 7493)"


class DuplicateKeyError(InvalidDocumentError):
    """Raised when JSON text names the same key twice in one object (I-JSON, RFC 7493 section 2.3).

    Parsers disagree on which of the values wins (Python's and JavaScript's keep the last, others the
    first or refuse), so such a text is refused rather than read one way. ``paths`` are the JSON paths
    of every repeated key, in document order (``$.transportDocumentReference``, ``$.items[0].issueTo``).
    """

    code = "duplicate_key"

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        super().__init__([Violation(path, "json.duplicate-key", _DUPLICATE_MESSAGE) for path in paths])


class CarrierMismatchError(DocumentError):
    """Raised when a document names another carrier than the organisation issuing (or amending) it:
    its ``carrierCode`` on its ``carrierCodeListProvider`` list is not one of the codes recorded for
    that organisation at onboarding.

    Attributes:
        carrier: the issuing organisation.
        named: the code the document names, ``PROVIDER:CODE`` (``SMDG:MAEU``).
        recorded: the issuing organisation's codes, same form (empty when none were recorded).
        violations: the refused fields by JSON path (``$.carrierCode``, and
            ``$.carrierCodeListProvider`` when only the code list differs).
    """

    code = "carrier_mismatch"

    def __init__(self, carrier: str, named: str, recorded: Sequence[str], paths: Sequence[str]) -> None:
        self.carrier, self.named, self.recorded = carrier, named, tuple(recorded)
        theirs = ", ".join(self.recorded) if self.recorded else "none recorded"
        message = f"the document names carrier {named}; the issuing carrier {carrier} has {theirs}"
        self.violations: tuple[Violation, ...] = tuple(
            Violation(path, "carrier.mismatch", message) for path in paths
        )
        super().__init__(f"{', '.join(paths)}: {message}")


class DocumentMismatchError(DocumentError):
    """Raised when a presented document does not hash to the hash recorded at issuance."""

    code = "document_mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(f"document hash {actual} does not match the issued hash {expected}")


# --- keys ------------------------------------------------------------------------------------


class KeyManagementError(RegistryError):
    """Raised when a signing key cannot be created, loaded, rotated or used."""

    code = "key_error"


class KeystoreError(KeyManagementError):
    """Raised when a keystore file is missing, unreadable or corrupt."""

    code = "keystore_error"


class KeystoreLockedError(KeyManagementError):
    """Raised when a keystore cannot be unlocked (wrong or missing passphrase)."""

    code = "keystore_locked"


class UnknownKeyError(KeyManagementError):
    """Raised when no key with the given address or name is known."""

    code = "unknown_key"


class KeyRevokedError(KeyManagementError):
    """Raised when a signer is requested for a key flagged revoked."""

    code = "key_revoked"


class InvalidSignatureError(KeyManagementError):
    """Raised when a signature is malformed, malleable or not made by the expected key.

    Attributes:
        reason: short machine-readable cause: ``length``, ``v``, ``r``, ``s``, ``recovery``,
            ``typed_data`` or ``mismatch``.
    """

    code = "invalid_signature"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class SigningError(KeyManagementError):
    """Raised when a signer backend refuses or fails to sign."""

    code = "signing_error"


# --- chain -----------------------------------------------------------------------------------


class ChainError(RegistryError):
    """Raised when the ledger cannot be reached or refuses an operation."""

    code = "chain_error"


class LedgerUnavailableError(ChainError):
    """Raised when a write arrives while the chain is down or being recovered: retry shortly."""

    code = "ledger_unavailable"


class ToolchainError(ChainError):
    """Raised when the Solidity compiler or the embedded anvil is missing or fails."""

    code = "toolchain_error"


class DeploymentMismatchError(ChainError):
    """Raised when the code at a recorded address is not the code this registry was built from."""

    code = "deployment_mismatch"


class TransactionFailedError(ChainError):
    """Raised when a transaction reverted without a decodable custom error, or was never mined."""

    code = "transaction_failed"


class ContractRevertError(ChainError):
    """Raised when the contracts revert with a custom error; subclassed per error name.

    The message is the error's ``reason`` with its arguments filled in, in DCSA words (an enum
    argument by its name: "the eBL is SURRENDERED"); without a reason, the error name and its
    arguments, enums still by name.

    Attributes:
        error_name: the Solidity error name, e.g. ``TitleNotHolder``.
        reason: the message template, ``{arg}`` naming an argument (set per generated class).
        args: the decoded error arguments by parameter name.
        data: the raw revert data (selector + ABI-encoded arguments).
    """

    code = "contract_revert"
    error_name: str = ""
    reason: str = ""

    def __init__(self, args: dict[str, object] | None = None, data: bytes = b"") -> None:
        self.args_by_name: dict[str, object] = dict(args or {})
        self.data = data
        words = self.words()
        try:
            message = self.reason.format_map(words) if self.reason else ""
        except (KeyError, IndexError, ValueError):  # a template naming an argument the error lacks
            message = ""
        if not message:
            rendered = ", ".join(f"{k} {v}" for k, v in words.items())
            name = self.error_name or "revert"
            message = f"{name}: {rendered}" if rendered else name
        super().__init__(message)

    def words(self) -> dict[str, str]:
        """The arguments as text: enums by name, bytes as 0x hex, numbers in decimal."""
        return {k: render_value(v) for k, v in self.args_by_name.items()}


def render_value(value: object) -> str:
    """One decoded contract value as text: an enum by its name, bytes as 0x hex, else ``str``."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple):
        return "(" + ", ".join(render_value(v) for v in value) + ")"
    return str(value)


# --- store -----------------------------------------------------------------------------------


class StoreError(RegistryError):
    """Raised when the database refuses or fails an operation."""

    code = "store_error"


class NotFoundError(StoreError):
    """Raised when an eBL, organisation, document or operation does not exist."""

    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} {key} not found")


class NoMatchingEblError(NotFoundError):
    """Raised when a presented document matches no eBL: none was ever issued with its hash."""

    code = "no_matching_ebl"

    def __init__(self, document_hash: str) -> None:
        super().__init__("eBL issued with document", document_hash)
        self.document_hash = document_hash
        self.args = (
            f"No eBL was issued for this document (SHA-256 of its RFC 8785 canonical form: {document_hash})",
        )


class CarrierCodeTakenError(StoreError):
    """Raised when a carrier code is claimed that already belongs to another organisation (a code names
    one carrier, on its code list).

    Attributes:
        carrier_code: ``PROVIDER:CODE`` (``SMDG:MSC``).
        owner: the organisation it belongs to.
    """

    code = "carrier_code_taken"

    def __init__(self, carrier_code: str, owner: str) -> None:
        self.carrier_code, self.owner = carrier_code, owner
        super().__init__(f"carrier code {carrier_code} already belongs to organisation {owner}")


class IdempotencyConflictError(StoreError):
    """Raised when an Idempotency-Key is reused with a different request body."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different request")


class DcsaRequestConflictError(StoreError):
    """Raised when a DCSA request repeats one already handled: an issuance request for a document (by its
    checksum) that was requested before, or a second answer to one surrender request."""

    code = "duplicate"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


# --- PINT ------------------------------------------------------------------------------------


class PintError(RegistryError):
    """Raised when a DCSA PINT envelope, signature, key or trust list cannot be used."""

    code = "pint_error"


class SignatureRejected(PintError):
    """Raised when a JWS is refused: an unknown key id, an untrusted, expired or revoked certificate,
    a signature that does not verify, or an algorithm outside EdDSA/ES256/RS256/PS256. A receiver
    answers it with ``BSIG``.

    Attributes:
        cause: which of those (:class:`registry.pint.codes.SignatureCause`).
        detail: the human explanation (also the message, after the cause).
    """

    code = "pint_signature_rejected"

    def __init__(self, cause: SignatureCause, detail: str) -> None:
        self.cause, self.detail = cause, detail
        super().__init__(f"{cause.value}: {detail}")


class EnvelopeRefused(PintError):
    """Raised when an envelope (or a finished response) is refused with a PINT response code.

    Attributes:
        response_code: the PINT code to answer (:class:`registry.pint.codes.ResponseCode`; ``BSIG``,
            ``BENV`` or ``DISE`` for the checks of the envelope itself).
        reason: the explanation for the sending platform (at most 255 characters, as the YAML's
            ``reason``).
        cause: for ``BSIG``, which signature check failed (else None).
    """

    code = "pint_envelope_refused"

    def __init__(self, code: ResponseCode, reason: str, cause: SignatureCause | None = None) -> None:
        self.response_code, self.cause = code, cause
        self.reason = reason if len(reason) <= 255 else reason[:254] + "…"
        super().__init__(f"{code.value}: {self.reason}")


class PlatformKeyError(PintError):
    """Raised when our platform's PINT signing key is missing, unreadable or of an unsupported kind."""

    code = "pint_platform_key"


class TrustListError(PintError):
    """Raised when the trust list file, or an entry of it, is invalid (a bad JWK set, certificate, CRL,
    a duplicate platform code or key id)."""

    code = "pint_trust_list"


class ResponseMismatchError(PintError):
    """Raised when a signed finished response verifies but does not answer the envelope we sent (its
    ``lastEnvelopeTransferChainEntrySignedContentChecksum`` is another one), or breaks the YAML's rules
    for its code."""

    code = "pint_response_mismatch"


class UnknownPlatformError(PintError):
    """Raised when a transfer names a platform code that is not on our trust list."""

    code = "unknown_platform"

    def __init__(self, platform: str) -> None:
        self.platform = platform
        super().__init__(f"platform {platform!r} is not on this registry's trust list (ebl platforms add)")


class TransferInProgressError(PintError):
    """Raised when a bill is sent to another platform while an earlier transfer of it is unfinished."""

    code = "transfer_in_progress"

    def __init__(self, transfer_id: str, step: str) -> None:
        self.transfer_id, self.step = transfer_id, step
        super().__init__(f"transfer {transfer_id} of this bill is unfinished (step {step})")
