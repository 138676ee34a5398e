"""Option and argument types every audience's commands share, and the choices they offer."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

__all__ = [
    "AsOrg",
    "CredentialRole",
    "CredentialStatus",
    "EblArg",
    "ExportFormat",
    "JsonOut",
    "KeyArg",
    "OrgArg",
    "ReasonCode",
    "RoleChoice",
    "SurrenderChoice",
]

AsOrg = Annotated[
    str | None,
    typer.Option("--as", help="Acting organisation (address or identifier); ignored in gateway mode."),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
EblArg = Annotated[
    str, typer.Argument(help="eBL id (decimal or 0x hex).", metavar="EBL_ID", show_default=False)
]
OrgArg = Annotated[
    str, typer.Argument(help="Organisation address (0x...) or legal identifier.", metavar="ORG")
]


class RoleChoice(StrEnum):
    carrier = "carrier"
    bank = "bank"
    trader = "trader"


class SurrenderChoice(StrEnum):
    delivery = "delivery"
    amendment = "amendment"


class ReasonCode(StrEnum):
    SWTP = "SWTP"
    COD = "COD"
    SWI = "SWI"


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


KeyArg = Annotated[str, typer.Argument(help="Key address (0x + 40 hex digits).", metavar="KEY")]


class CredentialRole(StrEnum):
    governance = "governance"
    auditor = "auditor"
    carrier = "carrier"
    bank = "bank"
    trader = "trader"


class CredentialStatus(StrEnum):
    active = "active"
    revoked = "revoked"
    expired = "expired"
