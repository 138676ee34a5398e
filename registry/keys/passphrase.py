"""Where a keystore passphrase comes from: a secret file (mode 0600) or an environment variable."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from registry.errors import KeystoreError, KeystoreLockedError

__all__ = ["PassphraseSource"]


@dataclass(frozen=True)
class PassphraseSource:
    """Where a keystore passphrase is read from: a secret file or an environment variable.

    There is deliberately no way to pass a literal passphrase. Build one with
    :meth:`from_file` or :meth:`from_env`; the value is read on every :meth:`read` and never
    stored, so ``repr`` shows only the path or variable name.

    Attributes:
        kind: ``"file"`` or ``"env"``.
        location: the secret file path or the environment variable name.
    """

    kind: Literal["file", "env"]
    location: str

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PassphraseSource:
        """Read the passphrase from a secret file (e.g. a Docker or Kubernetes secret).

        The file must be a regular file not readable or writable by group or others
        (``chmod 600`` / Kubernetes ``defaultMode: 0400``). One trailing newline is ignored.

        Args:
            path: path of the secret file.

        Returns:
            The source.
        """
        return cls("file", os.fspath(path))

    @classmethod
    def from_env(cls, name: str) -> PassphraseSource:
        """Read the passphrase from an environment variable.

        Args:
            name: the variable name, e.g. ``"EBL_KEYSTORE_PASSPHRASE"``.

        Returns:
            The source.
        """
        if not name:
            raise ValueError("environment variable name must not be empty")
        return cls("env", name)

    def read(self) -> str:
        """Read the passphrase now.

        Returns:
            The passphrase (non-empty).

        Raises:
            KeystoreLockedError: the file or variable is missing or empty.
            KeystoreError: the file is group/world accessible, not a regular file, unreadable or
                not UTF-8.
        """
        if self.kind == "env":
            value = os.environ.get(self.location)
            if not value:
                raise KeystoreLockedError(f"passphrase environment variable {self.location} is not set")
            return value
        return _read_secret_file(Path(self.location))


def _read_secret_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise KeystoreLockedError(f"passphrase file {path} does not exist") from None
    except OSError as exc:
        raise KeystoreError(f"cannot open passphrase file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeystoreError(f"passphrase file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeystoreError(
                f"passphrase file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod 600 it"
            )
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeystoreError(f"passphrase file {path} is not UTF-8") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise KeystoreLockedError(f"passphrase file {path} is empty")
    return text
