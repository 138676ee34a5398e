"""``python -m registry.cli``."""

from registry.cli import app

app(prog_name="ebl")
