"""Operators meet ``ebl platforms add / list / remove`` and holders ``ebl pint send / status``: the CLI in
a subprocess, through the served gateway and in direct mode, printing the records ``/v1`` serves and
refusing bad input with ``[code] detail`` and exit code 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.pint.signer import PlatformSigner
from tests.outsiders.conftest import Served
from tests.outsiders.test_pint_between_registries import Registry, _start, imported_id, issue

EBL = str(Path(sys.executable).with_name("ebl"))


def _ebl(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EBL, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _ok(args: list[str], env: dict[str, str], cwd: Path) -> Any:
    done = _ebl(args, env, cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _refused(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """The command exits 1 with a ``[code] detail`` line and no traceback; what it printed."""
    done = _ebl(args, env, cwd)
    printed = done.stdout + done.stderr
    assert done.returncode == 1, printed
    assert "Traceback" not in printed, printed
    return " ".join(printed.split())


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("EBL_GATEWAY_URL", "EBL_TOKEN", "EBL_DATA_DIR"):
        env.pop(name, None)
    return env


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    """The public JWK set of a fresh platform key, as another operator would hand it over."""
    path = tmp_path / "wave.jwks.json"
    path.write_text(json.dumps(PlatformSigner.generate().public_jwks()))
    return path


def _as(served: Served, who: str) -> list[str]:
    return ["--gateway", served.url, "--token", served.credentials[who]["token"]]


def _add(code: str, jwks: Path, *extra: str) -> list[str]:
    url = f"https://pint.{code.lower()}.example/v3"
    return [
        "platforms",
        "add",
        "--code",
        code,
        "--name",
        f"Platform {code}",
        "--url",
        url,
        "--jwks",
        str(jwks),
        *extra,
    ]


def _codes(listed: list[dict[str, Any]]) -> list[str]:
    return [p["code"] for p in listed if not p["own"]]


def test_governance_adds_lists_and_removes_a_platform_through_the_gateway(
    served: Served, jwks_file: Path, tmp_path: Path
) -> None:
    env, gov = _clean_env(), _as(served, "governance")
    kid = json.loads(jwks_file.read_text())["keys"][0]["kid"]

    added = _ok([*gov, *_add("WAVE", jwks_file, "--carrier", "SMDG:MSC"), "--json"], env, tmp_path)
    listed = _ok([*gov, "platforms", "list", "--json"], env, tmp_path)

    assert (added["code"], added["url"], added["keyIds"]) == ("WAVE", "https://pint.wave.example/v3", [kid])
    with served.client("governance") as client:
        assert client.get("/v1/platforms").json() == listed  # the records /v1 serves, as they are
    assert "WAVE" in _codes(listed) and sum(p["own"] for p in listed) == 1

    assert "WAVE" in _ok([*gov, "platforms", "remove", "WAVE"], env, tmp_path)
    assert "WAVE" not in _codes(_ok([*gov, "platforms", "list", "--json"], env, tmp_path))
    assert "[not_found]" in _refused([*gov, "platforms", "remove", "WAVE"], env, tmp_path)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not JSON"),
        ('["a", "list"]', "is not a JSON object"),
        ('{"keys": [{"kty": "EC", "crv": "P-256"}]}', "jwks"),  # neither a usable key nor a kid
    ],
    ids=["not-json", "not-an-object", "not-a-jwk-set"],
)
def test_a_bad_jwks_file_is_refused_with_a_clear_error_and_nothing_is_trusted(
    served: Served, tmp_path: Path, content: str, says: str
) -> None:
    env, gov = _clean_env(), _as(served, "governance")
    bad = tmp_path / "bad.jwks.json"
    bad.write_text(content)

    printed = _refused([*gov, *_add("BADJ", bad)], env, tmp_path)

    assert "[invalid_platform]" in printed and says in printed, printed
    assert "BADJ" not in _codes(_ok([*gov, "platforms", "list", "--json"], env, tmp_path))


def test_a_missing_jwks_file_is_named_in_the_error(served: Served, tmp_path: Path) -> None:
    printed = _refused(
        [*_as(served, "governance"), *_add("MISS", tmp_path / "nowhere.json")], _clean_env(), tmp_path
    )
    assert "[invalid_platform]" in printed and "nowhere.json" in printed


def test_a_holder_asks_the_status_of_an_unknown_transfer(served: Served, tmp_path: Path) -> None:
    printed = _refused(
        [*_as(served, "shipper"), "pint", "status", "no-such-transfer"], _clean_env(), tmp_path
    )
    assert "[not_found]" in printed and "no-such-transfer" in printed


def test_a_holder_lists_its_transfers_as_json(served: Served, tmp_path: Path) -> None:
    listed = _ok([*_as(served, "shipper"), "pint", "status", "--json"], _clean_env(), tmp_path)
    with served.client("shipper") as client:
        assert client.get("/v1/platform-transfers").json() == listed


def test_a_send_to_an_unknown_platform_says_so_and_the_bill_stays(served: Served, tmp_path: Path) -> None:
    party = ["--party-name", "Bank", "--party-code", "W3C:did:web:bank.example"]
    args = [*_as(served, "shipper"), "pint", "send", "1", "--platform", "NOPE", *party]

    printed = _refused(args, _clean_env(), tmp_path)

    assert "[unknown_platform]" in printed and "NOPE" in printed, printed


def test_a_send_needs_exactly_one_way_of_naming_the_recipient(served: Served, tmp_path: Path) -> None:
    args = [*_as(served, "shipper"), "pint", "send", "1", "--platform", "WAVE"]
    assert "[usage]" in _refused(args, _clean_env(), tmp_path)
    assert "[usage]" in _refused(
        [*args, "--party-code", "nocolon", "--party-name", "X"], _clean_env(), tmp_path
    )


def test_direct_mode_adds_lists_and_removes_a_platform(jwks_file: Path, tmp_path: Path) -> None:
    env = _clean_env() | {
        "EBL_DATA_DIR": str(tmp_path / "data"),
        "EBL_KEYSTORE_KDF_N": "16384",
        "EBL_CHAIN_BLOCK_TIME": "0.5",
    }

    added = _ok([*_add("WAVE", jwks_file), "--json"], env, tmp_path)
    listed = _ok(["platforms", "list", "--json"], env, tmp_path)

    assert added["code"] == "WAVE" and _codes(listed) == ["WAVE"]
    assert [p["code"] for p in listed if p["own"]]  # this registry's own entry, as /v1 lists it
    _ok(["platforms", "remove", "WAVE"], env, tmp_path)
    assert _codes(_ok(["platforms", "list", "--json"], env, tmp_path)) == []
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"kty": "EC", "crv": "P-256"}]}')
    assert "[invalid_platform]" in _refused(_add("BADJ", bad), env, tmp_path)
    assert "[not_found]" in _refused(["pint", "status", "no-such-transfer"], env, tmp_path)
    party = ["--party-name", "Bank", "--party-code", "W3C:did:web:bank.example", "--as", "LEI:SHIPPER"]
    sent = _refused(["pint", "send", "1", "--platform", "NOPE", *party], env, tmp_path)
    assert "[unknown_platform]" in sent and "NOPE" in sent, sent


# ====================================================================== two registries, CLI only


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Registry]]:
    """Two registries (EBLA, EBLB) whose operators trust each other with ``ebl platforms add``, each
    handing the other its own entry from ``ebl platforms list``."""
    root = tmp_path_factory.mktemp("pint-cli")
    started: list[Registry] = []
    try:
        started.append(_start(root, "a", "EBLA"))
        started.append(_start(root, "b", "EBLB"))
        a, b = started
        for here, other in ((a, b), (b, a)):
            own = next(
                p for p in _ok([*_gov(other), "platforms", "list", "--json"], _clean_env(), root) if p["own"]
            )
            jwks = root / f"{own['code']}.jwks.json"
            jwks.write_text(json.dumps(own["jwks"]))
            entry = ["--code", own["code"], "--name", f"registry {own['code']}", "--url", other.url]
            _ok([*_gov(here), "platforms", "add", *entry, "--jwks", str(jwks), "--json"], _clean_env(), root)
        yield a, b
    finally:
        for registry in started:
            registry.gateway.close()


def _gov(registry: Registry) -> list[str]:
    return ["--gateway", registry.url, "--token", registry.token("governance")]


def test_a_holder_sends_a_bill_to_the_other_registry_and_follows_it(
    pair: tuple[Registry, Registry], tmp_path: Path
) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)
    shipper = ["--gateway", a.url, "--token", a.token("shipper")]
    recipient = tmp_path / "bank.json"
    recipient.write_text(json.dumps(b.party("bank")))

    sent = _ok(
        [*shipper, "pint", "send", ebl, "--platform", b.code, "--recipient-file", str(recipient), "--json"],
        _clean_env(),
        tmp_path,
    )

    assert (sent["status"], sent["responseCode"], sent["eblId"]) == ("EXPORTED", "RECE", ebl)
    assert a.status(ebl)["status"] == "EXPORTED"
    assert b.status(imported_id(b, sent))["holder"]["address"] == b.org("bank")
    followed = _ok([*shipper, "pint", "status", sent["transferId"], "--json"], _clean_env(), tmp_path)
    assert followed == sent
    received = _ok([*_gov(b), "pint", "incoming", "--json"], _clean_env(), tmp_path)
    with b.client("governance") as gov:
        assert gov.get("/v1/incoming-envelopes").json() == received
    assert [e["state"] for e in received if e["lastEntryChecksum"] == sent["lastEntryChecksum"]] == [
        "accepted"
    ]
    assert "EXPORTED" in _ok([*shipper, "pint", "status", sent["transferId"]], _clean_env(), tmp_path)


def test_a_send_the_receiver_refuses_exits_1_with_its_code_and_the_bill_stays(
    pair: tuple[Registry, Registry], tmp_path: Path
) -> None:
    a, b = pair
    ebl = issue(a, to_order=True)
    shipper = ["--gateway", a.url, "--token", a.token("shipper")]
    nobody = ["--party-name", "Nobody", "--party-code", f"{b.code}:0x{'11' * 20}"]

    printed = _refused([*shipper, "pint", "send", ebl, "--platform", b.code, *nobody], _clean_env(), tmp_path)

    assert "RETURNED" in printed and "[BENV]" in printed, printed
    assert a.status(ebl)["status"] == "ACTIVE"
    listed = _ok([*shipper, "pint", "status", "--json"], _clean_env(), tmp_path)
    assert [t["status"] for t in listed if t["eblId"] == ebl] == ["RETURNED"]
