"""Reads: where an operation stands, a bank's verification from the chain, an eBL's indexed history.

Each runs on the caller's thread and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from web3.contract import Contract

from registry import documents
from registry.chain.views import ChainHead, TitleReader
from registry.errors import ConfigurationError, NoMatchingEblError, NotFoundError
from registry.store import queries
from registry.store.queries import EventRecord
from registry.title.model import Operation, Verification
from registry.title.ports import Journal
from registry.types import EblId, Status

__all__ = ["TitleReads"]


class TitleReads:
    """The title service's reads.

    Args:
        registry: the deployed registry contract (its ``eblIdOfDocument`` view).
        titles: reads one eBL's title state at a block.
        head: the block verifications are anchored at.
        journal: the operation journal.
        index: the database the indexer writes (for :meth:`history`; None: none).
    """

    def __init__(
        self, registry: Contract, titles: TitleReader, head: ChainHead, journal: Journal, index: Engine | None
    ) -> None:
        self._registry = registry
        self._titles = titles
        self._head = head
        self._journal = journal
        self._index = index

    def operation(self, operation_id: str) -> Operation:
        """Where an operation stands (``NotFoundError`` if unknown)."""
        return Operation.from_journal(self._journal.get(operation_id))

    def verify(
        self,
        ebl_id: int | None = None,
        *,
        document: Mapping[str, Any] | documents.Document | None = None,
        document_text: str | bytes | None = None,
    ) -> Verification:
        """The authoritative title state of an eBL, read from the chain at one block.

        The block is the newest one the service knows, at most ``head_max_age`` seconds old and never
        older than a block an operation of this service became final in; the answer names it.

        Give an eBL id, the presented document (parsed or as JSON text, in any key order or whitespace),
        or both: with a document, the answer says whether it hashes to the issued document hash.

        Raises:
            NotFoundError: no eBL with that id.
            NoMatchingEblError: no id given, and no eBL was issued with that document.
            InvalidDocumentError: the presented JSON cannot be parsed.
        """
        presented: str | None = None
        if document_text is not None:
            presented = documents.hash_json_text(document_text)
        elif isinstance(document, documents.Document):
            presented = document.hash
        elif document is not None:
            presented = documents.document_hash(dict(document))
        block = self._head.latest()
        if ebl_id is None:
            if presented is None:
                raise ValueError("verify needs an eBL id or a document")
            # The chain names the one record a document hash was ever issued as (eblIdOfDocument).
            found = self._registry.functions.eblIdOfDocument(
                bytes.fromhex(presented.removeprefix("0x"))
            ).call(block_identifier=block.number)
            if not found:
                raise NoMatchingEblError(presented)
            ebl_id = EblId(int(found))
        title = self._titles.title_of(int(ebl_id), block.number)
        if title is None:
            raise NotFoundError("eBL", ebl_id)
        issued_hash = title.document_hash.removeprefix("0x")
        exported_to = envelope = None
        if title.status in (Status.EXPORT_PENDING, Status.EXPORTED):
            code, checksum = self._registry.functions.exportOf(int(title.ebl_id)).call(
                block_identifier=block.number
            )
            exported_to = bytes(code).rstrip(b"\0").decode("ascii", "replace")
            envelope = bytes(checksum).hex()
        return Verification(
            ebl_id=title.ebl_id,
            status=title.status,
            live=title.status is Status.ACTIVE,
            holder=title.holder,
            endorsee=title.endorsee,
            carrier=title.carrier,
            kind=title.kind,
            blank_endorsed=title.blank_endorsed,
            document_hash=issued_hash,
            presented_hash=presented,
            document_matches=None if presented is None else presented == issued_hash,
            amended=title.amended,
            predecessor=title.predecessor,
            successor=title.successor,
            paper_document_hash=(
                title.paper_document_hash.removeprefix("0x") if title.paper_document_hash else None
            ),
            block_number=block.number,
            block_hash=block.hash,
            block_time=datetime.fromtimestamp(block.timestamp, UTC),
            exported_to=exported_to,
            export_envelope_checksum=envelope,
        )

    def history(self, ebl_id: int) -> list[EventRecord]:
        """Every recorded action on an eBL, issuance first, from the index (never a scan of the chain).

        Raises:
            NotFoundError: the eBL is not (yet) indexed.
        """
        if self._index is None:
            raise ConfigurationError("this title service was built without an index database")
        return queries.history(self._index, int(ebl_id))
