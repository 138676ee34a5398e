"""The trust list recognises a platform's JWS by its key id, in the four algorithms, and, where the
operator configured X.509 trust anchors, only with a certificate chain that leads to one of them now
and is not revoked. Every refusal names its cause."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.errors import EnvelopeRefused, SignatureRejected, TrustListError
from registry.pint.codes import ResponseCode, SignatureCause
from registry.pint.signer import PlatformSigner
from registry.pint.trust import PlatformEntry, TrustList
from registry.pint.verify import check_envelope
from tests.registry.pint import pki
from tests.registry.pint.support import OURS, Members, Platforms, transfer_via_bank

ALGORITHMS = ["EdDSA", "ES256", "RS256", "PS256"]


def entry(code: str, signer: PlatformSigner, **extra: Any) -> PlatformEntry:
    return PlatformEntry(
        code=code, name=code.title(), url=f"https://{code}.example/v3", jwks=signer.public_jwks(), **extra
    )


def rejected(
    trust: TrustList, jws: str, cause: SignatureCause, platform: str | None = None, **kwargs: Any
) -> str:
    with pytest.raises(SignatureRejected) as caught:
        trust.verify(jws, platform, **kwargs)
    assert caught.value.cause is cause, caught.value
    return str(caught.value)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def signers() -> dict[str, PlatformSigner]:
    return {alg: PlatformSigner.generate(alg) for alg in ALGORITHMS}  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_platform_signature_verifies_in_each_algorithm(
    signers: dict[str, PlatformSigner], alg: str
) -> None:
    signer = signers[alg]
    verified = TrustList([entry("WAVE", signer)]).verify(signer.sign({"responseCode": "RECE"}), "WAVE")
    assert (verified.payload, verified.platform, verified.kid, verified.alg) == (
        {"responseCode": "RECE"},
        "WAVE",
        signer.kid,
        alg,
    )


def test_a_key_of_no_trusted_platform_is_unknown(signers: dict[str, PlatformSigner]) -> None:
    trust = TrustList([entry("WAVE", signers["ES256"])])
    assert "is not a key of any trusted platform" in rejected(
        trust, signers["EdDSA"].sign({}), SignatureCause.UNKNOWN_KEY_ID
    )


def test_a_key_of_another_platform_than_expected_is_unknown(signers: dict[str, PlatformSigner]) -> None:
    trust = TrustList([entry("WAVE", signers["ES256"]), entry("BOLE", signers["EdDSA"])])
    rejected(trust, signers["EdDSA"].sign({}), SignatureCause.UNKNOWN_KEY_ID, "WAVE")


def test_a_jws_without_kid_is_unknown(signers: dict[str, PlatformSigner]) -> None:
    trust = TrustList([entry("WAVE", signers["ES256"])])
    _, claims, signature = signers["ES256"].sign({}).split(".")
    rejected(trust, f"{b64({'alg': 'ES256'})}.{claims}.{signature}", SignatureCause.UNKNOWN_KEY_ID)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "ES384", "Ed25519", None])
def test_an_algorithm_outside_the_four_is_unsupported(
    signers: dict[str, PlatformSigner], alg: str | None
) -> None:
    signer = signers["RS256"]
    _, claims, signature = signer.sign({}).split(".")
    header = b64({"alg": alg, "kid": signer.kid})
    rejected(
        TrustList([entry("WAVE", signer)]),
        f"{header}.{claims}.{signature}",
        SignatureCause.UNSUPPORTED_ALGORITHM,
    )


def test_an_algorithm_that_does_not_fit_the_key_is_unsupported(signers: dict[str, PlatformSigner]) -> None:
    signer = signers["RS256"]
    _, claims, signature = signer.sign({}).split(".")
    header = b64({"alg": "ES256", "kid": signer.kid})
    rejected(
        TrustList([entry("WAVE", signer)]),
        f"{header}.{claims}.{signature}",
        SignatureCause.UNSUPPORTED_ALGORITHM,
    )


def test_rs256_and_ps256_are_not_interchangeable(signers: dict[str, PlatformSigner]) -> None:
    signer = signers["PS256"]
    _, claims, signature = signer.sign({}).split(".")
    header = b64({"alg": "RS256", "kid": signer.kid})
    rejected(
        TrustList([entry("WAVE", signer)]), f"{header}.{claims}.{signature}", SignatureCause.BAD_SIGNATURE
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h, c, s: f"{h}.{c}.{s[:-2]}",
        lambda h, c, s: f"{h}.{b64({'x': 2})}.{s}",
        lambda h, c, s: f"{h}.{c}",
        lambda h, c, s: f"{h}.{c}.{s}=",
        lambda h, c, s: f"!!.{c}.{s}",
        lambda h, c, s: f"{b64([1])}.{c}.{s}",
    ],
)
def test_a_mangled_jws_is_a_bad_signature(signers: dict[str, PlatformSigner], mangle: Any) -> None:
    signer = signers["EdDSA"]
    rejected(
        TrustList([entry("WAVE", signer)]),
        mangle(*signer.sign({"x": 1}).split(".")),
        SignatureCause.BAD_SIGNATURE,
    )


def test_a_signed_payload_that_is_no_json_object_is_a_bad_signature(
    signers: dict[str, PlatformSigner],
) -> None:
    from joserfc import jws

    from registry.pint.jose import JWS_REGISTRY

    signer = signers["EdDSA"]
    token = jws.serialize_compact(
        {"alg": "EdDSA", "kid": signer.kid}, b"[1]", signer._key, algorithms=["EdDSA"], registry=JWS_REGISTRY
    )
    rejected(TrustList([entry("WAVE", signer)]), token, SignatureCause.BAD_SIGNATURE)


def test_the_trust_list_survives_a_save_and_a_load(
    tmp_path: Path, signers: dict[str, PlatformSigner]
) -> None:
    path = tmp_path / "pint" / "trust.json"
    assert TrustList.load(path).list() == []
    trust = TrustList(
        [entry("WAVE", signers["EdDSA"]), entry("BOLE", signers["PS256"], carriers=("SMDG:MSC",))]
    )
    trust.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = TrustList.load(path)
    assert again.list() == trust.list()
    assert again.verify(signers["PS256"].sign({}), "BOLE").platform == "BOLE"
    assert again.remove("BOLE") and not again.remove("BOLE") and "BOLE" not in again


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{", "is not a PINT trust list"),
        (b'{"platforms": {}}', "is not a PINT trust list"),
        (b'{"platforms": [{"code": "WAVE"}]}', "is not a PINT trust list"),
        (
            b'{"platforms": [{"code": "WAVE", "name": "W", "url": "u", "jwks": {"keys": [{"kty": "OKP"}]}}]}',
            "jwks",
        ),
    ],
)
def test_a_broken_trust_list_file_is_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "trust.json"
    path.write_bytes(content)
    with pytest.raises(TrustListError, match=match):
        TrustList.load(path)


def test_a_key_id_belongs_to_one_platform(signers: dict[str, PlatformSigner]) -> None:
    trust = TrustList([entry("WAVE", signers["ES256"])])
    with pytest.raises(TrustListError, match="already belongs to platform WAVE"):
        trust.add(entry("BOLE", signers["ES256"]))
    trust.add(entry("WAVE", signers["EdDSA"]))  # replacing the platform's own entry rotates its keys
    rejected(trust, signers["ES256"].sign({}), SignatureCause.UNKNOWN_KEY_ID)


def test_a_private_key_in_the_trust_list_is_refused(signers: dict[str, PlatformSigner]) -> None:
    private = {"keys": [{**signers["ES256"]._key.as_dict(private=True), "kid": "k"}]}
    with pytest.raises(TrustListError, match="private key"):
        TrustList([PlatformEntry(code="WAVE", name="W", url="u", jwks=private)])


# --- X.509 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki_() -> dict[str, Any]:
    root = pki.root_ca()
    return {"root": root, "intermediate": pki.intermediate_ca(root), "stranger": pki.root_ca("Another root")}


def certified(
    signer: PlatformSigner, issuer: pki.Authority, chain_tail: list[Any], **validity: Any
) -> tuple[PlatformSigner, Any]:
    cert = pki.leaf(issuer, signer.public_key.get_op_key("verify"), **validity)
    return PlatformSigner(signer._key, signer.alg, certificates=[cert, *chain_tail]), cert  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_certificate_chain_to_a_trust_anchor_is_taken(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any], alg: str
) -> None:
    signer, _ = certified(signers[alg], pki_["intermediate"], [pki_["intermediate"].cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,))])
    assert trust.verify(signer.sign({"ok": True}), "WAVE", at=pki.NOW).payload == {"ok": True}


def test_a_chain_configured_in_the_trust_list_serves_jws_without_x5c(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    plain = signers["ES256"]
    cert = pki.leaf(pki_["intermediate"], plain.public_key.get_op_key("verify"))
    trust = TrustList(
        [
            entry(
                "WAVE",
                plain,
                x509_anchors=(pki_["root"].pem,),
                x509_chain=(pki.pem(cert), pki_["intermediate"].pem),
            )
        ]
    )
    assert trust.verify(plain.sign({}), at=pki.NOW).platform == "WAVE"


def test_an_expired_certificate_is_named(signers: dict[str, PlatformSigner], pki_: dict[str, Any]) -> None:
    signer, _ = certified(signers["PS256"], pki_["intermediate"], [pki_["intermediate"].cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,))])
    message = rejected(
        trust, signer.sign({}), SignatureCause.EXPIRED_CERTIFICATE, at=pki.NOW + timedelta(days=60)
    )
    assert "is not valid at 2026-07-31" in message
    rejected(trust, signer.sign({}), SignatureCause.EXPIRED_CERTIFICATE, at=pki.NOW - timedelta(days=60))


def test_a_certificate_of_another_authority_is_untrusted(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    signer, _ = certified(signers["ES256"], pki_["intermediate"], [pki_["intermediate"].cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["stranger"].pem,))])
    rejected(trust, signer.sign({}), SignatureCause.UNTRUSTED_CERTIFICATE, at=pki.NOW)


def test_a_chain_missing_its_intermediate_is_untrusted(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    signer, _ = certified(signers["ES256"], pki_["intermediate"], [])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,))])
    rejected(trust, signer.sign({}), SignatureCause.UNTRUSTED_CERTIFICATE, at=pki.NOW)


def test_an_anchored_platform_without_a_chain_is_untrusted(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    trust = TrustList([entry("WAVE", signers["ES256"], x509_anchors=(pki_["root"].pem,))])
    assert "carries no x5c" in rejected(
        trust, signers["ES256"].sign({}), SignatureCause.UNTRUSTED_CERTIFICATE, at=pki.NOW
    )


def test_a_certificate_for_another_key_is_untrusted(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    other_cert = pki.leaf(pki_["intermediate"], signers["EdDSA"].public_key.get_op_key("verify"))
    signer = PlatformSigner(
        signers["ES256"]._key, "ES256", certificates=[other_cert, pki_["intermediate"].cert]
    )  # type: ignore[arg-type]
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,))])
    assert "not for the key" in rejected(
        trust, signer.sign({}), SignatureCause.UNTRUSTED_CERTIFICATE, at=pki.NOW
    )


def test_a_revoked_certificate_is_named(signers: dict[str, PlatformSigner], pki_: dict[str, Any]) -> None:
    signer, cert = certified(signers["EdDSA"], pki_["intermediate"], [pki_["intermediate"].cert])
    revoked = pki.crl(pki_["intermediate"], [cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,), crls=(revoked,))])
    assert "was revoked" in rejected(trust, signer.sign({}), SignatureCause.REVOKED_CERTIFICATE, at=pki.NOW)


def test_a_revoked_intermediate_is_named(signers: dict[str, PlatformSigner], pki_: dict[str, Any]) -> None:
    signer, _ = certified(signers["EdDSA"], pki_["intermediate"], [pki_["intermediate"].cert])
    revoked = pki.crl(pki_["root"], [pki_["intermediate"].cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,), crls=(revoked,))])
    rejected(trust, signer.sign({}), SignatureCause.REVOKED_CERTIFICATE, at=pki.NOW)


def test_a_crl_not_signed_by_the_issuer_does_not_revoke(
    signers: dict[str, PlatformSigner], pki_: dict[str, Any]
) -> None:
    signer, cert = certified(signers["EdDSA"], pki_["intermediate"], [pki_["intermediate"].cert])
    forged = pki.crl(pki.Authority(pki_["stranger"].key, pki_["intermediate"].cert), [cert])
    trust = TrustList([entry("WAVE", signer, x509_anchors=(pki_["root"].pem,), crls=(forged,))])
    assert trust.verify(signer.sign({}), at=pki.NOW).platform == "WAVE"


def test_an_envelope_signed_under_an_expired_certificate_is_bsig_with_the_cause(pki_: dict[str, Any]) -> None:
    """The cause reaches the receiver's refusal: BSIG, EXPIRED_CERTIFICATE."""
    from tests.registry.pint.support import make_platforms

    platforms = make_platforms()
    bole, _ = certified(platforms.signers["BOLE"], pki_["intermediate"], [pki_["intermediate"].cert])
    platforms = Platforms({**platforms.signers, "BOLE": bole})
    trust = platforms.trust()
    trust.add(entry("BOLE", bole, x509_anchors=(pki_["root"].pem,)))
    body = transfer_via_bank(platforms).envelope
    assert check_envelope(body, trust, Members(), own_platform=OURS, at=pki.NOW).sending_platform == "BOLE"
    with pytest.raises(EnvelopeRefused) as caught:
        check_envelope(body, trust, Members(), own_platform=OURS, at=pki.NOW + timedelta(days=90))
    assert caught.value.response_code is ResponseCode.BSIG
    assert caught.value.cause is SignatureCause.EXPIRED_CERTIFICATE
