"""The DCSA platform APIs' registry side (Issuance, Surrender and Endorsement Chain 3.0.3).

* :mod:`registry.dcsa.parties` — our members as DCSA parties, and a DCSA ``IssueToParty`` as a member;
* :mod:`registry.dcsa.chains` — the endorsement chain of a transport document, from the index;
* :mod:`registry.dcsa.callbacks` — the persisted outbox of callbacks to carriers and its drainer.
"""

from registry.dcsa.callbacks import CallbackOutbox, CallbackDrainer
from registry.dcsa.chains import endorsement_chains
from registry.dcsa.parties import member_of_issue_to, party

__all__ = ["CallbackDrainer", "CallbackOutbox", "endorsement_chains", "member_of_issue_to", "party"]
