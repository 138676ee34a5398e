"""Governance: onboard, suspend and reinstate organisations, rotate their keys, publish their identity,
issue, list and revoke API credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from registry.cli._render import out_console, print_json, print_key_value
from registry.cli.backend import CliError
from registry.cli.options import CredentialRole, CredentialStatus, JsonOut, OrgArg, RoleChoice
from registry.cli.root import app, credentials_app, guard, keys_app, org_app, state_of


def _print_org(org: dict[str, Any], title: str) -> None:
    rows: list[tuple[str, Any]] = [("organisation", org.get("address"))]
    rows += [(label, _org_value(org[key])) for key, label in _ORG_FIELDS if org.get(key) not in (None, [])]
    credential = org.get("credential")
    if isinstance(credential, dict) and credential.get("token"):  # gateway onboarding: shown once
        rows.append(("API token", f"{credential['token']}  (shown once: store it now)"))
    print_key_value(title, rows)


def _org_value(value: Any) -> Any:
    if isinstance(value, list):  # carrier codes: SMDG:MSC, NMFTA:MAEU
        return ", ".join(f"{c['carrierCodeListProvider']}:{c['carrierCode']}" for c in value)
    return value


_ORG_FIELDS = (
    ("name", "name"),
    ("identifier", "identifier"),
    ("role", "role"),
    ("status", "status"),
    ("keyCount", "keys on chain"),
    ("keyAddress", "key"),
    ("carrierCodes", "carrier codes"),
)


def _carrier_code(text: str) -> tuple[str, str]:
    """``SMDG:MSC`` → (code, code list)."""
    provider, sep, code = text.partition(":")
    if not sep or not code or not provider:
        raise CliError("usage", f"--carrier-code is LIST:CODE, e.g. SMDG:MSC or NMFTA:MAEU, not {text!r}")
    return code, provider.upper()


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    identifier: Annotated[str, typer.Argument(help="Legal identifier (LEI, DID, ...).")],
    role: Annotated[RoleChoice, typer.Option("--role", help="On-chain role.", case_sensitive=False)],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (gateway mode; default: the identifier).")
    ] = None,
    carrier_code: Annotated[
        list[str] | None,
        typer.Option(
            "--carrier-code",
            metavar="LIST:CODE",
            help="A carrier's carrierCode on its carrierCodeListProvider, e.g. SMDG:MSC or NMFTA:MAEU "
            "(required for a carrier, repeat for several): it may issue only documents naming one of them.",
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Onboard an organisation with a fresh custodial key; prints its address and key address."""
    with guard():
        codes = [_carrier_code(text) for text in carrier_code or ()]
        org = state_of(ctx).backend().add_org(identifier, role.value, name, codes)
    if as_json:
        print_json(org)
    else:
        _print_org(org, f"onboarded {identifier}")


@org_app.command("suspend")
def org_suspend(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Suspend an organisation: it can neither act nor receive title."""
    with guard():
        record = state_of(ctx).backend().suspend(org)
    print_json(record) if as_json else _print_org(record, "suspended")


@org_app.command("reinstate")
def org_reinstate(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Lift an organisation's suspension."""
    with guard():
        record = state_of(ctx).backend().reinstate(org)
    print_json(record) if as_json else _print_org(record, "reinstated")


@org_app.command("show")
def org_show(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Show an organisation's on-chain record."""
    with guard():
        record = state_of(ctx).backend().organisation(org)
    print_json(record) if as_json else _print_org(record, "organisation")


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Replace an organisation's key: the new key is added on chain, then the old one revoked."""
    with guard():
        key = state_of(ctx).backend().rotate_key(org)
    if as_json:
        print_json(key)
    else:
        print_key_value("new key", [("address", key.get("address")), ("status", key.get("status"))])


@keys_app.command("export")
def keys_export(ctx: typer.Context, org: OrgArg) -> None:
    """Print an organisation's public identity (address, role, active keys, registry) as JSON."""
    with guard():
        identity = state_of(ctx).backend().identity(org)
    print_json(identity)


@app.command("credential")
def credential(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who the credential is for (shown in audit logs).")],
    role: Annotated[CredentialRole, typer.Option("--role", help="API role.", case_sensitive=False)],
    org: Annotated[
        str | None, typer.Option("--org", help="The member organisation (carrier, bank, trader roles).")
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            help="When it stops working: an ISO 8601 time (UTC if no zone) or a duration (90d, 12h, 30m).",
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Issue a gateway API credential; the token is shown once. Direct mode bootstraps the first
    governance credential."""
    with guard():
        expires_at = _expiry(expires) if expires else None
        issued = state_of(ctx).backend().issue_credential(name, role.value, org, expires_at)
    if as_json:
        print_json(issued)
        return
    fields = ("credentialId", "name", "role", "org", "expiresAt")
    rows: list[tuple[str, Any]] = [(k, issued.get(k)) for k in fields]
    rows.append(("token", issued.get("token")))
    print_key_value("API credential (the token is shown once: store it now)", rows, style="yellow")


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _expiry(text: str) -> datetime:
    """An expiry: an ISO 8601 time (UTC when it names no zone) or a duration from now (90d, 12h)."""
    import re
    from datetime import timedelta

    text = text.strip()
    match = re.fullmatch(r"([0-9]+)\s*([smhdw])", text)
    if match:
        return datetime.now(UTC) + timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--expires: not an ISO 8601 time or a duration like 90d: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@credentials_app.command("list")
def credentials_list(
    ctx: typer.Context,
    role: Annotated[
        CredentialRole | None, typer.Option("--role", help="Only this API role.", case_sensitive=False)
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's credentials.")] = None,
    status: Annotated[
        CredentialStatus | None, typer.Option("--status", help="Only active, revoked or expired ones.")
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """List API credentials (public facts only: never a token)."""
    with guard():
        records = (
            state_of(ctx)
            .backend()
            .credentials(role.value if role else None, org, status.value if status else None)
        )
    if as_json:
        print_json(records)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="API credentials")
    for name in ("id", "name", "role", "org", "status", "created", "expires", "revoked"):
        table.add_column(name, overflow="fold")
    for r in records:
        state = str(r.get("status"))
        table.add_row(
            *(Text(str(r.get(k) or "")) for k in ("credentialId", "name", "role", "org")),
            Text(state, style="green" if state == "active" else "red"),
            *(Text(str(r.get(k) or "")) for k in ("createdAt", "expiresAt", "revokedAt")),
        )
    out_console().print(table)


@credentials_app.command("revoke")
def credentials_revoke(
    ctx: typer.Context,
    credential_id: Annotated[str, typer.Argument(help="The credential id (ebl_<id>.…).", metavar="ID")],
    as_json: JsonOut = False,
) -> None:
    """Revoke an API credential: every gateway refuses it within a second."""
    with guard():
        record = state_of(ctx).backend().revoke_credential(credential_id.removeprefix("ebl_").split(".")[0])
    if as_json:
        print_json(record)
    else:
        print_key_value(
            "API credential", [(k, record.get(k)) for k in ("credentialId", "name", "status", "revokedAt")]
        )
