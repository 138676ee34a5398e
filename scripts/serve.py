"""`make run`: the registry with its gateway on 127.0.0.1, on the embedded chain and SQLite by default.

First start: deploys the registry, onboards demo organisations (a carrier, a shipper, a bank, a
consignee) and an auditor, and prints their API credentials once (only hashes are stored). Later
starts reuse the data folder: chain state, keys, database, deployment. `EBL_*` environment variables
(see registry/config.py) point it at another ledger or database; `--no-demo` skips the demo members.

Crashes: if the embedded chain dies, the running gateway restarts it from its state file and
resubmits from the operation journal whatever the chain lost; if this process is killed (even with
kill -9), run it again: it stops the anvil it left behind and resubmits what was not yet final
(docs/reliability.md, "Crash and restart").
"""

from __future__ import annotations

import argparse
import json
import os
import signal

import uvicorn

from api.auth import Credentials
from api.logs import configure_logging
from api.main import create_app
from registry.config import Settings
from registry.errors import RegistryInUseError
from registry.runtime import Runtime
from registry.types import Role

CREDENTIALS_MARKER = "API credentials (shown once"
"""Starts the line before the credentials JSON (the JSON ends at a line that is just ``}``)."""


def parse_credentials(text: str) -> dict[str, dict[str, str]] | None:
    """The demo credentials JSON that the first start prints once, or None if not (yet) printed."""
    if CREDENTIALS_MARKER not in text:
        return None
    body = text.split(CREDENTIALS_MARKER, 1)[1].split("\n", 1)[1]
    lines: list[str] = []
    for line in body.splitlines():
        lines.append(line)
        if line == "}":
            parsed: dict[str, dict[str, str]] = json.loads("\n".join(lines))
            return parsed
    return None


DEMO = (
    ("carrier", "LEI:DEMO-CARRIER-0001", "Demo Ocean Carrier A/S", "carrier"),
    ("shipper", "LEI:DEMO-SHIPPER-0001", "Demo Exporter GmbH", "trader"),
    ("bank", "LEI:DEMO-BANK-0001", "Demo Trade Bank plc", "bank"),
    ("consignee", "LEI:DEMO-CONSIGNEE-0001", "Demo Importer Ltd", "trader"),
)


def bootstrap(runtime: Runtime, credentials: Credentials, demo: bool) -> dict[str, dict[str, str]] | None:
    """Create the governance credential and the demo members once; None if they already exist."""
    marker = runtime.settings.data_dir / "bootstrapped"
    if marker.exists():
        return None
    out: dict[str, dict[str, str]] = {}
    governance = credentials.issue("registry governance", "governance", None)
    out["governance"] = {"token": governance.token}
    if demo:
        for name, identifier, legal_name, role in DEMO:
            org, _ = runtime.members.onboard(identifier, Role[role.upper()])
            credentials.save_profile(org.address, legal_name, identifier, role)
            issued = credentials.issue(legal_name, role, org.address)  # type: ignore[arg-type]
            out[name] = {"org": org.address, "token": issued.token}
        auditor = credentials.issue("Demo Customs Auditor", "auditor", None)
        out["auditor"] = {"token": auditor.token}
    marker.write_text("credentials were printed once at first start\n")
    return out


def _url(host: str, port: int) -> str:
    """Where clients reach a gateway bound to ``host``."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("EBL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EBL_PORT", "8000")))
    parser.add_argument("--no-demo", action="store_true", help="do not onboard the demo organisations")
    args = parser.parse_args()
    # JSON lines on stderr (api/logs.py), redacted; stdout keeps the start-up text and credentials.
    configure_logging(os.environ.get("EBL_LOG_LEVEL", "INFO"))

    try:
        runtime = Runtime.open(Settings(), holder="the gateway", url=_url(args.host, args.port))
    except RegistryInUseError as exc:  # another gateway (or ebl) holds this data folder: touch nothing
        raise SystemExit(f"[{exc.code}] {exc}") from None
    with runtime:
        credentials = Credentials(runtime.engine)
        created = bootstrap(runtime, credentials, demo=not args.no_demo)
        print(f"registry {runtime.deployment.address} on chain {runtime.deployment.chain_id}", flush=True)
        if created is not None:
            # Deployment and onboarding are direct transactions, not journaled: let the chain dump them
            # to its state file before anyone relies on the credentials.
            runtime.wait_chain_persisted()
            print(f"{CREDENTIALS_MARKER}; only their hashes are stored):", flush=True)
            print(json.dumps(created, indent=2), flush=True)
            (runtime.settings.data_dir / "demo-credentials.json").unlink(missing_ok=True)
        else:
            print(
                "data folder already bootstrapped: reuse the credentials printed at first start", flush=True
            )
        print(f"gateway: http://{args.host}:{args.port}/docs", flush=True)
        # uvicorn re-raises the signal that stopped it once it has shut down; with the default handler
        # that would kill this process before the runtime closes (orphaning anvil). Our handlers turn
        # the re-raised signal into a no-op, so run() returns and the `with` block stops everything.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)
        # log_config=None: uvicorn's loggers go to our JSON handler; its access log would duplicate the
        # gateway's own request lines (which carry the request id and the principal).
        uvicorn.run(create_app(runtime), host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
