"""Carrier codes recorded at onboarding: which organisation each ``carrierCode`` names.

A DCSA transport document names its issuing carrier by ``carrierCode`` on a code list
(``carrierCodeListProvider``: SMDG or NMFTA). The registry records each carrier's codes when it is
onboarded; a code belongs to one organisation, and issuance refuses a document whose code is not the
issuing organisation's (:class:`~registry.errors.CarrierMismatchError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from eth_utils.address import to_checksum_address
from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from registry.documents import CarrierCode
from registry.errors import CarrierCodeTakenError
from registry.store.db import write_lock
from registry.store.models import CarrierCode as CarrierCodeRow
from registry.types import OrgAddress

__all__ = ["SqlCarrierCodes"]

CODES: Table = CarrierCodeRow.__table__  # type: ignore[assignment]


class SqlCarrierCodes:
    """:class:`registry.title.ports.CarrierCodes` on the registry database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, org: str, codes: Sequence[CarrierCode]) -> None:
        """Record ``codes`` as ``org``'s, all or none; codes already ``org``'s stay as they are.

        Raises:
            CarrierCodeTakenError: a code belongs to another organisation (nothing is recorded).
        """
        owner = OrgAddress(to_checksum_address(org))
        try:
            with write_lock(self._engine), self._engine.begin() as conn:
                for code in dict.fromkeys(codes):
                    holder = self._owner(conn, code)
                    if holder is None:
                        conn.execute(
                            CODES.insert().values(
                                code_list_provider=code.code_list_provider,
                                code=code.code,
                                org=owner,
                                recorded_at=datetime.now(UTC),
                            )
                        )
                    elif holder != owner:
                        raise CarrierCodeTakenError(str(code), holder)
        except IntegrityError:  # another process claimed one of them between our read and our insert
            for code in codes:
                holder = self.owner_of(code)
                if holder is not None and holder != owner:
                    raise CarrierCodeTakenError(str(code), holder) from None
            raise

    def release(self, org: str, codes: Sequence[CarrierCode]) -> None:
        """Forget ``codes`` of ``org`` (an onboarding that failed after claiming them); others' stay."""
        owner = to_checksum_address(org)
        with write_lock(self._engine), self._engine.begin() as conn:
            for code in codes:
                conn.execute(
                    delete(CODES).where(
                        CODES.c.code_list_provider == code.code_list_provider,
                        CODES.c.code == code.code,
                        CODES.c.org == owner,
                    )
                )

    def codes_of(self, org: str) -> tuple[CarrierCode, ...]:
        """The codes recorded for ``org``, by code list and code."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(CODES.c.code, CODES.c.code_list_provider)
                .where(CODES.c.org == to_checksum_address(org))
                .order_by(CODES.c.code_list_provider, CODES.c.code)
            ).all()
        return tuple(CarrierCode(code, provider) for code, provider in rows)

    def owner_of(self, code: CarrierCode) -> OrgAddress | None:
        """The organisation a code belongs to, if any."""
        with self._engine.connect() as conn:
            return self._owner(conn, code)

    @staticmethod
    def _owner(conn: Connection, code: CarrierCode) -> OrgAddress | None:
        found = conn.execute(
            select(CODES.c.org).where(
                CODES.c.code_list_provider == code.code_list_provider, CODES.c.code == code.code
            )
        ).scalar()
        return OrgAddress(found) if found is not None else None
