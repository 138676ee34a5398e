"""Who may send transactions on the network: the account allowlist.

Only the registry's own operator accounts and its members' keys may send. The operators are the
relayer (sends every title action in batches), governance (deploys, onboards, suspends) and the bridge
(PINT imports and exports); the members' keys are their organisations' active keys, which sign actions
the relayer sends and may also send for themselves. Anything else is refused by every validator before
it reaches a block.

The accounts file (JSON), optional; by default the generator creates the operators' keys itself, in
the registry's keystore, and a new network starts with no member (onboarding adds them, see
docs/production.md)::

    {
      "operators": {"relayer": "0x…", "governance": "0x…", "bridge": "0x…"},
      "members": {"LEI:529900T8BM49AURSDO55": ["0x…", "0x…"], "…": ["0x…"]}
    }

``operators`` is for a registry whose keystore already exists; ``ebl keys ORG --json`` lists an
organisation's keys for ``members``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from registry.errors import ConfigurationError

__all__ = ["OPERATORS", "Allowlist", "load_allowlist"]

OPERATORS = ("relayer", "governance", "bridge")


@dataclass(frozen=True)
class Allowlist:
    """The operator accounts by role and each member organisation's keys, all EIP-55."""

    operators: Mapping[str, str]
    members: Mapping[str, tuple[str, ...]]

    def with_operators(self, operators: Mapping[str, str]) -> Allowlist:
        """The same members with these operator accounts."""
        return Allowlist({r: _address(operators[r], f"the {r}") for r in OPERATORS}, self.members)

    @property
    def accounts(self) -> list[str]:
        """Every account that may send, operators first, each once, in a stable order."""
        if sorted(self.operators) != sorted(OPERATORS):
            raise ConfigurationError(f"the allowlist needs the operators {', '.join(OPERATORS)}")
        seen: dict[str, None] = {}
        for role in OPERATORS:
            seen.setdefault(self.operators[role], None)
        for org in sorted(self.members):
            for key in self.members[org]:
                seen.setdefault(key, None)
        return list(seen)

    @classmethod
    def from_json(cls, data: Any) -> Allowlist:
        """Read the accounts file's structure.

        Raises:
            ConfigurationError: an operator missing, an address that is not one, or a member without keys.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError("the accounts file is a JSON object with operators and members")
        operators = data.get("operators", {})
        if not isinstance(operators, Mapping) or (operators and sorted(operators) != sorted(OPERATORS)):
            raise ConfigurationError(f"operators, when given, name exactly {', '.join(OPERATORS)}")
        members = data.get("members", {})
        if not isinstance(members, Mapping):
            raise ConfigurationError("members maps each organisation to its list of key addresses")
        checked: dict[str, tuple[str, ...]] = {}
        for org, keys in members.items():
            if not isinstance(keys, list) or not keys:
                raise ConfigurationError(f"member {org} lists no keys")
            checked[str(org)] = tuple(_address(k, f"a key of {org}") for k in keys)
        return cls({r: _address(operators[r], f"the {r}") for r in operators}, checked)


def load_allowlist(path: Path) -> Allowlist:
    """The allowlist in the accounts file at ``path`` (see the module docstring)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the accounts file {path}: {exc}") from exc
    return Allowlist.from_json(data)


def _address(value: object, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ConfigurationError(f"{what} is not an address: {value!r}")
    return to_checksum_address(value)
