"""Banks (and anyone presented with an eBL): verify title, and a presented document against it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli._render import print_json, print_verification
from registry.cli.backend import parse_ebl_id
from registry.cli.options import JsonOut
from registry.cli.root import app, ebl_id_of, fail, guard, state_of


@app.command("verify")
def verify(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="A transport document JSON file, or an eBL id.", metavar="FILE|EBL_ID")
    ],
    document: Annotated[
        Path | None,
        typer.Option("--document", help="With an eBL id: check this document against it.", dir_okay=False),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Verify an eBL: status, holder, endorsee, carrier, document match, lineage, anchoring block.

    Exit code 1 when a presented document does not match the issued one.
    """
    path = Path(target)
    if not path.is_file():
        try:
            parse_ebl_id(target)
        except ValueError:
            raise typer.BadParameter(f"{target!r} is neither an existing file nor an eBL id") from None
    with guard():
        backend = state_of(ctx).backend()
        if path.is_file():
            result = backend.verify(document_text=path.read_text(encoding="utf-8"))
        elif document is not None:
            result = backend.verify(ebl_id_of(target), document_text=document.read_text(encoding="utf-8"))
        else:
            result = backend.verify(ebl_id_of(target))
    print_json(result) if as_json else print_verification(result)
    if result.get("documentMatches") is False:
        fail("document_mismatch", "the presented document does not match the issued document")
