"""Shared helpers for the API tests: unique references, eBLs prepared in a given life-cycle stage
through the API itself, problem+json assertions and client-held signing keys."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
from eth_account import Account

from registry.keys import LocalSigner
from registry.types import Action
from tests.fixtures.dcsa import issued_example

PROBLEM_JSON = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def unique_reference(prefix: str = "T") -> str:
    """A transport document reference no other test uses (DCSA: at most 20 characters)."""
    return (prefix + uuid.uuid4().hex.upper())[:20]


def new_document(prefix: str = "T", **overrides: Any) -> dict[str, Any]:
    """A valid DCSA document with a fresh transportDocumentReference."""
    return issued_example(transportDocumentReference=unique_reference(prefix), **overrides)


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code); returns its body."""
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text[:500]}"
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status, body
    if code is not None:
        assert body["code"] == code, body
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text[:500]}"
    return response.json()


class Stages:
    """Bring fresh eBLs into a life-cycle stage through the API, one custodial write per step.

    Every eBL is issued by ``carrier`` to ``shipper`` (to order: ``shipper`` is endorsee and holder).
    """

    def __init__(self, gateway: Any, members: dict[str, Any]) -> None:
        self.gateway, self.members = gateway, members
        self._clients: dict[str, httpx.Client] = {}

    def client(self, name: str) -> httpx.Client:
        if name not in self._clients:
            self._clients[name] = self.gateway.client(self.members[name].token)
        return self._clients[name]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()

    def post(self, who: str, path: str, body: Any = None) -> Any:
        r = self.client(who).post(path, json=body)
        assert r.status_code in (200, 201), f"setup {who} POST {path}: {r.status_code} {r.text[:400]}"
        return r.json()

    def issued(self, carrier: str = "carrier", to: str = "shipper") -> str:
        """ACTIVE, held by ``to`` which is also the endorsee."""
        body = {"document": carrier_document(new_document("S"), carrier), "issueTo": self.members[to].org}
        return str(self.post(carrier, "/v1/carriers/ebls", body)["eblId"])

    def transferred(self) -> str:
        """ACTIVE, just transferred shipper → consignee (the consignee may reject it)."""
        ebl = self.issued()
        self.post("shipper", f"/v1/holders/ebls/{ebl}/transfer", {"to": self.members["consignee"].org})
        return ebl

    def surrender_requested(self, carrier: str = "carrier") -> str:
        """SURRENDER_REQUESTED for delivery by the shipper."""
        ebl = self.issued(carrier)
        self.post("shipper", f"/v1/holders/ebls/{ebl}/surrender", {"reason": "DELIVERY"})
        return ebl

    def surrendered_for_amendment(self, reason_code: str = "COD") -> str:
        """SURRENDERED_FOR_AMENDMENT (accepted by the carrier); ``SWTP`` prepares a switch to paper."""
        ebl = self.issued()
        self.post(
            "shipper",
            f"/v1/holders/ebls/{ebl}/surrender",
            {"reason": "AMENDMENT", "reasonCode": reason_code},
        )
        self.post("carrier", f"/v1/carriers/ebls/{ebl}/accept-surrender")
        return ebl

    def for_paper(self) -> str:
        return self.surrendered_for_amendment("SWTP")


def add_client_key(gateway: Any, org: str) -> LocalSigner:
    """A fresh key the gateway never sees, authorised on chain by the organisation's own key (ADD_KEY)."""
    account = Account.create(secrets.token_hex(16))
    op = gateway.runtime.title.act(org, Action.ADD_KEY, 0, party=account.address)
    assert op.status == "final", op
    return LocalSigner(bytes(account.key))


def sign_hex(signer: LocalSigner, typed: dict[str, Any]) -> str:
    """``eth_signTypedData_v4`` result as 0x-prefixed hex (65 bytes)."""
    return "0x" + signer.sign_typed_data(typed).hex()


CAST = (
    ("carrier", "carrier"),
    ("shipper", "trader"),
    ("bank", "bank"),
    ("consignee", "trader"),
    ("other_carrier", "carrier"),
)
"""The organisations every gateway suite onboards: (name, role)."""

CARRIER_CODES = {"carrier": "MSC", "other_carrier": "MAEU"}
"""Each carrier's SMDG ``carrierCode``: the DCSA examples name MSC, so ``carrier`` issues them as they are;
``other_carrier``'s documents name MAEU (:func:`carrier_document`)."""


def carrier_document(document: dict[str, Any], carrier: str) -> dict[str, Any]:
    """``document`` as the carrier of :data:`CAST` named ``carrier`` issues it (its own carrierCode)."""
    return {**document, "carrierCode": CARRIER_CODES[carrier], "carrierCodeListProvider": "SMDG"}


def onboard_cast(gov: httpx.Client, tag: str, auditor_name: str) -> dict[str, dict[str, Any]]:
    """Onboard :data:`CAST` through the governance API (identifiers ``LEI:<tag>-<NAME>``) and issue an
    auditor credential; each organisation's 201 body by name, and ``auditor``'s credential body."""
    out: dict[str, dict[str, Any]] = {}
    for name, role in CAST:
        body = {"identifier": f"LEI:{tag}-{name.upper()}", "name": f"{name.title()} Ltd", "role": role}
        if name in CARRIER_CODES:
            body |= {"carrierCode": CARRIER_CODES[name], "carrierCodeListProvider": "SMDG"}
        out[name] = ok(gov.post("/v1/governance/organisations", json=body), 201)
    auditor = gov.post("/v1/governance/credentials", json={"name": auditor_name, "role": "auditor"})
    out["auditor"] = ok(auditor, 201)
    return out
