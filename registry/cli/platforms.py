"""PINT between platforms: governance keeps the trust list (``ebl platforms add / list / remove``),
holders send bills to parties on other platforms and follow them (``ebl pint send / status``).

Both print the records the gateway serves (``/v1/platforms``, ``/v1/platform-transfers``), in direct
and gateway mode alike.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from registry.cli._render import out_console, print_json, print_key_value
from registry.cli.backend import CliError
from registry.cli.options import AsOrg, EblArg, JsonOut
from registry.cli.root import app, ebl_id_of, fail, guard, state_of
from registry.records import dump
from registry.records.platforms import PlatformIn, PlatformTransferIn

__all__ = ["pint_app", "platforms_app"]

platforms_app = typer.Typer(
    help="The PINT trust list (governance): the other platforms this registry sends to and receives from.",
    no_args_is_help=True,
)
pint_app = typer.Typer(
    help="PINT transfers (holders): send an eBL to a party on another platform, follow the transfer.",
    no_args_is_help=True,
)
app.add_typer(platforms_app, name="platforms")
app.add_typer(pint_app, name="pint")


class PintAction(StrEnum):
    TRANSFER = "TRANSFER"
    ENDORSE = "ENDORSE"
    ENDORSE_TO_ORDER = "ENDORSE_TO_ORDER"


def _json_file(path: Path, what: str, code: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise CliError(code, f"cannot read {what} {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CliError(code, f"{what} {path} is not JSON: {exc}") from None


def _pem_file(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError("invalid_platform", f"cannot read {what} {path}: {exc}") from None


def _invalid(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the request"
    return f"{where}: {first['msg']}"


# ====================================================================== ebl platforms


def _print_platform(p: dict[str, Any], title: str) -> None:
    rows: list[tuple[str, Any]] = [
        ("code", p.get("code")),
        ("name", p.get("name")),
        ("url", p.get("url")),
        ("key ids", ", ".join(p.get("keyIds") or []) or "-"),
    ]
    if p.get("own"):
        rows.append(("own", "this registry (give this entry to the other operators)"))
    print_key_value(title, rows)


@platforms_app.command("add")
def platforms_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Option("--code", help="Its DCSA eBL solution provider code (1-4 chars).")],
    name: Annotated[str, typer.Option("--name", help="Its name.")],
    url: Annotated[str, typer.Option("--url", help="Its PINT base URL (…/v3).")],
    jwks: Annotated[Path, typer.Option("--jwks", metavar="FILE", help="Its public JWK set (JSON).")],
    x509_anchor: Annotated[
        list[Path] | None,
        typer.Option(
            "--x509-anchor",
            metavar="FILE",
            help="A PEM trust anchor (repeat): its JWS must then chain to one of them.",
        ),
    ] = None,
    carrier: Annotated[
        list[str] | None,
        typer.Option(
            "--carrier",
            metavar="LIST:CODE",
            help="A carrier code (SMDG:MSC) whose issuances this platform may sign (repeat).",
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Trust a platform (or replace its entry): envelopes signed with its keys are accepted from now on."""
    with guard():
        body = {
            "code": code,
            "name": name,
            "url": url,
            "jwks": _json_file(jwks, "the JWK set", "invalid_platform"),
            "x509Anchors": [_pem_file(p, "the X.509 anchor") for p in x509_anchor or ()],
            "carriers": list(carrier or ()),
        }
        if not isinstance(body["jwks"], dict):
            raise CliError("invalid_platform", f'the JWK set {jwks} is not a JSON object {{"keys": [...]}}')
        try:
            checked = dump(PlatformIn.read(body))
        except ValidationError as exc:
            raise CliError("invalid_platform", _invalid(exc)) from None
        platform = state_of(ctx).backend().add_platform(checked)
    print_json(platform) if as_json else _print_platform(platform, f"trusted {platform.get('code')}")


@platforms_app.command("list")
def platforms_list(ctx: typer.Context, as_json: JsonOut = False) -> None:
    """The trusted platforms, and this registry's own entry (``own``)."""
    with guard():
        platforms = state_of(ctx).backend().platforms()
    if as_json:
        print_json(platforms)
        return
    from rich.table import Table

    table = Table(title="platforms")
    for column in ("code", "name", "url", "key ids", ""):
        table.add_column(column)
    for p in platforms:
        own = "own" if p.get("own") else ""
        table.add_row(p.get("code"), p.get("name"), p.get("url"), ", ".join(p.get("keyIds") or []), own)
    out_console().print(table)


@platforms_app.command("remove")
def platforms_remove(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The platform's code.", metavar="CODE")],
) -> None:
    """Stop trusting a platform: its envelopes are refused (BSIG) from now on."""
    with guard():
        state_of(ctx).backend().remove_platform(code)
    out_console().print(f"{code} is no longer trusted")


# ====================================================================== ebl pint


def _recipient(recipient_file: Path | None, party_name: str | None, party_codes: list[str]) -> Any:
    if (recipient_file is None) == (not party_codes):
        raise CliError("usage", "give exactly one of --recipient-file FILE or --party-code PROVIDER:CODE")
    if recipient_file is not None:
        return _json_file(recipient_file, "the recipient", "invalid_request")
    if not party_name:
        raise CliError("usage", "--party-code needs --party-name (the recipient's partyName)")
    codes = []
    for text in party_codes:
        provider, sep, value = text.partition(":")
        if not sep or not provider or not value:
            raise CliError(
                "usage", f"--party-code is PROVIDER:CODE, e.g. W3C:did:web:bank.example, not {text!r}"
            )
        codes.append({"codeListProvider": provider, "partyCode": value})
    return {"partyName": party_name, "identifyingCodes": codes}


def _print_transfer(t: dict[str, Any], title: str) -> None:
    rows: list[tuple[str, Any]] = [
        ("transfer", t.get("transferId")),
        ("eBL", t.get("eblId")),
        ("platform", t.get("platform")),
        ("action", t.get("actionCode")),
        ("recipient", (t.get("recipient") or {}).get("partyName")),
        ("status", t.get("status")),
        ("step", t.get("step")),
        ("attempts", t.get("attempts")),
    ]
    rows += [(label, t[key]) for key, label in _OPTIONAL if t.get(key)]
    print_key_value(title, rows, style="red" if t.get("status") in ("RETURNED", "REFUSED") else "cyan")


_OPTIONAL = (
    ("responseCode", "response"),
    ("reason", "reason"),
    ("envelopeReference", "envelope"),
)


@pint_app.command("send")
def pint_send(
    ctx: typer.Context,
    ebl_id: EblArg,
    platform: Annotated[str, typer.Option("--platform", metavar="CODE", help="The receiving platform.")],
    recipient_file: Annotated[
        Path | None,
        typer.Option("--recipient-file", metavar="FILE", help="The PINT RecipientParty as JSON."),
    ] = None,
    party_name: Annotated[
        str | None, typer.Option("--party-name", help="The recipient's partyName (with --party-code).")
    ] = None,
    party_code: Annotated[
        list[str] | None,
        typer.Option(
            "--party-code",
            metavar="PROVIDER:CODE",
            help="An identifyingCode of the recipient, e.g. W3C:did:web:bank.example (repeat).",
        ),
    ] = None,
    action: Annotated[
        PintAction, typer.Option("--action", help="What the recipient gets.", case_sensitive=False)
    ] = PintAction.TRANSFER,
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """Send an eBL to a party on another platform; RETURNED (the bill stays here) exits 1."""
    with guard():
        body = {
            "platform": platform,
            "recipient": _recipient(recipient_file, party_name, list(party_code or ())),
            "actionCode": action.value,
        }
        try:
            checked = dump(PlatformTransferIn.read(body))
        except ValidationError as exc:
            raise CliError("invalid_request", _invalid(exc)) from None
        t = state_of(ctx).backend().send_to_platform(actor, ebl_id_of(ebl_id), checked)
    print_json(t) if as_json else _print_transfer(t, f"sent to {platform}")
    if t.get("status") == "RETURNED":
        fail(str(t.get("responseCode") or "returned"), str(t.get("reason") or "the receiver refused"))


@pint_app.command("status")
def pint_status(
    ctx: typer.Context,
    transfer_id: Annotated[
        str | None, typer.Argument(help="One transfer (default: all, newest first).", metavar="TRANSFER_ID")
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Where outgoing transfers stand, with the journal of one."""
    with guard():
        backend = state_of(ctx).backend()
        if transfer_id is None:
            transfers = backend.platform_transfers()
        else:
            one = backend.platform_transfer(transfer_id)
    if transfer_id is None:
        if as_json:
            print_json(transfers)
            return
        from rich.table import Table

        table = Table(title="platform transfers")
        for column in ("transfer", "eBL", "platform", "action", "status", "response"):
            table.add_column(column)
        for t in transfers:
            row = ("transferId", "eblId", "platform", "actionCode", "status", "responseCode")
            table.add_row(*(str(t.get(k) or "") for k in row))
        out_console().print(table)
        return
    if as_json:
        print_json(one)
        return
    _print_transfer(one, "platform transfer")
    for step in one.get("journal") or []:
        out_console().print(f"  {step.get('at')}  {step.get('step')}  {step.get('detail') or ''}")


@pint_app.command("incoming")
def pint_incoming(ctx: typer.Context, as_json: JsonOut = False) -> None:
    """Envelopes other platforms sent, newest first (a member's own; every one for governance)."""
    with guard():
        envelopes = state_of(ctx).backend().incoming_envelopes()
    if as_json:
        print_json(envelopes)
        return
    from rich.table import Table

    table = Table(title="incoming envelopes")
    for column in ("envelope", "from", "recipient", "state", "response", "eBL"):
        table.add_column(column)
    for e in envelopes:
        keys = ("envelopeReference", "sendingPlatform", "recipient", "state", "responseCode", "eblId")
        table.add_row(*(str(e.get(k) or "") for k in keys))
    out_console().print(table)
