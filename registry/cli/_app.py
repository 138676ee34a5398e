"""The ``ebl`` command: operate the title registry directly or through its gateway."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from registry.cli._render import (
    err_console,
    print_error,
    print_events,
    print_json,
    print_key_value,
    print_operations,
    print_verification,
    print_violations,
)
from registry.cli.backend import Backend, CliError, GatewayError, SurrenderFor, parse_ebl_id
from registry.cli.direct import DirectBackend
from registry.cli.gateway import HttpBackend
from registry.errors import InvalidDocumentError, RegistryError

__all__ = ["State", "app"]

app = typer.Typer(
    name="ebl",
    help="Operate the eBL title registry: onboard members, issue and move eBLs, verify and audit.\n\n"
    "Direct mode (default) opens the registry in this process from the EBL_* settings; gateway mode "
    "(--gateway URL --token TOKEN) talks to a running gateway, where the token decides who acts.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="Member organisations (governance).", no_args_is_help=True)
keys_app = typer.Typer(
    help="Organisations' signing keys: custodial (the gateway holds them) or the member's own wallet keys.",
    no_args_is_help=True,
)
credentials_app = typer.Typer(
    help="Gateway API credentials (governance): list and revoke.", no_args_is_help=True
)
dev_app = typer.Typer(help="Development helpers.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(keys_app, name="keys")
app.add_typer(credentials_app, name="credentials")
app.add_typer(dev_app, name="dev")

EXPORT_PAGE = 1000
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


# ====================================================================== state and errors


@dataclass
class State:
    """Per-invocation state (the Typer context object); the backend is opened on first use."""

    gateway: str | None = None
    token: str | None = None
    data_dir: Path | None = None
    backend_: Backend | None = None
    owned: bool = True
    _closers: list[Backend] = field(default_factory=list)

    def backend(self) -> Backend:
        if self.backend_ is None:
            if self.gateway:
                self.backend_ = HttpBackend.connect(self.gateway, self.token)
            else:
                from registry.runtime import Runtime

                runtime = Runtime.open(self.settings(), follow=False, holder="a direct-mode ebl command")
                self.backend_ = DirectBackend(runtime, owned=True)
            self._closers.append(self.backend_)
        return self.backend_

    def settings(self) -> Any:
        from registry.config import Settings

        return Settings(data_dir=self.data_dir) if self.data_dir else Settings()

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()


def _state(ctx: typer.Context) -> State:
    state = ctx.obj
    if not isinstance(state, State):  # pragma: no cover - the callback always sets it
        raise RuntimeError("ebl: no CLI state")
    return state


def _fail(code: str, detail: str) -> NoReturn:
    print_error(code, detail)
    raise typer.Exit(1)


@contextmanager
def _guard() -> Iterator[None]:
    """Refused requests become a red ``[code] message`` and exit code 1 — never a traceback."""
    try:
        yield
    except InvalidDocumentError as exc:
        print_violations([{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations])
        _fail(exc.code, str(exc))
    except GatewayError as exc:
        violations = exc.problem.get("violations")
        if isinstance(violations, list) and violations:
            print_violations([v for v in violations if isinstance(v, dict)])
        _fail(exc.code, exc.detail)
    except CliError as exc:
        _fail(exc.code, exc.detail)
    except RegistryError as exc:
        _fail(exc.code, str(exc))
    except ValueError as exc:
        _fail("invalid_argument", str(exc))


def _ebl(text: str) -> int:
    try:
        return parse_ebl_id(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _read_document(path: Path) -> dict[str, Any]:
    from registry.documents import parse_json_text

    return parse_json_text(path.read_bytes())


def _report(op: dict[str, Any], as_json: bool) -> None:
    """Show one accepted operation; a failed one exits 1."""
    if as_json:
        print_json(op)
    else:
        print_operations([op])
    if op.get("status") == "failed":
        _fail(str(op.get("errorCode") or "operation_failed"), str(op.get("errorDetail") or "failed"))


@app.callback()
def main(
    ctx: typer.Context,
    gateway: Annotated[
        str | None,
        typer.Option("--gateway", envvar="EBL_GATEWAY_URL", help="Gateway base URL (gateway mode)."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="EBL_TOKEN", help="Bearer token for the gateway.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Registry data folder in direct mode (default: EBL_DATA_DIR)."),
    ] = None,
) -> None:
    """Operate the eBL title registry."""
    injected = ctx.obj
    if isinstance(injected, State):
        return
    state = State(gateway=gateway, token=token, data_dir=data_dir)
    if injected is not None:  # a Backend passed by the caller (tests): used, never closed here
        state.backend_ = injected
    ctx.obj = state
    ctx.call_on_close(state.close)


# ====================================================================== options

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


# ====================================================================== organisations and keys


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
    with _guard():
        codes = [_carrier_code(text) for text in carrier_code or ()]
        org = _state(ctx).backend().add_org(identifier, role.value, name, codes)
    if as_json:
        print_json(org)
    else:
        _print_org(org, f"onboarded {identifier}")


@org_app.command("suspend")
def org_suspend(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Suspend an organisation: it can neither act nor receive title."""
    with _guard():
        record = _state(ctx).backend().suspend(org)
    print_json(record) if as_json else _print_org(record, "suspended")


@org_app.command("reinstate")
def org_reinstate(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Lift an organisation's suspension."""
    with _guard():
        record = _state(ctx).backend().reinstate(org)
    print_json(record) if as_json else _print_org(record, "reinstated")


@org_app.command("show")
def org_show(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Show an organisation's on-chain record."""
    with _guard():
        record = _state(ctx).backend().organisation(org)
    print_json(record) if as_json else _print_org(record, "organisation")


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    org: Annotated[
        str | None,
        typer.Argument(
            help="Organisation address or legal identifier (gateway mode: omit it for your own).",
            metavar="[ORG]",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """List an organisation's keys as the chain records them, active and revoked: custodial ones and
    the member's own (public facts only)."""
    with _guard():
        keys = _state(ctx).backend().keys(org)
    if as_json:
        print_json(keys)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="keys")
    for name in ("address", "status", "custodial", "label", "added block", "revoked block"):
        table.add_column(name, overflow="fold")
    for k in keys:
        status = str(k.get("status"))
        table.add_row(
            Text(str(k.get("address"))),
            Text(status, style="green" if status == "active" else "red"),
            Text("yes" if k.get("custodial") else "no (member's own)"),
            Text(str(k.get("label") or "")),
            Text(str(k.get("addedBlock") or "")),
            Text(str(k.get("revokedBlock") or "")),
        )
    from registry.cli._render import out_console

    out_console().print(table)


KeyArg = Annotated[str, typer.Argument(help="Key address (0x + 40 hex digits).", metavar="KEY")]


@keys_app.command("challenge")
def keys_challenge(ctx: typer.Context, key: KeyArg, actor: AsOrg = None) -> None:
    """Print the EIP-712 KeyRegistration typed data KEY must sign to be registered (valid 10 minutes).
    Sign it unchanged with any wallet (eth_signTypedData_v4), then run `keys add --typed-data FILE
    --signature SIG`."""
    with _guard():
        typed = _state(ctx).backend().key_challenge(actor, key)
    print_json(typed)


@keys_app.command("add")
def keys_add(
    ctx: typer.Context,
    keyfile: Annotated[
        Path | None,
        typer.Option(
            "--keyfile",
            help="An Ethereum JSON keystore (V3, as wallets export it): the CLI signs the challenge with it.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="File holding the keystore's passphrase (else EBL_KEY_PASSPHRASE, else a prompt).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    typed_data: Annotated[
        Path | None,
        typer.Option(
            "--typed-data", help="The challenge (from `keys challenge`), signed elsewhere.", exists=True
        ),
    ] = None,
    signature: Annotated[
        str | None, typer.Option("--signature", help="The wallet's signature of --typed-data (0x + 130 hex).")
    ] = None,
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """Register a key your organisation holds itself (never given to the gateway): the key signs a
    challenge naming the organisation, and the organisation's key adds it on chain."""
    if (keyfile is None) == (typed_data is None):
        _fail("usage", "give --keyfile, or --typed-data with --signature")
    if typed_data is not None and not signature:
        _fail("usage", "--typed-data needs --signature")
    with _guard():
        backend = _state(ctx).backend()
        if keyfile is not None:
            typed, signature = _sign_challenge(backend, actor, keyfile, passphrase_file)
        else:
            assert typed_data is not None and signature is not None
            from registry.documents import parse_json_text

            typed = parse_json_text(typed_data.read_bytes())
        key = backend.register_key(actor, typed, signature)
    if as_json:
        print_json(key)
    else:
        print_key_value(
            "key registered",
            [(name, key.get(name)) for name in ("address", "status", "custodial", "addedBlock")],
        )


def _sign_challenge(
    backend: Backend, actor: str | None, keyfile: Path, passphrase_file: Path | None
) -> tuple[dict[str, Any], str]:
    """Unlock an Ethereum JSON keystore, ask for the challenge of its address and sign it."""
    from eth_account import Account

    from registry.keys import LocalSigner

    try:
        encrypted = json.loads(keyfile.read_text())
        address = "0x" + str(encrypted["address"]).removeprefix("0x")
    except (ValueError, KeyError, TypeError):
        raise CliError("invalid_keyfile", f"{keyfile} is not an Ethereum JSON keystore") from None
    if passphrase_file is not None:
        passphrase = passphrase_file.read_text().rstrip("\r\n")
    elif "EBL_KEY_PASSPHRASE" in os.environ:
        passphrase = os.environ["EBL_KEY_PASSPHRASE"]
    else:
        passphrase = typer.prompt(f"passphrase of {keyfile.name}", hide_input=True)
    try:
        private_key = bytes(Account.decrypt(encrypted, passphrase))
    except ValueError:
        raise CliError("invalid_keyfile", f"cannot unlock {keyfile}: wrong passphrase?") from None
    typed = backend.key_challenge(actor, address)
    signature = "0x" + LocalSigner(private_key).sign_typed_data(typed).hex()
    return typed, signature


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key: KeyArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """Revoke one of your organisation's keys (never its last); a revoked key can never come back."""
    with _guard():
        revoked = _state(ctx).backend().revoke_key(actor, key)
    if as_json:
        print_json(revoked)
    else:
        print_key_value("key", [(name, revoked.get(name)) for name in ("address", "status", "revokedBlock")])


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context, org: OrgArg, as_json: JsonOut = False) -> None:
    """Replace an organisation's key: the new key is added on chain, then the old one revoked."""
    with _guard():
        key = _state(ctx).backend().rotate_key(org)
    if as_json:
        print_json(key)
    else:
        print_key_value("new key", [("address", key.get("address")), ("status", key.get("status"))])


@keys_app.command("export")
def keys_export(ctx: typer.Context, org: OrgArg) -> None:
    """Print an organisation's public identity (address, role, active keys, registry) as JSON."""
    with _guard():
        identity = _state(ctx).backend().identity(org)
    print_json(identity)


class CredentialRole(StrEnum):
    governance = "governance"
    auditor = "auditor"
    carrier = "carrier"
    bank = "bank"
    trader = "trader"


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
    with _guard():
        expires_at = _expiry(expires) if expires else None
        issued = _state(ctx).backend().issue_credential(name, role.value, org, expires_at)
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


class CredentialStatus(StrEnum):
    active = "active"
    revoked = "revoked"
    expired = "expired"


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
    with _guard():
        records = (
            _state(ctx)
            .backend()
            .credentials(role.value if role else None, org, status.value if status else None)
        )
    if as_json:
        print_json(records)
        return
    from rich.table import Table
    from rich.text import Text

    from registry.cli._render import out_console

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
    with _guard():
        record = _state(ctx).backend().revoke_credential(credential_id.removeprefix("ebl_").split(".")[0])
    if as_json:
        print_json(record)
    else:
        print_key_value(
            "API credential", [(k, record.get(k)) for k in ("credentialId", "name", "status", "revokedAt")]
        )


# ====================================================================== carriers


@app.command("issue")
def issue(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="DCSA 3.0 transport document JSON files.", exists=True, dir_okay=False, readable=True
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="First holder (issue-to party).")],
    carrier: Annotated[
        str | None, typer.Option("--carrier", help="Issuing carrier; ignored in gateway mode.")
    ] = None,
    endorsee: Annotated[
        str | None, typer.Option("--endorsee", help="Straight bill: consignee; to-order: first endorsee.")
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Issue one eBL per transport document; many files show a progress bar, then a table."""
    with _guard():
        backend = _state(ctx).backend()
    rows: list[dict[str, Any]] = []
    invalid: list[tuple[Path, InvalidDocumentError]] = []
    progress = Progress(
        TextColumn("issuing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console(),
        disable=len(files) < 2,
    )
    with progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            row: dict[str, Any] = {"file": str(path)}
            try:
                row.update(backend.issue(carrier, _read_document(path), to, endorsee))
            except InvalidDocumentError as exc:
                invalid.append((path, exc))
                row.update(status="failed", errorCode=exc.code, errorDetail=str(exc))
            except CliError as exc:
                row.update(status="failed", errorCode=exc.code, errorDetail=exc.detail)
            except RegistryError as exc:
                row.update(status="failed", errorCode=exc.code, errorDetail=str(exc))
            rows.append(row)
            progress.advance(task)
    for path, error in invalid:
        print_violations(
            [{"path": v.path, "rule": v.rule, "message": v.message} for v in error.violations],
            title=f"Invalid document: {path}",
        )
    if as_json:
        print_json(rows)
    else:
        print_operations(rows, with_file=True)
    failed = [r for r in rows if r.get("status") == "failed"]
    if failed:
        if len(rows) == 1:
            _fail(str(failed[0]["errorCode"]), str(failed[0].get("errorDetail") or ""))
        _fail("issue_failed", f"{len(failed)} of {len(rows)} documents were not issued")


def _carrier_action(ctx: typer.Context, action: str, ebl_id: str, actor: str | None, as_json: bool) -> None:
    with _guard():
        op = _state(ctx).backend().carrier_action(actor, action, _ebl(ebl_id))
    _report(op, as_json)


@app.command("accept-surrender")
def accept_surrender(
    ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False
) -> None:
    """SACC: the issuing carrier accepts a surrender request."""
    _carrier_action(ctx, "accept-surrender", ebl_id, actor, as_json)


@app.command("reject-surrender")
def reject_surrender(
    ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False
) -> None:
    """SREJ: the issuing carrier rejects a surrender request; the bill returns to the requester."""
    _carrier_action(ctx, "reject-surrender", ebl_id, actor, as_json)


@app.command("void")
def void(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """Void an eBL surrendered for amendment, without reissue."""
    _carrier_action(ctx, "void", ebl_id, actor, as_json)


@app.command("amend")
def amend(
    ctx: typer.Context,
    ebl_id: EblArg,
    file: Annotated[
        Path, typer.Argument(help="The amended transport document JSON.", exists=True, dir_okay=False)
    ],
    actor: AsOrg = None,
    endorsee: Annotated[str | None, typer.Option("--endorsee", help="Endorsee of the amended bill.")] = None,
    as_json: JsonOut = False,
) -> None:
    """Void an eBL surrendered for amendment and issue the amended document linked to it."""
    with _guard():
        op = _state(ctx).backend().amend(actor, _ebl(ebl_id), _read_document(file), endorsee)
    _report(op, as_json)


@app.command("switch-to-paper")
def switch_to_paper(
    ctx: typer.Context,
    ebl_id: EblArg,
    paper_hash: Annotated[
        str, typer.Option("--paper-hash", help="32-byte hash (hex) of the printed paper document.")
    ],
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """End an eBL surrendered with reason SWTP: the printed paper replaces it."""
    text = paper_hash.lower().removeprefix("0x")
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        raise typer.BadParameter("not hex", param_hint="--paper-hash") from None
    if len(digest) != 32:
        raise typer.BadParameter("must be 32 bytes (64 hex digits)", param_hint="--paper-hash")
    with _guard():
        op = _state(ctx).backend().switch_to_paper(actor, _ebl(ebl_id), digest)
    _report(op, as_json)


# ====================================================================== holders


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str, typer.Option("--to", help="The organisation receiving possession.")],
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """TRANSFER possession of an eBL to another member."""
    with _guard():
        op = _state(ctx).backend().transfer(actor, _ebl(ebl_id), to)
    _report(op, as_json)


@app.command("endorse")
def endorse(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str, typer.Option("--to", help="The endorsee.")],
    actor: AsOrg = None,
    no_further: Annotated[
        bool,
        typer.Option("--no-further-endorsement", help="ENDORSE: the endorsee may not endorse further."),
    ] = False,
    as_json: JsonOut = False,
) -> None:
    """Endorse a to-order eBL to an endorsee (ENDORSE_TO_ORDER unless --no-further-endorsement)."""
    with _guard():
        op = _state(ctx).backend().endorse(actor, _ebl(ebl_id), to, not no_further)
    _report(op, as_json)


@app.command("endorse-blank")
def endorse_blank(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """BLANK_ENDORSE: the eBL becomes a bearer bill."""
    with _guard():
        op = _state(ctx).backend().endorse_in_blank(actor, _ebl(ebl_id))
    _report(op, as_json)


@app.command("nominate")
def nominate(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str | None, typer.Option("--to", help="The nominee.")] = None,
    actor: AsOrg = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel the current nomination.")] = False,
    as_json: JsonOut = False,
) -> None:
    """The endorsee, while another party holds the eBL, nominates the next endorsee."""
    if (to is None) != cancel:
        raise typer.BadParameter("give exactly one of --to ORG or --cancel")
    with _guard():
        op = _state(ctx).backend().nominate(actor, _ebl(ebl_id), to)
    _report(op, as_json)


@app.command("reject")
def reject(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """Return an eBL just received to the party that sent it."""
    with _guard():
        op = _state(ctx).backend().reject(actor, _ebl(ebl_id))
    _report(op, as_json)


@app.command("surrender")
def surrender(
    ctx: typer.Context,
    ebl_id: EblArg,
    actor: AsOrg = None,
    purpose: Annotated[
        SurrenderChoice,
        typer.Option("--for", help="Surrender for delivery or amendment.", case_sensitive=False),
    ] = SurrenderChoice.delivery,
    reason: Annotated[
        ReasonCode | None,
        typer.Option(
            "--reason", help="Amendment reason: SWTP (switch to paper), COD, SWI.", case_sensitive=False
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Surrender an eBL to its issuing carrier, for delivery or for amendment."""
    if reason is not None and purpose is SurrenderChoice.delivery:
        raise typer.BadParameter("a reason code applies to --for amendment only", param_hint="--reason")
    why: SurrenderFor = "DELIVERY" if purpose is SurrenderChoice.delivery else "AMENDMENT"
    with _guard():
        op = _state(ctx).backend().surrender(actor, _ebl(ebl_id), why, reason.value if reason else None)
    _report(op, as_json)


# ====================================================================== reads


@app.command("verify")
def verify(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="A transport document JSON file, or an eBL id.", metavar="FILE|EBL_ID")
    ],
    document: Annotated[
        Path | None,
        typer.Option("--document", help="With an eBL id: check this document against it.", dir_okay=False),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Verify an eBL: status, holder, endorsee, carrier, document match, lineage, anchoring block.

    Exit code 1 when a presented document does not match the issued one.
    """
    path = Path(target)
    if not path.is_file():
        try:
            parse_ebl_id(target)
        except ValueError:
            raise typer.BadParameter(f"{target!r} is neither an existing file nor an eBL id") from None
    with _guard():
        backend = _state(ctx).backend()
        if path.is_file():
            result = backend.verify(document_text=path.read_text(encoding="utf-8"))
        elif document is not None:
            result = backend.verify(_ebl(target), document_text=document.read_text(encoding="utf-8"))
        else:
            result = backend.verify(_ebl(target))
    print_json(result) if as_json else print_verification(result)
    if result.get("documentMatches") is False:
        _fail("document_mismatch", "the presented document does not match the issued document")


@app.command("history")
def history(ctx: typer.Context, ebl_id: EblArg, as_json: JsonOut = False) -> None:
    """Every recorded action on an eBL, issuance first (DCSA action codes)."""
    with _guard():
        events = _state(ctx).backend().history(_ebl(ebl_id))
    print_json(events) if as_json else print_events(events, title=f"history of eBL {ebl_id}")


def _when(text: str | None, default: datetime, name: str) -> datetime:
    if text is None:
        return default
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date or time: {text!r}", param_hint=name) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_CSV_FIELDS = (
    "eblId",
    "seq",
    "action",
    "actor",
    "counterparty",
    "actorKey",
    "data",
    "blockNumber",
    "blockTime",
    "txHash",
    "logIndex",
)


@app.command("export")
def export(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="Organisation (actor or counterparty).")],
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 start, inclusive (default: all).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="ISO 8601 end, exclusive (default: no end).")
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat.json,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export every action an organisation took or received in a time window (all pages)."""
    low = _when(since, datetime.fromtimestamp(0, UTC), "--since")
    high = _when(until, _END_OF_TIME, "--until")
    events: list[dict[str, Any]] = []
    with _guard():
        backend = _state(ctx).backend()
        cursor: str | None = None
        while True:
            page, cursor = backend.events(org, low, high, cursor, EXPORT_PAGE)
            events.extend(page)
            if cursor is None:
                break
    if fmt is ExportFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(events)
        text = buffer.getvalue()
    else:
        text = json.dumps(events, indent=2, default=str) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err_console().print(f"{len(events)} events written to {out}", markup=False)


# ====================================================================== serve and dev


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP gateway (api.main:create_app) with uvicorn."""
    import uvicorn

    state = _state(ctx)
    if state.data_dir is not None:
        os.environ["EBL_DATA_DIR"] = str(state.data_dir)
    from registry.logs import configure_logging

    configure_logging(os.environ.get("EBL_LOG_LEVEL", "INFO"))  # JSON lines on stderr (api/logs.py)
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_config=None, access_log=False)


@dev_app.command("up")
def dev_up(ctx: typer.Context) -> None:
    """Open the registry (embedded chain, keys, database, indexer) and keep it running until Ctrl-C."""
    from registry.runtime import Runtime

    state = _state(ctx)
    if state.gateway:
        _fail("usage", "dev up runs the registry in this process; it has no gateway mode")
    with _guard():
        runtime = Runtime.open(state.settings(), follow=True, holder="ebl dev up")
    # SIGTERM / SIGHUP (and SIGINT, even when a background shell ignored it) stop the registry cleanly:
    # the embedded anvil runs in its own session and would otherwise outlive us.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in previous:
        signal.signal(sig, _interrupt)
    try:
        s = runtime.settings
        url = runtime.anvil.url if runtime.anvil is not None else s.rpc_url
        print_key_value(
            "eBL registry (development)",
            [
                ("chain", url),
                ("chain id", runtime.deployment.chain_id),
                ("registry", runtime.deployment.address),
                ("data dir", str(s.data_dir.resolve())),
                ("database", s.resolved_database_url),
                ("", "press Ctrl-C to stop"),
            ],
            style="green",
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        err_console().print("stopping", markup=False)
    finally:
        runtime.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
