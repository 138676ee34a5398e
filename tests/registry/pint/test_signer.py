"""Our platform key: created once in the data folder (0600), the same key on every start, public keys
shown without private members, and a broken key file refused with a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.errors import PlatformKeyError
from registry.pint.jose import decode_header
from registry.pint.signer import KEY_FILE, JwsSigner, PlatformSigner
from registry.pint.trust import PlatformEntry, TrustList


@pytest.mark.parametrize("alg", ["PS256", "EdDSA", "ES256", "RS256"])
def test_the_platform_key_is_created_once_and_kept(tmp_path: Path, alg: str) -> None:
    first = PlatformSigner.load_or_create(tmp_path, alg)  # type: ignore[arg-type]
    path = tmp_path / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    again = PlatformSigner.load_or_create(tmp_path, "ES256")
    assert (again.kid, again.alg) == (first.kid, alg)
    trust = TrustList([PlatformEntry(code="EBLR", name="Us", url="u", jwks=first.public_jwks())])
    assert trust.verify(again.sign({"a": 1}), "EBLR").payload == {"a": 1}


def test_the_default_key_is_rsa_for_ps256(tmp_path: Path) -> None:
    signer = PlatformSigner.load_or_create(tmp_path)
    assert signer.alg == "PS256" and signer.public_jwks()["keys"][0]["kty"] == "RSA"
    assert isinstance(signer, JwsSigner)


def test_a_jws_header_names_the_key_and_the_algorithm() -> None:
    signer = PlatformSigner.generate("EdDSA")
    assert decode_header(signer.sign({})) == {"alg": "EdDSA", "kid": signer.kid}


def test_the_public_keys_hold_no_private_member() -> None:
    signer = PlatformSigner.generate("RS256")
    (key,) = signer.public_jwks()["keys"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert key["kid"] == signer.kid and key["use"] == "sig"
    private = signer._key.as_dict(private=True)["d"]
    assert private not in repr(signer) and private not in str(signer.public_jwks())


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"not json", "is not JSON"),
        (b"[]", "is not a JWK object"),
        (b'{"kty": "oct", "k": "AAAA"}', "unsupported kty"),
        (b'{"kty": "EC", "crv": "P-256"}', "is not a valid JWK"),
    ],
)
def test_a_broken_key_file_is_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / KEY_FILE
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(PlatformKeyError, match=match):
        PlatformSigner.load_or_create(tmp_path)


def test_a_public_key_file_cannot_sign(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.parent.mkdir()
    path.write_text(json.dumps({**PlatformSigner.generate("ES256").public_jwks()["keys"][0]}))
    with pytest.raises(PlatformKeyError, match="must be a private key"):
        PlatformSigner.load(path)


def test_a_key_that_does_not_fit_the_algorithm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.parent.mkdir()
    data = PlatformSigner.generate("ES256")._key.as_dict(private=True)
    path.write_text(json.dumps({**data, "alg": "PS256"}))
    with pytest.raises(PlatformKeyError, match="cannot sign PS256"):
        PlatformSigner.load(path)
    with pytest.raises(PlatformKeyError, match="unsupported PINT signing algorithm"):
        PlatformSigner.generate("HS256")  # type: ignore[arg-type]
