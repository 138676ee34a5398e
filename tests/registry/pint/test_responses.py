"""The receiver's signed finished response: we sign it with our platform key, the sender verifies it
against its trust list and refuses one that answers another envelope or breaks the YAML's rules."""

from __future__ import annotations

import pytest

from registry.errors import ResponseMismatchError, SignatureRejected
from registry.pint.codes import ResponseCode, SignatureCause
from registry.pint.signer import PlatformSigner
from registry.pint.trust import PlatformEntry, TrustList
from registry.pint.verify import check_finished_response, sign_finished_response
from tests.registry.pint.support import INVOICE, VISUALISATION, make_platforms, transfer_via_bank

LAST = "ab" * 32


@pytest.fixture(scope="module")
def receiver() -> PlatformSigner:
    return PlatformSigner.generate("ES256")


@pytest.fixture(scope="module")
def trust(receiver: PlatformSigner) -> TrustList:
    return TrustList([PlatformEntry(code="EBLR", name="Us", url="u", jwks=receiver.public_jwks())])


def test_the_sender_reads_a_signed_rece_with_the_documents_received(
    receiver: PlatformSigner, trust: TrustList
) -> None:
    received = [VISUALISATION.checksum, INVOICE.checksum]
    jws = sign_finished_response(
        receiver, last_entry_checksum=LAST, code=ResponseCode.RECE, received=received
    )
    response = check_finished_response(jws, trust, "EBLR", last_entry_checksum=LAST)
    assert response.responseCode == "RECE" and response.reason is None
    assert response.receivedAdditionalDocumentChecksums == received
    assert response.missingAdditionalDocumentChecksums is None


def test_a_dupe_names_the_entry_accepted_before(receiver: PlatformSigner, trust: TrustList) -> None:
    accepted = transfer_via_bank(make_platforms()).chain[-1]
    jws = sign_finished_response(
        receiver,
        last_entry_checksum=LAST,
        code=ResponseCode.DUPE,
        duplicate_of=accepted,
        reason="seen before",
    )
    response = check_finished_response(jws, trust, "EBLR")
    assert response.duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent == accepted


def test_an_mdoc_names_the_missing_documents(receiver: PlatformSigner, trust: TrustList) -> None:
    jws = sign_finished_response(
        receiver, last_entry_checksum=LAST, code=ResponseCode.MDOC, missing=[INVOICE.checksum]
    )
    assert check_finished_response(jws, trust, "EBLR").missingAdditionalDocumentChecksums == [
        INVOICE.checksum
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"code": ResponseCode.MDOC}, "MDOC names the missing documents"),
        ({"code": ResponseCode.BENV, "missing": ["00" * 32]}, "goes with MDOC only"),
        ({"code": ResponseCode.BSIG, "received": ["00" * 32]}, "goes with RECE or DUPE only"),
        ({"code": ResponseCode.RECE, "duplicate_of": "a.b.c"}, "goes with DUPE only"),
    ],
)
def test_a_response_breaking_the_yamls_rules_is_not_signed(
    receiver: PlatformSigner, kwargs: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        sign_finished_response(receiver, last_entry_checksum=LAST, **kwargs)


def test_a_response_to_another_envelope_is_refused(receiver: PlatformSigner, trust: TrustList) -> None:
    jws = sign_finished_response(receiver, last_entry_checksum=LAST, code=ResponseCode.RECE)
    with pytest.raises(ResponseMismatchError, match="answers entry"):
        check_finished_response(jws, trust, "EBLR", last_entry_checksum="cd" * 32)


def test_a_response_signed_by_another_platform_is_refused(receiver: PlatformSigner, trust: TrustList) -> None:
    jws = sign_finished_response(
        PlatformSigner.generate("EdDSA"), last_entry_checksum=LAST, code=ResponseCode.RECE
    )
    with pytest.raises(SignatureRejected) as caught:
        check_finished_response(jws, trust, "EBLR")
    assert caught.value.cause is SignatureCause.UNKNOWN_KEY_ID


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (
            {"lastEnvelopeTransferChainEntrySignedContentChecksum": LAST, "responseCode": "BETR"},
            "responseCode",
        ),
        ({"responseCode": "RECE"}, "lastEnvelopeTransferChainEntrySignedContentChecksum"),
        (
            {"lastEnvelopeTransferChainEntrySignedContentChecksum": LAST, "responseCode": "MDOC"},
            "names no missing",
        ),
    ],
)
def test_a_signed_payload_that_is_no_finished_response_is_refused(
    receiver: PlatformSigner, trust: TrustList, payload: dict, match: str
) -> None:
    with pytest.raises(ResponseMismatchError, match=match):
        check_finished_response(receiver.sign(payload), trust, "EBLR")
