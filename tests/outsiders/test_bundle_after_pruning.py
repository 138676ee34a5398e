"""An auditor's bundle of a bill older than the embedded chain's kept states, from the gateway as
``make run`` starts it. The node then no longer answers ``eth_getProof`` at the bill's first blocks
(it keeps ``EBL_CHAIN_STATES_KEPT`` = 16 states, docs/ledger.md); the bundle is still served and
verifies offline, and says which actions' keys are not proven instead of answering 503."""

from __future__ import annotations

import httpx

from registry.proofs.audit import verify_bundle
from tests.api.helpers import new_document
from tests.outsiders.conftest import Served


def _final(c: httpx.Client, body: dict[str, object]) -> str:
    r = c.post("/v1/carriers/ebls", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["eblId"])


def test_a_bundle_older_than_the_kept_states_is_served_and_says_what_is_not_proven(served: Served) -> None:
    shipper = served.party("shipper")
    with served.client("carrier") as carrier:
        old = _final(carrier, {"document": new_document("PRUNED"), "issueTo": shipper.org})
        for n in range(24):  # each write final in a block of its own: the first one's state is forgotten
            _final(carrier, {"document": new_document(f"LATER{n}"), "issueTo": shipper.org})
    with served.client("auditor") as auditor:
        r = auditor.get(f"/v1/auditors/ebls/{old}/bundle")
        assert r.status_code == 200, r.text
        bundle = r.json()
        jwks = auditor.get("/.well-known/jwks.json").json()
    checked = verify_bundle(bundle, jwks)
    assert [t.action for t in checked.timeline] == ["ISSUE"]
    assert checked.keys_proven == 0
    assert any("not proven" in note and "no longer held" in note for note in checked.key_notes), (
        checked.key_notes
    )
