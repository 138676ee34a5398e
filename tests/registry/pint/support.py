"""The cast of the PINT tests: three platforms and the parties on them, and helpers that pass a bill
along a chain of platforms with the real builder.

* ``WAVE`` -- the carrier's platform: the carrier (MSC) issues there, the shipper holds there;
* ``BOLE`` -- the bank's platform;
* ``EBLR`` -- this registry: the consignee is a member here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from registry.pint.build import BuiltEnvelope, SupportingDocument, build_envelope, sign_issuance_manifest
from registry.pint.checksums import jws_checksum
from registry.pint.envelope import Transaction
from registry.pint.signer import PlatformSigner
from registry.pint.trust import PlatformEntry, TrustList
from tests.fixtures.dcsa import issued_example

OURS = "EBLR"
WHEN = "2026-06-01T10:00:00.000Z"
CONSIGNEE_ADDRESS = "0x00000000000000000000000000000000000c0515"


def party(name: str, platform: str, code: str, provider: str = "W3C") -> dict[str, Any]:
    return {
        "partyName": name,
        "eblPlatform": platform,
        "identifyingCodes": [{"codeListProvider": provider, "partyCode": code, "codeListName": "DID"}],
    }


CARRIER = party("Mediterranean Shipping Company", "WAVE", "MSC", "SMDG")
SHIPPER = party("DCSA CTK Shipper", "WAVE", "did:web:shipper.example")
BANK = party("Nordic Trade Bank", "BOLE", "did:web:bank.example")
CONSIGNEE = party("Consignee Imports", OURS, "did:web:consignee.example")
STRANGER = party("Nobody Known", OURS, "did:web:nobody.example")


class Members:
    """A recipient directory: the consignee is our only member."""

    def __init__(self, members: dict[str, str] | None = None) -> None:
        self.members = members if members is not None else {"did:web:consignee.example": CONSIGNEE_ADDRESS}

    def member_for(self, party: dict[str, Any]) -> str | None:
        if party.get("eblPlatform") != OURS:
            return None
        found = {self.members.get(code["partyCode"]) for code in party.get("identifyingCodes", [])}
        found.discard(None)
        return found.pop() if len(found) == 1 else None


def tx(action: str, actor: dict[str, Any], recipient: dict[str, Any] | None, **extra: Any) -> Transaction:
    body: dict[str, Any] = {
        "actionCode": action,
        "actor": actor,
        "actionDateTime": "2026-06-01T10:00:00.000Z",
    }
    if recipient is not None:
        body["recipient"] = recipient
    return Transaction.model_validate({**body, **extra})


@dataclass
class Platforms:
    """A signer per platform code, and the trust list that recognises them all."""

    signers: dict[str, PlatformSigner]

    def trust(self, *, without: Sequence[str] = ()) -> TrustList:
        return TrustList(
            PlatformEntry(
                code=code, name=code.title(), url=f"https://{code.lower()}.example/v3", jwks=s.public_jwks()
            )
            for code, s in self.signers.items()
            if code not in without
        )


def make_platforms(algs: dict[str, str] | None = None) -> Platforms:
    algs = algs or {"WAVE": "EdDSA", "BOLE": "ES256", OURS: "ES256"}
    return Platforms({code: PlatformSigner.generate(alg) for code, alg in algs.items()})  # type: ignore[arg-type]


def document(*, to_order: bool = False) -> dict[str, Any]:
    doc = issued_example("regular")
    doc["isToOrder"] = to_order
    return doc


VISUALISATION = SupportingDocument(
    "Carrier rendered copy of the original B/L document.pdf", "application/pdf", b"%PDF-1.7 visual"
)
INVOICE = SupportingDocument("invoice.pdf", "application/pdf", b"%PDF-1.7 commercial invoice")


def send(
    platforms: Platforms,
    hops: Sequence[tuple[str, Sequence[Transaction]]],
    *,
    doc: dict[str, Any] | None = None,
    visualisation: SupportingDocument | None = VISUALISATION,
    supporting: Sequence[SupportingDocument] = (INVOICE,),
) -> BuiltEnvelope:
    """Pass a bill along ``hops`` (platform, transactions recorded there) and return the last envelope.
    The first hop's platform issues it on the carrier's behalf."""
    doc = doc or document()
    first_platform = hops[0][0]
    issuance = sign_issuance_manifest(
        platforms.signers[first_platform], document=doc, issue_to=SHIPPER, visualisation=visualisation
    )
    chain: list[str] = []
    built: BuiltEnvelope | None = None
    for platform, transactions in hops:
        built = build_envelope(
            document=doc,
            prior_chain=chain,
            transactions=transactions,
            issuance_manifest=issuance,
            supporting=supporting,
            visualisation=visualisation,
            signer=platforms.signers[platform],
            platform=platform,
        )
        chain = built.chain
    assert built is not None
    return built


def issue_to_consignee(platforms: Platforms, **kwargs: Any) -> BuiltEnvelope:
    """ISSUE only: the carrier on WAVE issues straight to our consignee."""
    return send(platforms, [("WAVE", [tx("ISSUE", CARRIER, CONSIGNEE)])], **kwargs)


def transfer_via_bank(platforms: Platforms, **kwargs: Any) -> BuiltEnvelope:
    """WAVE issues to the shipper, who transfers to the bank on BOLE, which transfers to our consignee."""
    return send(
        platforms,
        [
            ("WAVE", [tx("ISSUE", CARRIER, SHIPPER), tx("TRANSFER", SHIPPER, BANK)]),
            ("BOLE", [tx("TRANSFER", BANK, CONSIGNEE)]),
        ],
        **kwargs,
    )


def endorse_to_consignee(platforms: Platforms, **kwargs: Any) -> BuiltEnvelope:
    """A to-order bill: issued to the shipper, who endorses it to our consignee."""
    return send(
        platforms,
        [("WAVE", [tx("ISSUE", CARRIER, SHIPPER), tx("ENDORSE", SHIPPER, CONSIGNEE)])],
        doc=document(to_order=True),
        **kwargs,
    )


def payload(compact: str) -> dict[str, Any]:
    """The payload of a compact JWS (not verified)."""
    from registry.pint.jose import b64url_decode

    value: dict[str, Any] = json.loads(b64url_decode(compact.split(".")[1]))
    return value


def forge(
    platforms: Platforms,
    envelope: dict[str, Any],
    *,
    entries: list[dict[str, Any]] | None = None,
    manifest: dict[str, Any] | None = None,
    relink: bool = True,
    signer_of: dict[int, str] | None = None,
    manifest_signer: str | None = None,
) -> dict[str, Any]:
    """The envelope with its chain entries and manifest re-signed by the platforms' real keys: what a
    sending platform could produce. ``entries`` (decoded payloads) replace the chain; with ``relink``
    each entry after the first names the re-signed entry before it; the manifest (given, or the
    original) names the new last entry unless ``manifest`` is given; ``signer_of`` signs entry i with
    another platform's key."""
    signer_of = signer_of or {}
    chain: list[str] = []
    for index, entry in enumerate(
        entries if entries is not None else [payload(e) for e in envelope["envelopeTransferChain"]]
    ):
        entry = dict(entry)
        if relink and index > 0:
            entry["previousEnvelopeTransferChainEntrySignedContentChecksum"] = jws_checksum(chain[-1])
        chain.append(platforms.signers[signer_of.get(index, entry["eblPlatform"])].sign(entry))
    if manifest is None:
        manifest = payload(envelope["envelopeManifestSignedContent"])
        manifest["lastEnvelopeTransferChainEntrySignedContentChecksum"] = jws_checksum(chain[-1])
    sender = manifest_signer or payload(chain[-1])["eblPlatform"]
    return {
        **envelope,
        "envelopeTransferChain": chain,
        "envelopeManifestSignedContent": platforms.signers[sender].sign(manifest),
    }
