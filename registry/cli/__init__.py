"""The ``ebl`` command line: direct mode (the registry in this process) or gateway mode (HTTP).

Entry point ``ebl = "registry.cli:app"``. :mod:`registry.cli.root` holds the root command and the
helpers the commands share; the commands live in one module per audience, as the gateway's routers do.
:mod:`registry.cli.backend` is the one interface both modes implement.
"""

# Importing an audience's module registers its commands; ``ebl --help`` lists them in this order.
from registry.cli import members, governance, carriers, holders, banks, auditors, operations, platforms  # noqa: F401, I001
from registry.cli import attest  # noqa: F401 - ebl attest (title attestations)
from registry.cli import audit  # noqa: F401 - ebl audit (audit bundles)
from registry.cli import ledger  # noqa: F401 - ebl ledger deploy (operators)
from registry.cli.backend import Backend, CliError, GatewayError
from registry.cli.direct import DirectBackend
from registry.cli.gateway import HttpBackend
from registry.cli.root import State, app

__all__ = ["Backend", "CliError", "DirectBackend", "GatewayError", "HttpBackend", "State", "app"]
