"""`make run`: the registry with its gateway on 127.0.0.1, on the embedded chain and SQLite by default.

First start: deploys the registry, onboards demo organisations (a carrier, a shipper, a bank, a
consignee) and an auditor, and prints their API credentials once (the database keeps only hashes),
also writing them as shell exports to ``data/demo-credentials.env`` (mode 0600), whose path it prints:
``source`` it for the README walkthrough. Later starts reuse the data folder: chain state, keys,
database, deployment. `EBL_*` environment variables (see registry/config.py) point it at another
ledger or database; `--no-demo` skips the demo members.

Crashes: if the embedded chain dies, the running gateway restarts it from its state file and
resubmits from the operation journal whatever the chain lost; if this process is killed (even with
kill -9), run it again: it stops the anvil it left behind and resubmits what was not yet final
(docs/reliability.md, "Crash and restart").
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
from pathlib import Path

import uvicorn

from api.auth import Credentials
from api.logs import configure_logging
from api.main import create_app
from registry.config import Settings
from registry.documents import CarrierCode
from registry.errors import ConfigurationError, RegistryInUseError
from registry.runtime import Runtime
from registry.types import Role
from registry.workers import serve_workers

CREDENTIALS_MARKER = "API credentials (shown once"
"""Starts the line before the credentials JSON (the JSON ends at a line that is just ``}``)."""

ENV_FILE_MARKER = "the same as shell exports (mode 0600), for `source`:"
"""Starts the line that names the credentials' env file (its absolute path follows the marker)."""


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

DEMO_CARRIER_CODES = (CarrierCode("MSC", "SMDG"),)
"""The demo carrier's carrierCode / carrierCodeListProvider: the one DCSA's example documents name, so
they (and ``examples/``) are issuable by the demo carrier as they are."""


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
            codes = DEMO_CARRIER_CODES if role == "carrier" else ()
            org, _ = runtime.members.onboard(identifier, Role[role.upper()], codes)
            credentials.save_profile(org.address, legal_name, identifier, role)
            issued = credentials.issue(legal_name, role, org.address)  # type: ignore[arg-type]
            out[name] = {"org": org.address, "token": issued.token}
        auditor = credentials.issue("Demo Customs Auditor", "auditor", None)
        out["auditor"] = {"token": auditor.token}
    marker.write_text("credentials were printed once at first start\n")
    return out


ENV_FILE = "demo-credentials.env"
"""Beside the data: the demo credentials as shell ``export`` lines, mode 0600 (``source`` it)."""

_ENV_NAMES = (
    ("CARRIER", "carrier", "token"),
    ("SHIPPER", "shipper", "token"),
    ("BANK", "bank", "token"),
    ("CONSIGNEE", "consignee", "token"),
    ("AUDITOR", "auditor", "token"),
    ("GOVERNANCE", "governance", "token"),
    ("CARRIER_ORG", "carrier", "org"),
    ("SHIPPER_ORG", "shipper", "org"),
    ("BANK_ORG", "bank", "org"),
    ("CONSIGNEE_ORG", "consignee", "org"),
)


def write_env_file(path: Path, created: dict[str, dict[str, str]], gateway_url: str) -> Path:
    """Write the first start's credentials as ``export NAME=value`` lines, readable by the owner only.

    ``EBL_GATEWAY_URL`` (the gateway, read by ``ebl --gateway`` too) comes first, then one token per
    demo principal (``CARRIER`` ... ``GOVERNANCE``) and each member's address (``CARRIER_ORG`` ...).
    The file is created with mode 0600 before anything is written to it.
    """
    lines = [
        "# eBL title registry: the demo credentials of this data folder, written once at first start",
        "# by `make run` (scripts/serve.py). Use: source " + str(path),
        f"export EBL_GATEWAY_URL={shlex.quote(gateway_url)}",
    ]
    lines += [
        f"export {name}={shlex.quote(created[who][field])}"
        for name, who, field in _ENV_NAMES
        if field in created.get(who, {})
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # also when the file was already there
        out.write("\n".join(lines) + "\n")
    return path


def _url(host: str, port: int) -> str:
    """Where clients reach a gateway bound to ``host``."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def announce(runtime: Runtime, host: str, port: int, demo: bool) -> None:
    """Bootstrap the data folder (first start) and print what the operator needs."""
    credentials = Credentials(runtime.engine)
    created = bootstrap(runtime, credentials, demo=demo)
    print(f"registry {runtime.deployment.address} on chain {runtime.deployment.chain_id}", flush=True)
    if created is not None:
        # Deployment and onboarding are direct transactions, not journaled: let the chain dump them
        # to its state file before anyone relies on the credentials.
        runtime.wait_chain_persisted()
        print(f"{CREDENTIALS_MARKER}; only their hashes are stored):", flush=True)
        print(json.dumps(created, indent=2), flush=True)
        env_file = write_env_file(runtime.settings.data_dir.resolve() / ENV_FILE, created, _url(host, port))
        print(f"{ENV_FILE_MARKER} {env_file}", flush=True)
        (runtime.settings.data_dir / "demo-credentials.json").unlink(missing_ok=True)
    else:
        print("data folder already bootstrapped: reuse the credentials printed at first start", flush=True)


def _quiet_signals() -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; with the default handler
    that would kill this process before the runtime closes (orphaning anvil). These handlers turn the
    re-raised signal into a no-op, so run() returns and the caller stops everything."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("EBL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("EBL_PORT", "8000")))
    parser.add_argument("--no-demo", action="store_true", help="do not onboard the demo organisations")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("EBL_WORKERS", "1")),
        help="gateway processes (more than 1 needs PostgreSQL; one of them relays: registry/workers.py)",
    )
    args = parser.parse_args()
    # JSON lines on stderr (api/logs.py), redacted; stdout keeps the start-up text and credentials.
    configure_logging(os.environ.get("EBL_LOG_LEVEL", "INFO"))
    url = _url(args.host, args.port)
    if args.workers != 1:

        def prepare(runtime: Runtime) -> None:  # in the supervisor, before any worker starts
            announce(runtime, args.host, args.port, not args.no_demo)
            print(f"gateway: http://{args.host}:{args.port}/docs ({args.workers} workers)", flush=True)
            _quiet_signals()

        try:
            serve_workers(
                Settings(),
                host=args.host,
                port=args.port,
                workers=args.workers,
                holder="the gateway",
                url=url,
                prepare=prepare,
            )
        except (RegistryInUseError, ConfigurationError) as exc:
            raise SystemExit(f"[{exc.code}] {exc}") from None
        return

    try:
        runtime = Runtime.open(Settings(), holder="the gateway", url=url)
    except RegistryInUseError as exc:  # another gateway (or ebl) holds this data folder: touch nothing
        raise SystemExit(f"[{exc.code}] {exc}") from None
    with runtime:
        announce(runtime, args.host, args.port, not args.no_demo)
        print(f"gateway: http://{args.host}:{args.port}/docs", flush=True)
        _quiet_signals()
        # log_config=None: uvicorn's loggers go to our JSON handler; its access log would duplicate the
        # gateway's own request lines (which carry the request id and the principal).
        uvicorn.run(create_app(runtime), host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
