"""The chain: the ledger, the toolchain, transactions and the contracts' custom errors."""

from __future__ import annotations

from enum import Enum

from registry.errors.base import RegistryError

__all__ = [
    "ArchiveError",
    "ArchiveGapError",
    "ArchiveMismatchError",
    "ChainError",
    "ContractRevertError",
    "DeploymentMismatchError",
    "LedgerUnavailableError",
    "StateNotKeptError",
    "ToolchainError",
    "TransactionFailedError",
    "render_value",
]


class ChainError(RegistryError):
    """Raised when the ledger cannot be reached or refuses an operation."""

    code = "chain_error"


class LedgerUnavailableError(ChainError):
    """Raised when a write arrives while the chain is down or being recovered: retry shortly."""

    code = "ledger_unavailable"


class StateNotKeptError(ChainError):
    """Raised when a read names a block whose state the node no longer keeps (the embedded anvil keeps
    the newest ``EBL_CHAIN_STATES_KEPT``); reads at the cached head never are: read at a newer block.

    Attributes:
        block: the block asked for.
    """

    code = "state_not_kept"

    def __init__(self, block: int | str, detail: str) -> None:
        self.block = block
        super().__init__(f"the node no longer keeps the state at block {block}: {detail}")


class ToolchainError(ChainError):
    """Raised when the Solidity compiler or the embedded anvil is missing or fails."""

    code = "toolchain_error"


class DeploymentMismatchError(ChainError):
    """Raised when the code at a recorded address is not the code this registry was built from."""

    code = "deployment_mismatch"


class TransactionFailedError(ChainError):
    """Raised when a transaction reverted without a decodable custom error, or was never mined."""

    code = "transaction_failed"


class ArchiveError(ChainError):
    """Raised when the registry's chain archive (:mod:`registry.store.archive`) cannot take a block.

    Attributes:
        block: the block number it could not take.
    """

    code = "archive_error"

    def __init__(self, block: int, message: str) -> None:
        self.block = block
        super().__init__(message)


class ArchiveMismatchError(ArchiveError):
    """Raised when a block the node served does not verify: its header does not hash to its block hash,
    its parent hash does not link to the archived block before it, or the transactions or receipts do
    not rebuild its ``transactionsRoot`` / ``receiptsRoot``. Nothing of it is stored.

    Attributes:
        block: the block number refused.
    """

    code = "archive_mismatch"

    def __init__(self, block: int, message: str) -> None:
        super().__init__(block, f"block {block}: {message}")


class ArchiveGapError(ArchiveError):
    """Raised when the archive needs a block whose transactions or receipts the node no longer serves
    (pruned before the archive took it, e.g. past ``--transaction-block-keeper``): the archive, and the
    index built from it, stop there rather than skip it.

    Attributes:
        block: the first block missing.
    """

    code = "archive_gap"

    def __init__(self, block: int, message: str) -> None:
        super().__init__(block, f"the archive cannot take block {block}: {message}")


class ContractRevertError(ChainError):
    """Raised when the contracts revert with a custom error; subclassed per error name.

    The message is the error's ``reason`` with its arguments filled in, in DCSA words (an enum
    argument by its name: "the eBL is SURRENDERED"); without a reason, the error name and its
    arguments, enums still by name.

    Attributes:
        error_name: the Solidity error name, e.g. ``TitleNotHolder``.
        reason: the message template, ``{arg}`` naming an argument (set per generated class).
        args: the decoded error arguments by parameter name.
        data: the raw revert data (selector + ABI-encoded arguments).
    """

    code = "contract_revert"
    error_name: str = ""
    reason: str = ""

    def __init__(self, args: dict[str, object] | None = None, data: bytes = b"") -> None:
        self.args_by_name: dict[str, object] = dict(args or {})
        self.data = data
        words = self.words()
        try:
            message = self.reason.format_map(words) if self.reason else ""
        except (KeyError, IndexError, ValueError):  # a template naming an argument the error lacks
            message = ""
        if not message:
            rendered = ", ".join(f"{k} {v}" for k, v in words.items())
            name = self.error_name or "revert"
            message = f"{name}: {rendered}" if rendered else name
        super().__init__(message)

    def words(self) -> dict[str, str]:
        """The arguments as text: enums by name, bytes as 0x hex, numbers in decimal."""
        return {k: render_value(v) for k, v in self.args_by_name.items()}


def render_value(value: object) -> str:
    """One decoded contract value as text: an enum by its name, bytes as 0x hex, else ``str``."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple):
        return "(" + ", ".join(render_value(v) for v in value) + ")"
    return str(value)
