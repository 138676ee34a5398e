"""Two gateway workers on one PostgreSQL database: onboarding through one governance account at the same
moment, each acknowledged onboarding is on chain with a nonce of its own (never one nonce signed twice,
which the node would refuse for one of them); and the leader's write gate, closed while it recovers
the chain, refuses the follower's writes too."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from registry.errors import LedgerUnavailableError
from registry.governance import GovernanceSender
from registry.keys import LocalSigner, Signer
from registry.members import org_address_for
from registry.store.db import create_engine_for, migrate
from registry.store.governance import SqlGovernanceJournal
from registry.store.sender_lock import RecoveryFlag
from registry.title.gate import WriteGate
from registry.types import OrgStatus, Role
from tests.contracts.parties import test_key as member_key
from tests.registry.store.conftest import Chain
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres


class SlowSigner(Signer):
    """The governance key behind a signer that takes its time, as an HSM or a KMS round trip does."""

    __slots__ = ("_inner",)

    def __init__(self, account: LocalAccount) -> None:
        self._inner = LocalSigner(bytes(account.key))

    @property
    def address(self) -> Any:
        return self._inner.address

    def sign_digest(self, digest: bytes) -> bytes:
        return self._inner.sign_digest(digest)

    def sign_transaction(self, tx: Mapping[str, Any]) -> bytes:
        time.sleep(0.5)
        return self._inner.sign_transaction(tx)


def test_two_workers_onboarding_at_once_both_reach_the_chain_with_their_own_nonces(
    chain: Chain, postgres_server: PostgresServer
) -> None:
    url = postgres_server.create_database("two_governance_senders")
    migrate(url)
    # each worker process has its own engine, journal and sender for the one governance account
    engines = [create_engine_for(url) for _ in range(2)]
    senders = [
        GovernanceSender(chain.w3, chain.deployment, SlowSigner(chain.governance), SqlGovernanceJournal(e))
        for e in engines
    ]
    members = [member_key(f"two-workers-member-{n}") for n in range(2)]
    orgs = [org_address_for(f"LEI:TWO-WORKERS-{n}") for n in range(2)]
    barrier = threading.Barrier(2)
    outcome: dict[int, object] = {}

    def onboard(n: int) -> None:
        fn = chain.registry.functions.registerOrganisation(
            orgs[n], int(Role.TRADER), keccak(text=f"LEI:TWO-WORKERS-{n}"), members[n].address
        )
        data = bytes.fromhex(fn._encode_transaction_data().removeprefix("0x"))
        barrier.wait()
        try:
            outcome[n] = senders[n].send(data, f"registerOrganisation {orgs[n]}")
        except Exception as exc:
            outcome[n] = exc

    try:
        threads = [threading.Thread(target=onboard, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert all(isinstance(outcome.get(n), int) for n in range(2)), outcome
        for org in orgs:
            status = chain.registry.functions.organisation(org).call()[2]
            assert OrgStatus(status) is OrgStatus.ACTIVE, org
        rows = SqlGovernanceJournal(engines[0]).final_since(datetime(2000, 1, 1, tzinfo=UTC))
        assert len(rows) == 2 and len({r.nonce for r in rows}) == 2, rows
    finally:
        for e in engines:
            e.dispose()


def test_while_the_leader_recovers_the_chain_a_followers_write_is_refused(
    chain: Chain, postgres_server: PostgresServer
) -> None:
    """The leader's write gate is every worker's: closed (the chain is being recovered), a follower's
    new write is refused with 503 material (LedgerUnavailableError) instead of being simulated against
    a chain that lacks what is being resent; open again, it passes. A leader that dies with its gate
    closed frees it (its session ends)."""
    url = postgres_server.create_database("shared_write_gate")
    leader_engine, follower_engine = create_engine_for(url), create_engine_for(url)
    leader, follower = WriteGate(), WriteGate()
    leader_flag = RecoveryFlag(leader_engine, chain.deployment.address)
    leader.share(leader_flag, leading=True)
    follower.share(RecoveryFlag(follower_engine, chain.deployment.address), leading=False)
    try:
        with follower.passage():
            pass
        leader.close("the ledger is recovering; retry shortly")
        with pytest.raises(LedgerUnavailableError), follower.passage():
            pass
        leader.open()
        with follower.passage():
            pass

        leader.close("the ledger is unreachable; retry shortly")
        with psycopg.connect(postgres_server.conninfo("shared_write_gate"), autocommit=True) as admin:
            killed = admin.execute(  # the leader's process dies (kill -9): its session ends
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            ).fetchall()
        assert killed
        with follower.passage():
            pass
    finally:
        leader_flag.lower_flag()  # closes the (terminated) session's connection
        leader_engine.dispose()
        follower_engine.dispose()
