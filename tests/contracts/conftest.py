"""Contract tests use the session fixtures of ``tests/conftest.py``; ``encode_error`` is re-exported here."""

from tests.conftest import encode_error

__all__ = ["encode_error"]
