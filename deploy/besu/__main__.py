"""``python -m deploy.besu OUT [options]``: write a Besu QBFT network for the registry into OUT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.besu.accounts import Allowlist, load_allowlist
from deploy.besu.network import NetworkSpec, create_operator_keys, generate, write_network
from registry.chain.build import project_root
from registry.errors import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    defaults = NetworkSpec.__dataclass_fields__
    parser = argparse.ArgumentParser(prog="python -m deploy.besu", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write the network into (must not hold one)")
    parser.add_argument("--validators", type=int, default=defaults["validators"].default)
    parser.add_argument("--chain-id", type=int, default=defaults["chain_id"].default)
    parser.add_argument("--block-period", type=int, default=defaults["block_period"].default, help="seconds")
    parser.add_argument("--request-timeout", type=int, default=defaults["request_timeout"].default)
    parser.add_argument("--epoch-length", type=int, default=defaults["epoch_length"].default)
    parser.add_argument("--gas-limit", type=int, default=defaults["gas_limit"].default)
    parser.add_argument("--subnet", default=defaults["subnet"].default)
    parser.add_argument(
        "--accounts",
        type=Path,
        help="JSON file of member keys (and the operators of an existing registry); "
        "default: create the operator keys, no members yet",
    )
    parser.add_argument("--source", default=str(project_root()), help="registry source tree for the image")
    args = parser.parse_args(argv)
    try:
        spec = NetworkSpec(
            validators=args.validators,
            chain_id=args.chain_id,
            block_period=args.block_period,
            request_timeout=args.request_timeout,
            epoch_length=args.epoch_length,
            gas_limit=args.gas_limit,
            subnet=args.subnet,
        )
        out: Path = args.out
        if (out / "genesis.json").exists():
            raise ConfigurationError(f"{out} already holds a network (genesis.json); choose another folder")
        allowlist = load_allowlist(args.accounts) if args.accounts else Allowlist({}, {})
        if not allowlist.operators:
            allowlist = allowlist.with_operators(create_operator_keys(out))
        network = generate(spec, allowlist, source=args.source)
        write_network(network, out)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"QBFT network of {spec.validators} validators written to {out}")
    for name, address in zip(range(1, spec.validators + 1), network.validators, strict=True):
        print(f"  validator-{name}: {address}")
    print(f"  accounts allowed to send: {len(allowlist.accounts)}; runbook: docs/production.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
