"""DCSA PINT: platform interoperability."""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.errors.base import RegistryError

if TYPE_CHECKING:
    from registry.pint.codes import ResponseCode, SignatureCause

__all__ = [
    "EnvelopeRefused",
    "PintError",
    "PlatformKeyError",
    "ResponseMismatchError",
    "SignatureRejected",
    "TransferInProgressError",
    "TrustListError",
    "UnknownPlatformError",
]


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
