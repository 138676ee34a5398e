"""The files of an N-validator Besu QBFT network for the registry, built in memory and then written.

Every choice below is one the registry's ledger profile (``EBL_LEDGER=qbft``, registry/config.py)
relies on:

- **finality**: QBFT with block-header validator selection; a block sealed by ``ceil(2n/3)`` validators
  is final and never reorganised, so the registry runs with ``EBL_CONFIRMATIONS=0``;
- **no gas price**: ``zeroBaseFee`` in the genesis and ``min-gas-price=0`` on every node; the registry
  sends legacy transactions at gas price 0, so no account needs a balance (the genesis funds nobody);
- **block gas limit** raised to ``gas_limit`` (one batch carries hundreds of title actions) and held there
  by ``target-gas-limit``;
- **EVM**: the milestones up to the contracts' ``evmVersion`` (contracts/compiler.json) are active from
  block 0;
- **permissioning**: local allowlists; only the registry's operators and its members' keys may send
  (:mod:`deploy.besu.accounts`), only the network's own nodes may connect; discovery is off and peers are
  the static nodes;
- **history**: ``data-storage-format=FOREST`` keeps every historical state (an archive), since audit
  bundles read proofs at past blocks (``eth_getProof``) and an index rebuild reads every log.

The nodes sit on a compose network with fixed addresses, so enode URLs carry IPs (Besu resolves no DNS
names in enode URLs unless told to).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploy.besu.accounts import OPERATORS, Allowlist
from deploy.besu.keys import NodeKey, new_node_key
from registry.chain.build import project_root
from registry.chain.qbft import genesis_extra_data
from registry.errors import ConfigurationError
from registry.keys import KeyStore, PassphraseSource

__all__ = [
    "BESU_IMAGE",
    "POSTGRES_IMAGE",
    "Network",
    "NetworkSpec",
    "create_operator_keys",
    "generate",
    "write_network",
]

BESU_IMAGE = "hyperledger/besu:25.10.0"
POSTGRES_IMAGE = "postgres:17"
MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The constant mixHash of every BFT block ("ctical byzantine fault tolerance")."""
P2P_PORT = 30303
RPC_PORT = 8545
METRICS_PORT = 9545

# Genesis milestones, in order; a network runs the contracts' EVM version and every one before it.
_MILESTONES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("berlin", ("berlinBlock",)),
    ("london", ("londonBlock",)),
    ("shanghai", ("shanghaiTime",)),
    ("cancun", ("cancunTime",)),
    ("prague", ("pragueTime",)),
)


@dataclass(frozen=True)
class NetworkSpec:
    """What the operator chooses for a network.

    Attributes:
        validators: how many validators (4 tolerates one faulty; 3f+1 tolerates f).
        chain_id: the EIP-155 chain id (also in every EIP-712 domain the registry signs).
        block_period: seconds between blocks (``blockperiodseconds``).
        request_timeout: seconds a round waits before validators move to the next (``requesttimeoutseconds``).
        epoch_length: blocks between epochs, at which pending validator votes are discarded.
        gas_limit: the block gas limit, at genesis and as every node's target.
        subnet: the compose network's addresses; the nodes take the first ones after the gateway.
        evm_version: the contracts' EVM version (default: contracts/compiler.json).
    """

    validators: int = 4
    chain_id: int = 2027
    block_period: int = 2
    request_timeout: int = 6
    epoch_length: int = 30_000
    gas_limit: int = 1_000_000_000
    subnet: str = "172.16.240.0/24"
    evm_version: str = field(default_factory=lambda: _compiler_evm_version())

    def __post_init__(self) -> None:
        if self.validators < 1:
            raise ConfigurationError("a QBFT network needs at least one validator")
        if self.block_period < 1:
            raise ConfigurationError("blockperiodseconds is at least 1")
        if self.request_timeout <= self.block_period:
            raise ConfigurationError(
                f"requesttimeoutseconds ({self.request_timeout}) must exceed blockperiodseconds "
                f"({self.block_period}), or every round times out before its block is due"
            )
        if self.epoch_length < 1 or self.chain_id < 1 or self.gas_limit < 21_000:
            raise ConfigurationError("epoch length, chain id and gas limit must be positive (gas ≥ 21000)")
        if self.evm_version not in {name for name, _ in _MILESTONES}:
            raise ConfigurationError(f"no genesis milestone for EVM version {self.evm_version}")
        if len(self.hosts()) < self.validators:
            raise ConfigurationError(f"the subnet {self.subnet} has no room for {self.validators} nodes")

    def hosts(self) -> list[str]:
        """Addresses for the validators, then the registry and the database."""
        return [str(h) for h in list(ipaddress.ip_network(self.subnet).hosts())[1 : self.validators + 3]]


@dataclass(frozen=True)
class Network:
    """A generated network: keys and the contents of every file, by path relative to the output folder."""

    spec: NetworkSpec
    keys: tuple[NodeKey, ...]
    allowlist: Allowlist
    files: Mapping[str, str]
    secret_files: frozenset[str]
    """Files holding a private key (written with mode 0600)."""

    @property
    def validators(self) -> list[str]:
        return [k.address for k in self.keys]


def create_operator_keys(out: Path, kdf_n: int = 2**18) -> dict[str, str]:
    """Create the registry's keystore under ``out/registry/keys`` with the relayer, governance and bridge
    keys (the registry finds them there by name at its first start), locked with a fresh passphrase
    written to ``out/secrets/keystore-passphrase`` (0600). Returns their addresses by role."""
    passphrase = out / "secrets" / "keystore-passphrase"
    if passphrase.exists():
        raise ConfigurationError(f"{passphrase} exists: this folder already has a registry keystore")
    _write_secret(passphrase, secrets.token_urlsafe(32))
    keystore = KeyStore(out / "registry" / "keys", PassphraseSource.from_file(passphrase), kdf_n=kdf_n)
    return {role: keystore.create_key(role, label=role).address for role in OPERATORS}


def generate(
    spec: NetworkSpec,
    allowlist: Allowlist,
    keys: Sequence[NodeKey] | None = None,
    *,
    source: str = "../..",
) -> Network:
    """Build every file of a network (fresh node keys unless given); ``source`` is the registry's source
    tree the compose file builds the registry image from."""
    node_keys = tuple(keys) if keys is not None else tuple(new_node_key() for _ in range(spec.validators))
    if len(node_keys) != spec.validators:
        raise ConfigurationError(f"{len(node_keys)} keys for {spec.validators} validators")
    hosts = spec.hosts()
    names = [f"validator-{i}" for i in range(1, spec.validators + 1)]
    enodes = [k.enode(hosts[i], P2P_PORT) for i, k in enumerate(node_keys)]

    db_password = secrets.token_urlsafe(24)
    files: dict[str, str] = {
        "genesis.json": _json(genesis(spec, [k.address for k in node_keys])),
        "static-nodes.json": _json(enodes),
        "permissions_config.toml": _toml(
            {"accounts-allowlist": allowlist.accounts, "nodes-allowlist": enodes}
        ),
        "registry.env": _registry_env(spec, names[0], hosts, db_password),
        "secrets/postgres-password": db_password,
        "docker-compose.yml": yaml.safe_dump(compose(spec, names, source), sort_keys=False),
    }
    private = {"registry.env", "secrets/postgres-password"}
    for name, key in zip(names, node_keys, strict=True):
        files[f"{name}/config.toml"] = _toml(node_config(spec))
        files[f"{name}/key"] = key.key_file()
        files[f"{name}/key.pub"] = key.public_key_file()
        private.add(f"{name}/key")
    return Network(spec, node_keys, allowlist, files, frozenset(private))


def write_network(network: Network, out: Path) -> list[Path]:
    """Write the network's files under ``out`` (refusing to overwrite a network already there: its
    keys would be lost). Private keys get mode 0600."""
    if (out / "genesis.json").exists():
        raise ConfigurationError(f"{out} already holds a network (genesis.json); choose another folder")
    written = []
    for relative, text in network.files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if relative in network.secret_files:
            _write_secret(path, text)
        else:
            path.write_text(text)
        written.append(path)
    return written


def genesis(spec: NetworkSpec, validators: Sequence[str]) -> dict[str, Any]:
    """The genesis: QBFT with the validators in ``extraData`` (no vote, round 0, no seals), no gas price,
    the raised gas limit, the EVM milestones up to the contracts' version, nobody funded."""
    config: dict[str, Any] = {"chainId": spec.chain_id}
    for name, keys in _MILESTONES:
        config.update(dict.fromkeys(keys, 0))
        if name == spec.evm_version:
            break
    config["zeroBaseFee"] = True
    config["qbft"] = {
        "blockperiodseconds": spec.block_period,
        "epochlength": spec.epoch_length,
        "requesttimeoutseconds": spec.request_timeout,
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(spec.gas_limit),
        "difficulty": "0x1",
        "mixHash": MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "alloc": {},
        "extraData": "0x" + genesis_extra_data(validators).hex(),
    }


def node_config(spec: NetworkSpec) -> dict[str, Any]:
    """One validator's config.toml (paths as mounted by the compose file)."""
    return {
        "data-path": "/opt/besu/data",
        "genesis-file": "/config/genesis.json",
        "node-private-key-file": "/config/node/key",
        "data-storage-format": "FOREST",
        "sync-mode": "FULL",
        "p2p-host": "0.0.0.0",
        "p2p-port": P2P_PORT,
        "discovery-enabled": False,
        "static-nodes-file": "/config/static-nodes.json",
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": "/config/permissions_config.toml",
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": "/config/permissions_config.toml",
        "min-gas-price": 0,
        "target-gas-limit": spec.gas_limit,
        "rpc-http-enabled": True,
        "rpc-http-host": "0.0.0.0",
        "rpc-http-port": RPC_PORT,
        "rpc-http-api": ["ETH", "NET", "WEB3", "QBFT", "TXPOOL"],
        "host-allowlist": ["*"],
        "revert-reason-enabled": True,
        "metrics-enabled": True,
        "metrics-host": "0.0.0.0",
        "metrics-port": METRICS_PORT,
    }


def compose(spec: NetworkSpec, names: Sequence[str], source: str = "../..") -> dict[str, Any]:
    """docker-compose: the validators, PostgreSQL and the registry's gateway on one network."""
    hosts = spec.hosts()
    services: dict[str, Any] = {}
    for i, name in enumerate(names):
        services[name] = {
            "image": BESU_IMAGE,
            "command": ["--config-file=/config/node/config.toml"],
            "volumes": [
                "./genesis.json:/config/genesis.json:ro",
                "./static-nodes.json:/config/static-nodes.json:ro",
                "./permissions_config.toml:/config/permissions_config.toml",
                f"./{name}:/config/node:ro",
                f"{name}-data:/opt/besu/data",
            ],
            "networks": {"ledger": {"ipv4_address": hosts[i]}},
            "restart": "unless-stopped",
        }
        if i == 0:  # the registry's node; operators reach its RPC and metrics on loopback only
            services[name]["ports"] = [
                f"127.0.0.1:{RPC_PORT}:{RPC_PORT}",
                f"127.0.0.1:{METRICS_PORT}:{METRICS_PORT}",
            ]
    db_host, registry_host = hosts[len(names) + 1], hosts[len(names)]
    services["postgres"] = {
        "image": POSTGRES_IMAGE,
        "environment": {
            "POSTGRES_DB": "registry",
            "POSTGRES_USER": "registry",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres-password",
        },
        "secrets": ["postgres-password"],
        "volumes": ["postgres-data:/var/lib/postgresql/data"],
        "networks": {"ledger": {"ipv4_address": db_host}},
        "healthcheck": {
            "test": ["CMD-SHELL", "pg_isready -U registry -d registry"],
            "interval": "5s",
            "retries": 12,
        },
        "restart": "unless-stopped",
    }
    services["registry"] = {
        "build": {"context": source, "dockerfile": "deploy/besu/Dockerfile"},
        "command": ["ebl", "serve", "--host", "0.0.0.0", "--port", "8000"],
        "env_file": ["registry.env"],
        "secrets": ["keystore-passphrase"],
        "volumes": ["registry-data:/data", "./registry/keys:/keys"],
        "ports": ["8000:8000"],
        "depends_on": {
            "postgres": {"condition": "service_healthy"},
            names[0]: {"condition": "service_started"},
        },
        "networks": {"ledger": {"ipv4_address": registry_host}},
        "restart": "unless-stopped",
    }
    return {
        "name": "ebl-ledger",
        "services": services,
        "networks": {"ledger": {"ipam": {"config": [{"subnet": spec.subnet}]}}},
        "volumes": {v: {} for v in [*(f"{n}-data" for n in names), "postgres-data", "registry-data"]},
        "secrets": {
            "postgres-password": {"file": "./secrets/postgres-password"},
            "keystore-passphrase": {"file": "./secrets/keystore-passphrase"},
        },
    }


def _registry_env(spec: NetworkSpec, rpc_node: str, hosts: Sequence[str], db_password: str) -> str:
    db_host = hosts[spec.validators + 1]
    lines = {
        "EBL_ENV": "production",
        "EBL_LEDGER": "qbft",
        "EBL_RPC_URL": f"http://{hosts[0]}:{RPC_PORT}",
        "EBL_CONFIRMATIONS": "0",
        "EBL_CHAIN_GAS_LIMIT": str(spec.gas_limit),
        "EBL_DATA_DIR": "/data",
        "EBL_DATABASE_URL": f"postgresql+psycopg://registry:{db_password}@{db_host}:5432/registry",
        "EBL_KEYSTORE_DIR": "/keys",
        "EBL_KEYSTORE_PASSPHRASE_FILE": "/run/secrets/keystore-passphrase",
    }
    header = f"# the registry on the QBFT network (its node: {rpc_node}); written by python -m deploy.besu\n"
    return header + "".join(f"{k}={v}\n" for k, v in lines.items())


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def _toml(table: Mapping[str, Any]) -> str:
    """Flat TOML (strings, integers, booleans, lists of strings), which is all Besu's files use. Written
    here rather than with a TOML writer package (a new dependency for these few lines): TOML basic
    strings and arrays of them are JSON's, booleans are lower case, and the tests read every file
    back with the standard library's tomllib."""
    lines = []
    for key, value in table.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            text = json.dumps(value, ensure_ascii=True)
        else:
            raise TypeError(f"{key}: {type(value).__name__} is not written to Besu's TOML")
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def _compiler_evm_version() -> str:
    compiler = json.loads((project_root() / "contracts" / "compiler.json").read_text())
    return str(compiler["evmVersion"])
