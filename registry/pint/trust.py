"""The trust list: the other eBL platforms whose PINT signatures we recognise.

Each :class:`PlatformEntry` names a platform by its DCSA eBL solution provider code
(``eblsolutionproviders-v3.0.0.csv``: ``WAVE``, ``CARX`` ...), its PINT base URL and its JWK set;
optionally X.509 trust anchors (then every key of the platform must come with a certificate chain that
validates to one of them, now, and is on none of the configured CRLs), and the carriers it signs
issuance manifests for. The list lives in ``<data_dir>/pint/trust.json``.

:meth:`TrustList.verify` checks one compact JWS: the algorithm, the key id, the certificate chain (if
anchors are configured), the signature; it answers :class:`VerifiedJws` or raises
:class:`~registry.errors.SignatureRejected` with the cause (every cause answers ``BSIG``).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import verification
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, Field

from registry.documents.jsontext import parse_json_text
from registry.errors import InvalidDocumentError, KeystoreError, SignatureRejected, TrustListError
from registry.keys._files import make_private_dir, write_json_atomic
from registry.pint.codes import SignatureCause
from registry.pint.jose import JWS_ALGORITHMS, JWS_REGISTRY, PublicKey, decode_header, key_fits_alg

__all__ = ["TRUST_FILE", "PlatformEntry", "TrustList", "VerifiedJws"]

TRUST_FILE = Path("pint") / "trust.json"
"""Where the trust list is kept, under the data folder."""


class PlatformEntry(BaseModel):
    """One trusted platform.

    Attributes:
        code: its DCSA eBL solution provider code (``WAVE``), 1-4 characters, as in ``eblPlatform``.
        name: its name (``Wave``).
        url: its PINT base URL (``https://pint.wave.example/v3``).
        jwks: its public keys, a JWK set ``{"keys": [...]}``; every key has a ``kid``.
        x509_anchors: PEM trust anchors; when given, every JWS of this platform must carry an ``x5c``
            chain (or the entry a ``x509_chain``) that validates to one of them.
        x509_chain: PEM certificates of the platform's key (leaf first, then intermediates), used when
            its JWS carry no ``x5c`` header.
        crls: PEM certificate revocation lists of the anchors and intermediates.
        carriers: carrier codes (``SMDG:MSC``) whose issuance manifests this platform may sign, beside
            the bills it issued itself (the first entry of a chain names the issuing platform).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=4, pattern=r"^\S+$")
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=1024)
    jwks: dict[str, Any]
    x509_anchors: tuple[str, ...] = ()
    x509_chain: tuple[str, ...] = ()
    crls: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifiedJws:
    """A JWS that verified: its payload (a JSON object), the platform and key that signed it."""

    payload: dict[str, Any]
    platform: str
    kid: str
    alg: str


@dataclass(frozen=True)
class _Compiled:
    entry: PlatformEntry
    keys: dict[str, PublicKey]
    anchors: tuple[x509.Certificate, ...]
    chain: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...]


def _pem_certificates(pems: Iterable[str], what: str, code: str) -> tuple[x509.Certificate, ...]:
    certificates: list[x509.Certificate] = []
    for pem in pems:
        try:
            certificates.extend(x509.load_pem_x509_certificates(pem.encode("ascii")))
        except ValueError as exc:
            raise TrustListError(f"platform {code}: {what} is not a PEM certificate: {exc}") from None
    return tuple(certificates)


def _compile(entry: PlatformEntry) -> _Compiled:
    try:
        keyset = KeySet.import_key_set(entry.jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise TrustListError(f"platform {entry.code}: jwks is not a JWK set: {exc}") from None
    keys: dict[str, PublicKey] = {}
    for key in keyset.keys:
        kid = key.kid
        if not kid:
            raise TrustListError(f"platform {entry.code}: every key of its jwks needs a kid")
        if kid in keys:
            raise TrustListError(f"platform {entry.code}: kid {kid} appears twice")
        if key.is_private:
            raise TrustListError(f"platform {entry.code}: kid {kid} is a private key; give the public key")
        keys[kid] = key  # type: ignore[assignment]
    crls: list[x509.CertificateRevocationList] = []
    for pem in entry.crls:
        try:
            crls.append(x509.load_pem_x509_crl(pem.encode("ascii")))
        except ValueError as exc:
            raise TrustListError(f"platform {entry.code}: a CRL is not PEM: {exc}") from None
    return _Compiled(
        entry,
        keys,
        _pem_certificates(entry.x509_anchors, "a trust anchor", entry.code),
        _pem_certificates(entry.x509_chain, "its x509_chain", entry.code),
        tuple(crls),
    )


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined,no-any-return]


class TrustList:
    """The platforms whose PINT signatures we recognise, indexed by key id.

    Args:
        entries: the platforms (each code and each key id once).

    Raises:
        TrustListError: an entry's keys, certificates or CRLs cannot be read, or a code or key id
            appears twice.
    """

    def __init__(self, entries: Iterable[PlatformEntry] = ()) -> None:
        self._entries: dict[str, _Compiled] = {}
        self._by_kid: dict[str, tuple[_Compiled, PublicKey]] = {}
        for entry in entries:
            self.add(entry)

    # --- the list -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> TrustList:
        """The trust list saved at ``path`` (an empty list when the file does not exist).

        Raises:
            TrustListError: the file is unreadable or not a trust list.
        """
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise TrustListError(f"cannot read the trust list {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw)
            platforms = data["platforms"]
            if not isinstance(platforms, list):
                raise TypeError("platforms is not a list")
            entries = [PlatformEntry.model_validate(item) for item in platforms]
        except (ValueError, TypeError, KeyError) as exc:
            raise TrustListError(f"{path} is not a PINT trust list: {exc}") from None
        return cls(entries)

    def save(self, path: Path) -> None:
        """Write the list to ``path`` atomically (mode 0600, its folder 0700).

        Raises:
            TrustListError: the file cannot be written.
        """
        data = {"platforms": [entry.model_dump(mode="json") for entry in self.list()]}
        try:
            make_private_dir(Path(path).parent)
            write_json_atomic(Path(path), data)
        except KeystoreError as exc:
            raise TrustListError(str(exc)) from None

    def add(self, entry: PlatformEntry) -> None:
        """Add a platform, or replace the entry with its code.

        Raises:
            TrustListError: its keys, certificates or CRLs cannot be read, or one of its key ids belongs
                to another platform.
        """
        compiled = _compile(entry)
        for kid in compiled.keys:
            holder = self._by_kid.get(kid)
            if holder is not None and holder[0].entry.code != entry.code:
                raise TrustListError(f"kid {kid} already belongs to platform {holder[0].entry.code}")
        self.remove(entry.code)
        self._entries[entry.code] = compiled
        for kid, key in compiled.keys.items():
            self._by_kid[kid] = (compiled, key)

    def remove(self, code: str) -> bool:
        """Remove the platform with this code; False when there was none."""
        compiled = self._entries.pop(code, None)
        if compiled is None:
            return False
        for kid in compiled.keys:
            self._by_kid.pop(kid, None)
        return True

    def list(self) -> list[PlatformEntry]:
        """The platforms, by code."""
        return [self._entries[code].entry for code in sorted(self._entries)]

    def get(self, code: str) -> PlatformEntry | None:
        """The platform with this code, or None."""
        compiled = self._entries.get(code)
        return compiled.entry if compiled else None

    def __contains__(self, code: object) -> bool:
        return code in self._entries

    # --- verifying ------------------------------------------------------------------------------

    def verify(
        self, compact_jws: str, platform: str | None = None, *, at: datetime | None = None
    ) -> VerifiedJws:
        """Verify a compact JWS against the trust list.

        Args:
            compact_jws: the JWS as received.
            platform: the platform that must have signed it (its code), or None for any trusted one.
            at: the time to validate certificates at (default: now).

        Returns:
            The payload (a JSON object) and who signed it.

        Raises:
            SignatureRejected: with the cause (``UNSUPPORTED_ALGORITHM``, ``UNKNOWN_KEY_ID``,
                ``UNTRUSTED_CERTIFICATE``, ``EXPIRED_CERTIFICATE``, ``REVOKED_CERTIFICATE``,
                ``BAD_SIGNATURE``). A payload that verifies but is no JSON object is ``BAD_SIGNATURE``
                too: nothing the platform could have meant to sign.
        """
        try:
            header = decode_header(compact_jws)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SignatureRejected(
                SignatureCause.BAD_SIGNATURE, f"the JWS cannot be decoded: {exc}"
            ) from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in JWS_ALGORITHMS:
            raise SignatureRejected(
                SignatureCause.UNSUPPORTED_ALGORITHM,
                f"alg {alg!r} is not one of {', '.join(sorted(JWS_ALGORITHMS))}",
            )
        kid = header.get("kid")
        found = self._by_kid.get(kid) if isinstance(kid, str) else None
        if found is None or (platform is not None and found[0].entry.code != platform):
            whose = f"platform {platform}" if platform is not None else "any trusted platform"
            raise SignatureRejected(SignatureCause.UNKNOWN_KEY_ID, f"kid {kid!r} is not a key of {whose}")
        compiled, key = found
        if not key_fits_alg(key, alg):
            raise SignatureRejected(
                SignatureCause.UNSUPPORTED_ALGORITHM,
                f"kid {kid} is a {key.key_type} key, which cannot sign {alg}",
            )
        if compiled.anchors:
            self._check_certificates(compiled, key, header, at or datetime.now(UTC))
        try:
            signed = jws.deserialize_compact(compact_jws, key, algorithms=[alg], registry=JWS_REGISTRY)
        except JoseError as exc:
            raise SignatureRejected(
                SignatureCause.BAD_SIGNATURE, f"the signature does not verify with kid {kid}: {exc.error}"
            ) from None
        try:
            payload = parse_json_text(signed.payload)
        except InvalidDocumentError as exc:
            raise SignatureRejected(
                SignatureCause.BAD_SIGNATURE, f"the signed payload is not a JSON object: {exc}"
            ) from None
        return VerifiedJws(payload, compiled.entry.code, kid, alg)  # type: ignore[arg-type]

    def _check_certificates(
        self, compiled: _Compiled, key: PublicKey, header: dict[str, Any], at: datetime
    ) -> None:
        code = compiled.entry.code
        chain = _x5c(header.get("x5c")) if "x5c" in header else compiled.chain
        if not chain:
            raise SignatureRejected(
                SignatureCause.UNTRUSTED_CERTIFICATE,
                f"platform {code} requires an X.509 chain and the JWS carries no x5c",
            )
        leaf, intermediates = chain[0], list(chain[1:])
        if _spki(leaf.public_key()) != _spki(key.get_op_key("verify")):
            raise SignatureRejected(
                SignatureCause.UNTRUSTED_CERTIFICATE, "the certificate is not for the key that signed"
            )
        store = verification.Store(list(compiled.anchors))

        def verify_at(moment: datetime) -> list[x509.Certificate]:
            verifier = (
                verification.PolicyBuilder()
                .store(store)
                .time(moment)
                .extension_policies(
                    ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                    ee_policy=verification.ExtensionPolicy.permit_all(),
                )
                .build_client_verifier()
            )
            return list(verifier.verify(leaf, intermediates).chain)

        try:
            path = verify_at(at)
        except verification.VerificationError as exc:
            # Expired or untrusted? Validate again inside every certificate's validity period: a
            # chain that validates then is trusted, and only time is wrong with it.
            start = max(c.not_valid_before_utc for c in [*chain, *compiled.anchors])
            end = min(c.not_valid_after_utc for c in [*chain, *compiled.anchors])
            if start <= end:
                try:
                    verify_at(start + (end - start) / 2)
                except verification.VerificationError:
                    pass
                else:
                    raise SignatureRejected(
                        SignatureCause.EXPIRED_CERTIFICATE,
                        f"a certificate of platform {code} is not valid at {at.isoformat()} "
                        f"(valid {start.isoformat()} to {end.isoformat()})",
                    ) from None
            raise SignatureRejected(
                SignatureCause.UNTRUSTED_CERTIFICATE,
                f"the certificate chain does not lead to a trust anchor of platform {code}: {exc}",
            ) from None
        _check_revocation(path, compiled.crls, code, at)


def _x5c(value: object) -> tuple[x509.Certificate, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise SignatureRejected(SignatureCause.UNTRUSTED_CERTIFICATE, "x5c is not a list of certificates")
    try:
        return tuple(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)) for item in value)
    except (ValueError, binascii.Error) as exc:
        raise SignatureRejected(
            SignatureCause.UNTRUSTED_CERTIFICATE, f"x5c holds no DER certificate: {exc}"
        ) from None


def _check_revocation(
    path: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    code: str,
    at: datetime,
) -> None:
    """Refuse a certificate of the validated path (leaf ... anchor) that a CRL of its issuer lists. A CRL
    counts only when its issuer's key signed it; one past its ``nextUpdate`` still counts (a stale list
    still proves a revocation)."""
    for cert, issuer in itertools.pairwise(path):
        for crl in crls:
            if crl.issuer != cert.issuer or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if revoked is not None and revoked.revocation_date_utc <= at + timedelta(seconds=1):
                raise SignatureRejected(
                    SignatureCause.REVOKED_CERTIFICATE,
                    f"certificate {cert.serial_number:x} of platform {code} "
                    f"({cert.subject.rfc4514_string()}) was revoked on "
                    f"{revoked.revocation_date_utc.isoformat()}",
                )
