"""Standard wallet libraries, driven through node as an integrator's code would drive them.

:func:`sign` hands typed data, byte for byte as the gateway served it, to ``sign.mjs``, which signs
it with ethers 6, viem 2 and @metamask/eth-sig-util (the npm dev dependencies) and reports each
signature or each library's error. A :class:`Wallet` is a fresh private key that only the test and
node ever see: the gateway never does.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.chain.build import project_root

__all__ = ["LIBRARIES", "Wallet", "register", "sign"]

NODE = project_root() / "node_modules" / "node" / "bin" / "node"
SCRIPT = Path(__file__).with_name("sign.mjs")
LIBRARIES = ("ethers", "viem", "ethSigUtil")


def _node(args: list[str], private_key: str) -> dict[str, Any]:
    env = {**os.environ, "WALLET_PRIVATE_KEY": private_key}
    done = subprocess.run(
        [str(NODE), str(SCRIPT), *args],
        cwd=project_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def sign(typed_json: str | bytes, private_key: str, *, tmp: Path, rounded: bool = False) -> dict[str, Any]:
    """Each library's answer for ``typed_json`` (the response body as received): ``{"address": ...,
    "ethers": {"signature": ...} | {"error": ...}, "viem": ..., "ethSigUtil": ...}``.

    ``rounded``: first turn every decimal-string integer of the message into a JavaScript number,
    as a client does that calls ``Number()`` on what it parsed (the values near 10^76 get rounded).
    """
    path = tmp / f"typed-{secrets.token_hex(4)}.json"
    path.write_bytes(typed_json.encode() if isinstance(typed_json, str) else typed_json)
    return _node([str(path)] + (["--numbers"] if rounded else []), private_key)


@dataclass
class Wallet:
    """A private key held outside the registry; its address comes from the wallet libraries."""

    tmp: Path
    private_key: str = field(default_factory=lambda: "0x" + secrets.token_hex(32))
    address: str = ""

    def __post_init__(self) -> None:
        self.address = str(_node(["--address"], self.private_key)["address"])

    def sign(self, typed_json: str | bytes, *, rounded: bool = False) -> dict[str, Any]:
        """Sign with all three libraries (see :func:`sign`)."""
        result = sign(typed_json, self.private_key, tmp=self.tmp, rounded=rounded)
        assert result["address"] == self.address
        return result

    def signature(self, typed_json: str | bytes) -> str:
        """The one signature all three libraries agree on (asserted)."""
        result = self.sign(typed_json)
        signatures = {name: result[name].get("signature") for name in LIBRARIES}
        assert len(set(signatures.values())) == 1 and None not in signatures.values(), result
        return str(signatures["ethers"])


def register(client: Any, wallet: Wallet) -> dict[str, Any]:
    """Register ``wallet``'s key for the organisation ``client`` acts for, as a member would over HTTP:
    the gateway's challenge, signed in node, posted back. Returns the key's record."""
    challenge = client.post("/v1/members/keys/challenge", json={"key": wallet.address})
    assert challenge.status_code == 200, challenge.text
    body = {"typedData": challenge.json(), "signature": wallet.signature(challenge.content)}
    r = client.post("/v1/members/keys", json=body)
    assert r.status_code == 201, r.text
    added: dict[str, Any] = r.json()
    return added
