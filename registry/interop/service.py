"""PINT in a running registry: our platform key, the trust list, the session store, the receiver, the
sender, and the sender's thread that resumes unfinished transfers (after a crash, and after a receiver
that did not answer).

The runtime opens it (``runtime.pint``) once the title service and the bridge are up.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from registry.config import Settings
from registry.interop.directory import MemberDirectory
from registry.interop.platforms import Platforms
from registry.interop.receiver import PintReceiver
from registry.interop.sender import PintSender
from registry.pint.checksums import jws_checksum
from registry.pint.signer import PlatformSigner
from registry.store.pint_sessions import PintSessions
from registry.types import EblId

__all__ = ["PintService"]

log = logging.getLogger(__name__)


class PintService:
    """Everything PINT needs, for one data folder."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        bridge: Any,
        document_of: Any,
        *,
        data_dir: Path | None = None,
        view: Any = None,
    ) -> None:
        data = Path(data_dir or settings.data_dir)
        self.settings = settings
        self.code = settings.platform_code
        self.signer = PlatformSigner.load_or_create(data)
        self.platforms = Platforms.for_signer(
            data,
            code=self.code,
            name=settings.platform_name,
            url=settings.pint_url or "http://127.0.0.1",
            signer=self.signer,
        )
        self.sessions = PintSessions(engine)
        self.directory = MemberDirectory(engine, self.code)
        self.receiver = PintReceiver(
            self.sessions, self.platforms.trust, self.signer, self.directory, bridge, self.sent_chain
        )
        self.sender = PintSender(
            self.sessions,
            self.platforms,
            self.signer,
            self.directory,
            bridge,
            engine,
            lambda ebl: document_of(EblId(int(ebl))),
            self.received_chain,
            view=view,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ what we know of a bill's chain

    def sent_chain(self, document_checksum: str) -> list[str]:
        """The entry checksums of the last envelope we sent for a document and that was accepted."""
        for transfer in self.sessions.list_outgoing(limit=1000):
            envelope = transfer.envelope
            if transfer.step != "exported" or envelope is None:
                continue
            if _document_checksum(envelope) == document_checksum:
                return [jws_checksum(e) for e in envelope["envelopeTransferChain"]]
        return []

    def received_chain(self, document_checksum: str) -> list[str]:
        """The chain (compact JWS) the bill arrived with the last time we accepted it (empty: issued
        here, never received)."""
        accepted = self.sessions.accepted_for_document(document_checksum)
        if not accepted:
            return []
        chain: list[str] = accepted[-1].envelope["envelopeTransferChain"]
        return list(chain)

    # ------------------------------------------------------------------ the resume thread

    def start(self) -> None:
        """Resume unfinished transfers now and every ``pint_retry_interval`` seconds, in a thread."""
        self._thread = threading.Thread(target=self._loop, name="pint-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sender.resume_all()
            except Exception:  # keep the thread: the next round retries
                log.exception("resuming PINT transfers failed")
            self._stop.wait(self.settings.pint_retry_interval)


def _document_checksum(envelope: dict[str, Any]) -> str | None:
    import json

    from registry.pint.jose import b64url_decode

    try:
        manifest = json.loads(b64url_decode(envelope["envelopeManifestSignedContent"].split(".")[1]))
        return str(manifest["transportDocumentChecksum"])
    except (KeyError, ValueError, IndexError):
        return None
