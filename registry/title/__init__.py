"""High-level title operations: issue, transfer, endorse, reject, surrender, amend, verify.

:class:`TitleService` is the façade the gateway and the CLI use (:mod:`registry.title.service` draws its
parts); every write takes a :class:`WriteOptions` and answers an :class:`Operation`.
"""

from registry.title.entries import NonceAllocator
from registry.title.model import DEFAULT_WRITE, Operation, Verification, WriteOptions, amended_ebl_id
from registry.title.ports import DocumentStore, Journal, JournalEntry, OperationStatus
from registry.title.service import TitleService

__all__ = [
    "DEFAULT_WRITE",
    "DocumentStore",
    "Journal",
    "JournalEntry",
    "NonceAllocator",
    "Operation",
    "OperationStatus",
    "TitleService",
    "Verification",
    "WriteOptions",
    "amended_ebl_id",
]
