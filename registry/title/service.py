"""The title service: every high-level eBL operation, used alike by the gateway and the CLI.

:class:`TitleService` is the one façade. Its commands (issue, transfer, endorse ... and the client-signed
prepare / submit_signed) are those of :class:`~registry.title.commands.TitleCommands`, which it extends;
everything else it delegates to the part that owns it:

* :mod:`registry.title.commands` — build and sign each write's EIP-712 message (or verify a client's);
* :mod:`registry.title.outbox` — simulate → journal → relay → finish, the futures, :meth:`wait`;
* :mod:`registry.title.recovery` — resubmit what the journal holds unfinished, or a restored chain lost;
* :mod:`registry.title.reads` — an operation, a verification, an eBL's history;
* :mod:`registry.title.signing` — the organisations' custodial keys (cached) and a client signer's check.

The commands are inherited rather than delegated because they are the service's surface: each would
otherwise be written twice, once to do and once to forward. The other parts keep their own state (the
futures, the key cache) behind their own classes, so no part reaches into another's attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from eth_typing import ChecksumAddress
from sqlalchemy.engine import Engine
from web3 import Web3
from web3.contract import Contract

from registry.chain.artifacts import load_artifact
from registry.chain.deploy import Deployment
from registry.chain.relayer import Relayer
from registry.chain.views import ChainHead, TitleReader
from registry.documents import Document
from registry.keys import Domain, KeyStore
from registry.store.archive import ChainArchive
from registry.store.queries import EventRecord
from registry.title.commands import TitleCommands
from registry.title.gate import WriteGate
from registry.title.model import Operation, Verification
from registry.title.outbox import Outbox
from registry.title.ports import CarrierCodes, DocumentStore, Journal, JournalEntry
from registry.title.reads import TitleReads
from registry.title.recovery import Recovery
from registry.title.signing import SigningKeys

__all__ = ["TitleService"]


class TitleService(TitleCommands):
    """High-level title operations over one deployed registry.

    Args:
        w3: connection to the ledger.
        deployment: the registry deployment.
        relayer: a started relayer.
        journal: the operation journal.
        document_store: where issued documents are kept.
        keystore: custodial keys (None: client-signed operations only).
        carriers: each carrier's codes: a document is issued (or amended) only by the carrier it
            names (``carrierCode`` / ``carrierCodeListProvider``).
        index: the database the indexer writes (for :meth:`history`).
        archive: the registry's chain archive (recovery asks it for transactions the node pruned).
        signature_ttl: seconds a custodial signature stays valid (its deadline).
        result_timeout: seconds a waiting call blocks before returning the operation as submitted.
        head_max_age: seconds a verification may answer from a head it read before.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        relayer: Relayer,
        journal: Journal,
        document_store: DocumentStore,
        keystore: KeyStore | None = None,
        *,
        carriers: CarrierCodes,
        index: Engine | None = None,
        archive: ChainArchive | None = None,
        signature_ttl: int = 3600,
        result_timeout: float = 120.0,
        head_max_age: float = 0.25,
    ) -> None:
        self.deployment = deployment
        self.registry: Contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        self.head = ChainHead(w3, max_age=head_max_age)
        self._relayer = relayer
        self._journal = journal
        domain = Domain(deployment.chain_id, deployment.address)
        outbox = Outbox(w3, deployment.address, relayer, journal, self.head, result_timeout)
        self._signing = SigningKeys(self.registry, keystore, domain)
        super().__init__(outbox, self._signing, document_store, carriers, domain, signature_ttl)
        self._recovery = Recovery(w3, self.registry, journal, outbox, archive)
        self._reads = TitleReads(
            self.registry, TitleReader(w3, deployment.address), self.head, journal, index
        )

    # ================================================================== the outbox

    @property
    def writes(self) -> WriteGate:
        """Closed by the runtime while it recovers what the chain lost (see :mod:`registry.title.gate`)."""
        return self._outbox.writes

    @property
    def index_barrier(self) -> Callable[[int], object] | None:
        """Called with the block an operation became final in before :meth:`wait` answers it final: the
        runtime sets it to wait until its index holds that block, so history and visibility already
        show the write (read your own writes). None: no index follows the chain in this process."""
        return self._outbox.index_barrier

    @index_barrier.setter
    def index_barrier(self, barrier: Callable[[int], object] | None) -> None:
        self._outbox.index_barrier = barrier

    @property
    def relays(self) -> bool:
        """False in a gateway worker that is not the relayer leader: writes are journaled for the
        leader to relay (see :mod:`registry.leadership`)."""
        return self._outbox.relays

    @relays.setter
    def relays(self, relays: bool) -> None:
        self._outbox.relays = relays

    def adopt(self, rows: Sequence[JournalEntry]) -> None:
        """Relay operations other gateway workers journaled (see :meth:`Outbox.adopt`)."""
        self._outbox.adopt(rows)

    @property
    def result_timeout(self) -> float:
        """Seconds a waiting call blocks before returning the operation as submitted."""
        return self._outbox.result_timeout

    def wait(self, operation_id: str, timeout: float | None = None) -> Operation:
        """Block until an operation submitted by this process is final or failed (and, when final, in
        the index: :attr:`index_barrier`)."""
        return self._outbox.wait(operation_id, timeout)

    # ================================================================== reads

    def operation(self, operation_id: str) -> Operation:
        """Where an operation stands (``NotFoundError`` if unknown)."""
        return self._reads.operation(operation_id)

    def verify(
        self,
        ebl_id: int | None = None,
        *,
        document: Mapping[str, Any] | Document | None = None,
        document_text: str | bytes | None = None,
    ) -> Verification:
        """The authoritative title state of an eBL at one block (see :meth:`TitleReads.verify`)."""
        return self._reads.verify(ebl_id, document=document, document_text=document_text)

    def history(self, ebl_id: int) -> list[EventRecord]:
        """Every recorded action on an eBL, issuance first, from the index (:meth:`TitleReads.history`)."""
        return self._reads.history(ebl_id)

    # ================================================================== recovery

    def recover(self, *, recheck_final_since: datetime | None = None, min_age: float = 0.0) -> int:
        """Resubmit every journaled operation that is not final (see :meth:`Recovery.recover`); returns
        how many were resubmitted."""
        return self._recovery.recover(recheck_final_since=recheck_final_since, min_age=min_age)

    # ================================================================== custodial keys

    def signing_key(self, org: ChecksumAddress) -> ChecksumAddress:
        """The organisation's custodial key that is active both in the keystore and on chain."""
        return self._signing.signing_key(org)

    def forget_key(self, org: str) -> None:
        """Drop the cached custodial key of an organisation (after a rotation)."""
        self._signing.forget(org)
