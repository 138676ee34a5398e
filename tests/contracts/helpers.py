"""Plain helpers shared by the contract test modules (no fixtures): EIP-712 signing, raw sends from
extra keys, event decoding and one table mapping every title `Action` to its registry call."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from registry.chain.anvil_dev import fund_dev_accounts
from registry.types import Action
from tests.contracts.parties import Party

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = bytes(32)
FAR_DEADLINE = 2**40
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
DEFAULT_ADMIN_ROLE = bytes(32)
PAUSER_ROLE = keccak(text="PAUSER_ROLE")

AMENDED_DOC = keccak(text="amended transport document")
PAPER_DOC = keccak(text="printed paper bill")

_nonces = itertools.count(1)
_tdrs = itertools.count(1)


def text32(code: str) -> bytes:
    """A DCSA code as `bytes32` text ("SWTP" -> 0x53575450 00...)."""
    return code.encode().ljust(32, b"\0")


def fresh_nonce() -> int:
    """A nonce never used before in this session."""
    return next(_nonces) * 7919


def fresh_tdr() -> bytes:
    """keccak256 of a transport document reference never used before in this session."""
    return keccak(text=f"helpers-TDR-{next(_tdrs)}")


def doc_hash_for(tdr: bytes) -> bytes:
    return keccak(b"doc" + tdr)


def ebl_id_of(carrier_org: str, tdr: bytes) -> int:
    """The eBL id formula: keccak256(abi.encode(carrier, tdrHash))."""
    return int.from_bytes(keccak(encode(["address", "bytes32"], [carrier_org, tdr])), "big")


def amended_id_of(ebl_id: int) -> int:
    """The id of an amended reissue: keccak256(abi.encode(eblId))."""
    return int.from_bytes(keccak(encode(["uint256"], [ebl_id])), "big")


def signing_key(who: Party | LocalAccount) -> LocalAccount:
    return who.key if isinstance(who, Party) else who


# ----------------------------------------------------------------------------- EIP-712

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
TITLE_ACTION_TYPE = [
    {"name": "action", "type": "uint8"},
    {"name": "eblId", "type": "uint256"},
    {"name": "party", "type": "address"},
    {"name": "data", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
ISSUANCE_TYPE = [
    {"name": "tdrHash", "type": "bytes32"},
    {"name": "docHash", "type": "bytes32"},
    {"name": "issueTo", "type": "address"},
    {"name": "endorsee", "type": "address"},
    {"name": "kind", "type": "uint8"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def typed_data(primary: str, message: tuple, chain_id: int, contract: str) -> dict[str, Any]:
    """The full EIP-712 message (for eth_account's `encode_typed_data(full_message=...)`)."""
    fields = TITLE_ACTION_TYPE if primary == "TitleAction" else ISSUANCE_TYPE
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": {
            "name": "EblTitleRegistry",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": {f["name"]: v for f, v in zip(fields, message, strict=True)},
    }


def hash_typed(full_message: dict[str, Any]) -> bytes:
    """The EIP-712 digest of a full typed-data message, computed off chain by eth_account."""
    return _hash_eip191_message(encode_typed_data(full_message=full_message))


def typed_digest(primary: str, message: tuple, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest of a `TitleAction` / `Issuance` tuple under a given domain, off chain."""
    return hash_typed(typed_data(primary, message, chain_id, contract))


def title_action(
    action: int,
    ebl_id: int = 0,
    party: str = ZERO_ADDRESS,
    data: bytes = ZERO_HASH,
    nonce: int | None = None,
    deadline: int = FAR_DEADLINE,
) -> tuple:
    """A `TitleAction` tuple (fresh nonce unless given)."""
    return (int(action), ebl_id, party, data, fresh_nonce() if nonce is None else nonce, deadline)


def issuance(
    tdr: bytes,
    issue_to: str,
    endorsee: str = ZERO_ADDRESS,
    kind: int = 1,
    doc: bytes | None = None,
    nonce: int | None = None,
    deadline: int = FAR_DEADLINE,
) -> tuple:
    """An `Issuance` tuple (fresh nonce unless given)."""
    return (
        tdr,
        doc_hash_for(tdr) if doc is None else doc,
        issue_to,
        endorsee,
        int(kind),
        fresh_nonce() if nonce is None else nonce,
        deadline,
    )


def sign_digest(digest: bytes, who: Party | LocalAccount) -> bytes:
    return bytes(Account.unsafe_sign_hash(digest, signing_key(who).key).signature)


def sign_action(
    registry: Contract, who: Party | LocalAccount, action: tuple, *, claim: str | None = None
) -> tuple:
    """A `SignedAction` over the contract's own digest; `claim` overrides the claimed signer."""
    signature = sign_digest(registry.functions.digestTitleAction(action).call(), who)
    return (action, claim or signing_key(who).address, signature)


def sign_issuance(
    registry: Contract, who: Party | LocalAccount, issued: tuple, *, claim: str | None = None
) -> tuple:
    """A `SignedIssuance` over the contract's own digest; `claim` overrides the claimed signer."""
    signature = sign_digest(registry.functions.digestIssuance(issued).call(), who)
    return (issued, claim or signing_key(who).address, signature)


def high_s(signature: bytes) -> bytes:
    """The malleable twin of a 65-byte signature: s' = n - s, v flipped (recovers the same key)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


# ----------------------------------------------------------------------------- transactions and events


def send_from(w3: Web3, fn: Any, account: LocalAccount) -> Any:
    """Send a call signed by a key the session middleware does not know (e.g. a newly added key)."""
    assert fund_dev_accounts(w3, [account.address], 10**21)
    tx = fn.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    )
    raw = account.sign_transaction(tx).raw_transaction
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    return receipt


def events(registry: Contract, name: str, receipt: Any) -> list[dict[str, Any]]:
    """The decoded arguments of every `name` event in a receipt, in log order."""
    return [
        dict(e["args"]) for e in getattr(registry.events, name)().process_receipt(receipt, errors=DISCARD)
    ]


def recorded(
    ebl_id: int,
    action: Action,
    actor: Party,
    counterparty: str,
    seq: int,
    data: bytes = ZERO_HASH,
    key: str | None = None,
) -> dict[str, Any]:
    """The expected arguments of one `ActionRecorded` event (actor key defaults to the party's key)."""
    return {
        "eblId": ebl_id,
        "action": int(action),
        "actor": actor.org,
        "counterparty": counterparty,
        "actorKey": key or actor.address,
        "data": data,
        "seq": seq,
    }


def title(registry: Contract, ebl_id: int) -> dict[str, Any]:
    """`titleOf(eblId)` as a dict keyed by the `TitleView` field names."""
    (output,) = registry.get_function_by_name("titleOf").abi["outputs"]
    names = [c["name"] for c in output["components"]]
    return dict(zip(names, registry.functions.titleOf(ebl_id).call(), strict=True))


def event_names(registry: Contract, receipt: Any) -> list[str]:
    """Names of all registry events in a receipt, in log order."""
    by_topic = {
        keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"): e["name"]
        for e in registry.abi
        if e["type"] == "event"
    }
    return [by_topic[bytes(log["topics"][0])] for log in receipt["logs"]]


# ----------------------------------------------------------------------------- the title action table

TITLE_ACTIONS = tuple(Action(code) for code in range(Action.TRANSFER, Action.SWITCH_TO_PAPER + 1))
"""Every action that writes an eBL's title record (codes 1..13)."""

HOLDER_ACTIONS = (
    Action.TRANSFER,
    Action.ENDORSE,
    Action.ENDORSE_TO_ORDER,
    Action.BLANK_ENDORSE,
    Action.REJECT,
    Action.SURRENDER_FOR_DELIVERY,
    Action.SURRENDER_FOR_AMENDMENT,
)
CARRIER_ACTIONS = (
    Action.ACCEPT_SURRENDER,
    Action.REJECT_SURRENDER,
    Action.VOID,
    Action.AMEND,
    Action.SWITCH_TO_PAPER,
)
_TAKES_PARTY = {Action.TRANSFER, Action.ENDORSE, Action.ENDORSE_TO_ORDER, Action.NOMINATE, Action.AMEND}
_DATA = {
    Action.SURRENDER_FOR_AMENDMENT: text32("COD"),
    Action.AMEND: AMENDED_DOC,
    Action.SWITCH_TO_PAPER: PAPER_DOC,
}


def action_party(action: Action, party: str) -> str:
    return party if action in _TAKES_PARTY else ZERO_ADDRESS


def action_data(action: Action) -> bytes:
    return _DATA.get(action, ZERO_HASH)


def title_call(registry: Contract, action: Action, ebl_id: int, party: str) -> Any:
    """The direct (sender-authorised) registry call of a title action, with valid non-zero data."""
    f = registry.functions
    calls: dict[Action, Callable[[], Any]] = {
        Action.TRANSFER: lambda: f.transferPossession(ebl_id, party),
        Action.ENDORSE: lambda: f.endorse(ebl_id, party),
        Action.ENDORSE_TO_ORDER: lambda: f.endorseToOrder(ebl_id, party),
        Action.BLANK_ENDORSE: lambda: f.endorseInBlank(ebl_id),
        Action.NOMINATE: lambda: f.nominate(ebl_id, party),
        Action.REJECT: lambda: f.rejectTransfer(ebl_id),
        Action.SURRENDER_FOR_DELIVERY: lambda: f.requestSurrenderForDelivery(ebl_id),
        Action.SURRENDER_FOR_AMENDMENT: lambda: f.requestSurrenderForAmendment(ebl_id, action_data(action)),
        Action.ACCEPT_SURRENDER: lambda: f.acceptSurrender(ebl_id),
        Action.REJECT_SURRENDER: lambda: f.rejectSurrender(ebl_id),
        Action.VOID: lambda: f.voidEbl(ebl_id),
        Action.AMEND: lambda: f.amend(ebl_id, action_data(action), party),
        Action.SWITCH_TO_PAPER: lambda: f.switchToPaper(ebl_id, action_data(action)),
    }
    return calls[action]()


def signed_title_call(
    registry: Contract, action: Action, ebl_id: int, party: str, who: Party | LocalAccount
) -> Any:
    """The same title action as `title_call`, as an `execute` of `who`'s EIP-712 signature."""
    payload = title_action(action, ebl_id, action_party(action, party), action_data(action))
    return registry.functions.execute(sign_action(registry, who, payload))


def attempt(
    registry: Contract,
    action: Action,
    ebl_id: int,
    party: str,
    who: Party | LocalAccount,
    via: str,
    relayer: str,
) -> Any:
    """Try a title action as `who`, directly (`via="direct"`) or relayed by `relayer` (`via="signed"`)."""
    if via == "direct":
        return title_call(registry, action, ebl_id, party).transact({"from": signing_key(who).address})
    return signed_title_call(registry, action, ebl_id, party, who).transact({"from": relayer})


def action_id(action: Action) -> str:
    return action.name.lower()
