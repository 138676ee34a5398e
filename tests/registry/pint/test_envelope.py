"""The YAML's objects as models: the DCSA PINT examples parse and round-trip unchanged, the codes are
the YAML's, and the checksums are over what the YAML names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from registry.errors import EnvelopeRefused
from registry.pint.build import SupportingDocument
from registry.pint.checksums import bytes_checksum, checksum, jws_checksum
from registry.pint.codes import ResponseCode, SignatureCause
from registry.pint.envelope import (
    EblEnvelope,
    EnvelopeManifest,
    EnvelopeTransferChainEntry,
    EnvelopeTransferFinishedResponse,
    EnvelopeTransferStartedResponse,
    IssuanceManifest,
    ReceiverValidation,
    ReceiverValidationResponse,
    to_json,
)
from registry.pint.verify import check_envelope
from tests.registry.pint.support import OURS, Members, make_platforms, payload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dcsa"
EXAMPLE = FIXTURES / "pint-v3.0.0_post-envelopes_request_regularSTDExample.json"
SCHEMAS = FIXTURES / "pint-v3.0.0_schemas.json"
YAML_BESIDE = [
    parent / "shared" / "dcsa" / "openapi" / "EBL_PINT_v3.0.0.yaml"
    for parent in Path(__file__).resolve().parents
]


def _example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The YAML's PINT objects (the repository copy)."""
    return {"components": json.loads(SCHEMAS.read_text())}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_the_repository_copy_of_the_yamls_objects_matches_the_yaml() -> None:
    found = [path for path in YAML_BESIDE if path.exists()]
    if not found:
        pytest.skip("the DCSA YAML is not beside this checkout")
    schemas = yaml.safe_load(found[0].read_text())["components"]["schemas"]
    copy = json.loads(SCHEMAS.read_text())["schemas"]
    assert copy == {name: _strip(schemas[name]) for name in copy}


def test_the_dcsa_envelope_example_parses_and_round_trips() -> None:
    example = _example()
    envelope = EblEnvelope.model_validate(example)
    assert to_json(envelope) == example
    manifest = EnvelopeManifest.model_validate(payload(example["envelopeManifestSignedContent"]))
    assert to_json(manifest) == payload(example["envelopeManifestSignedContent"])


def test_the_dcsa_example_chain_entry_is_of_an_older_draft_and_is_refused_by_the_model() -> None:
    """The YAML says its example JWS are "random strings": its entry has ``action: TRNS`` and a
    ``timestamp``, not ``actionCode``/``actionDateTime``."""
    entry = payload(_example()["envelopeTransferChain"][0])
    with pytest.raises(ValidationError, match="actionCode"):
        EnvelopeTransferChainEntry.model_validate(entry)


def test_the_dcsa_example_is_refused_with_bsig_for_its_unknown_key() -> None:
    platforms = make_platforms()
    with pytest.raises(EnvelopeRefused) as caught:
        check_envelope(_example(), platforms.trust(), Members(), own_platform=OURS)
    assert (
        caught.value.response_code is ResponseCode.BSIG
        and caught.value.cause is SignatureCause.UNKNOWN_KEY_ID
    )


def test_the_yaml_examples_of_the_other_objects_parse_and_round_trip(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    response = schemas["EnvelopeTransferFinishedResponse"]["example"]
    assert to_json(EnvelopeTransferFinishedResponse.model_validate(response)) == response
    signed = schemas["EnvelopeTransferFinishedResponseSignedContent"]["example"]
    assert EnvelopeTransferFinishedResponse.model_validate(payload(signed)).responseCode == "RECE"
    issuance = payload(
        schemas["EnvelopeTransferChainEntry"]["properties"]["issuanceManifestSignedContent"]["example"]
    )
    assert to_json(IssuanceManifest.model_validate(issuance)) == issuance
    started = {
        name: prop.get("example", ["ab" * 32] if prop.get("type") == "array" else None)
        for name, prop in schemas["EnvelopeTransferStartedResponse"]["properties"].items()
    }
    assert to_json(EnvelopeTransferStartedResponse.model_validate(started)) == started
    assert ReceiverValidationResponse(partyName="Globeteam").partyName == "Globeteam"
    assert to_json(ReceiverValidation.model_validate({"codeListProvider": "W3C", "partyCode": "MSK"})) == {
        "codeListProvider": "W3C",
        "partyCode": "MSK",
    }


def test_the_response_codes_are_exactly_the_yamls(spec: dict[str, Any]) -> None:
    declared = spec["components"]["schemas"]["EnvelopeTransferFinishedResponse"]["properties"][
        "responseCode"
    ]["enum"]
    assert [code.value for code in ResponseCode] == declared
    assert {code: code.http_status for code in ResponseCode} == {
        "RECE": 200,
        "DUPE": 200,
        "BSIG": 422,
        "BENV": 422,
        "INCD": 409,
        "MDOC": 409,
        "DISE": 409,
    }
    assert [code for code in ResponseCode if code.accepted] == [ResponseCode.RECE, ResponseCode.DUPE]


def test_the_models_use_the_yamls_field_names(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for model in (
        EblEnvelope,
        EnvelopeManifest,
        EnvelopeTransferChainEntry,
        IssuanceManifest,
        EnvelopeTransferStartedResponse,
        EnvelopeTransferFinishedResponse,
    ):
        declared = schemas[model.__name__]
        assert set(model.model_fields) == set(declared["properties"]), model.__name__
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert required == set(declared.get("required", [])), model.__name__


def test_a_chain_entry_checksum_is_over_the_compact_jws_as_sent() -> None:
    jws = _example()["envelopeTransferChain"][0]
    assert jws_checksum(jws) == hashlib.sha256(jws.encode("ascii")).hexdigest()
    with pytest.raises(ValueError):
        jws_checksum("é.a.b")


def test_a_json_checksum_does_not_depend_on_key_order_or_spelling() -> None:
    assert checksum({"b": 1, "a": [1.0, "x"]}) == checksum(json.loads('{"a":[1,"x"],"b":1.0}'))
    assert checksum({"partyName": "A"}) == hashlib.sha256(b'{"partyName":"A"}').hexdigest()
    assert checksum([1, 2]) == hashlib.sha256(b"[1,2]").hexdigest()


def test_a_supporting_document_is_checksummed_decoded() -> None:
    doc = SupportingDocument("invoice.pdf", "application/pdf", b"%PDF")
    assert doc.checksum == bytes_checksum(b"%PDF") == hashlib.sha256(b"%PDF").hexdigest()
    assert doc.metadata.size == 4 and doc.body == "JVBERg=="
    assert to_json(doc.metadata) == {
        "name": "invoice.pdf",
        "size": 4,
        "mediaType": "application/pdf",
        "documentChecksum": doc.checksum,
    }
