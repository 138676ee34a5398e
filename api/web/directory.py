"""The member directory the web forms choose counterparties from: every onboarded organisation's
legal name, identifier and role, as the API names parties in its answers (``OrganisationOut``).

The ``/v1`` API has no route that lists members, so the pages read the organisation profiles the
gateway already keeps (the ones every answer's party names come from). Choosing from it grants nothing:
the write itself still goes through ``/v1`` and its rules."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from registry.records.members import OrganisationOut
from registry.store.models import OrgProfile

__all__ = ["members"]


def _read(request: Request) -> list[OrganisationOut]:
    engine = request.app.state.runtime.engine
    with engine.connect() as conn:
        rows = conn.execute(
            select(OrgProfile.address, OrgProfile.name, OrgProfile.identifier, OrgProfile.role).order_by(
                OrgProfile.name, OrgProfile.address
            )
        ).all()
    return [
        OrganisationOut(address=r.address, name=r.name, identifier=r.identifier, role=r.role) for r in rows
    ]


async def members(request: Request, *, excluding: str | None = None) -> list[OrganisationOut]:
    """Every member organisation by legal name, but ``excluding`` (the signed-in one, say)."""
    found = await run_in_threadpool(_read, request)
    return [m for m in found if m.address.lower() != (excluding or "").lower()]
