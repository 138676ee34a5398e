"""Our members as PINT parties: the recipient directory a receiver checks envelopes against, the party
our sender writes for a member, and receiver validation.

A member is named, on the wire, by ``identifyingCodes``. We write two for each member: our own code
list (``codeListProvider`` = our platform code, ``partyCode`` = the member's address), which is exact,
and its legal identifier as recorded at onboarding (``LEI:...`` → ``GLEIF``/``LEI``). We recognise a
party by either; a party whose codes name two different members names none (the YAML's "conflicting
identifying codes").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eth_utils.address import is_address, to_checksum_address
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from registry.store.models import OrgProfile

__all__ = ["MemberDirectory"]

PROFILES: Table = OrgProfile.__table__  # type: ignore[assignment]

_LEI_PROVIDERS = {"GLEIF", "LEI"}


class MemberDirectory:
    """:class:`registry.pint.verify.RecipientDirectory` over the organisation profiles.

    Args:
        engine: the registry database.
        platform: our eBL platform code.
    """

    def __init__(self, engine: Engine, platform: str) -> None:
        self._engine = engine
        self.platform = platform

    def member_for(self, party: dict[str, Any]) -> str | None:
        """The member a ``RecipientParty`` names on our platform, or None (none, or several)."""
        if party.get("eblPlatform") != self.platform:
            return None
        codes = party.get("identifyingCodes")
        if not isinstance(codes, list):
            return None
        return self._one(codes)

    def name_for(self, code: Mapping[str, Any]) -> str | None:
        """Receiver validation: the name of the member one ``IdentifyingCode`` names, or None."""
        member = self._one([code])
        if member is None:
            return None
        with self._engine.connect() as conn:
            name = conn.execute(select(PROFILES.c.name).where(PROFILES.c.address == member)).scalar()
        return str(name)[:70].strip() if name else None

    def party_of(self, member: str) -> dict[str, Any]:
        """The ``ActorParty`` / ``RecipientParty`` of one of our members."""
        address = to_checksum_address(member)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(PROFILES.c.name, PROFILES.c.identifier).where(PROFILES.c.address == address)
            ).first()
        name = (row.name if row else address)[:70].strip()
        codes: list[dict[str, str]] = [{"codeListProvider": self.platform, "partyCode": address}]
        if row is not None and ":" in row.identifier:
            scheme, value = row.identifier.split(":", 1)
            if scheme.upper() == "LEI":
                codes.append({"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": value})
        return {"partyName": name, "eblPlatform": self.platform, "identifyingCodes": codes}

    def _one(self, codes: Iterable[Mapping[str, Any]]) -> str | None:
        found: set[str] = set()
        for code in codes:
            member = self._lookup(code)
            if member is not None:
                found.add(member)
        return found.pop() if len(found) == 1 else None

    def _lookup(self, code: Mapping[str, Any]) -> str | None:
        provider, value = code.get("codeListProvider"), code.get("partyCode")
        if not isinstance(provider, str) or not isinstance(value, str):
            return None
        with self._engine.connect() as conn:
            if provider == self.platform:
                if not is_address(value):
                    return None
                found = conn.execute(
                    select(PROFILES.c.address).where(PROFILES.c.address == to_checksum_address(value))
                ).scalar()
            elif provider.upper() in _LEI_PROVIDERS or str(code.get("codeListName", "")).upper() == "LEI":
                found = conn.execute(
                    select(PROFILES.c.address).where(PROFILES.c.identifier == f"LEI:{value}")
                ).scalar()
            else:
                found = None
        return str(found) if found else None
