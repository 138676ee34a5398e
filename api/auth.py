"""API credentials: the store lives in :mod:`registry.store.credentials` (the CLI issues credentials
too, and ``registry`` never imports ``api``); these names stay importable from here for the gateway."""

from registry.store.credentials import (
    API_ROLES,
    MEMBER_ROLES,
    ApiRole,
    CredentialRecord,
    Credentials,
    IssuedCredential,
    Principal,
    Refusal,
)

__all__ = [
    "API_ROLES",
    "MEMBER_ROLES",
    "ApiRole",
    "CredentialRecord",
    "Credentials",
    "IssuedCredential",
    "Principal",
    "Refusal",
]
