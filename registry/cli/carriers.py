"""Carriers: issue eBLs (many documents at once), accept or reject a surrender, void, amend, switch
to paper."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from registry.cli._render import err_console, print_json, print_operations, print_violations
from registry.cli.backend import CliError
from registry.cli.options import AsOrg, EblArg, JsonOut
from registry.cli.root import app, ebl_id_of, fail, guard, read_document, report, state_of
from registry.errors import InvalidDocumentError, RegistryError


@app.command("issue")
def issue(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="DCSA 3.0 transport document JSON files.", exists=True, dir_okay=False, readable=True
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="First holder (issue-to party).")],
    carrier: Annotated[
        str | None, typer.Option("--carrier", help="Issuing carrier; ignored in gateway mode.")
    ] = None,
    endorsee: Annotated[
        str | None, typer.Option("--endorsee", help="Straight bill: consignee; to-order: first endorsee.")
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Issue one eBL per transport document; many files show a progress bar, then a table."""
    with guard():
        backend = state_of(ctx).backend()
    rows: list[dict[str, Any]] = []
    invalid: list[tuple[Path, InvalidDocumentError]] = []
    progress = Progress(
        TextColumn("issuing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console(),
        disable=len(files) < 2,
    )
    with progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            row: dict[str, Any] = {"file": str(path)}
            try:
                row.update(backend.issue(carrier, read_document(path), to, endorsee))
            except InvalidDocumentError as exc:
                invalid.append((path, exc))
                row.update(status="failed", errorCode=exc.code, errorDetail=str(exc))
            except CliError as exc:
                row.update(status="failed", errorCode=exc.code, errorDetail=exc.detail)
            except RegistryError as exc:
                row.update(status="failed", errorCode=exc.code, errorDetail=str(exc))
            rows.append(row)
            progress.advance(task)
    for path, error in invalid:
        print_violations(
            [{"path": v.path, "rule": v.rule, "message": v.message} for v in error.violations],
            title=f"Invalid document: {path}",
        )
    if as_json:
        print_json(rows)
    else:
        print_operations(rows, with_file=True)
    failed = [r for r in rows if r.get("status") == "failed"]
    if failed:
        if len(rows) == 1:
            fail(str(failed[0]["errorCode"]), str(failed[0].get("errorDetail") or ""))
        fail("issue_failed", f"{len(failed)} of {len(rows)} documents were not issued")


def _carrier_action(ctx: typer.Context, action: str, ebl_id: str, actor: str | None, as_json: bool) -> None:
    with guard():
        op = state_of(ctx).backend().carrier_action(actor, action, ebl_id_of(ebl_id))
    report(op, as_json)


@app.command("accept-surrender")
def accept_surrender(
    ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False
) -> None:
    """SACC: the issuing carrier accepts a surrender request."""
    _carrier_action(ctx, "accept-surrender", ebl_id, actor, as_json)


@app.command("reject-surrender")
def reject_surrender(
    ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False
) -> None:
    """SREJ: the issuing carrier rejects a surrender request; the bill returns to the requester."""
    _carrier_action(ctx, "reject-surrender", ebl_id, actor, as_json)


@app.command("void")
def void(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """Void an eBL surrendered for amendment, without reissue."""
    _carrier_action(ctx, "void", ebl_id, actor, as_json)


@app.command("amend")
def amend(
    ctx: typer.Context,
    ebl_id: EblArg,
    file: Annotated[
        Path, typer.Argument(help="The amended transport document JSON.", exists=True, dir_okay=False)
    ],
    actor: AsOrg = None,
    endorsee: Annotated[str | None, typer.Option("--endorsee", help="Endorsee of the amended bill.")] = None,
    as_json: JsonOut = False,
) -> None:
    """Void an eBL surrendered for amendment and issue the amended document linked to it."""
    with guard():
        op = state_of(ctx).backend().amend(actor, ebl_id_of(ebl_id), read_document(file), endorsee)
    report(op, as_json)


@app.command("switch-to-paper")
def switch_to_paper(
    ctx: typer.Context,
    ebl_id: EblArg,
    paper_hash: Annotated[
        str, typer.Option("--paper-hash", help="32-byte hash (hex) of the printed paper document.")
    ],
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """End an eBL surrendered with reason SWTP: the printed paper replaces it."""
    text = paper_hash.lower().removeprefix("0x")
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        raise typer.BadParameter("not hex", param_hint="--paper-hash") from None
    if len(digest) != 32:
        raise typer.BadParameter("must be 32 bytes (64 hex digits)", param_hint="--paper-hash")
    with guard():
        op = state_of(ctx).backend().switch_to_paper(actor, ebl_id_of(ebl_id), digest)
    report(op, as_json)
