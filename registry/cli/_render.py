"""Rich output for the ``ebl`` command: tables, panels and red error lines (markup never interpreted
in data, so ``$.a[0]`` stays literal)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

__all__ = [
    "err_console",
    "out_console",
    "print_error",
    "print_events",
    "print_json",
    "print_key_value",
    "print_operations",
    "print_verification",
    "print_violations",
]


def out_console() -> Console:
    """Console on stdout (created per call: Typer's test runner swaps ``sys.stdout``)."""
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    """Console on stderr."""
    return Console(stderr=True, highlight=False)


def _t(value: Any, style: str = "") -> Text:
    if value is None or value == "":
        return Text("—", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no", style=style)
    return Text(str(value), style=style)


def print_json(value: Any) -> None:
    """Machine output on stdout (plain, never wrapped)."""
    typer.echo(json.dumps(value, indent=2, default=str))


def print_error(code: str, detail: str) -> None:
    """``[code] detail`` in red on stderr, on one line however narrow the terminal: a wrapped line
    breaks the paths and ids a user copies out of it."""
    err_console().print(Text(f"[{code}] {detail}", style="bold red"), soft_wrap=True)


def print_violations(violations: Iterable[Mapping[str, Any]], title: str = "Invalid document") -> None:
    """Every broken rule: JSON path, rule, message."""
    table = Table(title=title, title_style="bold red", show_lines=False)
    table.add_column("path", style="cyan", overflow="fold")
    table.add_column("rule", style="magenta", overflow="fold")
    table.add_column("message", overflow="fold")
    for v in violations:
        table.add_row(_t(v.get("path")), _t(v.get("rule")), _t(v.get("message")))
    err_console().print(table)


def print_key_value(title: str, rows: Sequence[tuple[str, Any]], *, style: str = "cyan") -> None:
    """A two-column panel."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in rows:
        grid.add_row(name, value if isinstance(value, Text) else _t(value))
    out_console().print(Panel(grid, title=Text(title), border_style=style, expand=False))


_STATUS_STYLE = {"final": "green", "failed": "red", "submitted": "yellow", "pending": "yellow"}


def print_operations(rows: Sequence[Mapping[str, Any]], *, with_file: bool = False) -> None:
    """Accepted operations: (file,) eBL id, action, status, tx."""
    table = Table(title="Operations")
    if with_file:
        table.add_column("file", overflow="fold")
    table.add_column("eBL id", overflow="fold")
    table.add_column("action")
    table.add_column("status")
    table.add_column("tx", overflow="fold")
    for row in rows:
        status = str(row.get("status") or "")
        if row.get("errorCode"):
            status_text = Text(f"{status or 'error'}: [{row['errorCode']}] {row.get('errorDetail') or ''}")
            status_text.stylize("red")
        else:
            status_text = _t(status, _STATUS_STYLE.get(status, ""))
        ebl = _t(row.get("eblId"))
        if row.get("successorEblId"):  # AMEND: the amended eBL issued in its place
            ebl.append(f"\n→ amended eBL {row['successorEblId']}", style="bold")
        cells = [ebl, _t(row.get("action")), status_text, _t(row.get("txHash"))]
        if with_file:
            cells.insert(0, _t(row.get("file")))
        table.add_row(*cells)
    out_console().print(table)


def _match(value: Any) -> Text:
    if value is None:
        return Text("— (no document presented)", style="dim")
    return Text("✓ matches the issued document", style="green") if value else Text("✗ MISMATCH", style="red")


def _party(value: Any) -> Any:
    """An organisation as the gateway gives it ({address, name?, identifier?, role?}) or an address."""
    if not isinstance(value, Mapping):
        return value
    label = value.get("name") or value.get("identifier")
    return f"{value.get('address')} ({label})" if label else value.get("address")


def print_verification(v: Mapping[str, Any]) -> None:
    """The verification panel: title state, document match, lineage, anchoring block."""
    status = str(v.get("status"))
    live = bool(v.get("live"))
    lineage = []
    if v.get("predecessor"):
        lineage.append(f"amends {v['predecessor']}")
    if v.get("successor"):
        lineage.append(f"amended by {v['successor']}")
    if v.get("paperDocumentHash"):
        lineage.append(f"switched to paper {v['paperDocumentHash']}")
    rows: list[tuple[str, Any]] = [
        ("eBL id", v.get("eblId")),
        ("status", Text(status, style="green" if live else "yellow")),
        ("live", Text("yes", style="green") if live else Text("no", style="red")),
        ("holder", _party(v.get("holder"))),
        ("endorsee", _party(v.get("endorsee"))),
        ("carrier", _party(v.get("carrier"))),
        ("kind", v.get("kind")),
        ("blank endorsed", v.get("blankEndorsed")),
        ("document hash", v.get("documentHash")),
        ("document", _match(v.get("documentMatches"))),
        ("lineage", "; ".join(lineage) if lineage else "original issue"),
        ("anchored at", f"block {v.get('anchoredBlock')} {v.get('anchoredBlockHash') or ''}".strip()),
        ("block time", v.get("anchoredAt")),
        ("registry", f"{v.get('registry') or ''} (chain {v.get('chainId')})"),
    ]
    print_key_value("eBL verification", rows, style="green" if live else "yellow")


def print_events(events: Sequence[Mapping[str, Any]], *, title: str) -> None:
    """History rows: seq, action (DCSA code), actor, counterparty, block, time, tx."""
    table = Table(title=title)
    for name in ("seq", "action", "actor", "counterparty", "block", "time", "tx"):
        table.add_column(name, overflow="fold")
    for e in events:
        table.add_row(
            _t(e.get("seq")),
            _t(e.get("action"), "bold"),
            _t(e.get("actor")),
            _t(e.get("counterparty")),
            _t(e.get("blockNumber")),
            _t(e.get("blockTime")),
            _t(e.get("txHash")),
        )
    out_console().print(table)
