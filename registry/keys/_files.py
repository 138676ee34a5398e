"""The keystore's files: a private directory, JSON read with typed errors, atomic 0600 writes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from registry.errors import KeystoreError

__all__ = ["make_private_dir", "read_json", "write_json_atomic"]


def make_private_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise KeystoreError(f"{path} exists and is not a directory") from None
        return
    except OSError as exc:
        raise KeystoreError(f"cannot create keystore directory {path}: {exc.strerror}") from None
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise KeystoreError(f"{path} does not exist") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise KeystoreError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise KeystoreError(f"{path} does not hold a JSON object")
    return data


def write_json_atomic(path: Path, obj: dict[str, Any]) -> None:
    """Write JSON to ``path`` atomically with mode 0600."""
    data = json.dumps(obj, indent=2, sort_keys=True).encode() + b"\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise KeystoreError(f"cannot write {path}: {exc.strerror}") from None
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
