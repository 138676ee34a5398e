"""The read-only ERC-721 / ERC-5192 view of title: balances, owners, Transfer events, disabled transfers
and approvals, interface detection."""

from __future__ import annotations

from collections import Counter
from functools import reduce

import pytest
from eth_utils import function_signature_to_4byte_selector as selector

from registry.types import Status
from tests.contracts.helpers import AMENDED_DOC, PAPER_DOC, ZERO_ADDRESS, amended_id_of, events, text32

TERMINAL_PATHS = {
    Status.SURRENDERED: ("DELIVERY", None),
    Status.VOIDED: ("COD", "voidEbl"),
    Status.SWITCHED_TO_PAPER: ("SWTP", "switchToPaper"),
}


@pytest.fixture
def finish(registry, send, issue, carrier, shipper):
    """``finish(status)`` -> an eBL issued to the shipper and driven into a terminal status."""

    def _finish(status: Status) -> int:
        f = registry.functions
        ebl = issue(shipper)
        code, last = TERMINAL_PATHS[status]
        if code == "DELIVERY":
            send(f.requestSurrenderForDelivery(ebl), shipper)
        else:
            send(f.requestSurrenderForAmendment(ebl, text32(code)), shipper)
        send(f.acceptSurrender(ebl), carrier)
        if last == "voidEbl":
            send(f.voidEbl(ebl), carrier)
        elif last == "switchToPaper":
            send(f.switchToPaper(ebl, PAPER_DOC), carrier)
        return ebl

    return _finish


def test_balance_of_counts_live_ebls_held_through_issue_transfer_surrender_and_burn(
    registry, send, issue, carrier, shipper, bank, buyer
):
    """balanceOf(org) is the number of live eBLs it holds at every step; Transfer events replay to it."""
    f = registry.functions
    cast = {"shipper": shipper, "bank": bank, "buyer": buyer, "carrier": carrier}
    a, b = issue(shipper), issue(shipper)
    amended = amended_id_of(b)
    steps = [
        ((f.transferPossession(a, bank.org), shipper), {"shipper": 1, "bank": 1}),
        ((f.rejectTransfer(a), bank), {"shipper": 2}),
        ((f.endorseToOrder(a, buyer.org), shipper), {"shipper": 2}),
        ((f.transferPossession(a, buyer.org), shipper), {"shipper": 1, "buyer": 1}),
        ((f.requestSurrenderForDelivery(a), buyer), {"shipper": 1, "carrier": 1}),
        ((f.rejectSurrender(a), carrier), {"shipper": 1, "buyer": 1}),
        ((f.requestSurrenderForDelivery(a), buyer), {"shipper": 1, "carrier": 1}),
        ((f.acceptSurrender(a), carrier), {"shipper": 1}),
        ((f.requestSurrenderForAmendment(b, text32("COD")), shipper), {"carrier": 1}),
        ((f.acceptSurrender(b), carrier), {"carrier": 1}),
        ((f.amend(b, AMENDED_DOC, ZERO_ADDRESS), carrier), {"shipper": 1}),
        ((f.transferPossession(amended, bank.org), shipper), {"bank": 1}),
        ((f.requestSurrenderForAmendment(amended, text32("SWTP")), bank), {"carrier": 1}),
        ((f.acceptSurrender(amended), carrier), {"carrier": 1}),
        ((f.switchToPaper(amended, PAPER_DOC), carrier), {}),
    ]
    transfers = []
    steps.insert(0, ((None, None), {"shipper": 2}))
    for (fn, who), expected in steps:
        if fn is not None:
            transfers += events(registry, "Transfer", send(fn, who))
        balances = {n: f.balanceOf(p.org).call() for n, p in cast.items()}
        assert balances == {n: expected.get(n, 0) for n in cast}

    owners = {a: shipper.org, b: shipper.org}
    for t in transfers:
        assert owners.get(t["tokenId"], ZERO_ADDRESS) == t["from"]
        owners[t["tokenId"]] = t["to"]
    assert owners == {a: ZERO_ADDRESS, b: ZERO_ADDRESS, amended: ZERO_ADDRESS}


def test_transfer_events_replay_to_owner_of_and_balance_of(
    registry, send, w3, issue, carrier, shipper, bank, buyer
):
    """Replaying the Transfer log (mint, transfer, reject, surrender, burn) yields ownerOf and balanceOf."""
    f = registry.functions
    start = w3.eth.block_number + 1
    ids = [issue(shipper) for _ in range(3)]
    plan = [
        (f.transferPossession(ids[0], bank.org), shipper),
        (f.transferPossession(ids[1], buyer.org), shipper),
        (f.rejectTransfer(ids[1]), buyer),
        (f.requestSurrenderForDelivery(ids[2]), shipper),
        (f.acceptSurrender(ids[2]), carrier),
    ]
    for fn, who in plan:
        send(fn, who)
    logs = registry.events.Transfer().get_logs(from_block=start)
    owners: dict[int, str] = {}
    for log in logs:
        owners[log.args.tokenId] = log.args.to
    assert owners == {ids[0]: bank.org, ids[1]: shipper.org, ids[2]: ZERO_ADDRESS}
    for ebl, owner in owners.items():
        if owner != ZERO_ADDRESS:
            assert f.ownerOf(ebl).call() == owner
    live = Counter(o for o in owners.values() if o != ZERO_ADDRESS)
    for party in (shipper, bank, buyer, carrier):
        assert f.balanceOf(party.org).call() == live[party.org]


def test_balance_of_non_member_is_zero(registry, outsider):
    """Non-members hold nothing: balanceOf is 0."""
    assert registry.functions.balanceOf(outsider.org).call() == 0


def test_balance_of_zero_address_reverts(registry, reverts):
    """ERC-721: balanceOf(address(0)) throws, with MembershipZeroAddress()."""
    with reverts("MembershipZeroAddress"):
        registry.functions.balanceOf(ZERO_ADDRESS).call()


def test_owner_of_reverts_for_unknown_ebl(registry, reverts):
    """ownerOf of an id never issued reverts TitleUnknownEbl(id)."""
    with reverts("TitleUnknownEbl", 99):
        registry.functions.ownerOf(99).call()


@pytest.mark.parametrize("status", list(TERMINAL_PATHS), ids=lambda s: s.name.lower())
def test_owner_of_reverts_for_terminal_ebl(registry, reverts, finish, status):
    """A burned (terminal) eBL has no owner: ownerOf reverts TitleWrongStatus(id, status)."""
    ebl = finish(status)
    with reverts("TitleWrongStatus", ebl, int(status)):
        registry.functions.ownerOf(ebl).call()


@pytest.mark.parametrize("accept", [False, True], ids=["surrender_requested", "surrendered_for_amendment"])
def test_owner_of_pending_surrender_is_issuing_carrier(registry, send, issue, carrier, shipper, accept):
    """While a surrender is pending or accepted for amendment, the carrier owns (holds) the eBL."""
    ebl = issue(shipper)
    send(registry.functions.requestSurrenderForAmendment(ebl, text32("COD")), shipper)
    if accept:
        send(registry.functions.acceptSurrender(ebl), carrier)
    assert registry.functions.ownerOf(ebl).call() == carrier.org


def disabled_calls(registry, holder, to, ebl):
    safe3 = registry.get_function_by_signature("safeTransferFrom(address,address,uint256)")
    safe4 = registry.get_function_by_signature("safeTransferFrom(address,address,uint256,bytes)")
    f = registry.functions
    return {
        "approve": f.approve(to, ebl),
        "setApprovalForAll": f.setApprovalForAll(to, True),
        "transferFrom": f.transferFrom(holder, to, ebl),
        "safeTransferFrom": safe3(holder, to, ebl),
        "safeTransferFrom_bytes": safe4(holder, to, ebl, b"\x01"),
    }


@pytest.mark.parametrize(
    "fn", ["approve", "setApprovalForAll", "transferFrom", "safeTransferFrom", "safeTransferFrom_bytes"]
)
def test_erc721_transfer_and_approval_functions_revert_disabled(registry, reverts, issue, shipper, bank, fn):
    """Even the holder cannot move or approve through ERC-721: TitleERC721Disabled(); nothing changes."""
    ebl = issue(shipper)
    with reverts("TitleERC721Disabled"):
        disabled_calls(registry, shipper.org, bank.org, ebl)[fn].transact({"from": shipper.address})
    assert registry.functions.ownerOf(ebl).call() == shipper.org


def test_get_approved_is_zero_and_is_approved_for_all_is_false(registry, issue, shipper, bank):
    """There are no approvals or operators, for live and unknown ids alike."""
    ebl = issue(shipper)
    for token in (ebl, 123):
        assert registry.functions.getApproved(token).call() == ZERO_ADDRESS
    assert registry.functions.isApprovedForAll(shipper.org, bank.org).call() is False
    assert registry.functions.isApprovedForAll(shipper.address, shipper.address).call() is False


def interface_id(*signatures: str) -> bytes:
    return reduce(
        lambda acc, s: bytes(x ^ y for x, y in zip(acc, selector(s), strict=True)), signatures, bytes(4)
    )


IERC721 = interface_id(
    "balanceOf(address)",
    "ownerOf(uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "safeTransferFrom(address,address,uint256)",
    "transferFrom(address,address,uint256)",
    "approve(address,uint256)",
    "setApprovalForAll(address,bool)",
    "getApproved(uint256)",
    "isApprovedForAll(address,address)",
)
IERC5192 = interface_id("locked(uint256)")
IERC165 = interface_id("supportsInterface(bytes4)")
IACCESS_CONTROL = interface_id(
    "hasRole(bytes32,address)",
    "getRoleAdmin(bytes32)",
    "grantRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "renounceRole(bytes32,address)",
)


def test_interface_ids_are_the_standard_constants():
    """The computed interface ids are the well-known ERC-165 constants."""
    assert (IERC721.hex(), IERC5192.hex(), IERC165.hex(), IACCESS_CONTROL.hex()) == (
        "80ac58cd",
        "b45a3c0e",
        "01ffc9a7",
        "7965db0b",
    )


@pytest.mark.parametrize(
    "interface,supported",
    [
        (IERC721, True),
        (IERC5192, True),
        (IERC165, True),
        (IACCESS_CONTROL, True),
        (bytes.fromhex("5b5e139f"), False),  # IERC721Metadata
        (bytes.fromhex("780e9d63"), False),  # IERC721Enumerable
        (bytes.fromhex("ffffffff"), False),  # ERC-165: must be false
    ],
    ids=[
        "IERC721",
        "IERC5192",
        "IERC165",
        "IAccessControl",
        "IERC721Metadata",
        "IERC721Enumerable",
        "ffffffff",
    ],
)
def test_supports_interface(registry, interface, supported):
    """ERC-165: IERC721, IERC5192, IERC165 and IAccessControl yes; metadata, enumerable, 0xffffffff no."""
    assert registry.functions.supportsInterface(interface).call() is supported


def test_locked_is_true_for_live_ebl(registry, issue, shipper):
    """ERC-5192: every live eBL is locked."""
    assert registry.functions.locked(issue(shipper)).call() is True


def test_locked_reverts_for_unknown_ebl(registry, reverts):
    """ERC-5192: locked() of an unknown id reverts TitleUnknownEbl."""
    with reverts("TitleUnknownEbl", 5):
        registry.functions.locked(5).call()


def test_locked_reverts_for_terminal_ebl(registry, reverts, finish):
    """ERC-5192: a burned eBL is invalid, so locked() throws like ownerOf (TitleWrongStatus)."""
    ebl = finish(Status.SURRENDERED)
    with reverts("TitleWrongStatus", ebl, int(Status.SURRENDERED)):
        registry.functions.locked(ebl).call()
