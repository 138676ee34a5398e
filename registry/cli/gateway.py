"""The gateway backend: the FastAPI gateway over HTTP (``/v1``, Bearer token)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from registry.cli.backend import (  # noqa: F401
    _ADDRESS,
    _ROLES,
    CARRIER_ACTIONS,
    Backend,
    CliError,
    GatewayError,
    SurrenderFor,
    _address,
    _signature_bytes,
    camel,
    org_ref,
    parse_ebl_id,
)
from registry.records import (
    CredentialInfoOut,
    CredentialOut,
    EventOut,
    EventPageOut,
    IdentityOut,
    KeyOut,
    MemberDetailOut,
    MemberOut,
    OnboardedOut,
    OnboardingOut,
    OperationOut,
    Record,
    RotatedKeyOut,
    TypedDataOut,
    VerificationOut,
    dump,
)
from registry.records.platforms import IncomingEnvelopeOut, PlatformOut, TransferOut

_R = TypeVar("_R", bound=Record)


def _read(model: type[_R], body: Any) -> _R:
    """The gateway's answer read as the record it serves (:mod:`registry.records`): an answer of
    another shape is refused here rather than rendered half-read."""
    try:
        return model.read(body)
    except ValidationError as exc:
        detail = f"the gateway's answer is not a {model.__name__}: {exc.errors()[0]['msg']}"
        raise CliError("unexpected_response", detail) from None


def _record(model: type[Record], body: Any) -> dict[str, Any]:
    """The gateway's answer read as its record, as its JSON again."""
    return dump(_read(model, body))


def _records(model: type[Record], body: Any) -> list[dict[str, Any]]:
    return [_record(model, item) for item in _as_dicts(body)]


def _problem(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"title": response.reason_phrase, "detail": response.text[:500]}
    code = str(body.get("code") or body.get("title") or f"http_{response.status_code}")
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    return GatewayError(code, detail, status=response.status_code, problem=body)


class HttpBackend:
    """The gateway over HTTP: ``/v1`` paths, JSON camelCase, Bearer token.

    Args:
        client: an ``httpx.Client`` whose ``base_url`` is the gateway and whose headers carry the token
            (see :meth:`connect`).
    """

    mode = "gateway"

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @classmethod
    def connect(cls, url: str, token: str | None, *, timeout: float = 150.0) -> HttpBackend:
        """A backend for the gateway at ``url`` with a Bearer ``token``."""
        headers = {"Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return cls(httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout))

    def close(self) -> None:
        self.client.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: str | None = None,
        params: Mapping[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self.client.request(
                method, "/v1" + path, json=json, content=content, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise CliError("gateway_unreachable", f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise _problem(response)
        if not response.content:
            return {}
        return response.json() if raw else camel(response.json())

    def _post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", path, json=dict(body or {}))
        return result

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def _operation(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return _record(OperationOut, self._post(path, body))

    # governance -----------------------------------------------------------------

    def add_org(
        self,
        identifier: str,
        role: str,
        name: str | None = None,
        carrier_codes: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"identifier": identifier, "name": name or identifier, "role": role}
        if carrier_codes:
            body["carrierCodes"] = [
                {"carrierCode": code, "carrierCodeListProvider": provider} for code, provider in carrier_codes
            ]
        onboarded = _read(OnboardedOut, self._post("/governance/organisations", body))
        member = self._member(onboarded.organisation.address)
        first_key = next((k for k in member.keys if k.address == onboarded.key_address), None)
        if first_key is None:
            raise CliError("unexpected_response", "the gateway does not list the onboarded key")
        record = OnboardingOut(
            **member.model_dump(),
            identifier=onboarded.organisation.identifier or identifier,
            name=onboarded.organisation.name,
            key_address=onboarded.key_address,
            key=first_key,
            credential=onboarded.credential,
        )
        return dump(record)

    def suspend(self, org: str) -> dict[str, Any]:
        return _record(MemberOut, self._post(f"/governance/organisations/{org_ref(org)}/suspend"))

    def reinstate(self, org: str) -> dict[str, Any]:
        return _record(MemberOut, self._post(f"/governance/organisations/{org_ref(org)}/reinstate"))

    def _member(self, address: str) -> MemberDetailOut:
        return _read(MemberDetailOut, self._get(f"/governance/organisations/{address}"))

    def organisation(self, org: str) -> dict[str, Any]:
        return dump(self._member(org_ref(org)))

    def keys(self, org: str | None) -> list[dict[str, Any]]:
        if org is None:  # the credential's own organisation
            return _records(KeyOut, self._get("/members/keys"))
        return [dump(k) for k in self._member(org_ref(org)).keys]

    def rotate_key(self, org: str) -> dict[str, Any]:
        result = _record(RotatedKeyOut, self._post(f"/governance/organisations/{org_ref(org)}/rotate-key"))
        if "address" not in result and "keyAddress" in result:
            result = {"address": result["keyAddress"], "status": "active"}
        return result

    def identity(self, org: str) -> dict[str, Any]:
        """The gateway publishes no chain id or registry address: those stay null here."""
        return dump(IdentityOut.of(self._member(org_ref(org)), None, None))

    def issue_credential(
        self, name: str, role: str, org: str | None, expires_at: datetime | None = None
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "role": role,
            "org": org_ref(org) if org else None,
            "expiresAt": expires_at.isoformat() if expires_at else None,
        }
        return _record(CredentialOut, self._post("/governance/credentials", body))

    def credentials(
        self, role: str | None = None, org: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        params = {
            k: v
            for k, v in {"role": role, "org": org_ref(org) if org else None, "status": status}.items()
            if v
        }
        return _records(CredentialInfoOut, self._get("/governance/credentials", params))

    def revoke_credential(self, credential_id: str) -> dict[str, Any]:
        return _record(CredentialInfoOut, self._post(f"/governance/credentials/{credential_id}/revoke"))

    # members: their own keys -----------------------------------------------------

    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]:
        typed = self._request("POST", "/members/keys/challenge", json={"key": _address(key)}, raw=True)
        return _record(TypedDataOut, typed)

    def register_key(self, actor: str | None, typed_data: dict[str, Any], signature: str) -> dict[str, Any]:
        _signature_bytes(signature)
        body = {"typedData": typed_data, "signature": signature.strip()}
        return _record(KeyOut, self._post("/members/keys", body))

    def revoke_key(self, actor: str | None, key: str) -> dict[str, Any]:
        return _record(KeyOut, self._post(f"/members/keys/{_address(key)}/revoke"))

    # carriers -------------------------------------------------------------------

    def issue(
        self, actor: str | None, document: dict[str, Any], to: str, endorsee: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"document": document, "issueTo": org_ref(to)}
        if endorsee:
            body["endorsee"] = org_ref(endorsee)
        return self._operation("/carriers/ebls", body)

    def carrier_action(self, actor: str | None, action: str, ebl_id: int) -> dict[str, Any]:
        if action not in CARRIER_ACTIONS:
            raise ValueError(f"unknown carrier action {action!r}")
        return self._operation(f"/carriers/ebls/{ebl_id}/{action}")

    def amend(
        self, actor: str | None, ebl_id: int, document: dict[str, Any], endorsee: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"document": document}
        if endorsee:
            body["endorsee"] = org_ref(endorsee)
        return self._operation(f"/carriers/ebls/{ebl_id}/amend", body)

    def switch_to_paper(self, actor: str | None, ebl_id: int, paper_hash: bytes) -> dict[str, Any]:
        body = {"paperDocumentHash": "0x" + paper_hash.hex()}
        return self._operation(f"/carriers/ebls/{ebl_id}/switch-to-paper", body)

    # holders --------------------------------------------------------------------

    def transfer(self, actor: str | None, ebl_id: int, to: str) -> dict[str, Any]:
        return self._operation(f"/holders/ebls/{ebl_id}/transfer", {"to": org_ref(to)})

    def endorse(self, actor: str | None, ebl_id: int, endorsee: str, to_order: bool) -> dict[str, Any]:
        body = {"endorsee": org_ref(endorsee), "toOrder": to_order}
        return self._operation(f"/holders/ebls/{ebl_id}/endorse", body)

    def endorse_in_blank(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return self._operation(f"/holders/ebls/{ebl_id}/endorse-in-blank")

    def nominate(self, actor: str | None, ebl_id: int, nominee: str | None) -> dict[str, Any]:
        body = {"nominee": org_ref(nominee) if nominee else None}
        return self._operation(f"/holders/ebls/{ebl_id}/nominate", body)

    def reject(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return self._operation(f"/holders/ebls/{ebl_id}/reject")

    def surrender(
        self, actor: str | None, ebl_id: int, reason: SurrenderFor, reason_code: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": reason}
        if reason_code:
            body["reasonCode"] = reason_code
        return self._operation(f"/holders/ebls/{ebl_id}/surrender", body)

    # PINT -----------------------------------------------------------------------

    def platforms(self) -> list[dict[str, Any]]:
        return _records(PlatformOut, self._get("/platforms"))

    def add_platform(self, platform: dict[str, Any]) -> dict[str, Any]:
        return _record(PlatformOut, self._post("/platforms", platform))

    def remove_platform(self, code: str) -> None:
        self._request("DELETE", f"/platforms/{quote(code, safe='')}")

    def send_to_platform(self, actor: str | None, ebl_id: int, transfer: dict[str, Any]) -> dict[str, Any]:
        return _record(TransferOut, self._post(f"/holders/ebls/{ebl_id}/platform-transfers", transfer))

    def platform_transfers(self) -> list[dict[str, Any]]:
        return _records(TransferOut, self._get("/platform-transfers"))

    def platform_transfer(self, transfer_id: str) -> dict[str, Any]:
        return _record(TransferOut, self._get(f"/platform-transfers/{quote(transfer_id, safe='')}"))

    def incoming_envelopes(self) -> list[dict[str, Any]]:
        return _records(IncomingEnvelopeOut, self._get("/incoming-envelopes"))

    # reads ----------------------------------------------------------------------

    def verify(self, ebl_id: int | None = None, *, document_text: str | None = None) -> dict[str, Any]:
        if document_text is not None and ebl_id is not None:  # this document against this eBL: a verdict
            result: dict[str, Any] = self._request(
                "POST", f"/banks/ebls/{ebl_id}/verification", content=document_text
            )
        elif document_text is not None:  # which eBL was issued for this document
            result = self._request("POST", "/banks/verifications", content=document_text)
        elif ebl_id is not None:
            result = self._get(f"/banks/ebls/{ebl_id}/verification")
        else:
            raise ValueError("verify needs an eBL id or a document")
        return _record(VerificationOut, result)

    def history(self, ebl_id: int) -> list[dict[str, Any]]:
        body = self._get(f"/auditors/ebls/{ebl_id}/history")
        events = body.get("events", body.get("items")) if isinstance(body, dict) else body
        return _records(EventOut, events)

    def events(
        self, org: str, since: datetime, until: datetime, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {
            "org": org_ref(org),
            "since": since.isoformat(),
            "until": until.isoformat(),
            "limit": limit,
        }
        if cursor:
            params["cursor"] = cursor
        page = _record(EventPageOut, self._get("/auditors/events", params))
        next_cursor = page["nextCursor"]
        return list(page["events"]), str(next_cursor) if next_cursor else None


def _as_dicts(value: Any) -> Sequence[dict[str, Any]]:
    if not isinstance(value, list):
        raise CliError("unexpected_response", "the gateway answered with an unexpected body")
    return [v for v in value if isinstance(v, dict)]
