"""What the keystore knows about a key without unlocking it: :class:`KeyInfo` and its 0600 sidecar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.errors import KeystoreError
from registry.keys._files import read_json

__all__ = ["META_FORMAT", "KeyInfo", "KeyStatus", "meta_dict", "meta_path", "read_key_info"]

KeyStatus = Literal["active", "revoked"]
"""Local standing of a key: ``active`` or ``revoked`` (flagged by ``KeyStore.mark_revoked``)."""

META_FORMAT = "ebl-registry/key-meta/v1"


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one stored key (no secrets).

    Attributes:
        address: the key's checksummed address.
        org: the organisation directory the key belongs to.
        created_at: when the key was created or imported (UTC).
        status: ``"active"`` or ``"revoked"``.
        label: optional operator label.
        revoked_at: when the key was flagged revoked (UTC), else ``None``.
    """

    address: ChecksumAddress
    org: str
    created_at: datetime
    status: KeyStatus
    label: str | None = None
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True unless the key was flagged revoked."""
        return self.status == "active"

    def to_public_dict(self) -> dict[str, Any]:
        """JSON-ready public record: address, status, label, created_at, revoked_at."""
        return {
            "address": self.address,
            "status": self.status,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def meta_path(keyfile: Path) -> Path:
    return keyfile.with_name(keyfile.name.removesuffix(".json") + ".meta.json")


def meta_dict(info: KeyInfo) -> dict[str, Any]:
    return {"format": META_FORMAT, "org": info.org, **info.to_public_dict()}


def read_key_info(org: str, path: Path) -> KeyInfo:
    """The :class:`KeyInfo` of keystore file ``path``: from its sidecar, or active since its mtime."""
    address = to_checksum_address(path.name.removesuffix(".json"))
    sidecar = meta_path(path)
    if not sidecar.exists():
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return KeyInfo(address=address, org=org, created_at=mtime, status="active")
    meta = read_json(sidecar)
    try:
        status = meta["status"]
        if meta.get("format") != META_FORMAT or status not in ("active", "revoked"):
            raise ValueError("unknown format or status")
        if to_checksum_address(meta["address"]) != address:
            raise ValueError("address does not match file name")
        label = meta.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError("label is not a string")
        revoked_at = meta.get("revoked_at")
        return KeyInfo(
            address=address,
            org=org,
            created_at=datetime.fromisoformat(meta["created_at"]),
            status=status,
            label=label,
            revoked_at=datetime.fromisoformat(revoked_at) if revoked_at else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KeystoreError(f"key metadata {sidecar.name} is invalid: {exc}") from None
