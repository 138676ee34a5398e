"""The ``ebl`` command in direct mode, on a real embedded registry.

Most invocations share one Runtime injected as the Typer context object (one embedded anvil for the
whole scenario); the last one opens its own Runtime from the ``EBL_*`` environment, as a user's shell
would, and must leave no anvil behind.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from registry.cli import DirectBackend, app
from registry.config import Settings
from registry.members import org_address_for
from registry.runtime import Runtime
from tests.fixtures.dcsa import issued_example

CARRIER, SHIPPER, BANK = "LEI:CLI-CARRIER", "LEI:CLI-SHIPPER", "LEI:CLI-BANK"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("EBL_DATA_DIR", str(data))
    monkeypatch.setenv("EBL_KEYSTORE_KDF_N", "16384")
    monkeypatch.setenv("EBL_CHAIN_BLOCK_TIME", "0.2")
    for name in ("EBL_GATEWAY_URL", "EBL_TOKEN", "EBL_RPC_URL", "EBL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return data


def _processes_using(path: Path) -> list[str]:
    """Command lines of live processes that mention ``path`` (our anvil has its state file there)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


@contextmanager
def _serve(asgi_app: Any) -> Iterator[str]:
    """The gateway on real HTTP: uvicorn on a free loopback port, in a thread."""
    from api.serving import serve_in_thread

    with serve_in_thread(asgi_app) as server:
        yield server.url


def _indexed(runtime: Runtime, ebl_id: str) -> list[Any]:
    from registry.errors import NotFoundError
    from registry.store.queries import history

    try:
        return list(history(runtime.engine, int(ebl_id)))
    except NotFoundError:
        return []


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_direct_mode_end_to_end(tmp_path: Path, data_dir: Path):
    """org add x3, issue, transfer, verify, history, export; an illegal transfer and a bad document are
    refused with their code and exit 1; a standalone invocation opens and closes its own registry."""
    runner = CliRunner()
    document_file = tmp_path / "cli-1.json"
    document_file.write_text(json.dumps(issued_example(transportDocumentReference="CLI-1"), indent=2))

    with Runtime.open(Settings(), follow=False) as runtime:
        backend = DirectBackend(runtime)

        def ebl(*args: str) -> Result:
            return runner.invoke(app, list(args), obj=backend)

        no_code = ebl("org", "add", CARRIER, "--role", "carrier")
        assert no_code.exit_code != 0 and "carrierCode" in no_code.output
        carrier = _json(
            ebl("org", "add", CARRIER, "--role", "carrier", "--carrier-code", "SMDG:MSC", "--json")
        )
        assert carrier["carrierCodes"] == [{"carrierCode": "MSC", "carrierCodeListProvider": "SMDG"}]
        assert carrier["address"] == org_address_for(CARRIER)
        assert carrier["role"] == "CARRIER" and carrier["key"]["status"] == "active" and carrier["keyAddress"]
        shown = ebl("org", "add", SHIPPER, "--role", "trader")
        assert shown.exit_code == 0, shown.output
        assert org_address_for(SHIPPER) in shown.stdout
        bank = _json(ebl("org", "add", BANK, "--role", "bank", "--json"))

        issued = _json(ebl("issue", str(document_file), "--carrier", CARRIER, "--to", SHIPPER, "--json"))
        assert len(issued) == 1 and issued[0]["status"] == "final", issued
        ebl_id = issued[0]["eblId"]
        assert issued[0]["txHash"]

        moved = ebl("transfer", ebl_id, "--as", SHIPPER, "--to", bank["address"])
        assert moved.exit_code == 0, moved.output
        assert "final" in moved.stdout

        view = _json(ebl("verify", str(document_file), "--json"))
        assert view["eblId"] == ebl_id and view["documentMatches"] is True
        assert (view["holder"]["address"], view["status"], view["live"]) == (bank["address"], "ACTIVE", True)
        panel = ebl("verify", str(document_file))
        assert panel.exit_code == 0, panel.output
        assert "matches the issued document" in panel.stdout and "ACTIVE" in panel.stdout

        events = _json(ebl("history", hex(int(ebl_id)), "--json"))
        assert [e["action"] for e in events] == ["ISSUE", "TRANSFER"]
        table = ebl("history", ebl_id)
        assert table.exit_code == 0 and "ISSUE" in table.stdout and "TRANSFER" in table.stdout

        out = tmp_path / "shipper.csv"
        exported = ebl("export", "--org", SHIPPER, "--format", "csv", "--out", str(out))
        assert exported.exit_code == 0, exported.output
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert [(r["action"], r["eblId"]) for r in rows] == [("ISSUE", ebl_id), ("TRANSFER", ebl_id)]
        assert rows[1]["actor"] == org_address_for(SHIPPER) and rows[1]["counterparty"] == bank["address"]

        illegal = ebl("transfer", ebl_id, "--as", SHIPPER, "--to", CARRIER)
        assert illegal.exit_code == 1
        assert "[not_holder]" in illegal.output and "Traceback" not in illegal.output

        bad_file = tmp_path / "bad.json"
        bad_file.write_text(json.dumps(issued_example(transportDocumentReference="CLI-2", carrierCode=None)))
        bad = ebl("issue", str(bad_file), "--carrier", CARRIER, "--to", SHIPPER)
        assert bad.exit_code == 1
        assert "invalid_document" in bad.output and "carrierCode" in bad.output

        missing_actor = ebl("reject", ebl_id)
        assert missing_actor.exit_code == 1 and "--as" in missing_actor.output

    # a standalone invocation, as from a shell: opens the registry from EBL_*, reads, closes it again
    again = runner.invoke(app, ["verify", ebl_id, "--json"])
    assert _json(again)["holder"]["address"] == bank["address"]
    assert _processes_using(data_dir) == []

    # the same from a real shell: `ebl verify ID --document FILE` checks that document against that eBL
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(issued_example(transportDocumentReference="CLI-1X")))
    ebl_command = str(Path(sys.executable).with_name("ebl"))
    shell = subprocess.run(
        [ebl_command, "verify", ebl_id, "--document", str(forged), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert shell.returncode == 1, shell.stdout + shell.stderr  # a mismatch, not "not found"
    verdict = json.loads(shell.stdout)
    assert verdict["eblId"] == ebl_id and verdict["documentMatches"] is False
    assert verdict["presentedHash"] != verdict["documentHash"]
    assert "document_mismatch" in shell.stdout + shell.stderr
    assert _processes_using(data_dir) == []


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import typer.main

    click_group = typer.main.get_command(group) if not hasattr(group, "commands") else group
    found: list[tuple[str, ...]] = []
    for name, command in click_group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
    return found


def test_every_command_has_help():
    """``--help`` works without opening a registry, and every command documents itself."""
    runner = CliRunner()
    commands = _commands(app)
    assert {("org", "add"), ("keys", "export"), ("issue",), ("verify",), ("export",), ("dev", "up")} <= set(
        commands
    )
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output and len(result.output) > 200, path


def test_gateway_mode_reports_an_unreachable_gateway(data_dir: Path):
    """Gateway mode never opens the registry; a connection failure is a red code and exit 1."""
    from registry.chain.anvil import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["--gateway", url, "--token", "t", "history", "0x01"])
    assert result.exit_code == 1
    assert "[gateway_unreachable]" in result.output and "Traceback" not in result.output
    assert not data_dir.exists()


def test_gateway_mode_against_the_real_gateway(tmp_path: Path, data_dir: Path):
    """The same commands over HTTP: the first governance token comes from the CLI in direct mode, then
    governance onboards members, each acting with its own token; refusals show the problem code."""
    api_main = pytest.importorskip("api.main")

    runner = CliRunner()
    document_file = tmp_path / "gw-1.json"
    document_file.write_text(json.dumps(issued_example(transportDocumentReference="CLI-GW-1")))

    with Runtime.open(Settings(), follow=True) as runtime:
        direct = DirectBackend(runtime)
        governance = _json(
            runner.invoke(app, ["credential", "ops", "--role", "governance", "--json"], obj=direct)
        )
        with _serve(api_main.create_app(runtime)) as url:

            def ebl(token: str, *args: str) -> Result:
                return runner.invoke(app, ["--gateway", url, "--token", token, *args])

            tokens, orgs = {}, {}
            for ident, role in ((CARRIER, "carrier"), (SHIPPER, "trader"), (BANK, "bank")):
                codes = ["--carrier-code", "SMDG:MSC"] if role == "carrier" else []
                added = _json(ebl(governance["token"], "org", "add", ident, "--role", role, *codes, "--json"))
                tokens[ident], orgs[ident] = added["credential"]["token"], added["address"]
                assert added["address"] == org_address_for(ident) and added["keyAddress"]
            auditor = _json(ebl(governance["token"], "credential", "audit", "--role", "auditor", "--json"))

            issued = _json(ebl(tokens[CARRIER], "issue", str(document_file), "--to", SHIPPER, "--json"))
            assert issued[0]["status"] == "final", issued
            ebl_id = issued[0]["eblId"]
            moved = ebl(tokens[SHIPPER], "transfer", ebl_id, "--to", BANK)
            assert moved.exit_code == 0, moved.output

            view = _json(ebl(tokens[BANK], "verify", str(document_file), "--json"))
            assert view["documentMatches"] is True and view["holder"]["address"] == orgs[BANK]
            assert ebl(tokens[BANK], "verify", ebl_id).exit_code == 0

            deadline = time.monotonic() + 20  # the runtime's follower indexes the chain
            while len(_indexed(runtime, ebl_id)) < 2:
                assert time.monotonic() < deadline, "the indexer did not catch up"
                time.sleep(0.1)
            events = _json(ebl(auditor["token"], "history", ebl_id, "--json"))
            assert [e["action"] for e in events] == ["ISSUE", "TRANSFER"]
            exported = ebl(auditor["token"], "export", "--org", SHIPPER, "--format", "csv")
            assert exported.exit_code == 0, exported.output
            assert [r["action"] for r in csv.DictReader(io.StringIO(exported.stdout))] == [
                "ISSUE",
                "TRANSFER",
            ]

            illegal = ebl(tokens[SHIPPER], "transfer", ebl_id, "--to", CARRIER)
            assert illegal.exit_code == 1 and "[not_holder]" in illegal.output, illegal.output
            forbidden = ebl(tokens[SHIPPER], "org", "suspend", BANK)
            assert forbidden.exit_code == 1 and "Traceback" not in forbidden.output


def test_direct_mode_keys_and_credentials(tmp_path: Path, data_dir: Path):
    """A member's own wallet key is added from its JSON keystore, listed and revoked; credentials are
    issued with an expiry, listed and revoked; the last step runs as its own process, from a shell."""
    import os
    import subprocess

    from eth_account import Account

    from registry.chain.build import project_root

    runner = CliRunner()
    account = Account.create()
    keyfile, passphrase = tmp_path / "wallet.json", tmp_path / "passphrase"
    keyfile.write_text(json.dumps(Account.encrypt(account.key, "s3cret", kdf="scrypt", iterations=2**14)))
    passphrase.write_text("s3cret\n")

    with Runtime.open(Settings(), follow=False) as runtime:
        backend = DirectBackend(runtime)

        def ebl(*args: str) -> Result:
            return runner.invoke(app, list(args), obj=backend)

        _json(ebl("org", "add", SHIPPER, "--role", "trader", "--json"))
        added = _json(
            ebl(
                "keys",
                "add",
                "--as",
                SHIPPER,
                "--keyfile",
                str(keyfile),
                "--passphrase-file",
                str(passphrase),
                "--json",
            )
        )
        assert added["address"] == account.address and added["custodial"] is False and added["operationId"]
        keys = _json(ebl("keys", "list", SHIPPER, "--json"))
        assert [(k["custodial"], k["status"]) for k in keys] == [(True, "active"), (False, "active")]
        usage = ebl("keys", "list")
        assert usage.exit_code == 1 and "ORG" in usage.output

        challenge = _json(ebl("keys", "challenge", Account.create().address, "--as", SHIPPER))
        assert challenge["primaryType"] == "KeyRegistration"
        assert challenge["message"]["organisation"] == org_address_for(SHIPPER)
        assert isinstance(challenge["message"]["nonce"], str)

        issued = _json(ebl("credential", "ops", "--role", "governance", "--expires", "2h", "--json"))
        assert issued["expiresAt"]
        listed = _json(ebl("credentials", "list", "--json"))
        assert [(c["credentialId"], c["status"]) for c in listed] == [(issued["credentialId"], "active")]
        assert issued["token"] not in json.dumps(listed)
        revoked = _json(ebl("credentials", "revoke", issued["credentialId"], "--json"))
        assert revoked["status"] == "revoked"

    done = subprocess.run(
        [
            str(project_root() / ".venv" / "bin" / "ebl"),
            "keys",
            "revoke",
            account.address,
            "--as",
            SHIPPER,
            "--json",
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["status"] == "revoked"
    assert _processes_using(data_dir) == []
