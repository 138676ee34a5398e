"""The registry's attestation keys: one signs, every earlier one stays published so past attestations
still verify.

Each key is a private JWK file ``<data_dir>/attestation/keys/<kid>.jwk`` (mode 0600, folder 0700), held
by a :class:`~registry.pint.signer.PlatformSigner` -- the file backend of the :class:`JwsSigner` seam
PINT signs with, so an HSM or KMS can take the file's place here too. ``kid`` is the RFC 7638 JWK
thumbprint. ``<data_dir>/attestation/active`` names the key that signs; ``retired`` lists keys taken
out of the published set (a compromised key: attestations it signed stop verifying).

Rotation (:meth:`AttestationKeys.rotate`) creates a key, makes it the signer, and keeps the previous
one in :meth:`AttestationKeys.public_jwks`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Literal

from registry.errors import PintError
from registry.keys._files import make_private_dir
from registry.pint.signer import JwsSigner, PlatformSigner
from registry.proofs.errors import AttestationKeyError

__all__ = ["ATTESTATION_DIR", "AttestationAlgorithm", "AttestationKeys"]

ATTESTATION_DIR = Path("attestation")
"""The attestation keys' folder under the data folder."""

AttestationAlgorithm = Literal["EdDSA", "ES256"]


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class AttestationKeys:
    """The attestation key set of one data folder.

    Args:
        data_dir: the registry's data folder.
        alg: the algorithm of a key created when none exists yet (EdDSA by default).

    Raises:
        AttestationKeyError: a key file is unreadable or not a private JWK of a supported algorithm.
    """

    def __init__(self, data_dir: Path, alg: AttestationAlgorithm = "EdDSA") -> None:
        self._root = Path(data_dir) / ATTESTATION_DIR
        self._keys_dir = self._root / "keys"
        self._alg = alg
        self._lock = threading.Lock()
        self._signers: dict[str, PlatformSigner] = {}
        self._active = ""
        self._stamp: tuple[float, ...] = ()
        self._load()

    # ------------------------------------------------------------------ files

    def _files_stamp(self) -> tuple[float, ...]:
        paths = [self._root / "active", self._root / "retired", self._keys_dir]
        return tuple(p.stat().st_mtime_ns if p.exists() else -1 for p in paths)

    def _load(self) -> None:
        try:
            make_private_dir(self._keys_dir)
            signers: dict[str, PlatformSigner] = {}
            for path in sorted(self._keys_dir.glob("*.jwk")):
                signer = PlatformSigner.load(path)
                signers[signer.kid] = signer
            active_file = self._root / "active"
            active = active_file.read_text("ascii").strip() if active_file.exists() else ""
        except (OSError, PintError) as exc:
            raise AttestationKeyError(f"cannot load the attestation keys in {self._root}: {exc}") from None
        if not signers or active not in signers:
            if active and active not in signers:
                raise AttestationKeyError(f"the active attestation key {active} has no key file")
            created = self._create(self._alg)
            signers[created.kid] = created
            active = created.kid
        self._signers, self._active = signers, active
        self._stamp = self._files_stamp()

    def _create(self, alg: AttestationAlgorithm) -> PlatformSigner:
        if alg not in ("EdDSA", "ES256"):
            raise AttestationKeyError(f"unsupported attestation algorithm {alg!r}; use EdDSA or ES256")
        signer = PlatformSigner.generate(alg)
        try:
            signer.save(self._keys_dir / f"{signer.kid}.jwk")
            _write_text(self._root / "active", signer.kid + "\n")
        except (OSError, PintError) as exc:
            raise AttestationKeyError(f"cannot save an attestation key in {self._root}: {exc}") from None
        return signer

    def _fresh(self) -> None:
        """Reload when another process (``ebl attest keys rotate``) changed the folder."""
        if self._files_stamp() != self._stamp:
            self._load()

    def _retired(self) -> set[str]:
        path = self._root / "retired"
        return set(path.read_text("ascii").split()) if path.exists() else set()

    # ------------------------------------------------------------------ use

    @property
    def signer(self) -> JwsSigner:
        """The key that signs new attestations."""
        with self._lock:
            self._fresh()
            return self._signers[self._active]

    def rotate(self, alg: AttestationAlgorithm | None = None) -> str:
        """Create a key (of ``alg``, else the current signer's), make it the signer; the old key stays
        published. Returns the new ``kid``.

        Raises:
            AttestationKeyError: the key cannot be created or saved.
        """
        with self._lock:
            self._fresh()
            chosen: Any = alg or self._signers[self._active].alg
            created = self._create(chosen)
            self._signers[created.kid] = created
            self._active = created.kid
            self._stamp = self._files_stamp()
            return created.kid

    def retire(self, kid: str) -> None:
        """Take a key that no longer signs out of the published set (attestations it signed stop verifying).

        Raises:
            AttestationKeyError: unknown, or the active signer (rotate first).
        """
        with self._lock:
            self._fresh()
            if kid not in self._signers:
                raise AttestationKeyError(f"no attestation key {kid}")
            if kid == self._active:
                raise AttestationKeyError(f"{kid} is the active attestation key: rotate first")
            retired = self._retired() | {kid}
            _write_text(self._root / "retired", "".join(f"{k}\n" for k in sorted(retired)))
            self._stamp = self._files_stamp()

    def public_jwks(self) -> dict[str, Any]:
        """``{"keys": [...]}``: the active key first, then every earlier key not retired."""
        with self._lock:
            self._fresh()
            retired = self._retired()
            order = [self._active, *sorted(k for k in self._signers if k != self._active)]
            keys = [self._signers[k].public_jwks()["keys"][0] for k in order if k not in retired]
            return {"keys": keys}

    def describe(self) -> list[dict[str, Any]]:
        """Every key: ``kid``, ``alg``, and whether it is ``active`` or ``retired``."""
        with self._lock:
            self._fresh()
            retired = self._retired()
            return [
                {"kid": k, "alg": s.alg, "active": k == self._active, "retired": k in retired}
                for k, s in sorted(self._signers.items(), key=lambda kv: (kv[0] != self._active, kv[0]))
            ]
