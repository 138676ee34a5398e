"""Audit bundles: ``ebl audit verify BUNDLE --jwks JWKS_FILE`` re-derives an eBL's chain of custody offline
(no network, no registry): the bundle (``GET /v1/auditors/ebls/{id}/bundle``) and the registry's JWK set
(``/.well-known/jwks.json``) are all it reads. On a Besu QBFT network, ``--qbft-genesis GENESIS`` (or
``--validators FILE``) trusts the validators' commit seals on every header instead, and needs no JWK set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from registry.cli._render import print_json
from registry.cli.attest import _read_jwks
from registry.cli.options import JsonOut
from registry.cli.root import app, fail
from registry.cli.validators import QbftGenesis, Validators, read_validators, require_trust_root
from registry.proofs.audit import verify_bundle
from registry.proofs.errors import ProofError

audit_app = typer.Typer(
    help="Audit bundles: an eBL's chain of custody, verified offline.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The audit bundle (JSON) from the gateway.")],
    jwks: Annotated[
        Path | None,
        typer.Option("--jwks", metavar="JWKS_FILE", help="The registry's JWK set (/.well-known/jwks.json)."),
    ] = None,
    qbft_genesis: QbftGenesis = None,
    validators: Validators = None,
    as_json: JsonOut = False,
) -> None:
    """Verify an audit bundle offline: the trust root (the signed head under --jwks, or the QBFT commit
    seals of every header under --qbft-genesis / --validators), every header and parent link, every
    transaction and receipt proof, the registry's events, each actor's entitlement, the document hash.
    Prints the timeline in DCSA words. Exit 1 with \\[bundle_REASON] on any failure."""
    trust = read_validators(qbft_genesis, validators, "bundle")
    require_trust_root(jwks, trust, "bundle")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail("bundle_malformed", f"cannot read {file}: {exc}")
    try:
        checked = verify_bundle(data, None if jwks is None else _read_jwks(jwks), validators=trust)
    except ProofError as exc:
        fail(f"bundle_{exc.reason}", str(exc))
    if as_json:
        print_json(
            {
                "verified": True,
                "eblId": str(checked.ebl_id),
                "kid": checked.kid,
                "trust": checked.trust,
                "votes": checked.votes,
                "headBlock": checked.head.number,
                "headHash": checked.head.hash,
                "firstBlock": checked.first.number,
                "holder": checked.holder,
                "status": checked.status,
                "unchecked": checked.unchecked,
                "signedActions": checked.signed,
                "keysProven": checked.keys_proven,
                "keyNotes": checked.key_notes,
                "predecessor": None if checked.predecessor is None else str(checked.predecessor),
                "successor": None if checked.successor is None else str(checked.successor),
                "timeline": [
                    {
                        "seq": t.seq,
                        "action": t.action,
                        "actor": t.actor,
                        "counterparty": t.counterparty,
                        "actorKey": t.actor_key,
                        "blockNumber": t.block_number,
                        "timestamp": t.timestamp,
                        "txHash": t.tx_hash,
                    }
                    for t in checked.timeline
                ],
            }
        )
        return
    typer.echo(
        f"VERIFIED audit bundle of eBL {checked.ebl_id}: "
        f"blocks {checked.first.number}..{checked.head.number}, "
        f"head {checked.head.hash}"
    )
    typer.echo(f"trust: {checked.trust}")
    for vote in checked.votes:
        typer.echo(f"  {vote}")
    if checked.kid is None:
        typer.echo("not checked: the registry's signed head (actionCount, that no last action is left out)")
    for t in checked.timeline:
        typer.echo(f"  {t.line()}")
    typer.echo(f"now {checked.status}, held by {checked.holder}")
    typer.echo(
        f"{checked.signed} of {len(checked.timeline)} actions EIP-712-signed by the acting key (checked)"
    )
    typer.echo(
        f"{checked.keys_proven} of {len(checked.timeline)} acting keys proven active for their organisation "
        "at their block (storage proof)"
    )
    for note in checked.key_notes:
        typer.echo(f"  {note}")
    if checked.predecessor is not None:
        typer.echo(f"amends eBL {checked.predecessor} (verify its own bundle)")
    if checked.successor is not None:
        typer.echo(f"amended by eBL {checked.successor} (verify its own bundle)")
    if checked.unchecked:
        typer.echo(f"entitlement not checked for actions {checked.unchecked} (identity proven only)")
