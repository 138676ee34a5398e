"""The ``ebl`` command line: direct mode (the registry in this process) or gateway mode (HTTP).

Entry point ``ebl = "registry.cli:app"``; see :mod:`registry.cli._app` for the commands and
:mod:`registry.cli.backend` for the one interface both modes implement.
"""

from registry.cli._app import State, app
from registry.cli.backend import Backend, CliError, GatewayError
from registry.cli.direct import DirectBackend
from registry.cli.gateway import HttpBackend

__all__ = ["Backend", "CliError", "DirectBackend", "GatewayError", "HttpBackend", "State", "app"]
