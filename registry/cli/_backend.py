"""One interface, two transports: the CLI's commands are written once against :class:`Backend`.

* :class:`DirectBackend` drives an open :class:`~registry.runtime.Runtime` in this process.
* :class:`HttpBackend` talks to the FastAPI gateway (``/v1``, Bearer token); there the token decides
  who acts, so the ``actor`` arguments are ignored.

Both return plain JSON-ready dictionaries with camelCase keys (the gateway's wire format), so one
renderer serves both. eBL ids are decimal strings (they are uint256).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

if TYPE_CHECKING:
    from registry.keys import KeyInfo
    from registry.members import Organisation
    from registry.runtime import Runtime
    from registry.store.queries import EventRecord
    from registry.title import Operation

__all__ = [
    "CARRIER_ACTIONS",
    "Backend",
    "CliError",
    "DirectBackend",
    "GatewayError",
    "HttpBackend",
    "SurrenderFor",
    "camel",
    "org_ref",
    "parse_ebl_id",
]

SurrenderFor = Literal["DELIVERY", "AMENDMENT"]
CARRIER_ACTIONS = ("accept-surrender", "reject-surrender", "void")
"""Carrier actions on an existing eBL that take no argument (also their gateway path segment)."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ROLES = ("carrier", "bank", "trader")


class CliError(Exception):
    """A refused request the CLI shows as ``[code] detail`` (exit code 1)."""

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        self.code, self.detail, self.status = code, detail, status
        super().__init__(f"[{code}] {detail}")


class GatewayError(CliError):
    """The gateway answered with an RFC 9457 problem (``code`` and ``detail``)."""

    def __init__(self, code: str, detail: str, *, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(code, detail, status=status)
        self.problem = dict(problem)


def org_ref(text: str) -> str:
    """An organisation given as its address (0x + 40 hex) or as its legal identifier (LEI, DID ...)."""
    from eth_utils.address import to_checksum_address

    from registry.members import org_address_for

    text = text.strip()
    if _ADDRESS.match(text):
        return str(to_checksum_address(text))
    if text.lower().startswith("0x"):
        raise ValueError(f"not an organisation address (0x + 40 hex digits): {text!r}")
    return str(org_address_for(text))


def parse_ebl_id(text: str) -> int:
    """An eBL id in decimal or ``0x`` hex (the 32-byte form of ``eblIdHex``, or shorter)."""
    from registry.types import parse_ebl_id as parse

    return int(parse(text))


def _ids(name: str, value: int | None) -> dict[str, str | None]:
    """An eBL id field as the gateway writes it: the decimal string and its ``…Hex`` twin."""
    from registry.types import ebl_id_hex

    if value is None:
        return {name: None, name + "Hex": None}
    return {name: str(int(value)), name + "Hex": ebl_id_hex(int(value))}


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel(value: Any) -> Any:
    """JSON-ready copy with camelCase keys; enums by name, datetimes ISO 8601, bytes 0x hex."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, Mapping):
        return {_camel_key(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [camel(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class Backend(Protocol):
    """What every ``ebl`` command needs; ``actor`` is the acting organisation (direct mode only)."""

    mode: str

    def close(self) -> None: ...

    # governance
    def add_org(
        self,
        identifier: str,
        role: str,
        name: str | None = None,
        carrier_codes: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]: ...
    def suspend(self, org: str) -> dict[str, Any]: ...
    def reinstate(self, org: str) -> dict[str, Any]: ...
    def organisation(self, org: str) -> dict[str, Any]: ...
    def keys(self, org: str | None) -> list[dict[str, Any]]: ...
    def rotate_key(self, org: str) -> dict[str, Any]: ...
    def identity(self, org: str) -> dict[str, Any]: ...
    def issue_credential(
        self, name: str, role: str, org: str | None, expires_at: datetime | None = None
    ) -> dict[str, Any]: ...
    def credentials(
        self, role: str | None = None, org: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]: ...
    def revoke_credential(self, credential_id: str) -> dict[str, Any]: ...

    # members: their own keys
    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]: ...
    def register_key(
        self, actor: str | None, typed_data: dict[str, Any], signature: str
    ) -> dict[str, Any]: ...
    def revoke_key(self, actor: str | None, key: str) -> dict[str, Any]: ...

    # carriers
    def issue(
        self, actor: str | None, document: dict[str, Any], to: str, endorsee: str | None
    ) -> dict[str, Any]: ...
    def carrier_action(self, actor: str | None, action: str, ebl_id: int) -> dict[str, Any]: ...
    def amend(
        self, actor: str | None, ebl_id: int, document: dict[str, Any], endorsee: str | None
    ) -> dict[str, Any]: ...
    def switch_to_paper(self, actor: str | None, ebl_id: int, paper_hash: bytes) -> dict[str, Any]: ...

    # holders
    def transfer(self, actor: str | None, ebl_id: int, to: str) -> dict[str, Any]: ...
    def endorse(self, actor: str | None, ebl_id: int, endorsee: str, to_order: bool) -> dict[str, Any]: ...
    def endorse_in_blank(self, actor: str | None, ebl_id: int) -> dict[str, Any]: ...
    def nominate(self, actor: str | None, ebl_id: int, nominee: str | None) -> dict[str, Any]: ...
    def reject(self, actor: str | None, ebl_id: int) -> dict[str, Any]: ...
    def surrender(
        self, actor: str | None, ebl_id: int, reason: SurrenderFor, reason_code: str | None
    ) -> dict[str, Any]: ...

    # reads
    def verify(self, ebl_id: int | None = None, *, document_text: str | None = None) -> dict[str, Any]: ...
    def history(self, ebl_id: int) -> list[dict[str, Any]]: ...
    def events(
        self, org: str, since: datetime, until: datetime, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]: ...


# ====================================================================== direct


def _operation(op: Operation) -> dict[str, Any]:
    return {
        "operationId": op.operation_id,
        "action": op.action.dcsa_code,
        **_ids("eblId", op.ebl_id),
        **_ids("successorEblId", op.successor_ebl_id),
        "status": op.status,
        "txHash": op.tx_hash,
        "blockNumber": op.block_number,
        "errorCode": op.error_code,
        "errorDetail": op.error_detail,
    }


def _org(org: Organisation) -> dict[str, Any]:
    return {
        "address": org.address,
        "index": org.index,
        "role": org.role.name,
        "status": org.status.name,
        "keyCount": org.key_count,
    }


def _key(info: KeyInfo) -> dict[str, Any]:
    return camel(info.to_public_dict())  # type: ignore[no-any-return]


def _event(event: EventRecord) -> dict[str, Any]:
    return {
        **_ids("eblId", event.ebl_id),
        "seq": event.seq,
        "action": event.action.dcsa_code,
        "actor": event.actor,
        "counterparty": event.counterparty,
        "actorKey": event.actor_key,
        "data": event.data,
        "blockNumber": event.block_number,
        "blockTime": datetime.fromtimestamp(event.block_time, UTC).isoformat(),
        "txHash": event.tx_hash,
        "logIndex": event.log_index,
    }


def _credential(record: Any) -> dict[str, Any]:
    return {
        "credentialId": record.credential_id,
        "name": record.name,
        "role": record.role,
        "org": record.org,
        "status": record.status,
        "createdAt": record.created_at.isoformat(),
        "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
        "revokedAt": record.revoked_at.isoformat() if record.revoked_at else None,
    }


def _address(text: str) -> str:
    from eth_utils.address import to_checksum_address

    if not _ADDRESS.match(text.strip()):
        raise ValueError(f"not a key address (0x + 40 hex digits): {text!r}")
    return str(to_checksum_address(text.strip()))


def _signature_bytes(text: str) -> bytes:
    text = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{130}", text):
        raise ValueError("a signature is 65 bytes as 0x-prefixed hex (130 hex digits)")
    return bytes.fromhex(text[2:])


class DirectBackend:
    """The registry in this process.

    Args:
        runtime: an open runtime. Tests inject one (opened with ``follow=False``) through the Typer
            context object, so several commands share one embedded chain.
        owned: close the runtime in :meth:`close` (True when the CLI opened it itself).
    """

    mode = "direct"

    def __init__(self, runtime: Runtime, *, owned: bool = False) -> None:
        self.runtime = runtime
        self.owned = owned
        self._sync_lock = threading.Lock()

    def close(self) -> None:
        if self.owned:
            self.runtime.close()

    @staticmethod
    def _actor(actor: str | None) -> str:
        if actor is None:
            raise CliError("usage", "--as ORG is required in direct mode (the acting organisation)")
        return org_ref(actor)

    def _sync(self) -> None:
        """Bring the index up to the chain head before reading it (a one-shot CLI has no follower)."""
        with self._sync_lock:
            self.runtime.indexer.sync()

    # governance -----------------------------------------------------------------

    def add_org(
        self,
        identifier: str,
        role: str,
        name: str | None = None,
        carrier_codes: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        from registry.members import carrier_code
        from registry.types import Role

        if role.lower() not in _ROLES:
            raise CliError("usage", f"role must be one of {', '.join(_ROLES)}")
        try:
            codes = [carrier_code(code, provider) for code, provider in carrier_codes]
            org, key = self.runtime.members.onboard(identifier, Role[role.upper()], codes)
        except ValueError as exc:
            raise CliError("usage", str(exc)) from None
        recorded = self.runtime.members.carrier_codes.codes_of(org.address)
        return {
            **_org(org),
            "identifier": identifier,
            "keyAddress": key.address,
            "key": _key(key),
            "carrierCodes": [
                {"carrierCode": c.code, "carrierCodeListProvider": c.code_list_provider} for c in recorded
            ],
        }

    def suspend(self, org: str) -> dict[str, Any]:
        return _org(self.runtime.members.suspend(org_ref(org)))

    def reinstate(self, org: str) -> dict[str, Any]:
        return _org(self.runtime.members.reinstate(org_ref(org)))

    def organisation(self, org: str) -> dict[str, Any]:
        from registry.errors import NotFoundError
        from registry.types import Role

        record = self.runtime.members.organisation(org_ref(org))
        if record.role is Role.NONE:
            raise NotFoundError("organisation", record.address)
        return _org(record)

    def keys(self, org: str | None) -> list[dict[str, Any]]:
        if org is None:
            raise CliError("usage", "name the organisation (ORG) in direct mode")
        return [k.to_public_dict() for k in self.runtime.members.org_keys(org_ref(org))]

    def rotate_key(self, org: str) -> dict[str, Any]:
        return _key(self.runtime.members.rotate_key(org_ref(org)))

    def identity(self, org: str) -> dict[str, Any]:
        record = self.organisation(org)
        keys = [k for k in self.keys(org) if k.get("status") == "active"]
        deployment = self.runtime.deployment
        return {
            "organisation": record["address"],
            "role": record["role"],
            "status": record["status"],
            "keys": [k["address"] for k in keys],
            "chainId": deployment.chain_id,
            "registry": deployment.address,
        }

    def issue_credential(
        self, name: str, role: str, org: str | None, expires_at: datetime | None = None
    ) -> dict[str, Any]:
        """An API credential for the gateway (bootstraps the first governance token)."""
        from registry.store.credentials import API_ROLES, MEMBER_ROLES, Credentials

        if role not in API_ROLES:
            raise CliError("usage", f"role must be one of {', '.join(API_ROLES)}")
        address = org_ref(org) if org else None
        if role in MEMBER_ROLES:
            if address is None:
                raise CliError("usage", f"a {role} credential needs --org")
            on_chain = self.organisation(address)
            if on_chain["role"] != role.upper():
                raise CliError(
                    "role_mismatch", f"{address} is {on_chain['role'].lower()} on chain, not {role}"
                )
        elif address is not None:
            raise CliError("usage", f"{role} credentials name no organisation")
        issued = Credentials(self.runtime.engine).issue(name, role, address, expires_at=expires_at)
        p = issued.principal
        return {
            "credentialId": p.credential_id,
            "name": p.name,
            "role": p.role,
            "org": p.org,
            "expiresAt": expires_at.isoformat() if expires_at else None,
            "token": issued.token,
        }

    def credentials(
        self, role: str | None = None, org: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        from registry.store.credentials import Credentials

        records = Credentials(self.runtime.engine).records(
            role=role,  # type: ignore[arg-type]
            org=org_ref(org) if org else None,
        )
        return [_credential(r) for r in records if status is None or r.status == status]

    def revoke_credential(self, credential_id: str) -> dict[str, Any]:
        from registry.store.credentials import Credentials
        from registry.errors import NotFoundError

        record = Credentials(self.runtime.engine).revoke(credential_id)
        if record is None:
            raise NotFoundError("credential", credential_id)
        return _credential(record)

    # members: their own keys -----------------------------------------------------

    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]:
        return self.runtime.members.key_challenge(self._actor(actor), _address(key))

    def register_key(self, actor: str | None, typed_data: dict[str, Any], signature: str) -> dict[str, Any]:
        org = self._actor(actor)
        key, op = self.runtime.members.register_key(org, typed_data, _signature_bytes(signature))
        return self._key_after(org, key, op)

    def revoke_key(self, actor: str | None, key: str) -> dict[str, Any]:
        org = self._actor(actor)
        op = self.runtime.members.revoke_key(org, _address(key))
        return self._key_after(org, _address(key), op)

    def _key_after(self, org: str, key: str, op: Operation | None) -> dict[str, Any]:
        if op is not None and op.status == "failed":
            raise CliError(op.error_code or "operation_failed", op.error_detail or "the operation failed")
        record = self.runtime.members.org_key(org, key).to_public_dict()
        return {**record, "operationId": op.operation_id if op is not None else None}

    # carriers -------------------------------------------------------------------

    def issue(
        self, actor: str | None, document: dict[str, Any], to: str, endorsee: str | None
    ) -> dict[str, Any]:
        op = self.runtime.title.issue(
            self._actor(actor), document, org_ref(to), endorsee=org_ref(endorsee) if endorsee else None
        )
        return _operation(op)

    def carrier_action(self, actor: str | None, action: str, ebl_id: int) -> dict[str, Any]:
        title = self.runtime.title
        methods = {
            "accept-surrender": title.accept_surrender,
            "reject-surrender": title.reject_surrender,
            "void": title.void,
        }
        return _operation(methods[action](self._actor(actor), ebl_id))

    def amend(
        self, actor: str | None, ebl_id: int, document: dict[str, Any], endorsee: str | None
    ) -> dict[str, Any]:
        op = self.runtime.title.amend(
            self._actor(actor), ebl_id, document, endorsee=org_ref(endorsee) if endorsee else None
        )
        return _operation(op)

    def switch_to_paper(self, actor: str | None, ebl_id: int, paper_hash: bytes) -> dict[str, Any]:
        return _operation(self.runtime.title.switch_to_paper(self._actor(actor), ebl_id, paper_hash))

    # holders --------------------------------------------------------------------

    def transfer(self, actor: str | None, ebl_id: int, to: str) -> dict[str, Any]:
        return _operation(self.runtime.title.transfer(self._actor(actor), ebl_id, org_ref(to)))

    def endorse(self, actor: str | None, ebl_id: int, endorsee: str, to_order: bool) -> dict[str, Any]:
        op = self.runtime.title.endorse(self._actor(actor), ebl_id, org_ref(endorsee), to_order=to_order)
        return _operation(op)

    def endorse_in_blank(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return _operation(self.runtime.title.endorse_in_blank(self._actor(actor), ebl_id))

    def nominate(self, actor: str | None, ebl_id: int, nominee: str | None) -> dict[str, Any]:
        op = self.runtime.title.nominate(self._actor(actor), ebl_id, org_ref(nominee) if nominee else None)
        return _operation(op)

    def reject(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return _operation(self.runtime.title.reject_transfer(self._actor(actor), ebl_id))

    def surrender(
        self, actor: str | None, ebl_id: int, reason: SurrenderFor, reason_code: str | None
    ) -> dict[str, Any]:
        title = self.runtime.title
        if reason == "DELIVERY":
            return _operation(title.surrender_for_delivery(self._actor(actor), ebl_id))
        return _operation(title.surrender_for_amendment(self._actor(actor), ebl_id, reason_code or ""))

    # reads ----------------------------------------------------------------------

    def verify(self, ebl_id: int | None = None, *, document_text: str | None = None) -> dict[str, Any]:
        view = self.runtime.title.verify(ebl_id, document_text=document_text)
        deployment = self.runtime.deployment
        return {
            **_ids("eblId", view.ebl_id),
            "status": view.status.name,
            "live": view.live,
            "holder": {"address": view.holder},
            "endorsee": {"address": view.endorsee} if view.endorsee else None,
            "carrier": {"address": view.carrier},
            "kind": view.kind.name,
            "blankEndorsed": view.blank_endorsed,
            "documentHash": view.document_hash,
            "presentedHash": view.presented_hash,
            "documentMatches": view.document_matches,
            "amended": view.amended,
            **_ids("predecessor", view.predecessor),
            **_ids("successor", view.successor),
            "paperDocumentHash": view.paper_document_hash,
            "anchoredBlock": view.block_number,
            "anchoredBlockHash": view.block_hash,
            "anchoredAt": view.block_time.isoformat(),
            "registry": deployment.address,
            "chainId": deployment.chain_id,
        }

    def history(self, ebl_id: int) -> list[dict[str, Any]]:
        self._sync()
        return [_event(e) for e in self.runtime.title.history(ebl_id)]

    def events(
        self, org: str, since: datetime, until: datetime, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        from registry.store.queries import events_by_org

        if cursor is None:
            self._sync()
        page = events_by_org(self.runtime.engine, org_ref(org), since, until, limit=limit, cursor=cursor)
        return [_event(e) for e in page.events], page.next_cursor


# ====================================================================== gateway


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
        result = self._post("/governance/organisations", body)
        organisation = result.get("organisation")
        if isinstance(organisation, dict):  # {organisation, keyAddress, credential}: flatten
            result = {**organisation, **{k: v for k, v in result.items() if k != "organisation"}}
        return result

    def suspend(self, org: str) -> dict[str, Any]:
        return self._post(f"/governance/organisations/{org_ref(org)}/suspend")

    def reinstate(self, org: str) -> dict[str, Any]:
        return self._post(f"/governance/organisations/{org_ref(org)}/reinstate")

    def organisation(self, org: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/governance/organisations/{org_ref(org)}")
        return result

    def keys(self, org: str | None) -> list[dict[str, Any]]:
        if org is None:  # the credential's own organisation
            return list(_as_dicts(self._get("/members/keys")))
        record = self.organisation(org)
        keys = record.get("keys")
        if not isinstance(keys, list):
            raise CliError("unsupported", "the gateway does not list an organisation's keys")
        return [k if isinstance(k, dict) else {"address": k} for k in keys]

    def rotate_key(self, org: str) -> dict[str, Any]:
        result = self._post(f"/governance/organisations/{org_ref(org)}/rotate-key")
        if "address" not in result and "keyAddress" in result:
            result = {"address": result["keyAddress"], "status": "active"}
        return result

    def identity(self, org: str) -> dict[str, Any]:
        record = self.organisation(org)
        keys = [k for k in self.keys(org) if k.get("status", "active") == "active"]
        return {
            "organisation": record.get("address", org_ref(org)),
            "role": record.get("role"),
            "status": record.get("status"),
            "keys": [k.get("address") for k in keys],
        }

    def issue_credential(
        self, name: str, role: str, org: str | None, expires_at: datetime | None = None
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "role": role,
            "org": org_ref(org) if org else None,
            "expiresAt": expires_at.isoformat() if expires_at else None,
        }
        return self._post("/governance/credentials", body)

    def credentials(
        self, role: str | None = None, org: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        params = {
            k: v
            for k, v in {"role": role, "org": org_ref(org) if org else None, "status": status}.items()
            if v
        }
        return list(_as_dicts(self._get("/governance/credentials", params)))

    def revoke_credential(self, credential_id: str) -> dict[str, Any]:
        return self._post(f"/governance/credentials/{credential_id}/revoke")

    # members: their own keys -----------------------------------------------------

    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]:
        typed: dict[str, Any] = self._request(
            "POST", "/members/keys/challenge", json={"key": _address(key)}, raw=True
        )
        return typed

    def register_key(self, actor: str | None, typed_data: dict[str, Any], signature: str) -> dict[str, Any]:
        _signature_bytes(signature)
        return self._post("/members/keys", {"typedData": typed_data, "signature": signature.strip()})

    def revoke_key(self, actor: str | None, key: str) -> dict[str, Any]:
        return self._post(f"/members/keys/{_address(key)}/revoke")

    # carriers -------------------------------------------------------------------

    def issue(
        self, actor: str | None, document: dict[str, Any], to: str, endorsee: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"document": document, "issueTo": org_ref(to)}
        if endorsee:
            body["endorsee"] = org_ref(endorsee)
        return self._post("/carriers/ebls", body)

    def carrier_action(self, actor: str | None, action: str, ebl_id: int) -> dict[str, Any]:
        if action not in CARRIER_ACTIONS:
            raise ValueError(f"unknown carrier action {action!r}")
        return self._post(f"/carriers/ebls/{ebl_id}/{action}")

    def amend(
        self, actor: str | None, ebl_id: int, document: dict[str, Any], endorsee: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"document": document}
        if endorsee:
            body["endorsee"] = org_ref(endorsee)
        return self._post(f"/carriers/ebls/{ebl_id}/amend", body)

    def switch_to_paper(self, actor: str | None, ebl_id: int, paper_hash: bytes) -> dict[str, Any]:
        body = {"paperDocumentHash": "0x" + paper_hash.hex()}
        return self._post(f"/carriers/ebls/{ebl_id}/switch-to-paper", body)

    # holders --------------------------------------------------------------------

    def transfer(self, actor: str | None, ebl_id: int, to: str) -> dict[str, Any]:
        return self._post(f"/holders/ebls/{ebl_id}/transfer", {"to": org_ref(to)})

    def endorse(self, actor: str | None, ebl_id: int, endorsee: str, to_order: bool) -> dict[str, Any]:
        body = {"endorsee": org_ref(endorsee), "toOrder": to_order}
        return self._post(f"/holders/ebls/{ebl_id}/endorse", body)

    def endorse_in_blank(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return self._post(f"/holders/ebls/{ebl_id}/endorse-in-blank")

    def nominate(self, actor: str | None, ebl_id: int, nominee: str | None) -> dict[str, Any]:
        return self._post(
            f"/holders/ebls/{ebl_id}/nominate", {"nominee": org_ref(nominee) if nominee else None}
        )

    def reject(self, actor: str | None, ebl_id: int) -> dict[str, Any]:
        return self._post(f"/holders/ebls/{ebl_id}/reject")

    def surrender(
        self, actor: str | None, ebl_id: int, reason: SurrenderFor, reason_code: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": reason}
        if reason_code:
            body["reasonCode"] = reason_code
        return self._post(f"/holders/ebls/{ebl_id}/surrender", body)

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
        return result

    def history(self, ebl_id: int) -> list[dict[str, Any]]:
        body = self._get(f"/auditors/ebls/{ebl_id}/history")
        events = body.get("events", body.get("items")) if isinstance(body, dict) else body
        return list(_as_dicts(events))

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
        body = self._get("/auditors/events", params)
        if isinstance(body, list):
            return list(_as_dicts(body)), None
        events = body.get("events", body.get("items"))
        next_cursor = body.get("nextCursor")
        return list(_as_dicts(events)), str(next_cursor) if next_cursor else None


def _as_dicts(value: Any) -> Sequence[dict[str, Any]]:
    if not isinstance(value, list):
        raise CliError("unexpected_response", "the gateway answered with an unexpected body")
    return [v for v in value if isinstance(v, dict)]
