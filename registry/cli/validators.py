"""The ``--qbft-genesis`` / ``--validators`` options of the offline verifiers (``ebl audit verify``,
``ebl attest verify``): the Besu QBFT validator set whose commit seals a verifier trusts instead of the
registry's signature (:mod:`registry.proofs.seals`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from registry.cli.root import fail
from registry.proofs.errors import ProofError
from registry.proofs.seals import ValidatorTrust, load_validators

__all__ = ["QbftGenesis", "Validators", "read_validators", "require_trust_root"]

QbftGenesis = Annotated[
    Path | None,
    typer.Option(
        "--qbft-genesis",
        metavar="GENESIS",
        help="The Besu QBFT network's genesis.json (deploy/besu): trust the validators' commit seals.",
    ),
]
Validators = Annotated[
    Path | None,
    typer.Option(
        "--validators",
        metavar="FILE",
        help='A JSON list of validator addresses (or {"validators": [...], "chainId": N}) to trust.',
    ),
]


def read_validators(genesis: Path | None, validators: Path | None, prefix: str) -> ValidatorTrust | None:
    """The validator set of ``--qbft-genesis`` or ``--validators`` (at most one), or None."""
    if genesis is not None and validators is not None:
        fail(f"{prefix}_malformed", "give --qbft-genesis or --validators, not both")
    path = genesis or validators
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"{prefix}_validator_set", f"cannot read {path}: {exc}")
    try:
        trust = load_validators(data)
    except ProofError as exc:
        fail(f"{prefix}_{exc.reason}", f"{path}: {exc}")
    if genesis is not None and trust.source != "genesis":
        fail(f"{prefix}_validator_set", f"{path} is not a genesis file (use --validators for a list)")
    return trust


def require_trust_root(jwks: Path | None, trust: ValidatorTrust | None, prefix: str) -> None:
    """Exit with ``[PREFIX_no_trust_root]`` unless a JWK set or a validator set is given."""
    if jwks is None and trust is None:
        roots = "--jwks JWKS_FILE, or --qbft-genesis GENESIS / --validators FILE"
        fail(f"{prefix}_no_trust_root", f"give {roots}")
