"""Who may call which write endpoint: every write route of the gateway, for every party.

The cases are generated from the app's own route table, so a new write endpoint without an entry in
``EXPECTATIONS`` produces a failing case (and ``test_every_write_route_has_an_expectation`` names it).

For each (route, party) the outcome is derived from the table:

* no token → 401 ``unauthenticated``;
* an API role the router does not admit → 403 ``forbidden_role`` (gateway check);
* an admitted but not entitled party → the chain's refusal as problem+json (``not_holder`` ...), or
  ``404 not_found`` for a member party to nothing about the eBL (``outsiders``: what an id that does
  not exist answers, so the refusal does not tell it the eBL exists);
* an entitled party → the success status.

Entitled parties act on a fresh target each; everyone else shares one target per route (refused
requests are simulated and never reach the chain, so they change nothing).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from eth_account import Account

from api.main import create_app
from registry.keys import LocalSigner
from registry.pint.signer import PlatformSigner
from registry.pint.trust import PlatformEntry
from registry.types import Role
from tests.api.helpers import (
    CARRIER_CODES,
    Stages,
    add_client_key,
    assert_problem,
    carrier_document,
    new_document,
    sign_hex,
)

PARTIES = ("carrier", "other_carrier", "shipper", "bank", "consignee", "auditor", "governance", "anonymous")
API_ROLE = {
    "carrier": "carrier",
    "other_carrier": "carrier",
    "shipper": "trader",
    "bank": "bank",
    "consignee": "trader",
    "auditor": "auditor",
    "governance": "governance",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

CARRIERS = frozenset({"carrier"})
MEMBERS = frozenset({"carrier", "bank", "trader"})
VERIFIERS = frozenset({"carrier", "bank", "trader", "auditor", "governance"})
GOVERNANCE = frozenset({"governance"})
MEMBER_PARTIES = frozenset({"carrier", "other_carrier", "shipper", "bank", "consignee"})


@dataclass
class Call:
    """One prepared request: path parameters and a JSON body (or raw bytes)."""

    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None


class Matrix:
    """Builds targets for the cases, through the API (and the registry for organisations)."""

    def __init__(self, gateway: Any, members: dict[str, Any], governance_token: str) -> None:
        self.gateway, self.members, self.governance_token = gateway, members, governance_token
        self.stages = Stages(gateway, members)
        self.shared: dict[str, Call] = {}
        self._client_keys: dict[str, Any] = {}
        self.shared_typed: dict[str, Any] | None = None

    def token(self, party: str) -> str | None:
        if party == "anonymous":
            return None
        if party == "governance":
            return self.governance_token
        return str(self.members[party].token)

    def org(self, party: str) -> str:
        return str(self.members[party].org)

    def client_key(self, party: str) -> Any:
        """A client-held key of the party's organisation (added once, on demand)."""
        if party not in self._client_keys:
            self._client_keys[party] = add_client_key(self.gateway, self.org(party))
        return self._client_keys[party]

    def fresh_org(self, suspended: bool = False) -> str:
        org, _ = self.gateway.runtime.members.onboard(f"LEI:MATRIX-{uuid.uuid4().hex}", Role.TRADER)
        if suspended:
            self.gateway.runtime.members.suspend(org.address)
        return str(org.address)


UNREACHABLE = "http://127.0.0.1:9"
"""A PINT platform nobody answers at: a transfer to it is journaled and stays in progress (202)."""


def _platform_entry(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Platform {code}",
        "url": UNREACHABLE,
        "jwks": PlatformSigner.generate("EdDSA").public_jwks(),
    }


def _trusted(m: Matrix, code: str = "MTRX") -> str:
    """Trust platform ``code`` (at an address nobody answers) and return its code."""
    e = _platform_entry(code)
    m.gateway.runtime.pint.platforms.add(
        PlatformEntry(code=e["code"], name=e["name"], url=e["url"], jwks=e["jwks"])
    )
    return code


def _new_platform(m: Matrix, actor: str) -> Call:
    return Call(json=_platform_entry("MTRA"))


def _removable_platform(m: Matrix, actor: str) -> Call:
    return Call({"code": _trusted(m, "MTRD")})


def _platform_transfer(m: Matrix, actor: str) -> Call:
    ebl = m.stages.issued()
    code = _trusted(m)
    recipient = {
        "partyName": "Bank on MTRX",
        "eblPlatform": code,
        "identifyingCodes": [{"codeListProvider": code, "partyCode": "bank@mtrx"}],
    }
    return Call({"ebl_id": ebl}, {"platform": code, "recipient": recipient, "actionCode": "TRANSFER"})


def _shippers_transfer(m: Matrix, actor: str) -> Call:
    """A transfer the shipper started (to a platform nobody answers): only the shipper may resume it."""
    call = _platform_transfer(m, actor)
    r = m.stages.client("shipper").post(
        f"/v1/holders/ebls/{call.params['ebl_id']}/platform-transfers", json=call.json
    )
    assert r.status_code == 202, r.text
    return Call({"transfer_id": r.json()["transferId"]})


Prepare = Callable[[Matrix, str], Call]


def _ebl(stage: str, body: Callable[[Matrix], Any] | None = None) -> Prepare:
    def prepare(m: Matrix, actor: str) -> Call:
        ebl = getattr(m.stages, stage)()
        return Call({"ebl_id": ebl}, body(m) if body else None)

    return prepare


def _own_document(prefix: str, actor: str) -> dict[str, Any]:
    """A fresh document naming ``actor`` as its carrier when it is one (the others are refused by role)."""
    document = new_document(prefix)
    return carrier_document(document, actor) if actor in CARRIER_CODES else document


def _amend(m: Matrix, actor: str) -> Call:
    ebl = m.stages.surrendered_for_amendment()
    return Call({"ebl_id": ebl}, {"document": _own_document("A", actor)})


def _issue(m: Matrix, actor: str) -> Call:
    return Call(json={"document": _own_document("M", actor), "issueTo": m.org("shipper")})


def _batch(m: Matrix, actor: str) -> Call:
    items = [{"document": _own_document("B", actor), "issueTo": m.org("shipper")} for _ in range(2)]
    return Call(json={"items": items})


def _prepare_typed(m: Matrix, actor: str) -> Call:
    return Call({"ebl_id": m.stages.issued()}, {"action": "TRANSFER", "party": m.org("consignee")})


def _signed_transfer(m: Matrix, actor: str) -> Call:
    """The shipper's eBL, a TRANSFER to the consignee signed with the actor's own client-held key."""
    typed = m.shared_typed if actor != "shipper" else None
    if typed is None:
        ebl = m.stages.issued()
        typed = m.stages.post(
            "shipper",
            f"/v1/holders/ebls/{ebl}/actions/prepare",
            {"action": "TRANSFER", "party": m.org("consignee")},
        )
        if actor != "shipper":
            m.shared_typed = typed
    signer = m.client_key(actor if actor in m.members and actor != "auditor" else "shipper")
    return Call(json={"typedData": typed, "signature": sign_hex(signer, typed)})


def _presented_document(m: Matrix, actor: str) -> Call:
    document = new_document("V")
    m.stages.post("carrier", "/v1/carriers/ebls", {"document": document, "issueTo": m.org("shipper")})
    return Call(content=json.dumps(document).encode())


def _presented_for_ebl(m: Matrix, actor: str) -> Call:
    """The genuine document presented for its own eBL (whoever holds it may verify it)."""
    document = new_document("V")
    issued = m.stages.post(
        "carrier", "/v1/carriers/ebls", {"document": document, "issueTo": m.org("shipper")}
    )
    return Call({"ebl_id": str(issued["eblId"])}, content=json.dumps(document).encode())


def _onboard(m: Matrix, actor: str) -> Call:
    identifier = f"LEI:MATRIX-{uuid.uuid4().hex}"
    return Call(json={"identifier": identifier, "name": "Matrix Trader", "role": "trader"})


def _credential(m: Matrix, actor: str) -> Call:
    return Call(json={"name": "matrix auditor", "role": "auditor"})


def _org(suspended: bool = False) -> Prepare:
    return lambda m, actor: Call({"org": m.fresh_org(suspended)})


def _acting_org(m: Matrix, actor: str) -> str:
    """The organisation a member party acts for; the shipper's for parties that are no member."""
    return m.org(actor) if API_ROLE.get(actor) in MEMBERS else m.org("shipper")


def _key_challenge(m: Matrix, actor: str) -> Call:
    return Call(json={"key": Account.create().address})


def _key_registration(m: Matrix, actor: str) -> Call:
    """A fresh wallet key's signed proof for the actor's organisation."""
    account = Account.create()
    typed = m.gateway.runtime.members.key_challenge(_acting_org(m, actor), account.address)
    return Call(json={"typedData": typed, "signature": sign_hex(LocalSigner(bytes(account.key)), typed)})


def _key_revocation(m: Matrix, actor: str) -> Call:
    """A second key of the actor's organisation, to revoke."""
    return Call({"key": add_client_key(m.gateway, _acting_org(m, actor)).address})


def _revocable_credential(m: Matrix, actor: str) -> Call:
    issued = m.gateway.credentials.issue("matrix revocable", "auditor", None)
    return Call({"credential_id": issued.principal.credential_id})


@dataclass(frozen=True)
class Expectation:
    admitted: frozenset[str]
    """API roles the router lets through."""
    entitled: frozenset[str]
    """Parties that succeed."""
    success: int
    refusal: tuple[int, str] | None
    """What an admitted party that is not entitled gets (None: every admitted party is entitled)."""
    prepare: Prepare
    per_party: bool = False
    """The request depends on who sends it (prepare it for every party, not once per route)."""
    outsiders: frozenset[str] = frozenset()
    """Admitted parties that are party to nothing about the target eBL: 404 ``not_found``."""
    method: str = "POST"


_TO_CONSIGNEE: Callable[[Matrix], Any] = lambda m: {"to": m.org("consignee")}  # noqa: E731
NOT_ISSUING = (403, "not_issuing_carrier")
NOT_HOLDER = (403, "not_holder")
NOT_FOUND = (404, "not_found")
OTHER_CARRIER = frozenset({"other_carrier"})
"""The only carrier admitted but not entitled on a carrier route: party to nothing about the eBL."""
STRANGERS = frozenset({"other_carrier", "bank", "consignee"})
"""Members party to nothing about an eBL the carrier issued to the shipper."""

EXPECTATIONS: dict[str, Expectation] = {
    # carriers: only carriers pass the gateway; another carrier's eBL is refused on chain
    "/v1/carriers/ebls": Expectation(CARRIERS, frozenset({"carrier", "other_carrier"}), 201, None, _issue),
    "/v1/carriers/ebls/batch": Expectation(
        CARRIERS, frozenset({"carrier", "other_carrier"}), 202, None, _batch
    ),
    "/v1/carriers/ebls/{ebl_id}/accept-surrender": Expectation(
        CARRIERS,
        frozenset({"carrier"}),
        200,
        NOT_ISSUING,
        _ebl("surrender_requested"),
        outsiders=OTHER_CARRIER,
    ),
    "/v1/carriers/ebls/{ebl_id}/reject-surrender": Expectation(
        CARRIERS,
        frozenset({"carrier"}),
        200,
        NOT_ISSUING,
        _ebl("surrender_requested"),
        outsiders=OTHER_CARRIER,
    ),
    "/v1/carriers/ebls/{ebl_id}/void": Expectation(
        CARRIERS,
        frozenset({"carrier"}),
        200,
        NOT_ISSUING,
        _ebl("surrendered_for_amendment"),
        outsiders=OTHER_CARRIER,
    ),
    "/v1/carriers/ebls/{ebl_id}/amend": Expectation(
        CARRIERS,
        frozenset({"carrier"}),
        200,
        NOT_ISSUING,
        _amend,
        per_party=True,  # each carrier amends with a document naming itself (else: 422 carrier_mismatch)
        outsiders=OTHER_CARRIER,
    ),
    "/v1/carriers/ebls/{ebl_id}/switch-to-paper": Expectation(
        CARRIERS,
        frozenset({"carrier"}),
        200,
        NOT_ISSUING,
        _ebl("for_paper", lambda m: {"paperDocumentHash": "0x" + "ab" * 32}),
        outsiders=OTHER_CARRIER,
    ),
    # holders: any member passes the gateway; only the holder (or endorsee) passes the chain
    "/v1/holders/ebls/{ebl_id}/transfer": Expectation(
        MEMBERS, frozenset({"shipper"}), 200, NOT_HOLDER, _ebl("issued", _TO_CONSIGNEE), outsiders=STRANGERS
    ),
    "/v1/holders/ebls/{ebl_id}/endorse": Expectation(
        MEMBERS,
        frozenset({"shipper"}),
        200,
        NOT_HOLDER,
        _ebl("issued", lambda m: {"endorsee": m.org("bank")}),
        outsiders=STRANGERS,
    ),
    "/v1/holders/ebls/{ebl_id}/endorse-in-blank": Expectation(
        MEMBERS, frozenset({"shipper"}), 200, NOT_HOLDER, _ebl("issued"), outsiders=STRANGERS
    ),
    "/v1/holders/ebls/{ebl_id}/nominate": Expectation(
        MEMBERS,
        frozenset({"shipper"}),
        200,
        (403, "not_endorsee"),
        _ebl("issued", lambda m: {"nominee": m.org("consignee")}),
        outsiders=STRANGERS,
    ),
    "/v1/holders/ebls/{ebl_id}/reject": Expectation(
        MEMBERS,
        frozenset({"consignee"}),
        200,
        NOT_HOLDER,
        _ebl("transferred"),
        outsiders=frozenset({"other_carrier", "bank"}),  # the shipper transferred it: a party
    ),
    "/v1/holders/ebls/{ebl_id}/surrender": Expectation(
        MEMBERS,
        frozenset({"shipper"}),
        200,
        NOT_HOLDER,
        _ebl("issued", lambda m: {"reason": "DELIVERY"}),
        outsiders=STRANGERS,
    ),
    "/v1/holders/ebls/{ebl_id}/actions/prepare": Expectation(
        MEMBERS,
        frozenset({"carrier", "other_carrier", "shipper", "bank", "consignee"}),
        200,
        None,
        _prepare_typed,
    ),
    "/v1/holders/signed-actions": Expectation(
        MEMBERS,
        frozenset({"shipper"}),
        200,
        NOT_HOLDER,
        _signed_transfer,
        per_party=True,
        outsiders=STRANGERS,
    ),
    # banks: verifying a presented document is a read; whoever holds the document may see its state
    "/v1/banks/verifications": Expectation(VERIFIERS, frozenset(API_ROLE), 200, None, _presented_document),
    "/v1/banks/ebls/{ebl_id}/verification": Expectation(
        VERIFIERS, frozenset(API_ROLE), 200, None, _presented_for_ebl
    ),
    # an attestation with the presented document: whoever holds the document may have it attested
    "/v1/banks/ebls/{ebl_id}/attestations": Expectation(
        VERIFIERS, frozenset(API_ROLE), 200, None, _presented_for_ebl
    ),
    # governance
    "/v1/governance/organisations": Expectation(GOVERNANCE, GOVERNANCE, 201, None, _onboard),
    "/v1/governance/credentials": Expectation(GOVERNANCE, GOVERNANCE, 201, None, _credential),
    "/v1/governance/organisations/{org}/suspend": Expectation(GOVERNANCE, GOVERNANCE, 200, None, _org()),
    "/v1/governance/organisations/{org}/reinstate": Expectation(
        GOVERNANCE, GOVERNANCE, 200, None, _org(suspended=True)
    ),
    "/v1/governance/organisations/{org}/rotate-key": Expectation(GOVERNANCE, GOVERNANCE, 200, None, _org()),
    # the attestation key: a rotation signs with a new key from then on; only the operators may
    "/v1/governance/attestation-keys/rotate": Expectation(
        GOVERNANCE, GOVERNANCE, 201, None, lambda m, actor: Call()
    ),
    "/v1/governance/credentials/{credential_id}/revoke": Expectation(
        GOVERNANCE, GOVERNANCE, 200, None, _revocable_credential
    ),
    # platforms (PINT): a holder sends its bill; governance keeps the trust list
    "/v1/holders/ebls/{ebl_id}/platform-transfers": Expectation(
        MEMBERS,
        frozenset({"shipper"}),
        202,
        NOT_HOLDER,
        _platform_transfer,
        per_party=True,
        outsiders=STRANGERS,
    ),
    # the transfer's sender and the operators (governance) may resume it; to anyone else it does not exist
    "/v1/platform-transfers/{transfer_id}/resume": Expectation(
        frozenset(API_ROLE.values()),
        frozenset({"shipper", "governance"}),
        200,
        None,
        _shippers_transfer,
        per_party=True,
        outsiders=frozenset({"carrier", "other_carrier", "bank", "consignee", "auditor"}),
    ),
    "/v1/platforms": Expectation(GOVERNANCE, GOVERNANCE, 201, None, _new_platform),
    "/v1/platforms/{code}": Expectation(
        GOVERNANCE, GOVERNANCE, 204, None, _removable_platform, per_party=True, method="DELETE"
    ),
    # members: every member manages its own organisation's keys
    "/v1/members/keys/challenge": Expectation(MEMBERS, MEMBER_PARTIES, 200, None, _key_challenge),
    "/v1/members/keys": Expectation(MEMBERS, MEMBER_PARTIES, 201, None, _key_registration, per_party=True),
    "/v1/members/keys/{key}/revoke": Expectation(
        MEMBERS, MEMBER_PARTIES, 200, None, _key_revocation, per_party=True
    ),
}


def route_table(app: Any) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves, walking included routers."""

    def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if callable(contexts):  # FastAPI >= 0.16x keeps included routers as one route each
                for ctx in contexts():
                    for method in getattr(ctx, "methods", None) or ():
                        yield method, ctx.path
            elif getattr(route, "routes", None):
                yield from walk(route.routes)
            else:
                for method in getattr(route, "methods", None) or ():
                    yield method, route.path

    return walk(list(app.routes))


def write_routes(app: Any) -> list[str]:
    return sorted(
        {path for method, path in route_table(app) if method in WRITE_METHODS and path.startswith("/v1")}
    )


_COLLECTED = write_routes(create_app())  # no runtime: nothing opens until start-up


def expected(path: str, party: str) -> tuple[int, str | None]:
    """(status, problem code or None for success) for one party on one route."""
    e = EXPECTATIONS[path]
    if party == "anonymous":
        return 401, "unauthenticated"
    if API_ROLE[party] not in e.admitted:
        return 403, "forbidden_role"
    if party in e.entitled:
        return e.success, None
    if party in e.outsiders:
        return NOT_FOUND
    assert e.refusal is not None, f"{path}: {party} is admitted but neither entitled nor refused"
    return e.refusal


@pytest.fixture(scope="module")
def matrix(gateway: Any, members: dict[str, Any], governance_token: str) -> Iterator[Matrix]:
    m = Matrix(gateway, members, governance_token)
    yield m
    m.stages.close()


def test_every_write_route_has_an_expectation(gateway):
    """Every POST (or other write) route under /v1 appears in the expectation table, and vice versa."""
    app = create_app(gateway.runtime)
    routes = write_routes(app)
    in_schema = {
        p
        for p, ops in app.openapi()["paths"].items()
        if p.startswith("/v1") and WRITE_METHODS & {m.upper() for m in ops}
    }
    assert in_schema <= set(routes), f"the route walker missed {sorted(in_schema - set(routes))}"
    missing = [p for p in routes if p not in EXPECTATIONS]
    assert not missing, f"write routes without an authorization expectation: {missing}"
    stale = sorted(set(EXPECTATIONS) - set(routes))
    assert not stale, f"expectations for routes that no longer exist: {stale}"


@pytest.mark.parametrize("party", PARTIES)
@pytest.mark.parametrize("path", _COLLECTED)
def test_write_endpoint_admits_only_entitled_parties(matrix, gateway, path, party):
    """Entitled parties succeed; others get 401, 403 forbidden_role or the chain's refusal, never 5xx."""
    assert path in EXPECTATIONS, f"no authorization expectation for {path}"
    status, code = expected(path, party)
    e = EXPECTATIONS[path]
    if code is None or e.per_party:
        call = e.prepare(matrix, party)
    else:
        if path not in matrix.shared:
            matrix.shared[path] = e.prepare(matrix, "shipper")
        call = matrix.shared[path]
    with gateway.client(matrix.token(party)) as client:
        headers = {"Content-Type": "application/json"} if call.content is not None else None
        r: httpx.Response = client.request(
            e.method, path.format(**call.params), json=call.json, content=call.content, headers=headers
        )
    assert r.status_code < 500, r.text
    if code is None:
        assert r.status_code == status, f"{party} on {path}: {r.status_code} {r.text[:400]}"
        if (
            path.startswith(("/v1/holders/ebls/{ebl_id}/", "/v1/carriers/ebls/{ebl_id}/"))
            and "prepare" not in path
            and "platform-transfers" not in path  # a PINT transfer, not an operation: 202 while it travels
        ):
            assert r.json()["status"] == "final"
    else:
        assert_problem(r, status, code)


def test_carrier_cannot_accept_or_reject_surrender_of_another_carriers_ebl(matrix, gateway):
    """Another carrier's eBL surrendered to it: the first carrier, party to nothing about it, is refused
    as for an eBL that does not exist; the issuer is not refused."""
    ebl = matrix.stages.surrender_requested(carrier="other_carrier")
    with gateway.client(matrix.token("carrier")) as c:
        assert_problem(c.post(f"/v1/carriers/ebls/{ebl}/accept-surrender"), 404, "not_found")
        assert_problem(c.post(f"/v1/carriers/ebls/{ebl}/reject-surrender"), 404, "not_found")
    with gateway.client(matrix.token("other_carrier")) as o:
        r = o.post(f"/v1/carriers/ebls/{ebl}/accept-surrender")
        assert r.status_code == 200 and r.json()["action"] == "SACC", r.text


def test_former_holder_cannot_act_on_an_ebl_it_transferred_away(matrix, gateway):
    """After the shipper transfers to the consignee, the shipper's transfer and surrender are not_holder."""
    ebl = matrix.stages.transferred()
    with gateway.client(matrix.token("shipper")) as s:
        assert_problem(
            s.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": matrix.org("bank")}), 403, "not_holder"
        )
        assert_problem(
            s.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"}), 403, "not_holder"
        )
    with gateway.client(matrix.token("consignee")) as k:
        assert k.post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": matrix.org("bank")}).status_code == 200


def test_holder_that_is_not_endorsee_cannot_surrender_for_delivery(matrix, gateway):
    """The consignee holds but the shipper is still endorsee: surrender for delivery is not_entitled."""
    ebl = matrix.stages.transferred()
    with gateway.client(matrix.token("consignee")) as k:
        r = k.post(f"/v1/holders/ebls/{ebl}/surrender", json={"reason": "DELIVERY"})
    assert_problem(r, 403, "not_entitled")
