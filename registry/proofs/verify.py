"""Verify a title attestation offline: signature, header, proofs, claims; and say how old it is.

Checks, in order, each refusing with its own :data:`~registry.proofs.errors.ProofReason`:

1. ``malformed`` / ``unknown_key`` / ``signature`` -- the compact JWS, its ``kid`` in the JWK set given,
   the ``alg`` (EdDSA or ES256) fitting that key, and the signature (joserfc);
2. ``header`` -- the header re-encodes (RLP) to the block hash claimed, and its number and timestamp
   are the ones claimed;
3. ``account_proof`` -- the registry's account against the header's ``stateRoot``;
4. ``storage_proof`` -- every title slot against the account's storage root, exactly the slots of the
   title (:func:`~registry.proofs.snapshot.prove_title`);
5. ``claims`` -- the record decoded from the proven slots says what the payload says (status, kind,
   parties' addresses, document hash, lineage), and ``documentMatches`` agrees with the hashes.

What the chain cannot prove (legal names, LEIs, the chain id, ``issuedAt``) is reported as signed by
the registry only. An attestation is a statement about its block, never about now: :attr:`age` is
the time from the block to ``now``.

On a Besu QBFT network the header can be trusted without the registry: given the validator set
(:mod:`registry.proofs.seals`), step 2 checks the QBFT block hash and that a quorum of the set sealed
the header (``validator_set`` / ``commit_seals``). With no JWK set too, step 1 is skipped: the payload
is read unsigned, and what it states beyond the proven record is reported as not vouched for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from registry.pint.jose import JWS_REGISTRY, b64url_decode, decode_header, key_fits_alg
from registry.proofs.attestation import ATTESTATION_TYPE
from registry.proofs.errors import AttestationError, ProofError, ProofReason
from registry.proofs.headers import Header
from registry.proofs.layout import ProvenTitle
from registry.proofs.seals import ValidatorTrust, verify_sealed
from registry.proofs.snapshot import prove_title
from registry.types import ebl_id_hex

__all__ = ["ALGORITHMS", "VerifiedAttestation", "describe_age", "verify_attestation"]

ALGORITHMS = frozenset({"EdDSA", "ES256"})
"""The JWS algorithms an attestation may be signed with."""


def _refuse(reason: ProofReason, message: str) -> AttestationError:
    return AttestationError(message, reason)


@dataclass(frozen=True, slots=True)
class VerifiedAttestation:
    """An attestation that verified: the payload, the key that signed it, the proven title, its age."""

    payload: dict[str, Any]
    kid: str | None
    """The attestation key that signed it (None: the signature was not checked, QBFT seals only)."""
    alg: str
    header: Header
    title: ProvenTitle
    age_seconds: float
    trust: str = "registry signature"
    """What the header's trust rests on: the registry's signature, the QBFT validators' seals, or both."""

    @property
    def block_time(self) -> datetime:
        return datetime.fromtimestamp(self.header.timestamp, UTC)

    def proven(self) -> list[str]:
        """What the chain proves, one line each (checked against the header's state root)."""
        t, p = self.title, self.payload
        lines = [
            f"block {self.header.number} {self.header.hash}: the header hashes to it",
            f"registry {p['registry']}: account proven against the block's state root",
            f"eBL {p['eblId']}: {t.status.name}, {t.kind.name}"
            + (", blank-endorsed" if t.blank_endorsed else "")
            + (", amended" if t.amended else ""),
            f"holder {t.holder}",
            f"endorsee {t.endorsee or '-'}",
            f"carrier {t.carrier or '-'}",
            f"document hash {t.document_hash}",
        ]
        if p.get("presentedHash") is not None:
            verdict = "matches" if p["documentMatches"] else "does NOT match"
            lines.append(f"presented document {p['presentedHash']} {verdict} the issued document")
        if t.predecessor is not None:
            lines.append(f"amended from eBL {t.predecessor}")
        if t.successor is not None:
            lines.append(f"amended into eBL {t.successor}")
        return lines

    def signed_only(self) -> list[str]:
        """What only the registry's signature vouches for (not on chain)."""
        p = self.payload
        lines = [] if self.kid is not None else ["(the signature was not checked: stated, not vouched for)"]
        lines += [
            f"chain id {p['chainId']}",
            f"signed at {datetime.fromtimestamp(p['issuedAt'], UTC).isoformat()}",
        ]
        for role in ("holder", "endorsee", "carrier"):
            party = p.get(role)
            if party and (party.get("legalName") or party.get("lei")):
                lines.append(f"{role} {party.get('legalName') or '?'} (LEI {party.get('lei') or '-'})")
        return lines

    def age_statement(self) -> str:
        """The age line: "a statement about block N at T, X days ago — not about now"."""
        return (
            f"a statement about block {self.header.number} at {self.block_time.isoformat()}, "
            f"{describe_age(self.age_seconds)} — not about now"
        )


def describe_age(seconds: float) -> str:
    """``seconds`` in words: "42 seconds ago", "3 hours ago", "12.5 days ago"."""
    if seconds < 0:
        return f"{-seconds:.0f} seconds in the future (check this machine's clock)"
    if seconds < 120:
        return f"{seconds:.0f} seconds ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours ago"
    return f"{seconds / 86400:.1f} days ago"


def _keys(jwks: Mapping[str, Any]) -> dict[str, ECKey | OKPKey]:
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise _refuse("malformed", "the JWK set has no 'keys' list")
    out: dict[str, ECKey | OKPKey] = {}
    for entry in keys:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
            continue
        try:
            if entry.get("kty") == "OKP":
                out[entry["kid"]] = OKPKey.import_key(dict(entry))
            elif entry.get("kty") == "EC":
                out[entry["kid"]] = ECKey.import_key(dict(entry))
        except (JoseError, ValueError, TypeError):
            continue  # a key we cannot read cannot have signed
    return out


def _signed_payload(
    compact: str, jwks: Mapping[str, Any], expected_type: str = ATTESTATION_TYPE
) -> tuple[dict[str, Any], str, str]:
    try:
        header = decode_header(compact)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse("malformed", f"not a compact JWS: {exc}") from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        raise _refuse("signature", f"alg {alg!r} is not one of {', '.join(sorted(ALGORITHMS))}")
    key = _keys(jwks).get(kid) if isinstance(kid, str) else None
    if key is None:
        raise _refuse("unknown_key", f"kid {kid!r} is not in the JWK set")
    if not key_fits_alg(key, str(alg)):
        raise _refuse("signature", f"kid {kid} cannot sign {alg}")
    try:
        signed = jws.deserialize_compact(compact, key, algorithms=[str(alg)], registry=JWS_REGISTRY)
    except (JoseError, ValueError) as exc:
        raise _refuse("signature", f"the signature does not verify under kid {kid}: {exc}") from None
    try:
        payload = json.loads(signed.payload)
    except (ValueError, UnicodeDecodeError):
        raise _refuse("malformed", "the signed payload is not JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != expected_type:
        raise _refuse("malformed", f"the signed payload is not an {expected_type}")
    return payload, str(kid), str(alg)


def _unsigned_payload(compact: str) -> tuple[dict[str, Any], str]:
    """The payload of a compact JWS, its signature not checked (QBFT trust without a JWK set)."""
    parts = compact.split(".")
    try:
        alg = str(decode_header(compact).get("alg"))
        payload = json.loads(b64url_decode(parts[1])) if len(parts) == 3 else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse("malformed", f"not a compact JWS: {exc}") from None
    if not isinstance(payload, dict) or payload.get("type") != ATTESTATION_TYPE:
        raise _refuse("malformed", f"the payload is not an {ATTESTATION_TYPE}")
    return payload, alg


def _field(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _refuse(
            "malformed", f"the payload's {name} is missing or not {getattr(kind, '__name__', kind)}"
        )
    return value


def _address(party: Any) -> str | None:
    if party is None:
        return None
    if not isinstance(party, Mapping) or not isinstance(party.get("address"), str):
        raise _refuse("malformed", "a party is not an object with an address")
    return str(party["address"])


def _check_claims(payload: Mapping[str, Any], t: ProvenTitle) -> None:
    def lineage(name: str) -> int | None:
        value = payload.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.isdigit():
            raise _refuse("malformed", f"the payload's {name} is not a decimal eBL id")
        return int(value)

    presented = payload.get("presentedHash")
    matches = payload.get("documentMatches")
    claims = {
        "status": (payload.get("status"), t.status.name),
        "kind": (payload.get("kind"), t.kind.name),
        "blankEndorsed": (payload.get("blankEndorsed"), t.blank_endorsed),
        "amended": (payload.get("amended"), t.amended),
        "holder": (_address(payload.get("holder")), t.holder),
        "endorsee": (_address(payload.get("endorsee")), t.endorsee),
        "carrier": (_address(payload.get("carrier")), t.carrier),
        "documentHash": (payload.get("documentHash"), t.document_hash),
        "predecessor": (lineage("predecessor"), t.predecessor),
        "successor": (lineage("successor"), t.successor),
        "documentMatches": (matches, None if presented is None else presented == t.document_hash),
    }
    claims["eblIdHex"] = (payload.get("eblIdHex"), ebl_id_hex(t.ebl_id))
    wrong = [name for name, (said, proven) in claims.items() if said != proven]
    if wrong:
        said, proven = claims[wrong[0]]
        raise _refuse("claims", f"the payload says {wrong[0]} {said!r}; the proven record says {proven!r}")


def verify_attestation(
    compact: str,
    jwks: Mapping[str, Any] | None,
    *,
    now: datetime | None = None,
    validators: ValidatorTrust | None = None,
) -> VerifiedAttestation:
    """Verify an attestation with no network (see the module docstring for the checks).

    Args:
        compact: the compact JWS.
        jwks: the registry's published JWK set (``/.well-known/jwks.json``), e.g. read from a file;
            None to trust the QBFT seals alone (``validators`` then required).
        now: the time to measure the age at (default: this machine's clock).
        validators: the Besu QBFT validator set whose commit seals must finalise the header.

    Raises:
        AttestationError: refused; ``reason`` names the check that failed.
    """
    kid: str | None = None
    if jwks is not None:
        payload, kid, alg = _signed_payload(compact.strip(), jwks)
    elif validators is not None:
        payload, alg = _unsigned_payload(compact.strip())
    else:
        raise _refuse("malformed", "nothing to trust the header by: give a JWK set or a validator set")
    block = _field(payload, "block", dict)
    ebl_text = _field(payload, "eblId", str)
    if not ebl_text.isdigit() or int(ebl_text) >= 2**256:
        raise _refuse("malformed", "the payload's eblId is not a decimal uint256")
    registry = _field(payload, "registry", str)
    _field(payload, "chainId", int)
    _field(payload, "issuedAt", int)
    try:
        header = Header.from_json(payload.get("header"), qbft=True if validators is not None else None)
    except ProofError as exc:
        raise _refuse("header", str(exc)) from None
    roots = [] if kid is None else [f"registry signature (key {kid})"]
    if validators is not None:
        try:
            validators.check_chain(payload.get("chainId"))
            verify_sealed([header], validators)
        except ProofError as exc:
            raise _refuse(exc.reason, str(exc)) from None
        roots.insert(0, validators.describe())
    said_block = (block.get("hash"), block.get("number"), block.get("timestamp"))
    if said_block != (header.hash, header.number, header.timestamp):
        raise _refuse("header", "the header is not of the block the payload names (hash, number, timestamp)")
    proof = _field(payload, "proof", dict)
    try:
        title = prove_title(header, registry, int(ebl_text), proof)
    except ProofError as exc:
        raise _refuse(exc.reason, str(exc)) from None
    _check_claims(payload, title)
    moment = now or datetime.now(UTC)
    age = moment.timestamp() - header.timestamp
    return VerifiedAttestation(payload, kid, alg, header, title, age, " and ".join(roots))
