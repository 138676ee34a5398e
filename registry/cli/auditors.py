"""Auditors and customs: an eBL's full history, and every event of an organisation as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from registry.cli._render import err_console, print_events, print_json
from registry.cli.options import EblArg, ExportFormat, JsonOut
from registry.cli.root import app, ebl_id_of, guard, state_of

EXPORT_PAGE = 1000
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


@app.command("history")
def history(ctx: typer.Context, ebl_id: EblArg, as_json: JsonOut = False) -> None:
    """Every recorded action on an eBL, issuance first (DCSA action codes)."""
    with guard():
        events = state_of(ctx).backend().history(ebl_id_of(ebl_id))
    print_json(events) if as_json else print_events(events, title=f"history of eBL {ebl_id}")


def _when(text: str | None, default: datetime, name: str) -> datetime:
    if text is None:
        return default
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date or time: {text!r}", param_hint=name) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_CSV_FIELDS = (
    "eblId",
    "seq",
    "action",
    "actor",
    "counterparty",
    "actorKey",
    "data",
    "blockNumber",
    "blockTime",
    "txHash",
    "logIndex",
)


@app.command("export")
def export(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="Organisation (actor or counterparty).")],
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 start, inclusive (default: all).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="ISO 8601 end, exclusive (default: no end).")
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat.json,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export every action an organisation took or received in a time window (all pages)."""
    low = _when(since, datetime.fromtimestamp(0, UTC), "--since")
    high = _when(until, _END_OF_TIME, "--until")
    events: list[dict[str, Any]] = []
    with guard():
        backend = state_of(ctx).backend()
        cursor: str | None = None
        while True:
            page, cursor = backend.events(org, low, high, cursor, EXPORT_PAGE)
            events.extend(page)
            if cursor is None:
                break
    if fmt is ExportFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(events)
        text = buffer.getvalue()
    else:
        text = json.dumps(events, indent=2, default=str) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err_console().print(f"{len(events)} events written to {out}", markup=False)
