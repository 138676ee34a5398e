"""The DCSA platform APIs' registry side (Issuance, Surrender and Endorsement Chain 3.0.3).

* :mod:`registry.dcsa.parties` — our members as DCSA parties, and a DCSA ``IssueToParty`` as a member;
* :mod:`registry.dcsa.chains` — the endorsement chain of a transport document, from the index;
* :mod:`registry.dcsa.issuance` — a carrier's ``IssuanceRequest`` onto our issue operation;
* :mod:`registry.dcsa.callbacks` — the persisted outbox of callbacks to carriers and its drainer.
"""

from registry.dcsa.callbacks import CallbackDrainer, CallbackOutbox
from registry.dcsa.chains import endorsement_chains
from registry.dcsa.issuance import DcsaIssuance, checksum
from registry.dcsa.parties import member_of_issue_to, party

__all__ = [
    "CallbackDrainer",
    "CallbackOutbox",
    "DcsaIssuance",
    "checksum",
    "endorsement_chains",
    "member_of_issue_to",
    "party",
]
