"""Deploy the registry once, record where, and refuse a chain whose code is not ours.

The manifest (JSON in the data directory) records address, chain id, deployment block, transaction
and the source hash of the artifact, so a restarted registry finds its contract again, the indexer
knows where to start, and :func:`verify_deployment` can compare the code on chain with the code this
checkout builds (immutables masked: the EIP-712 domain is cached in them at construction).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3 import Web3

from registry.chain.artifacts import Artifact, load_artifact
from registry.errors import DeploymentMismatchError, TransactionFailedError

__all__ = ["Deployment", "TransactionSigner", "deploy", "verify_deployment"]


class TransactionSigner(Protocol):
    """Anything with an address that signs transactions: a :class:`registry.keys.Signer` (raw bytes)
    or an eth-account ``LocalAccount`` (a ``SignedTransaction``)."""

    @property
    def address(self) -> Any: ...

    def sign_transaction(self, tx: Any) -> Any: ...


@dataclass(frozen=True)
class Deployment:
    """Where the registry lives on one chain."""

    address: ChecksumAddress
    chain_id: int
    block_number: int
    transaction_hash: str
    source_hash: str
    governance: ChecksumAddress

    def save(self, path: Path) -> None:
        """Write the manifest atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a manifest written by :meth:`save`."""
        data: dict[str, Any] = json.loads(path.read_text())
        data["address"] = to_checksum_address(data["address"])
        data["governance"] = to_checksum_address(data["governance"])
        return cls(**data)


def deploy(
    w3: Web3,
    deployer: TransactionSigner,
    governance: str | None = None,
    *,
    bridge: str | None = None,
    artifact: Artifact | None = None,
    gas_price: int | None = None,
) -> Deployment:
    """Deploy ``TitleRegistry`` from ``deployer``; ``governance`` (default: deployer) gets the admin roles.

    ``bridge`` (default: none) is the registry's bridge key, granted ``CROSS_PLATFORM_ROLE`` by the
    constructor: the one account that ends exports to, and records imports from, other platforms
    (PINT). The role administers itself, so it can only be given here, never later by governance.

    Raises:
        TransactionFailedError: when the deployment transaction fails.
    """
    artifact = artifact or load_artifact()
    gov = to_checksum_address(governance or deployer.address)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    bridge_key = to_checksum_address(bridge) if bridge else to_checksum_address("0x" + "00" * 20)
    tx = factory.constructor(gov, bridge_key).build_transaction(
        {
            "from": deployer.address,
            "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
            "chainId": w3.eth.chain_id,
            **({"gasPrice": gas_price} if gas_price is not None else {}),
        }
    )
    signed = deployer.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(bytes(getattr(signed, "raw_transaction", signed)))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    contract_address = receipt.get("contractAddress")
    if receipt["status"] != 1 or contract_address is None:
        raise TransactionFailedError(f"deployment transaction {tx_hash.hex()} failed")
    deployment = Deployment(
        address=to_checksum_address(contract_address),
        chain_id=w3.eth.chain_id,
        block_number=int(receipt["blockNumber"]),
        transaction_hash="0x" + bytes(tx_hash).hex(),
        source_hash=artifact.source_hash,
        governance=gov,
    )
    verify_deployment(w3, deployment, artifact)
    return deployment


def _masked(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    buf = bytearray(code)
    for start, length in ranges:
        buf[start : start + length] = bytes(length)
    return bytes(buf)


def verify_deployment(w3: Web3, deployment: Deployment, artifact: Artifact | None = None) -> None:
    """Refuse to talk to a chain whose code at the recorded address is not the code we build.

    Raises:
        DeploymentMismatchError: wrong chain id, no code, or different code.
    """
    artifact = artifact or load_artifact()
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        raise DeploymentMismatchError(
            f"connected to chain {chain_id}, but the registry was deployed on chain {deployment.chain_id}"
        )
    code = bytes(w3.eth.get_code(deployment.address))
    if not code:
        raise DeploymentMismatchError(f"no contract code at {deployment.address} on chain {chain_id}")
    expected = artifact.deployed_bytecode
    if len(code) != len(expected) or _masked(code, artifact.immutable_ranges) != _masked(
        expected, artifact.immutable_ranges
    ):
        raise DeploymentMismatchError(
            f"the code at {deployment.address} is not TitleRegistry "
            f"built from source {artifact.source_hash[:12]}"
        )
