"""`make run` until the gateway lands: the embedded chain, deployed once, state kept in the data folder.

Starts anvil on 127.0.0.1 as the gateway does (on-demand mining, raised gas limit, state persisted to
``$EBL_DATA_DIR/chain/state.json``), deploys TitleRegistry on first start (manifest in
``$EBL_DATA_DIR/deployment.json``), verifies the code on every later start, and serves until Ctrl-C.

The deployer is anvil's first development account: it exists only on this embedded local chain.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from eth_account import Account
from web3 import Web3

from registry.chain.anvil import AnvilProcess
from registry.chain.deploy import Deployment, deploy, verify_deployment
from registry.config import Settings
from registry.data_lock import DataFolderLock
from registry.errors import RegistryInUseError
from registry.runtime import embedded_anvil_config

# anvil's well-known first development account (mnemonic "test test ... junk"); local chain only.
_ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("EBL_DATA_DIR", "data")))
    parser.add_argument("--block-time", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=int(os.environ.get("EBL_CHAIN_PORT", "0")) or None)
    args = parser.parse_args()

    data: Path = args.data_dir
    manifest = data / "deployment.json"
    # as the gateway runs it (on-demand mining, bounded history, EBL_CHAIN_* settings; docs/ledger.md)
    settings = Settings(data_dir=data, chain_block_time=args.block_time, chain_port=args.port)
    config = embedded_anvil_config(settings)
    try:  # the same data folder lock as the runtime's: neither may stop the other's chain
        lock = DataFolderLock(data).acquire("the development chain (make chain)")
    except RegistryInUseError as exc:
        raise SystemExit(f"[{exc.code}] {exc}") from None
    with AnvilProcess(config) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        if manifest.exists():
            deployment = Deployment.load(manifest)
            verify_deployment(w3, deployment)
            print(f"registry found at {deployment.address} (deployed in block {deployment.block_number})")
        else:
            deployment = deploy(w3, Account.from_key(_ANVIL_DEV_KEY))
            deployment.save(manifest)
            print(f"registry deployed at {deployment.address} (block {deployment.block_number})")
        print(f"chain: {node.url} (chain id {deployment.chain_id}, anvil pid {node.pid}); Ctrl-C stops")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    lock.release()
    print("stopped; chain state saved in", config.state_path)


if __name__ == "__main__":
    main()
