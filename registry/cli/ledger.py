"""``ebl ledger``: the registry's contract on its ledger (operators, direct mode only).

``ebl ledger deploy`` is the one way to deploy the registry on a production ledger (a Besu QBFT network
written by ``python -m deploy.besu``): the gateway in production refuses to start without the deployment
manifest, so that it never deploys a second registry by accident on a ledger it was pointed at.
"""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli._render import print_json, print_key_value
from registry.cli.root import app, fail, guard, state_of

ledger_app = typer.Typer(help="The registry's contract on its ledger (operators; direct mode).")
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("deploy")
def deploy(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the deployment as JSON.")] = False,
) -> None:
    """Deploy the registry on EBL_RPC_URL with the keystore's governance key (created if missing) and
    write the deployment manifest; refused when the data folder already holds one."""
    state = state_of(ctx)
    if state.gateway:
        fail("direct_mode_only", "deploying needs the keystore and the ledger: run it without --gateway")
    from registry.runtime import Runtime

    with guard(), Runtime.open(state.settings(), follow=False, holder="ebl ledger deploy", deploy=True) as rt:
        d = rt.deployment
        rows = {
            "address": d.address,
            "chainId": d.chain_id,
            "blockNumber": d.block_number,
            "transactionHash": d.transaction_hash,
            "governance": d.governance,
            "relayer": rt.relayer.address,
            "bridge": rt.bridge.address,
            "manifest": str(rt.settings.manifest_path),
        }
    if as_json:
        print_json(rows)
    else:
        print_key_value("Registry deployed", list(rows.items()))
