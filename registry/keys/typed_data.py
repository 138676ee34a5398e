"""EIP-712 typed data for the title registry: the one place it is built.

Every signature the registry relays is over one of two primary types, declared in
``contracts/lib/TitleTypes.sol`` and hashed by the contract under the domain
``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`` with
``name = "EblTitleRegistry"`` and ``version = "1"``:

* ``TitleAction`` -- a holder, carrier or key action on an existing eBL;
* ``Issuance`` -- a carrier issuing a new eBL.

A third type, ``KeyRegistration``, never reaches the contract: a member's new wallet key signs it
under the same domain to prove to the gateway that the member holds that key before its organisation
adds it on chain (:class:`KeyRegistrationMessage`).

The type strings below must match the Solidity structs byte for byte (field order matters); a
test rebuilds them from the Solidity source. :meth:`TitleActionMessage.digest` and
:meth:`IssuanceMessage.digest` compute the EIP-712 digest by hand (about 25 µs) and are proven
equal to ``eth_account.messages.encode_typed_data`` on random inputs; :meth:`to_typed_data`
produces the ``eth_signTypedData_v4`` JSON a client wallet signs, and ``from_typed_data`` reads it
back.

In that JSON every ``uint256`` of a message is a **decimal string** (ids and nonces are near 10^76
and 10^29: a JSON number that large is rounded by JavaScript, refused by ethers 6 and silently
signed rounded by viem 2 and eth-sig-util, all of which accept decimal strings); ``uint8`` values
and the domain's ``chainId`` (below 2^53, EIP-2294; viem leaves a string ``chainId`` out of the
domain type) are numbers. Parsing accepts a number, a decimal or a 0x-hex string for any uint
(:func:`parse_uint`).

Signature checks (:func:`recover_signer`, :func:`verify_typed_signature`) apply the same rules as
OpenZeppelin's ``ECDSA.recover``: 65 bytes, ``v`` in {27, 28}, ``0 < r < n`` and
``0 < s <= n/2`` (no malleable high-s twins), so the gateway refuses before relaying anything the
contract would revert on.

Example::

    domain = Domain(chain_id=31337, verifying_contract=registry_address)
    msg = TitleActionMessage(Action.TRANSFER, ebl_id, party=bank, data=bytes(32), nonce=7,
                             deadline=1_900_000_000)
    signature = signer.sign_digest(msg.digest(domain))
    verify_typed_signature(msg.to_typed_data(domain), signature, signer.address)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak

from registry.errors import InvalidSignatureError
from registry.keys.solidity_values import (
    check_enum,
    check_uint,
    checksum,
    from_json,
    is_valid_address,
    normalise,
    parse_uint,
    to_json,
)
from registry.types import Action, DocumentKind

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_DOMAIN_TYPE",
    "ISSUANCE_TYPE",
    "KEY_REGISTRATION_TYPE",
    "MAX_CHAIN_ID",
    "SECP256K1_HALF_N",
    "SECP256K1_N",
    "TITLE_ACTION_TYPE",
    "Domain",
    "InvalidSignatureError",
    "IssuanceMessage",
    "KeyRegistrationMessage",
    "TitleActionMessage",
    "is_valid_address",
    "parse_uint",
]

DOMAIN_NAME = "EblTitleRegistry"
"""EIP-712 domain ``name`` of the title registry contract."""

DOMAIN_VERSION = "1"
"""EIP-712 domain ``version`` of the title registry contract."""

EIP712_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
"""EIP-712 encoding of the domain type."""

TITLE_ACTION_TYPE = (
    "TitleAction(uint8 action,uint256 eblId,address party,bytes32 data,uint256 nonce,uint256 deadline)"
)
"""EIP-712 encoding of ``TitleTypes.TitleAction`` (field order matters)."""

ISSUANCE_TYPE = (
    "Issuance(bytes32 tdrHash,bytes32 docHash,address issueTo,address endorsee,uint8 kind,"
    "uint256 nonce,uint256 deadline)"
)
"""EIP-712 encoding of ``TitleTypes.Issuance`` (field order matters)."""

KEY_REGISTRATION_TYPE = "KeyRegistration(address organisation,address key,uint256 nonce,uint256 deadline)"
"""EIP-712 encoding of the off-chain proof that a member holds a key it asks to register."""

MAX_CHAIN_ID = (1 << 53) - 1
"""Largest chain id a domain accepts (EIP-2294), so ``chainId`` is exact as a JSON number."""

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""Order of the secp256k1 group."""

SECP256K1_HALF_N = SECP256K1_N // 2
"""Largest ``s`` accepted by OpenZeppelin's ``ECDSA`` (``0x7FFF...5D576E7357A4501DDFE92F46681B20A0``)."""

_DOMAIN_TYPEHASH = keccak(EIP712_DOMAIN_TYPE.encode())
_DOMAIN_FIELDS = (
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
)


# --- domain ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one deployed title registry.

    Attributes:
        chain_id: EIP-155 chain id of the ledger.
        verifying_contract: address of the title registry contract (normalised to checksum form).
    """

    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        check_uint(self.chain_id, 256, "chain_id")
        if not 0 < self.chain_id <= MAX_CHAIN_ID:
            raise ValueError("chain_id must be positive and below 2**53 (EIP-2294)")
        object.__setattr__(
            self, "verifying_contract", checksum(self.verifying_contract, "verifying_contract")
        )

    @cached_property
    def separator(self) -> bytes:
        """The 32-byte EIP-712 domain separator (computed once per instance)."""
        return keccak(
            _DOMAIN_TYPEHASH
            + keccak(DOMAIN_NAME.encode())
            + keccak(DOMAIN_VERSION.encode())
            + abi_encode(["uint256", "address"], [self.chain_id, self.verifying_contract])
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``domain`` member of an ``eth_signTypedData_v4`` payload."""
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


# --- messages --------------------------------------------------------------------------------


class _TypedMessage:
    """Shared behaviour of the EIP-712 message dataclasses (validation, hashing, JSON)."""

    PRIMARY_TYPE: ClassVar[str]
    TYPE_STRING: ClassVar[str]
    TYPEHASH: ClassVar[bytes]
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]]
    """``(EIP-712 name, Python attribute, Solidity type)`` in struct order."""
    _ABI_TYPES: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        built = cls.PRIMARY_TYPE + "(" + ",".join(f"{sol} {name}" for name, _, sol in cls.FIELDS) + ")"
        if built != cls.TYPE_STRING:  # pragma: no cover - guards edits of this module
            raise TypeError(f"{cls.__name__}: FIELDS do not match TYPE_STRING")
        cls.TYPEHASH = keccak(cls.TYPE_STRING.encode())
        cls._ABI_TYPES = tuple(sol for _, _, sol in cls.FIELDS)

    def __post_init__(self) -> None:
        for _, attr, sol in self.FIELDS:
            object.__setattr__(self, attr, normalise(sol, getattr(self, attr), attr))

    def as_contract_tuple(self) -> tuple[Any, ...]:
        """The struct as a tuple in Solidity field order, as passed to a web3 contract call."""
        return tuple(getattr(self, attr) for _, attr, _ in self.FIELDS)

    def struct_hash(self) -> bytes:
        """``hashStruct(message)``: keccak256 of the typehash and the ABI-encoded fields."""
        return keccak(self.TYPEHASH + abi_encode(self._ABI_TYPES, self.as_contract_tuple()))

    def digest(self, domain: Domain) -> bytes:
        """The 32-byte EIP-712 digest a key signs: keccak256(0x1901 ‖ domainSeparator ‖ structHash).

        Args:
            domain: the registry deployment the signature is meant for.

        Returns:
            The digest, equal to what ``digestTitleAction`` / ``digestIssuance`` return on chain.
        """
        return keccak(b"\x19\x01" + domain.separator + self.struct_hash())

    def to_typed_data(self, domain: Domain) -> dict[str, Any]:
        """The full ``eth_signTypedData_v4`` payload, for clients signing with their own wallet.

        ``bytes32`` values are 0x-prefixed lowercase hex, addresses checksummed, ``uint256`` values
        decimal strings, ``uint8`` values ``int``; the result is JSON-serialisable and a fresh dict
        on every call.

        Args:
            domain: the registry deployment the signature is meant for.

        Returns:
            A dict with ``types`` (including ``EIP712Domain``), ``primaryType``, ``domain`` and
            ``message``.
        """
        return {
            "types": {
                "EIP712Domain": [dict(f) for f in _DOMAIN_FIELDS],
                self.PRIMARY_TYPE: [{"name": name, "type": sol} for name, _, sol in self.FIELDS],
            },
            "primaryType": self.PRIMARY_TYPE,
            "domain": domain.to_dict(),
            "message": {name: to_json(sol, getattr(self, attr)) for name, attr, sol in self.FIELDS},
        }

    @classmethod
    def fields_from_typed_data(cls, typed: Mapping[str, Any]) -> dict[str, Any]:
        """The Python attribute values of an ``eth_signTypedData_v4`` payload of this primary type.

        Integers may be JSON numbers or decimal / 0x-hex strings, ``bytes32`` 0x-prefixed hex, and
        addresses in any case (a mixed-case address must carry a valid checksum). The domain is not
        read: a signature is checked against the registry's own domain.

        Raises:
            ValueError: another primary type, a missing field, or a value that is not of its type.
        """
        if not isinstance(typed, Mapping) or typed.get("primaryType") != cls.PRIMARY_TYPE:
            raise ValueError(f"primaryType must be {cls.PRIMARY_TYPE}")
        message = typed.get("message")
        if not isinstance(message, Mapping):
            raise ValueError("message must be an object")
        fields: dict[str, Any] = {}
        for name, attr, sol in cls.FIELDS:
            if name not in message:
                raise ValueError(f"message.{name} is missing")
            fields[attr] = from_json(sol, message[name], f"message.{name}")
        return fields


@dataclass(frozen=True)
class TitleActionMessage(_TypedMessage):
    """EIP-712 ``TitleAction``: a holder, carrier or key action on an existing eBL.

    Attributes:
        action: a :class:`registry.types.Action` value (``uint8``).
        ebl_id: the eBL id (``uint256``).
        party: the counterparty address -- recipient, endorsee, nominee, new key ...
        data: 32 bytes: a reason code, document hash or paper hash (zero when unused).
        nonce: the signer's replay-protection nonce (``uint256``).
        deadline: unix time after which the contract refuses the signature (``uint256``).
    """

    action: int
    ebl_id: int
    party: str
    data: bytes
    nonce: int
    deadline: int

    PRIMARY_TYPE: ClassVar[str] = "TitleAction"
    TYPE_STRING: ClassVar[str] = TITLE_ACTION_TYPE
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("action", "action", "uint8"),
        ("eblId", "ebl_id", "uint256"),
        ("party", "party", "address"),
        ("data", "data", "bytes32"),
        ("nonce", "nonce", "uint256"),
        ("deadline", "deadline", "uint256"),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_enum(Action, self.action, "action")

    @classmethod
    def from_typed_data(cls, typed: Mapping[str, Any]) -> TitleActionMessage:
        """The message of a ``TitleAction`` payload (see :meth:`fields_from_typed_data`).

        Raises:
            ValueError: the payload is not a well-formed ``TitleAction``.
        """
        return cls(**cls.fields_from_typed_data(typed))


@dataclass(frozen=True)
class IssuanceMessage(_TypedMessage):
    """EIP-712 ``Issuance``: a carrier issuing a new eBL.

    Attributes:
        tdr_hash: keccak256 of the transport document reference (32 bytes).
        doc_hash: SHA-256 of the canonical transport document (32 bytes).
        issue_to: the first holder organisation.
        endorsee: the consignee (straight) or first endorsee (to-order; zero address if blank).
        kind: a :class:`registry.types.DocumentKind` value (``uint8``).
        nonce: the carrier key's replay-protection nonce (``uint256``).
        deadline: unix time after which the contract refuses the signature (``uint256``).
    """

    tdr_hash: bytes
    doc_hash: bytes
    issue_to: str
    endorsee: str
    kind: int
    nonce: int
    deadline: int

    PRIMARY_TYPE: ClassVar[str] = "Issuance"
    TYPE_STRING: ClassVar[str] = ISSUANCE_TYPE
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("tdrHash", "tdr_hash", "bytes32"),
        ("docHash", "doc_hash", "bytes32"),
        ("issueTo", "issue_to", "address"),
        ("endorsee", "endorsee", "address"),
        ("kind", "kind", "uint8"),
        ("nonce", "nonce", "uint256"),
        ("deadline", "deadline", "uint256"),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_enum(DocumentKind, self.kind, "kind")


@dataclass(frozen=True)
class KeyRegistrationMessage(_TypedMessage):
    """EIP-712 ``KeyRegistration``: a key proves it consents to serve ``organisation``.

    Signed by the new key itself and checked by the gateway only (the contract never sees it): the
    organisation then adds the key on chain with a key it already has. The domain binds the proof to
    one chain and one registry; the deadline and the nonce keep it short-lived and unique.

    Attributes:
        organisation: the member organisation's identity address.
        key: the key to register (the address the signature must recover to).
        nonce: a random challenge (``uint256``).
        deadline: unix time after which the gateway refuses the proof (``uint256``).
    """

    organisation: str
    key: str
    nonce: int
    deadline: int

    PRIMARY_TYPE: ClassVar[str] = "KeyRegistration"
    TYPE_STRING: ClassVar[str] = KEY_REGISTRATION_TYPE
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("organisation", "organisation", "address"),
        ("key", "key", "address"),
        ("nonce", "nonce", "uint256"),
        ("deadline", "deadline", "uint256"),
    )

    @classmethod
    def from_typed_data(cls, typed: Mapping[str, Any]) -> KeyRegistrationMessage:
        """The message of a ``KeyRegistration`` payload (see :meth:`fields_from_typed_data`).

        Raises:
            ValueError: the payload is not a well-formed ``KeyRegistration``.
        """
        return cls(**cls.fields_from_typed_data(typed))
