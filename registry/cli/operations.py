"""Operators: serve the HTTP gateway, or run the whole registry in this process for development."""

from __future__ import annotations

import os
import signal
import time
from typing import Annotated

import typer

from registry.cli._render import err_console, print_key_value
from registry.cli.root import app, dev_app, fail, guard, state_of


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Gateway processes; more than 1 needs PostgreSQL, and one of them (elected) relays.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP gateway (api.main:create_app) with uvicorn."""
    import uvicorn

    state = state_of(ctx)
    if state.data_dir is not None:
        os.environ["EBL_DATA_DIR"] = str(state.data_dir)
    from registry.logs import configure_logging

    configure_logging(os.environ.get("EBL_LOG_LEVEL", "INFO"))  # JSON lines on stderr (api/logs.py)
    if workers != 1:  # the supervisor: one chain, one data-folder lock, N workers (registry/workers.py)
        from registry.workers import serve_workers

        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        with guard():
            serve_workers(
                state.settings(), host=host, port=port, workers=workers, holder="ebl serve", url=url
            )
        return
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_config=None, access_log=False)


@dev_app.command("up")
def dev_up(ctx: typer.Context) -> None:
    """Open the registry (embedded chain, keys, database, indexer) and keep it running until Ctrl-C."""
    from registry.runtime import Runtime

    state = state_of(ctx)
    if state.gateway:
        fail("usage", "dev up runs the registry in this process; it has no gateway mode")
    with guard():
        runtime = Runtime.open(state.settings(), follow=True, holder="ebl dev up")
    # SIGTERM / SIGHUP (and SIGINT, even when a background shell ignored it) stop the registry cleanly:
    # the embedded anvil runs in its own session and would otherwise outlive us.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in previous:
        signal.signal(sig, _interrupt)
    try:
        s = runtime.settings
        url = runtime.anvil.url if runtime.anvil is not None else s.rpc_url
        print_key_value(
            "eBL registry (development)",
            [
                ("chain", url),
                ("chain id", runtime.deployment.chain_id),
                ("registry", runtime.deployment.address),
                ("data dir", str(s.data_dir.resolve())),
                ("database", s.resolved_database_url),
                ("", "press Ctrl-C to stop"),
            ],
            style="green",
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        err_console().print("stopping", markup=False)
    finally:
        runtime.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
