"""Our platform's PINT signing key: a private JWK that signs envelope manifests, chain entries,
issuance manifests and finished responses as compact JWS.

It sits behind the same seam as :class:`registry.keys.Signer`: the rest of the registry sees a
:class:`JwsSigner` (sign, public keys) and never the key material, so an HSM or a KMS can take the
file's place. The file backend keeps one JWK at ``<data_dir>/pint/platform-key.jwk`` (mode 0600, in a
0700 folder), created on first use: RSA 3072 for PS256 by default, or Ed25519 (EdDSA) or P-256
(ES256). Its ``kid`` is the RFC 7638 thumbprint of the public key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from registry.errors import KeystoreError, PlatformKeyError
from registry.keys._files import make_private_dir, write_json_atomic
from registry.pint.jose import JWS_ALGORITHMS, JWS_REGISTRY, PublicKey, key_fits_alg

__all__ = ["KEY_FILE", "Algorithm", "JwsSigner", "PlatformSigner"]

KEY_FILE = Path("pint") / "platform-key.jwk"
"""Where :meth:`PlatformSigner.load_or_create` keeps the key, under the data folder."""

Algorithm = Literal["PS256", "RS256", "ES256", "EdDSA"]

PrivateKey = RSAKey | ECKey | OKPKey


@runtime_checkable
class JwsSigner(Protocol):
    """What PINT needs of a platform key: sign a JSON payload as a compact JWS, show the public keys.

    Implementations must never expose private key material through ``repr``, logs or exceptions.
    """

    @property
    def kid(self) -> str:
        """The key id put in every JWS header."""
        ...

    @property
    def alg(self) -> str:
        """The JWS algorithm (``PS256``, ``RS256``, ``ES256`` or ``EdDSA``)."""
        ...

    def sign(self, payload: dict[str, Any]) -> str:
        """The compact JWS of ``payload`` (its RFC 8785 form), header ``{"alg", "kid"}``."""
        ...

    def public_jwks(self) -> dict[str, Any]:
        """The public keys as a JWK set (``{"keys": [...]}``) for the other platforms' trust lists."""
        ...


def _generate(alg: Algorithm) -> PrivateKey:
    if alg in ("PS256", "RS256"):
        return RSAKey.generate_key(3072, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", private=True)
    raise PlatformKeyError(f"unsupported PINT signing algorithm {alg!r}; use one of {sorted(JWS_ALGORITHMS)}")


class PlatformSigner:
    """A private JWK that signs PINT payloads (the file backend of :class:`JwsSigner`).

    Args:
        key: the private key (``joserfc`` JWK).
        alg: the JWS algorithm to sign with; it must fit the key (RSA: PS256/RS256, P-256: ES256,
            Ed25519: EdDSA).
        certificates: an X.509 chain for the key (leaf first, then intermediates), sent as the JWS
            ``x5c`` header so a receiver can validate it to its trust anchors; empty for none.

    Raises:
        PlatformKeyError: the key is public only, or does not fit ``alg``.
    """

    __slots__ = ("_alg", "_header", "_key", "_kid", "_public", "_x5c")

    def __init__(
        self, key: PrivateKey, alg: Algorithm = "PS256", *, certificates: Sequence[x509.Certificate] = ()
    ) -> None:
        if alg not in JWS_ALGORITHMS:
            raise PlatformKeyError(f"unsupported PINT signing algorithm {alg!r}")
        if not key.is_private:
            raise PlatformKeyError("the PINT platform key must be a private key")
        if not key_fits_alg(key, alg):
            raise PlatformKeyError(f"a {key.key_type} key cannot sign {alg}")
        self._key, self._alg = key, alg
        self._kid = key.thumbprint()
        public = key.as_dict(private=False)
        public.update({"kid": self._kid, "alg": alg, "use": "sig"})
        self._public = public
        self._x5c = [
            base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in certificates
        ]
        self._header: dict[str, Any] = {"alg": alg, "kid": self._kid}
        if self._x5c:
            self._header["x5c"] = self._x5c

    @classmethod
    def generate(cls, alg: Algorithm = "PS256") -> PlatformSigner:
        """A new key in memory (tests, and the first start before :meth:`save`)."""
        return cls(_generate(alg), alg)

    @classmethod
    def load_or_create(cls, data_dir: Path, alg: Algorithm = "PS256") -> PlatformSigner:
        """The key at ``<data_dir>/pint/platform-key.jwk``, created (mode 0600) when missing.

        Args:
            data_dir: the registry's data folder.
            alg: the algorithm of a key created now; an existing key keeps the ``alg`` it was saved with.

        Raises:
            PlatformKeyError: the file is unreadable, not a private JWK, or of an unsupported algorithm.
        """
        path = Path(data_dir) / KEY_FILE
        if path.exists():
            return cls.load(path)
        signer = cls.generate(alg)
        signer.save(path)
        return signer

    @classmethod
    def load(cls, path: Path) -> PlatformSigner:
        """The key saved at ``path`` by :meth:`save`.

        Raises:
            PlatformKeyError: the file is unreadable, not a private JWK, or of an unsupported algorithm.
        """
        try:
            data = json.loads(Path(path).read_bytes())
        except OSError as exc:
            raise PlatformKeyError(f"cannot read the PINT platform key {path}: {exc.strerror}") from None
        except ValueError:
            raise PlatformKeyError(f"the PINT platform key {path} is not JSON") from None
        if not isinstance(data, dict):
            raise PlatformKeyError(f"the PINT platform key {path} is not a JWK object")
        alg = data.get("alg", "PS256")
        kty = data.get("kty")
        try:
            key: PrivateKey
            if kty == "RSA":
                key = RSAKey.import_key(data)
            elif kty == "EC":
                key = ECKey.import_key(data)
            elif kty == "OKP":
                key = OKPKey.import_key(data)
            else:
                raise PlatformKeyError(f"the PINT platform key {path} has unsupported kty {kty!r}")
        except (JoseError, ValueError, TypeError) as exc:
            raise PlatformKeyError(f"the PINT platform key {path} is not a valid JWK: {exc}") from None
        return cls(key, alg)

    def save(self, path: Path) -> None:
        """Write the private JWK to ``path`` atomically, mode 0600, its folder 0700.

        Raises:
            PlatformKeyError: the file cannot be written.
        """
        data = self._key.as_dict(private=True)
        data.update({"kid": self._kid, "alg": self._alg})
        try:
            make_private_dir(Path(path).parent)
            write_json_atomic(Path(path), data)
        except KeystoreError as exc:
            raise PlatformKeyError(str(exc)) from None

    @property
    def kid(self) -> str:
        """The RFC 7638 thumbprint of the public key, put in every JWS header."""
        return self._kid

    @property
    def alg(self) -> str:
        """The JWS algorithm this key signs with."""
        return self._alg

    @property
    def public_key(self) -> PublicKey:
        """The public JWK (``joserfc``)."""
        key: PublicKey = type(self._key).import_key(self._public)
        return key

    def sign(self, payload: dict[str, Any]) -> str:
        """The compact JWS of ``payload`` in its RFC 8785 form; header ``alg``, ``kid`` (and ``x5c``
        when the key has a certificate chain)."""
        body = rfc8785.dumps(payload)
        return jws.serialize_compact(
            self._header, body, self._key, algorithms=[self._alg], registry=JWS_REGISTRY
        )

    def public_jwks(self) -> dict[str, Any]:
        """``{"keys": [public JWK with kid, alg and use]}``."""
        return {"keys": [dict(self._public)]}

    def __repr__(self) -> str:
        return f"PlatformSigner(alg={self._alg!r}, kid={self._kid!r})"
