"""Members (any member organisation): their own signing keys, custodial or held in their own wallet."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from registry.cli._render import out_console, print_json, print_key_value
from registry.cli.backend import Backend, CliError
from registry.cli.options import AsOrg, JsonOut, KeyArg
from registry.cli.root import fail, guard, keys_app, state_of


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
    with guard():
        keys = state_of(ctx).backend().keys(org)
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

    out_console().print(table)


@keys_app.command("challenge")
def keys_challenge(ctx: typer.Context, key: KeyArg, actor: AsOrg = None) -> None:
    """Print the EIP-712 KeyRegistration typed data KEY must sign to be registered (valid 10 minutes).
    Sign it unchanged with any wallet (eth_signTypedData_v4), then run `keys add --typed-data FILE
    --signature SIG`."""
    with guard():
        typed = state_of(ctx).backend().key_challenge(actor, key)
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
        fail("usage", "give --keyfile, or --typed-data with --signature")
    if typed_data is not None and not signature:
        fail("usage", "--typed-data needs --signature")
    with guard():
        backend = state_of(ctx).backend()
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
    with guard():
        revoked = state_of(ctx).backend().revoke_key(actor, key)
    if as_json:
        print_json(revoked)
    else:
        print_key_value("key", [(name, revoked.get(name)) for name in ("address", "status", "revokedBlock")])
