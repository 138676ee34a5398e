"""Who may act on a bill, at each moment: the chain of custody re-derived from the registry's proven events.

The rules are those of the law and the standard, not read from the contract (whose rule model,
``tests/contracts/model.py``, serves only for comparison in tests):

* only the carrier issues, and accepts or rejects a surrender (DCSA eBL 3.0 ISSUE, SACC, SREJ);
* only the holder -- the party in exclusive control, UNCITRAL MLETR art. 11 -- transfers possession,
  endorses or surrenders (TRANSFER, ENDORSE, BLANK_ENDORSE, SURRENDER...), and only while the bill is
  active;
* a straight bill passes only to its named consignee (the endorsee here): it is not negotiable;
* only a to-order bill is endorsed;
* a surrender hands possession to the carrier until it is accepted (the bill is spent) or rejected
  (possession returns to who surrendered);
* only the carrier amends, and only a bill whose surrender for amendment it accepted (the amended bill
  is a new eBL: its own bundle, linked by the ``predecessor`` of its ``Issued`` event).

Other actions (nomination, rejection, export, import, void, switch to paper) are shown in the
timeline and their actor's identity is proven, but entitlement to them is not checked here (said in the
result, :attr:`Custody.unchecked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.proofs.errors import BundleError
from registry.types import Action

__all__ = ["Custody"]

_HOLDER_ACTIONS = {
    Action.TRANSFER,
    Action.ENDORSE,
    Action.ENDORSE_TO_ORDER,
    Action.BLANK_ENDORSE,
    Action.SURRENDER_FOR_DELIVERY,
    Action.SURRENDER_FOR_AMENDMENT,
}
STRAIGHT, TO_ORDER = 0, 1  # DocumentKind values as the Issued event carries them


@dataclass
class Custody:
    """The title's state as the events so far make it, and the checks of each next action."""

    carrier: str
    holder: str
    endorsee: str | None
    kind: int
    status: str = "ACTIVE"
    surrendered_by: str | None = None
    unchecked: list[int] = field(default_factory=list)

    def _refuse(self, seq: int, action: Action, message: str) -> BundleError:
        return BundleError(f"action {seq} ({action.dcsa_code}): {message}", "custody")

    def apply(self, seq: int, action: Action, actor: str | None, counterparty: str | None) -> None:
        """Check that ``actor`` was entitled to ``action`` now, then move the state on.

        Raises:
            BundleError: (``custody``) they were not.
        """
        if action is Action.ISSUE:
            if actor != self.carrier:
                raise self._refuse(seq, action, f"{actor} is not the issuing carrier {self.carrier}")
            return
        if action in _HOLDER_ACTIONS:
            if self.status != "ACTIVE":
                raise self._refuse(seq, action, f"the bill is {self.status}, not active")
            if actor != self.holder:
                raise self._refuse(seq, action, f"{actor} is not the holder {self.holder}")
        if action is Action.TRANSFER:
            if self.kind == STRAIGHT and counterparty != self.endorsee:
                raise self._refuse(seq, action, f"a straight bill goes only to its consignee {self.endorsee}")
            self.holder = str(counterparty)
        elif action in (Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.BLANK_ENDORSE):
            if self.kind != TO_ORDER:
                raise self._refuse(seq, action, "only a to-order bill is endorsed")
            self.endorsee = None if action is Action.BLANK_ENDORSE else counterparty
        elif action in (Action.SURRENDER_FOR_DELIVERY, Action.SURRENDER_FOR_AMENDMENT):
            self.surrendered_by, self.holder = self.holder, self.carrier
            self.status = "DELIVERY" if action is Action.SURRENDER_FOR_DELIVERY else "AMENDMENT"
        elif action in (Action.ACCEPT_SURRENDER, Action.REJECT_SURRENDER):
            if actor != self.carrier:
                raise self._refuse(seq, action, f"{actor} is not the carrier {self.carrier}")
            if self.status not in ("DELIVERY", "AMENDMENT"):
                raise self._refuse(seq, action, "no surrender is pending")
            if action is Action.ACCEPT_SURRENDER:
                self.status = "SURRENDERED" if self.status == "DELIVERY" else "SURRENDERED_FOR_AMENDMENT"
            else:
                self.holder, self.status = str(self.surrendered_by), "ACTIVE"
        elif action is Action.AMEND:
            if actor != self.carrier:
                raise self._refuse(seq, action, f"{actor} is not the carrier {self.carrier}")
            if self.status != "SURRENDERED_FOR_AMENDMENT":
                raise self._refuse(seq, action, f"the bill is {self.status}, not surrendered for amendment")
            self.status = "AMENDED"
        else:
            self.unchecked.append(seq)
