"""The DCSA Endorsement Chain 3.0.3 of a transport document, read from the index in one query.

One ``SELECT`` joins the eBLs recorded under the document's reference (``ix_ebls_tdr_hash``) with their
events (``ix_ebl_events_ebl_id_seq``), the actor's and recipient's profiles (primary keys) and the
issued document (primary key) for its sub-reference and carrier code. No log is read.

Our actions map onto the standard's ``actionCode`` words; those without one in Endorsement Chain 3.0.3
(NOMINATE, REJECT, REJECT_SURRENDER, VOID, AMEND, SWITCH_TO_PAPER) are left out of the chain, as the
standard allows ("the combination and order of endorsement chain entries may differ by eBL Solution
Provider"). Entries are newest first, as in DCSA's examples; ``auditReference`` is the transaction hash
and log index that recorded the action on chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import aliased

from registry.chain import ids
from registry.dcsa.parties import party
from registry.store.models import Document, Ebl, EblEvent, OrgProfile
from registry.types import Action

__all__ = ["ACTION_CODES", "endorsement_chains"]

EBLS: Table = Ebl.__table__  # type: ignore[assignment]
EVENTS: Table = EblEvent.__table__  # type: ignore[assignment]
DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]

ACTION_CODES: dict[str, str] = {
    Action.ISSUE.dcsa_code: "ISSUE",
    Action.TRANSFER.dcsa_code: "TRANSFER",
    Action.ENDORSE.dcsa_code: "ENDORSE",
    Action.ENDORSE_TO_ORDER.dcsa_code: "ENDORSE_TO_ORDER",
    Action.BLANK_ENDORSE.dcsa_code: "BLANK_ENDORSE",
    Action.SURRENDER_FOR_DELIVERY.dcsa_code: "SURRENDER_FOR_DELIVERY",
    Action.SURRENDER_FOR_AMENDMENT.dcsa_code: "SURRENDER_FOR_AMENDMENT",
    Action.ACCEPT_SURRENDER.dcsa_code: "SURRENDERED",
}
"""Our action (its stored DCSA code) → the Endorsement Chain 3.0.3 ``actionCode``."""

_NO_RECIPIENT = {"SURRENDERED", "BLANK_ENDORSE"}


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def endorsement_chains(
    engine: Engine,
    platform: str,
    reference: str,
    *,
    sub_reference: str | None = None,
    scac: str | None = None,
) -> list[dict[str, Any]]:
    """Every ``EndorsementChain`` recorded under ``reference`` (one per eBL: an amended document is a
    second one), newest eBL first, filtered as the standard's query parameters say. Empty when none."""
    actor = aliased(OrgProfile.__table__)
    recipient = aliased(OrgProfile.__table__)
    query = (
        select(
            EBLS.c.ebl_id,
            EBLS.c.issued_block,
            DOCUMENTS.c.document["transportDocumentSubReference"].as_string().label("sub_reference"),
            DOCUMENTS.c.document["carrierCode"].as_string().label("carrier_code"),
            DOCUMENTS.c.document["carrierCodeListProvider"].as_string().label("code_list"),
            EVENTS.c.seq,
            EVENTS.c.action,
            EVENTS.c.actor,
            EVENTS.c.counterparty,
            EVENTS.c.block_time,
            EVENTS.c.tx_hash,
            EVENTS.c.log_index,
            actor.c.name.label("actor_name"),
            recipient.c.name.label("recipient_name"),
        )
        .select_from(EBLS)
        .join(EVENTS, EVENTS.c.ebl_id == EBLS.c.ebl_id)
        .outerjoin(DOCUMENTS, DOCUMENTS.c.ebl_id == EBLS.c.ebl_id)
        .outerjoin(actor, actor.c.address == EVENTS.c.actor)
        .outerjoin(recipient, recipient.c.address == EVENTS.c.counterparty)
        .where(EBLS.c.tdr_hash == "0x" + ids.tdr_hash(reference).hex())
        .order_by(EBLS.c.issued_block.desc(), EBLS.c.ebl_id, EVENTS.c.seq.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    chains: dict[str, dict[str, Any]] = {}
    for row in rows:
        chain = chains.get(row.ebl_id)
        if chain is None:
            chain = {"transportDocumentReference": reference}
            if row.sub_reference:
                chain["transportDocumentSubReference"] = row.sub_reference
            if row.code_list == "NMFTA" and row.carrier_code:
                chain["carrierSCACCode"] = row.carrier_code
            chain["endorsementChain"] = []
            chains[row.ebl_id] = chain
        code = ACTION_CODES.get(row.action)
        if code is None:
            continue
        link: dict[str, Any] = {
            "actionDateTime": _time(row.block_time),
            "actionCode": code,
            "actor": party(platform, row.actor, row.actor_name),
        }
        if code not in _NO_RECIPIENT and row.counterparty:
            link["recipient"] = party(platform, row.counterparty, row.recipient_name)
        link["auditReference"] = f"{row.tx_hash}:{row.log_index}"
        chain["endorsementChain"].append(link)
    return [
        c
        for c in chains.values()
        if (sub_reference is None or c.get("transportDocumentSubReference") == sub_reference)
        and (scac is None or c.get("carrierSCACCode") == scac)
    ]
