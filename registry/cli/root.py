"""The root ``ebl`` command: global options, per-invocation state, the command groups, and the helpers
every audience's commands share (refusals as ``[code] detail`` and exit code 1, operation reports).

The commands themselves live in one module per audience, as the gateway's routers do: :mod:`.members`,
:mod:`.governance`, :mod:`.carriers`, :mod:`.holders`, :mod:`.banks`, :mod:`.auditors` and
:mod:`.operations`; :mod:`registry.cli` imports them (in the order ``ebl --help`` lists them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from registry.cli._render import print_error, print_json, print_operations, print_violations
from registry.cli.backend import Backend, CliError, GatewayError, parse_ebl_id
from registry.cli.direct import DirectBackend
from registry.cli.gateway import HttpBackend
from registry.errors import InvalidDocumentError, RegistryError

__all__ = [
    "State",
    "app",
    "credentials_app",
    "dev_app",
    "ebl_id_of",
    "fail",
    "guard",
    "keys_app",
    "org_app",
    "read_document",
    "report",
    "state_of",
]

app = typer.Typer(
    name="ebl",
    help="Operate the eBL title registry: onboard members, issue and move eBLs, verify and audit.\n\n"
    "Direct mode (default) opens the registry in this process from the EBL_* settings; gateway mode "
    "(--gateway URL --token TOKEN) talks to a running gateway, where the token decides who acts.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="Member organisations (governance).", no_args_is_help=True)
keys_app = typer.Typer(
    help="Organisations' signing keys: custodial (the gateway holds them) or the member's own wallet keys.",
    no_args_is_help=True,
)
credentials_app = typer.Typer(
    help="Gateway API credentials (governance): list and revoke.", no_args_is_help=True
)
dev_app = typer.Typer(help="Development helpers.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(keys_app, name="keys")
app.add_typer(credentials_app, name="credentials")
app.add_typer(dev_app, name="dev")


# ====================================================================== state and errors


@dataclass
class State:
    """Per-invocation state (the Typer context object); the backend is opened on first use."""

    gateway: str | None = None
    token: str | None = None
    data_dir: Path | None = None
    backend_: Backend | None = None
    owned: bool = True
    _closers: list[Backend] = field(default_factory=list)

    def backend(self) -> Backend:
        if self.backend_ is None:
            if self.gateway:
                self.backend_ = HttpBackend.connect(self.gateway, self.token)
            else:
                from registry.runtime import Runtime

                runtime = Runtime.open(self.settings(), follow=False, holder="a direct-mode ebl command")
                self.backend_ = DirectBackend(runtime, owned=True)
            self._closers.append(self.backend_)
        return self.backend_

    def settings(self) -> Any:
        from registry.config import Settings

        return Settings(data_dir=self.data_dir) if self.data_dir else Settings()

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()


def state_of(ctx: typer.Context) -> State:
    state = ctx.obj
    if not isinstance(state, State):  # pragma: no cover - the callback always sets it
        raise RuntimeError("ebl: no CLI state")
    return state


def fail(code: str, detail: str) -> NoReturn:
    print_error(code, detail)
    raise typer.Exit(1)


@contextmanager
def guard() -> Iterator[None]:
    """Refused requests become a red ``[code] message`` and exit code 1 — never a traceback."""
    try:
        yield
    except InvalidDocumentError as exc:
        print_violations([{"path": v.path, "rule": v.rule, "message": v.message} for v in exc.violations])
        fail(exc.code, str(exc))
    except GatewayError as exc:
        violations = exc.problem.get("violations")
        if isinstance(violations, list) and violations:
            print_violations([v for v in violations if isinstance(v, dict)])
        fail(exc.code, exc.detail)
    except CliError as exc:
        fail(exc.code, exc.detail)
    except RegistryError as exc:
        fail(exc.code, str(exc))
    except ValueError as exc:
        fail("invalid_argument", str(exc))


def ebl_id_of(text: str) -> int:
    try:
        return parse_ebl_id(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def read_document(path: Path) -> dict[str, Any]:
    from registry.documents import parse_json_text

    return parse_json_text(path.read_bytes())


def report(op: dict[str, Any], as_json: bool) -> None:
    """Show one accepted operation; a failed one exits 1."""
    if as_json:
        print_json(op)
    else:
        print_operations([op])
    if op.get("status") == "failed":
        fail(str(op.get("errorCode") or "operation_failed"), str(op.get("errorDetail") or "failed"))


@app.callback()
def main(
    ctx: typer.Context,
    gateway: Annotated[
        str | None,
        typer.Option("--gateway", envvar="EBL_GATEWAY_URL", help="Gateway base URL (gateway mode)."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="EBL_TOKEN", help="Bearer token for the gateway.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Registry data folder in direct mode (default: EBL_DATA_DIR)."),
    ] = None,
) -> None:
    """Operate the eBL title registry."""
    injected = ctx.obj
    if isinstance(injected, State):
        return
    state = State(gateway=gateway, token=token, data_dir=data_dir)
    if injected is not None:  # a Backend passed by the caller (tests): used, never closed here
        state.backend_ = injected
    ctx.obj = state
    ctx.call_on_close(state.close)
