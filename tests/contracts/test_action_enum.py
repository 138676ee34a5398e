"""The dispatcher of signed actions (`TitleRegistry._dispatch`) relies on the order of the `Action` enum;
Solidity cannot check that at compile time, so these tests pin it against the sources."""

from __future__ import annotations

import re
from pathlib import Path

from registry.types import Action

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def solidity_actions() -> list[str]:
    """The members of `enum Action` in contracts/lib/TitleTypes.sol, in declaration order."""
    source = (CONTRACTS / "lib" / "TitleTypes.sol").read_text()
    body = re.search(r"enum Action \{([^}]*)\}", source)
    assert body is not None
    return [m.strip() for m in body.group(1).split(",") if m.strip()]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def test_solidity_action_enum_matches_the_python_codes():
    """Each member of the Solidity enum has the code registry.types.Action gives it."""
    assert [snake(m) for m in solidity_actions()] == [a.name for a in Action]


def test_dispatcher_assumptions_about_enum_order_hold():
    """Issue is 0, the three endorsements directly follow Transfer, and the dispatcher's range check
    names StartExport, the last signable member (so the final `else` of `_dispatch` is exactly it);
    the bridge's own actions follow it and are never dispatched."""
    members = solidity_actions()
    assert members[0] == "Issue"
    at = members.index("Transfer")
    assert members[at + 1 : at + 4] == ["Endorse", "EndorseToOrder", "BlankEndorse"]
    dispatcher = (CONTRACTS / "TitleRegistry.sol").read_text()
    bound = re.search(r"code > uint8\(Action\.(\w+)\)\) revert TitleInvalidAction", dispatcher)
    assert bound is not None
    assert bound.group(1) == "StartExport"
    assert members[members.index("StartExport") :] == [
        "StartExport",
        "CloseExport",
        "CancelExport",
        "ImportTitle",
    ]
    last_branch = re.search(r"\} else \{\s*_startExport\(", dispatcher)
    assert last_branch is not None
