"""secp256k1 node keys. On QBFT a validator's node key is its validator key: the address of the key
that signs its P2P handshakes is the address listed in ``extraData`` and that makes its commit seals."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from eth_keys.datatypes import PrivateKey

__all__ = ["NodeKey", "new_node_key"]

_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class NodeKey:
    """One node's key: the private key Besu reads from ``--node-private-key-file``, and what peers and
    the genesis know of it."""

    private_key: PrivateKey

    @property
    def address(self) -> str:
        """The validator address (EIP-55)."""
        return self.private_key.public_key.to_checksum_address()

    @property
    def enode_id(self) -> str:
        """The 64-byte public key in hex, without 0x: the id part of an ``enode://`` URL."""
        return self.private_key.public_key.to_bytes().hex()

    def enode(self, host: str, port: int) -> str:
        """The node's enode URL at ``host:port`` (discovery off: the same port for both)."""
        return f"enode://{self.enode_id}@{host}:{port}"

    def key_file(self) -> str:
        """The contents of Besu's ``key`` file: 0x-prefixed hex of the private key."""
        return "0x" + self.private_key.to_bytes().hex()

    def public_key_file(self) -> str:
        """The contents of Besu's ``key.pub`` file: 0x-prefixed hex of the 64-byte public key."""
        return "0x" + self.enode_id


def new_node_key() -> NodeKey:
    """A fresh key from the operating system's CSPRNG (drawn again in the negligible case that 32 random
    bytes are not a valid secp256k1 scalar)."""
    while True:
        scalar = secrets.token_bytes(32)
        if 0 < int.from_bytes(scalar, "big") < _ORDER:
            return NodeKey(PrivateKey(scalar))
