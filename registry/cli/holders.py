"""Holders (any member): transfer, endorse, endorse in blank, nominate, reject and surrender an eBL."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli.backend import SurrenderFor
from registry.cli.options import AsOrg, EblArg, JsonOut, ReasonCode, SurrenderChoice
from registry.cli.root import app, ebl_id_of, guard, report, state_of


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str, typer.Option("--to", help="The organisation receiving possession.")],
    actor: AsOrg = None,
    as_json: JsonOut = False,
) -> None:
    """TRANSFER possession of an eBL to another member."""
    with guard():
        op = state_of(ctx).backend().transfer(actor, ebl_id_of(ebl_id), to)
    report(op, as_json)


@app.command("endorse")
def endorse(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str, typer.Option("--to", help="The endorsee.")],
    actor: AsOrg = None,
    no_further: Annotated[
        bool,
        typer.Option("--no-further-endorsement", help="ENDORSE: the endorsee may not endorse further."),
    ] = False,
    as_json: JsonOut = False,
) -> None:
    """Endorse a to-order eBL to an endorsee (ENDORSE_TO_ORDER unless --no-further-endorsement)."""
    with guard():
        op = state_of(ctx).backend().endorse(actor, ebl_id_of(ebl_id), to, not no_further)
    report(op, as_json)


@app.command("endorse-blank")
def endorse_blank(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """BLANK_ENDORSE: the eBL becomes a bearer bill."""
    with guard():
        op = state_of(ctx).backend().endorse_in_blank(actor, ebl_id_of(ebl_id))
    report(op, as_json)


@app.command("nominate")
def nominate(
    ctx: typer.Context,
    ebl_id: EblArg,
    to: Annotated[str | None, typer.Option("--to", help="The nominee.")] = None,
    actor: AsOrg = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel the current nomination.")] = False,
    as_json: JsonOut = False,
) -> None:
    """The endorsee, while another party holds the eBL, nominates the next endorsee."""
    if (to is None) != cancel:
        raise typer.BadParameter("give exactly one of --to ORG or --cancel")
    with guard():
        op = state_of(ctx).backend().nominate(actor, ebl_id_of(ebl_id), to)
    report(op, as_json)


@app.command("reject")
def reject(ctx: typer.Context, ebl_id: EblArg, actor: AsOrg = None, as_json: JsonOut = False) -> None:
    """Return an eBL just received to the party that sent it."""
    with guard():
        op = state_of(ctx).backend().reject(actor, ebl_id_of(ebl_id))
    report(op, as_json)


@app.command("surrender")
def surrender(
    ctx: typer.Context,
    ebl_id: EblArg,
    actor: AsOrg = None,
    purpose: Annotated[
        SurrenderChoice,
        typer.Option("--for", help="Surrender for delivery or amendment.", case_sensitive=False),
    ] = SurrenderChoice.delivery,
    reason: Annotated[
        ReasonCode | None,
        typer.Option(
            "--reason", help="Amendment reason: SWTP (switch to paper), COD, SWI.", case_sensitive=False
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Surrender an eBL to its issuing carrier, for delivery or for amendment."""
    if reason is not None and purpose is SurrenderChoice.delivery:
        raise typer.BadParameter("a reason code applies to --for amendment only", param_hint="--reason")
    why: SurrenderFor = "DELIVERY" if purpose is SurrenderChoice.delivery else "AMENDMENT"
    with guard():
        op = (
            state_of(ctx).backend().surrender(actor, ebl_id_of(ebl_id), why, reason.value if reason else None)
        )
    report(op, as_json)
