"""Title attestations: fetch one from the gateway, verify one offline, manage the attestation keys.

``ebl attest verify FILE --jwks JWKS_FILE`` needs no network and no registry: the attestation (the
compact JWS, or the gateway's JSON answer holding it) and the registry's JWK set are all it reads. On a
Besu QBFT network, ``--qbft-genesis GENESIS`` (or ``--validators FILE``) trusts the header's commit seals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from registry.cli._render import print_json
from registry.cli.backend import CliError
from registry.cli.gateway import HttpBackend, _problem
from registry.cli.options import JsonOut
from registry.cli.root import State, app, ebl_id_of, fail, guard, state_of
from registry.cli.validators import QbftGenesis, Validators, read_validators, require_trust_root
from registry.proofs.errors import AttestationError
from registry.proofs.keyring import AttestationAlgorithm, AttestationKeys
from registry.proofs.verify import verify_attestation

attest_app = typer.Typer(
    help="Title attestations: signed, offline-verifiable statements of an eBL's title at one block.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="The registry's attestation keys (governance).", no_args_is_help=True)
attest_app.add_typer(keys_app, name="keys")
app.add_typer(attest_app, name="attest")

JOSE = "application/jose"


def _read_attestation(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail("attestation_malformed", f"cannot read {path}: {exc}")
    if text.startswith("{"):
        try:
            wrapped = json.loads(text)
        except ValueError:
            fail("attestation_malformed", f"{path} is neither a compact JWS nor JSON")
        if not isinstance(wrapped, dict) or not isinstance(wrapped.get("attestation"), str):
            fail("attestation_malformed", f"{path} is JSON without an 'attestation' string")
        return str(wrapped["attestation"])
    return text


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail("invalid_jwks", f"cannot read the JWK set {path}: {exc}")
    if not isinstance(data, dict):
        fail("invalid_jwks", f"the JWK set {path} is not a JSON object")
    return data


@attest_app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="The attestation: a compact JWS file (or the gateway's JSON).")
    ],
    jwks: Annotated[
        Path | None,
        typer.Option("--jwks", metavar="JWKS_FILE", help="The registry's JWK set (/.well-known/jwks.json)."),
    ] = None,
    qbft_genesis: QbftGenesis = None,
    validators: Validators = None,
    as_json: JsonOut = False,
) -> None:
    """Verify an attestation offline: signature (under --jwks), header hash (and on a QBFT network,
    under --qbft-genesis / --validators, its commit seals), account and storage proofs, the record
    against the claims. Prints what is proven and how old the statement is. Exit 1 with
    \\[attestation_REASON] on any failure."""
    trust = read_validators(qbft_genesis, validators, "attestation")
    require_trust_root(jwks, trust, "attestation")
    compact = _read_attestation(file)
    keys = None if jwks is None else _read_jwks(jwks)
    try:
        checked = verify_attestation(compact, keys, now=datetime.now(UTC), validators=trust)
    except AttestationError as exc:
        fail(f"attestation_{exc.reason}", str(exc))
    if as_json:
        print_json(
            {
                "verified": True,
                "kid": checked.kid,
                "alg": checked.alg,
                "trust": checked.trust,
                "eblId": checked.payload["eblId"],
                "status": checked.title.status.name,
                "blockNumber": checked.header.number,
                "blockHash": checked.header.hash,
                "blockTime": checked.block_time.isoformat(),
                "ageSeconds": round(checked.age_seconds, 3),
                "statement": checked.age_statement(),
                "proven": checked.proven(),
                "signedOnly": checked.signed_only(),
            }
        )
        return
    signer = "signature not checked" if checked.kid is None else f"key {checked.kid}, {checked.alg}"
    typer.echo(f"VERIFIED title attestation of eBL {checked.payload['eblId']} ({signer})")
    typer.echo(f"trust: {checked.trust}")
    typer.echo("proven on chain (header hash, account and storage proofs):")
    for line in checked.proven():
        typer.echo(f"  {line}")
    typer.echo("signed by the registry only (not on chain):")
    for line in checked.signed_only():
        typer.echo(f"  {line}")
    typer.echo(checked.age_statement())


def _gateway(state: State) -> HttpBackend:
    backend = state.backend()
    if not isinstance(backend, HttpBackend):
        fail("gateway_required", "this command talks to a gateway: pass --gateway URL --token TOKEN")
    return backend


def _call(backend: HttpBackend, method: str, path: str, **kw: Any) -> httpx.Response:
    try:
        response = backend.client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        raise CliError("gateway_unreachable", f"{type(exc).__name__}: {exc}") from None
    if response.status_code >= 400:
        raise _problem(response)
    return response


def _write(out: Path | None, text: str) -> None:
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"written to {out}", err=True)


@attest_app.command("get")
def get(
    ctx: typer.Context,
    ebl_id: Annotated[str, typer.Argument(help="The eBL id.", metavar="EBL_ID")],
    document: Annotated[
        Path | None,
        typer.Option(
            "--document", dir_okay=False, help="The presented document: the attestation says if it matches."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the compact JWS here (default: stdout).")
    ] = None,
) -> None:
    """Have the gateway sign an attestation of an eBL's title now (gateway mode)."""
    ebl = ebl_id_of(ebl_id)
    with guard():
        backend = _gateway(state_of(ctx))
        body = document.read_text(encoding="utf-8") if document is not None else ""
        headers = {"Accept": f"{JOSE}, application/problem+json", "Content-Type": "application/json"}
        response = _call(backend, "POST", f"/v1/banks/ebls/{ebl}/attestations", content=body, headers=headers)
    _write(out, response.text.strip())


@contextmanager
def _keys(state: State) -> Iterator[AttestationKeys]:
    """The attestation keys of the data folder, with the folder held (direct mode)."""
    from registry.data_lock import DataFolderLock

    settings = state.settings()
    lock = DataFolderLock(settings.data_dir).acquire("ebl attest keys")
    try:
        yield AttestationKeys(settings.data_dir, settings.attestation_alg)
    finally:
        lock.release()


@attest_app.command("jwks")
def jwks(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JWK set here (default: stdout).")
    ] = None,
) -> None:
    """The registry's attestation JWK set, to keep beside the attestations you file."""
    state = state_of(ctx)
    with guard():
        if state.gateway:
            text = _call(_gateway(state), "GET", "/.well-known/jwks.json").text
        else:
            with _keys(state) as keys:
                text = json.dumps(keys.public_jwks())
    _write(out, json.dumps(json.loads(text), indent=2))


@keys_app.command("list")
def keys_list(ctx: typer.Context, as_json: JsonOut = False) -> None:
    """Every attestation key: which signs, which are retired."""
    state = state_of(ctx)
    with guard():
        if state.gateway:
            rows = _call(_gateway(state), "GET", "/v1/governance/attestation-keys").json()
        else:
            with _keys(state) as keys:
                rows = keys.describe()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        flags = "active" if row["active"] else ("retired" if row["retired"] else "published")
        typer.echo(f"{row['kid']}  {row['alg']}  {flags}")


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    alg: Annotated[
        str | None, typer.Option("--alg", help="EdDSA or ES256 (direct mode; default: the current key's).")
    ] = None,
) -> None:
    """A new key signs from now on; the previous one stays published, so past attestations verify."""
    state = state_of(ctx)
    if alg is not None and alg not in ("EdDSA", "ES256"):
        raise typer.BadParameter("--alg is EdDSA or ES256")
    with guard():
        if state.gateway:
            kid = _call(_gateway(state), "POST", "/v1/governance/attestation-keys/rotate").json()["kid"]
        else:
            with _keys(state) as keys:
                chosen: AttestationAlgorithm | None = alg  # type: ignore[assignment]
                kid = keys.rotate(chosen)
    typer.echo(f"attestation key {kid} signs from now on; earlier keys stay published")


__all__ = ["attest_app"]
