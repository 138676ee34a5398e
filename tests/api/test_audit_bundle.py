"""The audit bundle over HTTP: a straight bill and a to-order bill surrendered and accepted, fetched by an
auditor and verified offline (in process and by the ``ebl audit verify`` command in a subprocess)."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.proofs.audit import verify_bundle
from registry.proofs.errors import ProofError, ProofReason
from tests.fixtures.dcsa import issued_example
from tests.support.ebl_cli import run_ebl
from tests.support.mutations import changed, leaves


def _bundle(gateway, members, ebl: str) -> tuple[dict[str, Any], dict[str, Any]]:
    gateway.runtime.indexer.sync()
    with gateway.client(members["auditor"].token) as a:
        r = a.get(f"/v1/auditors/ebls/{ebl}/bundle")
        assert r.status_code == 200, r.text
        jwks = a.get("/.well-known/jwks.json").json()
    return r.json(), jwks


def _issue(gateway, members, reference: str, **body: Any) -> str:
    with gateway.client(members["carrier"].token) as c:
        doc = issued_example(transportDocumentReference=reference, **body.pop("doc", {}))
        r = c.post("/v1/carriers/ebls", json={"document": doc, **body})
        assert r.status_code == 201, r.text
        return str(r.json()["eblId"])


@pytest.fixture(scope="module")
def straight(gateway, members) -> tuple[dict[str, Any], dict[str, Any]]:
    """A straight bill issued to the shipper, consigned to the consignee, and handed to them."""
    shipper, consignee = members["shipper"], members["consignee"]
    parties = dict(issued_example()["documentParties"])
    parties.pop("endorsee", None)
    parties["consignee"] = {
        "partyName": "Consignee Ltd",
        "identifyingCodes": [{"codeListProvider": "WAVE", "partyCode": consignee.org}],
    }
    doc = {"isToOrder": False, "documentParties": parties}
    ebl = _issue(gateway, members, "BUNDLE-STRAIGHT", doc=doc, issueTo=shipper.org, endorsee=consignee.org)
    with gateway.client(shipper.token) as s:
        assert s.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": consignee.org}).status_code == 200
    return _bundle(gateway, members, ebl)


@pytest.fixture(scope="module")
def surrendered(gateway, members) -> tuple[dict[str, Any], dict[str, Any]]:
    """A to-order bill endorsed to the bank, surrendered for delivery and accepted by the carrier."""
    shipper, bank = members["shipper"], members["bank"]
    ebl = _issue(gateway, members, "BUNDLE-SURRENDER", issueTo=shipper.org)
    with gateway.client(shipper.token) as s:
        assert s.post(f"/v1/holders/ebls/{ebl}/endorse", json={"endorsee": bank.org}).status_code == 200
        assert s.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": bank.org}).status_code == 200
    with gateway.client(bank.token) as b:
        assert b.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"}).status_code == 200
    with gateway.client(members["carrier"].token) as c:
        assert c.post(f"/v1/carriers/ebls/{ebl}/accept-surrender").status_code == 200
    return _bundle(gateway, members, ebl)


def test_a_straight_bill_bundle_verifies_offline(straight, members):
    bundle, jwks = straight
    checked = verify_bundle(bundle, jwks)
    assert [t.action for t in checked.timeline] == ["ISSUE", "TRANSFER"]
    assert checked.holder == members["consignee"].org and checked.status == "ACTIVE"
    assert checked.unchecked == []


def test_a_surrendered_bill_bundle_verifies_offline(surrendered, members):
    bundle, jwks = surrendered
    checked = verify_bundle(bundle, jwks)
    assert [t.action for t in checked.timeline] == [
        "ISSUE",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "SURRENDER_FOR_DELIVERY",
        "SACC",
    ]
    assert checked.timeline[2].actor == members["shipper"].org
    assert checked.status == "SURRENDERED"
    assert checked.signed == len(checked.timeline)  # every action was a relayed, EIP-712-signed entry
    # every header from the first action's block to the signed head is in the bundle
    assert len(bundle["headers"]) == checked.head.number - checked.first.number + 1


def test_a_format_1_bundle_is_refused_by_name_not_as_a_forgery(straight):
    bundle, jwks = straight
    older = {**bundle, "type": "ebl-audit-bundle/1"}
    with pytest.raises(ProofError) as refused:
        verify_bundle(older, jwks)
    assert refused.value.reason == "malformed" and "fetch the bundle again" in str(refused.value)


def test_only_auditors_and_governance_get_a_bundle(gateway, members, straight):
    ebl = straight[0]["eblId"]
    with gateway.client(members["bank"].token) as b:
        r = b.get(f"/v1/auditors/ebls/{ebl}/bundle")
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ebl("audit", "verify", *args)


def test_ebl_audit_verify_prints_the_timeline_and_names_a_forgery(surrendered, members, tmp_path):
    bundle, jwks = surrendered
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    done = _cli(str(tmp_path / "bundle.json"), "--jwks", str(tmp_path / "jwks.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED audit bundle" in done.stdout and "SURRENDER_FOR_DELIVERY" in done.stdout
    assert "SACC" in done.stdout and "now SURRENDERED" in done.stdout

    forged = json.loads(json.dumps(bundle))
    forged["actions"][2]["actor"] = members["bank"].org  # "the bank transferred it"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    done = _cli(str(tmp_path / "forged.json"), "--jwks", str(tmp_path / "jwks.json"), "--json")
    assert done.returncode == 1 and "bundle_event" in done.stdout + done.stderr


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_field_of_a_bundle_is_refused_with_a_named_reason(surrendered, data):
    """Change one leaf anywhere (document, action, proof node, header field, the signed head): refused,
    with a reason from the stable set."""
    bundle, jwks = surrendered
    path = data.draw(st.sampled_from(leaves(bundle)))
    position = data.draw(st.integers(min_value=0, max_value=10_000))
    forged = copy.deepcopy(bundle)
    target = forged
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = changed(target[path[-1]], position)
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, jwks)
    assert refused.value.reason in get_args(ProofReason), refused.value


def test_a_bundle_with_an_action_left_out_is_refused(gateway, surrendered):
    """Leaving out an action breaks the signed count; even a registry that re-signs the head with the
    smaller count cannot leave out a middle action, whose absence breaks the proven sequence."""
    bundle, jwks = surrendered
    forged = copy.deepcopy(bundle)
    del forged["actions"][2]
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, jwks)
    assert refused.value.reason == "head_signature"

    head = json.loads(base64.urlsafe_b64decode(forged["head"].split(".")[1] + "=="))
    forged["head"] = gateway.runtime.attester.keys.signer.sign({**head, "actionCount": 4})
    with pytest.raises(ProofError) as refused:
        verify_bundle(forged, jwks)
    assert refused.value.reason == "event" and "an action is missing" in str(refused.value)


def test_an_amended_bill_and_its_successor_name_each_other(gateway, members):
    """Surrendered for amendment, accepted, amended: the old bundle ends in AMEND naming the successor,
    whose own bundle verifies and names the old bill as its predecessor."""
    shipper, carrier = members["shipper"], members["carrier"]
    old = _issue(gateway, members, "BUNDLE-AMEND", issueTo=shipper.org)
    with gateway.client(shipper.token) as s:
        body = {"reason": "AMENDMENT", "reasonCode": "COD"}
        assert s.post(f"/v1/holders/ebls/{old}/surrender", json=body).status_code == 200
    with gateway.client(carrier.token) as c:
        assert c.post(f"/v1/carriers/ebls/{old}/accept-surrender").status_code == 200
        doc = issued_example(transportDocumentReference="BUNDLE-AMEND-2")
        r = c.post(f"/v1/carriers/ebls/{old}/amend", json={"document": doc})
        assert r.status_code == 200, r.text
    before = verify_bundle(*_bundle(gateway, members, old))
    assert [t.action for t in before.timeline][-1] == "AMEND" and before.status == "AMENDED"
    assert before.successor is not None and before.predecessor is None
    after = verify_bundle(*_bundle(gateway, members, str(before.successor)))
    assert after.predecessor == int(old) and [t.action for t in after.timeline] == ["ISSUE"]
