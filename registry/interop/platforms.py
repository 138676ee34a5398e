"""The operator's list of trusted platforms, kept in ``<data_dir>/pint/trust.json``.

:class:`Platforms` reads the file again whenever it changed, so ``ebl platforms add`` through the
gateway, or an operator editing the file, takes effect at the next envelope without a restart. The
trust list it hands out also holds our own platform (code, URL and public keys): a bill that left
here and comes back carries entries we signed, and we check those like any other.
"""

from __future__ import annotations

import threading
from pathlib import Path

from registry.errors import TrustListError
from registry.pint.signer import JwsSigner
from registry.pint.trust import TRUST_FILE, PlatformEntry, TrustList

__all__ = ["Platforms"]


class Platforms:
    """The trust list file of one data folder, plus our own platform.

    Args:
        data_dir: the registry's data folder.
        own: our platform's entry (its ``jwks`` are :meth:`JwsSigner.public_jwks`).
    """

    def __init__(self, data_dir: Path, own: PlatformEntry) -> None:
        self.path = Path(data_dir) / TRUST_FILE
        self.own = own
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._cached = TrustList()

    @classmethod
    def for_signer(cls, data_dir: Path, *, code: str, name: str, url: str, signer: JwsSigner) -> Platforms:
        """The trust list of ``data_dir`` with our platform ``code`` signing with ``signer``."""
        return cls(data_dir, PlatformEntry(code=code, name=name, url=url, jwks=signer.public_jwks()))

    def _file(self) -> TrustList:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp or stamp is None:
                self._cached = TrustList.load(self.path)
                self._stamp = stamp
            return self._cached

    def trust(self) -> TrustList:
        """The trust list to verify with: the file's platforms and ours."""
        entries = [e for e in self._file().list() if e.code != self.own.code]
        return TrustList([*entries, self.own])

    def list(self) -> list[PlatformEntry]:
        """The trusted platforms of the file (not ours), by code."""
        return self._file().list()

    def get(self, code: str) -> PlatformEntry | None:
        """A trusted platform of the file by code."""
        return self._file().get(code)

    def add(self, entry: PlatformEntry) -> PlatformEntry:
        """Trust a platform (or replace its entry) and save the file.

        Raises:
            TrustListError: the entry is invalid, is our own code, or one of its key ids is another's.
        """
        if entry.code == self.own.code:
            raise TrustListError(f"{entry.code} is this registry's own platform code")
        with self._lock:
            current = TrustList.load(self.path)
            current.add(entry)
            current.save(self.path)
            self._stamp = None
        return entry

    def remove(self, code: str) -> bool:
        """Stop trusting a platform; False if it was not trusted."""
        with self._lock:
            current = TrustList.load(self.path)
            removed = current.remove(code)
            if removed:
                current.save(self.path)
            self._stamp = None
        return removed
