"""Fold the registry's events into the database: organisations, keys, eBL title state and history.

* :mod:`~registry.store.indexer.sync` — :class:`Indexer`: fetch → decode → fold → write, per block range,
  one transaction each, and the read-your-writes wait.
* :mod:`~registry.store.indexer.fold` — the pure fold of one decoded event into one eBL's title state.
* :mod:`~registry.store.indexer.writes` — applying a decoded range: title rows, history, membership.
* :mod:`~registry.store.indexer.rollback` — reorgs: where to resume, rolling back, replaying.
* :mod:`~registry.store.indexer.consistency` — the index against the chain's ``titleOf``.

Decoding lives in :mod:`registry.chain.events` (derived from the compiled ABI).
"""

from registry.store.indexer.consistency import Discrepancy
from registry.store.indexer.sync import Indexer

__all__ = ["Discrepancy", "Indexer"]
