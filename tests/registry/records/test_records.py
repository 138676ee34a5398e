"""The records are the wire shapes: built from the domain objects, dumped as the gateway serves them,
and read back from that JSON unchanged (what the CLI's gateway mode does before it renders)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.records import EventOut, EventPageOut, OperationOut, VerificationOut, dump
from registry.store.queries import EventRecord
from registry.title import Operation, Verification
from registry.types import Action, DocumentKind, EblId, Status, ebl_id_hex

CARRIER = "0x" + "11" * 20
HOLDER = "0x" + "22" * 20
BIG_ID = 2**255 + 7  # beyond 2^53: a decimal string on the wire


def _verification() -> Verification:
    return Verification(
        ebl_id=EblId(BIG_ID),
        status=Status.ACTIVE,
        live=True,
        holder=HOLDER,  # type: ignore[arg-type]
        endorsee=None,
        carrier=CARRIER,  # type: ignore[arg-type]
        kind=DocumentKind.TO_ORDER,
        blank_endorsed=False,
        document_hash="0x" + "ab" * 32,
        presented_hash=None,
        document_matches=None,
        amended=False,
        predecessor=EblId(5),
        successor=None,
        paper_document_hash=None,
        block_number=12,
        block_hash="0x" + "cd" * 32,
        block_time=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
    )


def test_a_failed_operation_answers_its_problem_code_and_names_the_contract_error() -> None:
    op = Operation(
        "op-1",
        Action.TRANSFER,
        EblId(BIG_ID),
        "failed",
        error_code="TitleWrongStatus",
        error_detail="the eBL is VOID",
    )
    assert dump(OperationOut.from_domain(op)) == {
        "operationId": "op-1",
        "action": "TRANSFER",
        "eblId": str(BIG_ID),
        "status": "failed",
        "successorEblId": None,
        "txHash": None,
        "blockNumber": None,
        "errorCode": "wrong_state",
        "errorDetail": "the eBL is VOID",
        "error": "TitleWrongStatus",
        "eblIdHex": ebl_id_hex(BIG_ID),
        "successorEblIdHex": None,
    }


def test_an_operation_failed_with_a_problem_code_names_no_contract_error() -> None:
    op = Operation("op-2", Action.ISSUE, EblId(1), "failed", error_code="duplicate", error_detail="again")
    record = dump(OperationOut.from_domain(op))
    assert (record["errorCode"], record["error"]) == ("duplicate", None)


def test_an_amendment_names_its_successor_with_its_hex_twin() -> None:
    record = dump(OperationOut.from_domain(Operation("op-3", Action.AMEND, EblId(9), "final")))
    assert record["successorEblId"] is not None
    assert record["successorEblIdHex"] == ebl_id_hex(int(record["successorEblId"]))


def test_a_verification_names_unknown_parties_by_address_alone() -> None:
    record = dump(VerificationOut.from_domain(_verification(), "0x" + "33" * 20, 31337))
    assert record["holder"] == {"address": HOLDER, "name": None, "identifier": None, "role": None}
    assert (record["eblId"], record["eblIdHex"]) == (str(BIG_ID), ebl_id_hex(BIG_ID))
    assert (record["predecessor"], record["successor"], record["successorHex"]) == ("5", None, None)
    assert record["anchoredAt"] == "2026-12-03T15:00:00Z"


def _event() -> EventRecord:
    return EventRecord(1, BIG_ID, 0, Action.ISSUE, CARRIER, HOLDER, CARRIER, "0x", 12, 1764774000, "0xtx", 3)


@pytest.mark.parametrize(
    ("model", "record"),
    [
        (OperationOut, lambda: OperationOut.from_domain(Operation("op-4", Action.AMEND, EblId(9), "final"))),
        (VerificationOut, lambda: VerificationOut.from_domain(_verification(), "0x" + "33" * 20, 31337)),
        (EventOut, lambda: EventOut.from_domain(_event())),
        (EventPageOut, lambda: EventPageOut(events=[EventOut.from_domain(_event())], next_cursor="1.2")),
    ],
)
def test_a_served_record_reads_back_as_it_was_served(model, record) -> None:
    served = dump(record())
    assert dump(model.read(served)) == served


def test_reading_a_record_refuses_a_field_it_does_not_have() -> None:
    served = dump(EventOut.from_domain(_event()))
    with pytest.raises(ValueError, match="extra"):
        EventOut.read({**served, "surprise": 1})
