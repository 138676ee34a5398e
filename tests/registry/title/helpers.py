"""Shared by the title service's tests: documents the test carrier issues, and what the chain recorded."""

from __future__ import annotations

from registry.types import Action
from tests.fixtures.dcsa import issued_example


def document(reference: str, name: str = "regular") -> dict:
    """Example ``name`` as the test ``carrier`` issues it: its reference, naming that carrier (MSC/SMDG)."""
    return issued_example(
        name, transportDocumentReference=reference, carrierCode="MSC", carrierCodeListProvider="SMDG"
    )


def events_of(service, ebl: int) -> list[str]:
    """Every ActionRecorded / Issued event of an eBL on chain, as action names (issuance: ISSUE)."""
    registry = service.registry
    issued = registry.events.Issued().get_logs(from_block=0, argument_filters={"eblId": ebl})
    actions = registry.events.ActionRecorded().get_logs(from_block=0, argument_filters={"eblId": ebl})
    return ["ISSUE"] * len(issued) + [Action(e["args"]["action"]).name for e in actions]
