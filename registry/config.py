"""One settings object for the whole registry, read from ``EBL_*`` environment variables.

Development (the default) needs nothing: an embedded anvil in the data folder, SQLite, a keystore whose
passphrase is generated once into a 0600 secret file. Production refuses to start on those defaults:
it needs an explicit ledger URL, database URL and keystore passphrase source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.errors import ConfigurationError

__all__ = ["LEDGER_PROFILES", "LedgerKind", "LedgerProfile", "Settings"]

LedgerKind = Literal["embedded", "hardhat", "qbft"]


@dataclass(frozen=True)
class LedgerProfile:
    """What the registry may assume about its ledger, per kind of node (``EBL_LEDGER``).

    Every kind is a single-finality chain: a receipt is final in the block that holds it
    (``confirmations`` 0) and no block is ever replaced by a competing one. What differs is who pays
    for gas, whether the node takes development calls, and whether a restart can lose blocks.
    """

    kind: LedgerKind
    finality: Literal["immediate"]
    """A mined (QBFT: sealed) block is final at once; nothing waits for blocks on top of it."""
    confirmations: int
    """Blocks a receipt needs on top of it before it is final: 0 on every kind (``EBL_CONFIRMATIONS``
    may ask for more on a development chain; on QBFT anything but 0 is refused)."""
    reorgs: bool
    """Whether a competing chain can replace final blocks (never: one sequencer, or BFT consensus)."""
    gas_price: int | None
    """A fixed legacy gas price (wei) for the registry's transactions; None follows the node's fees."""
    dev_funding: bool
    """Whether the node gives operator accounts gas money on request (``anvil_setBalance``…)."""
    rollback_on_restart: bool
    """Whether a restarted node can come back behind blocks already answered final (the watchdog then
    resubmits from the journal): anvil reloads its last state dump, the Hardhat node keeps none."""


_DEVELOPMENT_NODE = LedgerProfile(
    kind="embedded",
    finality="immediate",
    confirmations=0,
    reorgs=False,
    gas_price=None,
    dev_funding=True,
    rollback_on_restart=True,
)
LEDGER_PROFILES: dict[LedgerKind, LedgerProfile] = {
    "embedded": _DEVELOPMENT_NODE,
    "hardhat": replace(_DEVELOPMENT_NODE, kind="hardhat"),  # the same promises as anvil
    "qbft": LedgerProfile(
        kind="qbft",
        finality="immediate",
        confirmations=0,
        reorgs=False,
        gas_price=0,
        dev_funding=False,
        rollback_on_restart=False,
    ),
}
"""The profile of each ledger kind. QBFT (Besu): a block sealed by ceil(2n/3) validators is final and
never reorganised, and a permissioned network charges no gas (``min-gas-price=0``, ``zeroBaseFee``)."""


class Settings(BaseSettings):
    """Registry settings (environment variables ``EBL_<NAME>``)."""

    # EBL_CHAIN_TX_KEPT=none (any optional setting whose default is not None): "keep anvil's own limit"
    model_config = SettingsConfigDict(env_prefix="EBL_", extra="ignore", env_parse_none_str="none")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")

    rpc_url: str | None = Field(default=None, description="EVM JSON-RPC URL; unset: embedded anvil")
    ledger: LedgerKind = Field(
        default="embedded",
        description="the kind of node at rpc_url: embedded (anvil, started by the registry when rpc_url is "
        "unset), hardhat (a Hardhat node) or qbft (a Besu QBFT network); see LEDGER_PROFILES",
    )
    chain_block_time: float = Field(default=1.0, gt=0, description="embedded anvil: seconds per block")
    chain_on_demand: bool = Field(
        default=True,
        description="embedded anvil: mine a block only when transactions wait (at most one per "
        "chain_block_time), not an empty block every interval; needed for chain_states_kept to hold "
        "(docs/ledger.md)",
    )
    chain_states_kept: int | None = Field(
        default=4,
        ge=4,
        description="embedded anvil: historical states kept in memory, each a full copy of the state "
        "(reads older than this many blocks fail; the registry reads at a head cached for a fraction "
        "of a block, at most one block old); none: anvil's own limits, which grow memory with "
        "eBLs x blocks (docs/ledger.md)",
    )
    chain_tx_kept: int | None = Field(
        default=64,
        ge=8,
        description="embedded anvil: blocks whose transactions, receipts and logs the node keeps "
        "(--transaction-block-keeper); older ones live only in the registry's own verified chain "
        "archive, which the index follower fills continuously. If the archive falls further behind, "
        "it stops with a gap error (logged, /readyz not ready) rather than lose history; none: the "
        "node keeps every transaction forever (docs/ledger.md)",
    )
    chain_state_interval: int = Field(
        default=5,
        ge=1,
        le=300,
        description="embedded anvil: the shortest time in seconds between state dumps; a larger state "
        "is dumped less often (a hundred times the last dump's duration, on demand; sized at start-up "
        "otherwise), up to chain_state_interval_max, so that mining pauses for dumps about 1 % of the time; "
        "what a crash loses since the last dump, the operation journal resubmits (docs/ledger.md)",
    )
    chain_state_interval_max: int = Field(
        default=300,
        ge=1,
        le=900,
        description="embedded anvil: the longest time in seconds between state dumps, however large the "
        "state; never more than a quarter of signature_ttl is used (recovery resubmits signed entries "
        "from the journal, and their signatures expire)",
    )
    chain_gas_limit: int = Field(default=1_000_000_000, gt=0)
    chain_port: int | None = None
    confirmations: int = Field(default=0, ge=0, description="blocks before a receipt is final (QBFT: 0)")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; unset: SQLite in data_dir")

    keystore_dir: Path | None = None
    keystore_passphrase_file: Path | None = None
    keystore_passphrase_env: str | None = None
    keystore_kdf_n: int = 2**18

    relayer_max_batch: int = Field(default=400, ge=1, le=2000)
    relayer_max_delay: float = Field(default=0.05, ge=0)
    signature_ttl: int = Field(default=3600, gt=0)

    platform_code: str = Field(
        default="EBLR",
        min_length=1,
        max_length=4,
        pattern=r"^\S+$",
        description="this registry's eBL platform code (DCSA eblPlatform): in PINT envelopes, in the "
        "endorsement chain, and in the carriers' DCSA callbacks",
    )
    platform_name: str = Field(default="eBL title registry", min_length=1, max_length=200)
    pint_url: str | None = Field(
        default=None,
        description="the base URL other platforms reach our /v3 endpoints at (shown to operators)",
    )
    pint_retry_interval: float = Field(
        default=5.0, gt=0, description="seconds between resumes of unfinished outgoing PINT transfers"
    )

    attestation_alg: Literal["EdDSA", "ES256"] = Field(
        default="EdDSA",
        description="the algorithm of an attestation key created now (title attestations, JWS); existing "
        "keys keep theirs",
    )

    rate_limit_file: Path | None = Field(
        default=None,
        description="SQLite file in which every gateway process on this host counts each credential's "
        "requests (several workers); unset: each process counts its own",
    )

    dcsa_apis: bool = Field(
        default=False,
        description="serve the DCSA platform APIs (Issuance, Surrender, Endorsement Chain) under /v3 and "
        "deliver the carriers' callbacks, as platform_code; off: those paths answer 404",
    )
    dcsa_callback_timeout: float = Field(default=10.0, gt=0, description="seconds per DCSA callback")
    dcsa_callback_max_backoff: float = Field(
        default=300.0, gt=0, description="most seconds between two attempts at a DCSA callback"
    )

    @model_validator(mode="after")
    def _refuse_contradicting_ledger(self) -> Settings:
        if self.ledger != "embedded" and self.rpc_url is None:
            raise ConfigurationError(
                f"EBL_LEDGER={self.ledger} needs EBL_RPC_URL: the only node the registry starts is anvil"
            )
        if self.ledger == "qbft" and self.confirmations != 0:
            raise ConfigurationError(
                f"EBL_CONFIRMATIONS={self.confirmations} contradicts QBFT, whose blocks are final once "
                "sealed and never reorganised: use 0"
            )
        return self

    @model_validator(mode="after")
    def _refuse_contradicting_state_intervals(self) -> Settings:
        if self.chain_state_interval_max < self.chain_state_interval:
            raise ConfigurationError(
                f"EBL_CHAIN_STATE_INTERVAL_MAX={self.chain_state_interval_max} is shorter than "
                f"EBL_CHAIN_STATE_INTERVAL={self.chain_state_interval}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env != "production":
            return self
        missing = [
            name
            for name, value in (
                ("EBL_RPC_URL", self.rpc_url),
                ("EBL_DATABASE_URL", self.database_url),
                (
                    "EBL_KEYSTORE_PASSPHRASE_FILE or EBL_KEYSTORE_PASSPHRASE_ENV",
                    self.keystore_passphrase_file or self.keystore_passphrase_env,
                ),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"production needs explicit settings: {', '.join(missing)}")
        if self.keystore_kdf_n < 2**18:
            raise ConfigurationError("production keystores need a scrypt cost of at least 2**18")
        return self

    @property
    def ledger_profile(self) -> LedgerProfile:
        """What the registry may assume about its ledger (finality, reorgs, gas, development calls)."""
        return LEDGER_PROFILES[self.ledger]

    @property
    def embedded_chain(self) -> bool:
        """True when the registry runs its own anvil."""
        return self.rpc_url is None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'registry.db').resolve()}"

    @property
    def resolved_keystore_dir(self) -> Path:
        """Where keystores live."""
        return self.keystore_dir or self.data_dir / "keys"

    @property
    def manifest_path(self) -> Path:
        """The deployment manifest of the connected chain."""
        return self.data_dir / "deployment.json"

    @property
    def chain_state_path(self) -> Path:
        """The embedded chain's persisted state."""
        return self.data_dir / "chain" / "state.json"
