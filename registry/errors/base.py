"""The root of the tree and the errors that belong to no layer."""

from __future__ import annotations

__all__ = ["ConfigurationError", "InvalidRequestError", "RegistryError", "RegistryInUseError"]


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
