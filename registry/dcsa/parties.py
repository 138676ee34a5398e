"""Our members as DCSA parties: ``partyName`` from the organisation's profile, ``eblPlatform`` and the
one identifying code (``codeListProvider`` = our platform code, ``partyCode`` = the member's address).

A carrier names the first holder in a DCSA ``IssueToParty``; we read it back the same way: an
identifying code on our platform's list whose ``partyCode`` is a member's address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_utils.address import is_address, to_checksum_address
from sqlalchemy import Engine, Table, select

from registry.store.models import OrgProfile

__all__ = ["member_of_issue_to", "party"]

PROFILES: Table = OrgProfile.__table__  # type: ignore[assignment]


def party(platform: str, address: str, name: str | None) -> dict[str, Any]:
    """A DCSA ``ActorParty`` / ``RecipientParty`` for one of our members."""
    return {
        "partyName": name or address,
        "eblPlatform": platform,
        "identifyingCodes": [{"codeListProvider": platform, "partyCode": address}],
    }


def member_of_issue_to(engine: Engine, platform: str, issue_to: Mapping[str, Any]) -> str | None:
    """The member an ``IssueToParty`` names on our platform (checksummed address), or None when it
    names none we know (another platform, or no code of ours, or an unknown address)."""
    if issue_to.get("sendToPlatform") != platform:
        return None
    codes = issue_to.get("identifyingCodes") or []
    candidates = [
        to_checksum_address(c["partyCode"])
        for c in codes
        if isinstance(c, Mapping)
        and c.get("codeListProvider") == platform
        and isinstance(c.get("partyCode"), str)
        and is_address(c["partyCode"])
    ]
    if not candidates:
        return None
    with engine.connect() as conn:
        found = conn.execute(select(PROFILES.c.address).where(PROFILES.c.address.in_(candidates))).first()
    return None if found is None else str(found.address)
