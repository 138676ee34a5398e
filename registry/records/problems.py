"""The problem codes: every ``code`` a problem+json answer carries, its HTTP status and meaning.

This is the one table of them. The gateway answers with these codes (``api.problems``), its OpenAPI
document and the README's table are generated from it (``scripts/problem_codes.py``), a failed
operation's ``errorCode`` is one of them (:class:`registry.records.operations.OperationOut`), and the
CLI shows them. A contract error maps to a code only (:data:`CONTRACT_PROBLEMS`); its HTTP status is
the code's, read from :data:`PROBLEM_CODES`, so the two can never disagree.
"""

from __future__ import annotations

__all__ = [
    "CONTRACT_PROBLEMS",
    "PROBLEM_CODES",
    "PROBLEM_JSON",
    "TYPE_BASE",
    "contract_problem",
    "problem_code_of",
    "status_of",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://ebl-registry.dev/problems/"
"""A problem's ``type`` is this URI followed by its ``code``."""

PROBLEM_CODES: dict[str, tuple[int, str]] = {
    # 400
    "invalid_encoding": (400, "The request body is not UTF-8"),
    "too_deep": (400, "The request JSON is nested more than 64 levels deep"),
    "expired": (400, "The signature's deadline has passed"),
    "bad_signature": (400, "The signature is malformed, malleable, or not by the claimed signer"),
    "http_error": (400, "The HTTP request itself was refused (the status says how)"),
    "bad_request": (400, "DCSA /v3 only: the request is not valid (where /v1 answers 422 invalid_request)"),
    # 401
    "unauthenticated": (401, "No credential, or one that is invalid, revoked or expired"),
    # 403
    "forbidden_role": (403, "The credential's role, or the organisation's, may not do this"),
    "not_holder": (403, "The acting organisation is not the holder of the eBL"),
    "not_entitled": (403, "The holder is neither the endorsee nor holding a blank-endorsed bill"),
    "not_endorsee": (403, "Only the endorsee may nominate the next endorsee"),
    "not_issuing_carrier": (403, "Only the carrier that issued the eBL may do this"),
    "unauthorized_key": (403, "The signing key is not an active key of the organisation"),
    "suspended": (403, "The organisation is suspended: it may neither act nor receive title"),
    # 404
    "not_found": (404, "No such eBL, organisation or operation, or none this principal may see"),
    "no_matching_ebl": (404, "No eBL was issued for the presented document"),
    "unknown_platform": (404, "The platform code is not on this registry's PINT trust list"),
    # 405
    "method_not_allowed": (405, "The path does not accept this HTTP method"),
    # 409
    "duplicate": (
        409,
        "Already exists: the eBL, a record of the same document (one record per document), the "
        "organisation, the key, or a carrier code another carrier has",
    ),
    "wrong_state": (409, "Not allowed in the eBL's current status (the detail names it)"),
    "straight_bill_recipient": (409, "A straight bill goes only to its named consignee"),
    "nonce_used": (409, "The signature's nonce was already used (a replay)"),
    "last_key": (409, "An organisation cannot revoke its last active key"),
    "idempotency_conflict": (409, "The Idempotency-Key was used before for a different request"),
    "no_custodial_key": (409, "The gateway holds no active key for this organisation: sign it yourself"),
    "transfer_in_progress": (409, "The bill is already on its way to another platform (PINT)"),
    "refused": (409, "The ledger refused the operation without a reason the registry knows"),
    # 413
    "payload_too_large": (413, "The request body is larger than the gateway accepts"),
    # 422
    "invalid_request": (422, "The request is not valid (the errors name each field)"),
    "invalid_document": (422, "The transport document breaks the DCSA schema or a DCSA rule (JSON paths)"),
    "carrier_mismatch": (
        422,
        "The document names another carrier than the one issuing it ($.carrierCode is not one of its codes)",
    ),
    "invalid_platform": (422, "The platform entry is not usable (its JWK set, certificates or code)"),
    "duplicate_key": (422, "The JSON names a key twice in one object (I-JSON)"),
    "role_mismatch": (422, "The credential's role is not the organisation's role on chain"),
    "unknown_organisation": (422, "The organisation named is not a member"),
    "invalid_counterparty": (422, "The counterparty is not acceptable for this action (e.g. the holder)"),
    # 429
    "rate_limited": (429, "The credential's rate limit is exceeded (Retry-After)"),
    # 500
    "misconfigured": (500, "The registry's keys or settings are misconfigured (see the server log)"),
    "internal_error": (500, "Unexpected error (see the server log)"),
    # 503
    "ledger_unavailable": (503, "The ledger did not answer or is being recovered (Retry-After)"),
    "paused": (503, "Title actions are paused by governance (Retry-After)"),
    "not_ready": (503, "The gateway is not ready: chain, database or index (Retry-After)"),
}
"""Every problem ``code`` the gateway answers with → (HTTP status, meaning)."""


CONTRACT_PROBLEMS: dict[str, str] = {
    "TitleNotHolder": "not_holder",
    "TitleNotEntitled": "not_entitled",
    "TitleNotEndorsee": "not_endorsee",
    "TitleNotIssuingCarrier": "not_issuing_carrier",
    "MembershipRoleRequired": "forbidden_role",
    "MembershipUnauthorizedKey": "unauthorized_key",
    "MembershipOrganisationNotActive": "suspended",
    "TitleUnknownEbl": "not_found",
    "MembershipUnknownOrganisation": "unknown_organisation",
    "TitleAlreadyIssued": "duplicate",
    "MembershipOrganisationExists": "duplicate",
    "MembershipKeyExists": "duplicate",
    "TitleWrongStatus": "wrong_state",
    "TitleNotEndorsable": "wrong_state",
    "TitleNothingToReject": "wrong_state",
    "TitleWrongSurrenderReason": "wrong_state",
    "TitleStraightBillRecipient": "straight_bill_recipient",
    "TitleInvalidCounterparty": "invalid_counterparty",
    "TitleExpiredSignature": "expired",
    "TitleInvalidSignature": "bad_signature",
    "TitleNonceUsed": "nonce_used",
    "TitleZeroHash": "invalid_request",
    "TitleInvalidAction": "invalid_request",
    "TitleInvalidKind": "invalid_request",
    "TitleDuplicateDocument": "duplicate",
    "TitleOnlySelf": "invalid_request",
    "TitleERC721Disabled": "invalid_request",
    "MembershipKeyNotOwned": "unauthorized_key",
    "MembershipLastKey": "last_key",
    "MembershipInvalidRole": "invalid_request",
    "MembershipZeroAddress": "invalid_request",
    "AccessControlUnauthorizedAccount": "forbidden_role",
    "AccessControlBadConfirmation": "invalid_request",
    "EnforcedPause": "paused",
    "ExpectedPause": "wrong_state",
    "InvalidShortString": "invalid_request",
    "StringTooLong": "invalid_request",
    "BridgeInvalidPlatform": "invalid_request",
}
"""Every custom error in the contracts' ABI → its problem code (the status is the code's)."""


def status_of(code: str) -> int:
    """The HTTP status a problem ``code`` answers with."""
    return PROBLEM_CODES[code][0]


def contract_problem(error_name: str) -> tuple[int, str]:
    """(HTTP status, code) of a contract error; a name the table does not know is 409 ``refused``."""
    code = CONTRACT_PROBLEMS.get(error_name, "refused")
    return status_of(code), code


def problem_code_of(error_code: str | None) -> str | None:
    """The problem code for what the journal records as a failed operation's ``error_code`` (the
    contract error name, or a registry error code): ``TitleWrongStatus`` → ``wrong_state``."""
    if not error_code:
        return None
    if error_code in CONTRACT_PROBLEMS:
        return CONTRACT_PROBLEMS[error_code]
    return error_code if error_code in PROBLEM_CODES else "refused"
