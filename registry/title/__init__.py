"""High-level title operations: issue, transfer, endorse, reject, surrender, amend, verify."""

from registry.title.ports import DocumentStore, Journal, JournalEntry, OperationStatus
from registry.title.service import NonceAllocator, Operation, TitleService, Verification

__all__ = [
    "DocumentStore",
    "Journal",
    "JournalEntry",
    "NonceAllocator",
    "Operation",
    "OperationStatus",
    "TitleService",
    "Verification",
]
