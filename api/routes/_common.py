"""Helpers shared by the routers: eBL ids in paths, write responses, visibility."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Response

from api.auth import ApiRole, Credentials, Principal
from api.deps import RuntimeDep, member_org, require_role
from api.problems import Problem, problem_for_failed_operation
from api.schemas import EBL_ID_PATTERN, OperationOut, OrganisationOut, operation_out
from registry.errors import ContractRevertError, NotFoundError
from registry.runtime import Runtime
from registry.store import queries
from registry.title import Operation, TitleService, WriteOptions
from registry.types import EblId
from registry.types import parse_ebl_id as _parse_ebl_id

__all__ = [
    "EblIdPath",
    "IdempotencyKey",
    "Wait",
    "Write",
    "can_see",
    "ebl_not_found",
    "hide_unless_party",
    "organisations",
    "parse_ebl_id",
    "write_dependency",
    "write_response",
]


def organisations(credentials: Credentials, addresses: set[str]) -> dict[str, OrganisationOut]:
    """The legal name, identifier and role of each organisation the gateway has a profile of."""
    return {
        a: OrganisationOut(address=a, name=p.name, identifier=p.identifier, role=p.role)
        for a, p in credentials.profiles(addresses).items()
    }


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Wait = Annotated[bool, Query(description="true: answer when final on chain; false: 202 at once")]

EblIdPath = Annotated[
    str,
    Path(
        description="eBL id: decimal (as `eblId` in every answer) or 0x-prefixed hex (as `eblIdHex`)",
        pattern=EBL_ID_PATTERN,
        examples=["0x32fb3e7d2d9c4a0fa7fd1c7a3b0ae4f0b1d08e7a5f2b8c0b6d4f6a7e9c1d2e3f"],
    ),
]
"""The ``{ebl_id}`` path parameter of every route that names an eBL."""


def parse_ebl_id(text: str) -> EblId:
    """An eBL id from a path: decimal or 0x-hex uint256 (422 ``invalid_request`` otherwise)."""
    try:
        return _parse_ebl_id(text)
    except ValueError as exc:
        raise Problem(422, "invalid_request", "Invalid eBL id", str(exc)) from None


def write_response(op: Operation, response: Response, *, created: bool = False) -> OperationOut:
    """200/201 when final, 202 + Location while pending, problem+json when it failed on chain."""
    if op.status == "failed":
        raise problem_for_failed_operation(op.error_code, op.error_detail, op.operation_id)
    if op.status == "final":
        response.status_code = 201 if created else 200
    else:
        response.status_code = 202
        response.headers["Location"] = f"/v1/operations/{op.operation_id}"
    return operation_out(op)


def can_see(runtime: Runtime, principal: Principal, ebl_id: EblId) -> bool:
    """Visibility: auditors and governance see every eBL; a member sees the eBLs it is or was party to
    (carrier, holder, endorsee, or actor / counterparty of any recorded action)."""
    if principal.role in ("auditor", "governance"):
        return True
    org = principal.org
    try:
        state = queries.title_state(runtime.engine, int(ebl_id))
    except NotFoundError:
        # Not indexed yet (the index trails the chain by a block or two): ask the chain itself.
        try:
            view = runtime.title.verify(ebl_id)
        except NotFoundError:
            return False
        return org in (view.carrier, view.holder, view.endorsee)
    if org in (state.carrier, state.holder, state.endorsee):
        return True
    return any(org in (e.actor, e.counterparty) for e in queries.history(runtime.engine, int(ebl_id)))


def ebl_not_found() -> Problem:
    """The one answer for an eBL id that does not exist and for an eBL the principal may not see: the
    same status, code and body (bar ``instance``, the request path), so an id reveals nothing."""
    return Problem(404, "not_found", "Not found", "no eBL with this id that this principal may see")


def require_visible(runtime: Runtime, principal: Principal, ebl_id: EblId) -> None:
    """404 (not 403) for eBLs a principal may not see, so ids reveal nothing."""
    if not can_see(runtime, principal, ebl_id):
        raise ebl_not_found()


def hide_unless_party(runtime: Runtime, principal: Principal, ebl_id: EblId) -> None:
    """After the registry refused a write: a principal party to nothing about the eBL gets
    :func:`ebl_not_found` (what an id that does not exist gets), not the refusal, which would tell it
    the eBL exists and in what state. Parties get the precise refusal. Only refused writes pay for the
    check: a write that succeeds was made by a party."""
    if not can_see(runtime, principal, ebl_id):
        raise ebl_not_found() from None


@dataclass(frozen=True)
class Write:
    """Everything a write endpoint on one eBL needs: who acts, on what, how, and how to answer.

    A route calls the title service itself, with the acting organisation, the eBL and the options::

        with w.refusals_hidden():
            op = w.title.transfer(w.org, w.ebl_id, body.to, options=w.options)
        return w.answer(op)
    """

    runtime: Runtime
    org: str
    ebl_id: EblId
    response: Response
    options: WriteOptions
    principal: Principal | None = None

    @property
    def title(self) -> TitleService:
        """The title service the write goes to."""
        return self.runtime.title

    @contextmanager
    def refusals_hidden(self) -> Iterator[None]:
        """Around the service call: a refusal of a write to an eBL the principal is party to nothing
        about answers as for an unknown id (:func:`hide_unless_party`)."""
        try:
            yield
        except ContractRevertError:
            self._hide_unless_party()
            raise

    def answer(self, op: Operation) -> OperationOut:
        """The write's response (:func:`write_response`); an operation that failed on chain is hidden
        as a refusal is (:meth:`refusals_hidden`)."""
        if op.status == "failed":
            self._hide_unless_party()
        return write_response(op, self.response)

    def _hide_unless_party(self) -> None:
        if self.principal is not None:
            hide_unless_party(self.runtime, self.principal, self.ebl_id)


def write_dependency(*roles: ApiRole) -> Callable[..., Awaitable[Write]]:
    """A dependency resolving the acting member (one of ``roles``), the path's eBL id, the
    ``Idempotency-Key`` header and the ``wait`` query parameter into a :class:`Write` (``async``: it
    only parses, so it runs on the event loop instead of taking a worker-thread hop)."""
    role_check = require_role(*roles)

    async def dependency(
        ebl_id: EblIdPath,
        runtime: RuntimeDep,
        principal: Annotated[Principal, Depends(role_check)],
        response: Response,
        idempotency_key: IdempotencyKey = None,
        wait: Wait = True,
    ) -> Write:
        org, ebl = member_org(principal), parse_ebl_id(ebl_id)
        return Write(runtime, org, ebl, response, WriteOptions(idempotency_key, wait), principal)

    return dependency
