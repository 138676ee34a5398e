"""An operator deploys the registry on a production ledger with ``ebl ledger deploy``, as the Besu
runbook says (docs/production.md): first refused because the governance account cannot pay, then
deployed once the operator funds it, then refused again because the manifest exists. The ledger is the
session's anvil reached as a plain JSON-RPC URL, and nothing funds the accounts but the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from registry.chain.anvil import AnvilProcess
from registry.chain.deploy import Deployment, verify_deployment

EBL = str(Path(sys.executable).with_name("ebl"))


def _operator_env(tmp: Path, rpc_url: str) -> dict[str, str]:
    secret = tmp / "passphrase"
    secret.write_text("a production passphrase for the test")
    secret.chmod(0o600)
    return {
        **os.environ,
        "EBL_ENV": "production",
        "EBL_LEDGER": "hardhat",  # a JSON-RPC node that charges gas and is not started by us
        "EBL_RPC_URL": rpc_url,
        "EBL_DATA_DIR": str(tmp / "data"),
        "EBL_DATABASE_URL": f"sqlite:///{tmp / 'registry.db'}",
        "EBL_KEYSTORE_PASSPHRASE_FILE": str(secret),
        "COLUMNS": "200",
    }


def _ebl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EBL, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_an_operator_deploys_the_registry_once_after_funding_its_governance_account(
    tmp_path: Path, anvil: AnvilProcess, w3: Web3
) -> None:
    env = _operator_env(tmp_path, anvil.url)

    unfunded = _ebl(env, "ledger", "deploy")
    assert unfunded.returncode == 1, unfunded.stdout + unfunded.stderr
    assert "cannot pay for the deployment" in unfunded.stderr, unfunded.stderr
    found = re.search(r"governance account (0x[0-9a-fA-F]{40})", unfunded.stderr)
    assert found, unfunded.stderr
    assert not (tmp_path / "data" / "deployment.json").exists()

    governance = Web3.to_checksum_address(found.group(1))
    funder = w3.eth.accounts[0]
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": funder, "to": governance, "value": Web3.to_wei(10, "ether")})
    )

    deployed = _ebl(env, "ledger", "deploy", "--json")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    record = json.loads(deployed.stdout)
    assert record["governance"] == governance
    assert record["chainId"] == w3.eth.chain_id
    assert len({record["governance"], record["relayer"], record["bridge"]}) == 3
    manifest = Deployment.load(Path(record["manifest"]))
    assert manifest.address == record["address"]
    verify_deployment(w3, manifest)  # the code on chain is the registry we ship

    again = _ebl(env, "ledger", "deploy")
    assert again.returncode == 1
    assert "already deployed" in again.stderr, again.stderr
