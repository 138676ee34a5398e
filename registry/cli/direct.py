"""The direct backend: an open :class:`~registry.runtime.Runtime` in this process."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.members import Organisation
    from registry.runtime import Runtime
    from registry.store.credentials import CredentialRecord
    from registry.title import Operation

from registry.cli.backend import (  # noqa: F401
    _ADDRESS,
    _ROLES,
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
from registry.errors import InvalidRequestError, TrustListError
from registry.records import (
    CredentialInfoOut,
    CredentialOut,
    CustodialKeyOut,
    EventOut,
    IdentityOut,
    KeyOut,
    MemberDetailOut,
    MemberOut,
    OnboardingOut,
    OperationOut,
    OrgKeyOut,
    TypedDataOut,
    VerificationOut,
    dump,
)
from registry.records.platforms import (
    PlatformIn,
    PlatformTransferIn,
    incoming_out,
    platform_out,
    transfer_out,
)
from registry.records.problems import PROBLEM_CODES


def _operation(op: Operation) -> dict[str, Any]:
    return dump(OperationOut.from_domain(op))


def _org(org: Organisation) -> dict[str, Any]:
    return dump(MemberOut.from_domain(org))


def _credential(record: CredentialRecord) -> dict[str, Any]:
    return dump(CredentialInfoOut.from_domain(record))


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
        member = self._member(org.address)
        first_key = next(k for k in member.keys if k.address == key.address)
        return dump(
            OnboardingOut(
                **member.model_dump(),
                identifier=identifier,
                name=name,
                key_address=key.address,
                key=first_key,
            )
        )

    def suspend(self, org: str) -> dict[str, Any]:
        return _org(self.runtime.members.suspend(org_ref(org)))

    def reinstate(self, org: str) -> dict[str, Any]:
        return _org(self.runtime.members.reinstate(org_ref(org)))

    def _member(self, address: str) -> MemberDetailOut:
        """The organisation's record as ``GET /v1/governance/organisations/{org}`` serves it."""
        from registry.errors import NotFoundError
        from registry.types import Role

        members = self.runtime.members
        record = members.organisation(address)
        if record.role is Role.NONE:
            raise NotFoundError("organisation", record.address)
        codes = members.carrier_codes.codes_of(record.address)
        return MemberDetailOut.from_domain_with(record, codes, members.org_keys(record.address))

    def organisation(self, org: str) -> dict[str, Any]:
        return dump(self._member(org_ref(org)))

    def keys(self, org: str | None) -> list[dict[str, Any]]:
        if org is None:
            raise CliError("usage", "name the organisation (ORG) in direct mode")
        return [dump(OrgKeyOut.from_domain(k)) for k in self.runtime.members.org_keys(org_ref(org))]

    def rotate_key(self, org: str) -> dict[str, Any]:
        return dump(CustodialKeyOut.from_domain(self.runtime.members.rotate_key(org_ref(org))))

    def identity(self, org: str) -> dict[str, Any]:
        deployment = self.runtime.deployment
        return dump(IdentityOut.of(self._member(org_ref(org)), deployment.chain_id, deployment.address))

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
        try:
            issued = Credentials(self.runtime.engine).issue(name, role, address, expires_at=expires_at)
        except InvalidRequestError as exc:  # e.g. an expiry in the past: a bad argument, as before
            raise CliError("invalid_argument", str(exc)) from None
        return dump(CredentialOut.from_issued(issued, expires_at))

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
        from registry.errors import NotFoundError
        from registry.store.credentials import Credentials

        record = Credentials(self.runtime.engine).revoke(credential_id)
        if record is None:
            raise NotFoundError("credential", credential_id)
        return _credential(record)

    # members: their own keys -----------------------------------------------------

    def key_challenge(self, actor: str | None, key: str) -> dict[str, Any]:
        typed = self.runtime.members.key_challenge(self._actor(actor), _address(key))
        return dump(TypedDataOut.model_validate(typed))

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
        record = self.runtime.members.org_key(org, key)
        return dump(KeyOut.after(record, op.operation_id if op is not None else None))

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

    # PINT -----------------------------------------------------------------------

    def platforms(self) -> list[dict[str, Any]]:
        pint = self.runtime.pint
        return [dump(platform_out(pint.platforms.own, own=True))] + [
            dump(platform_out(e)) for e in pint.platforms.list()
        ]

    def add_platform(self, platform: dict[str, Any]) -> dict[str, Any]:
        entry = PlatformIn.read(platform).to_entry()
        try:
            return dump(platform_out(self.runtime.pint.platforms.add(entry)))
        except TrustListError as exc:  # the gateway's code for it (api/problems.py)
            raise CliError("invalid_platform", str(exc)) from None

    def remove_platform(self, code: str) -> None:
        if not self.runtime.pint.platforms.remove(code):
            raise CliError("not_found", f"platform {code} is not trusted")

    def send_to_platform(self, actor: str | None, ebl_id: int, transfer: dict[str, Any]) -> dict[str, Any]:
        from registry.types import EblId

        body = PlatformTransferIn.read(transfer)
        pint = self.runtime.pint
        t = pint.sender.send(
            self._actor(actor),
            EblId(ebl_id),
            platform=body.platform,
            recipient=body.recipient,
            action=body.action_code,
        )
        if t.step == "refused-here":  # as POST /v1/holders/ebls/{id}/platform-transfers answers it
            code = (t.reason or "refused").split(":", 1)[0]
            raise CliError(code if code in PROBLEM_CODES else "refused", t.reason or "")
        return dump(transfer_out(t, pint.sessions.steps(t.transfer_id)))

    def platform_transfers(self) -> list[dict[str, Any]]:
        sessions = self.runtime.pint.sessions
        return [dump(transfer_out(t, sessions.steps(t.transfer_id))) for t in sessions.list_outgoing()]

    def platform_transfer(self, transfer_id: str) -> dict[str, Any]:
        sessions = self.runtime.pint.sessions
        return dump(transfer_out(sessions.outgoing(transfer_id), sessions.steps(transfer_id)))

    def incoming_envelopes(self) -> list[dict[str, Any]]:
        return [dump(incoming_out(s)) for s in self.runtime.pint.sessions.list_incoming()]

    # reads ----------------------------------------------------------------------

    def verify(self, ebl_id: int | None = None, *, document_text: str | None = None) -> dict[str, Any]:
        view = self.runtime.title.verify(ebl_id, document_text=document_text)
        deployment = self.runtime.deployment
        return dump(VerificationOut.from_domain(view, deployment.address, deployment.chain_id))

    def history(self, ebl_id: int) -> list[dict[str, Any]]:
        self._sync()
        return [dump(EventOut.from_domain(e)) for e in self.runtime.title.history(ebl_id)]

    def events(
        self, org: str, since: datetime, until: datetime, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        from registry.store.queries import events_by_org

        if cursor is None:
            self._sync()
        try:
            page = events_by_org(self.runtime.engine, org_ref(org), since, until, limit=limit, cursor=cursor)
        except InvalidRequestError as exc:  # a cursor it did not hand out: a bad argument, as before
            raise CliError("invalid_argument", str(exc)) from None
        return [dump(EventOut.from_domain(e)) for e in page.events], page.next_cursor
