"""The README's walkthrough, "A letter of credit, step by step", run as a newcomer runs it: its bash
blocks, extracted from README.md as written, executed by bash against a gateway that ``make run``'s
``scripts.serve`` started on a fresh data folder, after ``source data/demo-credentials.env``.

Before this was fixed, a newcomer had to copy tokens by hand, bring their own ``bl.json``, and a
refused step went unnoticed (a 422 at issuance silently became ``EBL=null`` and the script went on).
Now ``make run`` writes the credentials to a 0600 env file it names, ``examples/`` ships an issuable
document, and the first failing step stops the script with a non-zero exit.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from registry.chain.build import project_root
from scripts.serve import ENV_FILE_MARKER
from tests.support.gateway_process import GatewayProcess

ROOT = project_root()
SECTION = "## A letter of credit, step by step"
ENV_NAMES = (
    "EBL_GATEWAY_URL",
    "CARRIER",
    "SHIPPER",
    "BANK",
    "CONSIGNEE",
    "AUDITOR",
    "GOVERNANCE",
    "SHIPPER_ORG",
    "BANK_ORG",
    "CONSIGNEE_ORG",
    "CARRIER_ORG",
)


def walkthrough() -> str:
    """The section's bash blocks, in order, exactly as the README shows them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = re.split(r"\n#{2,3} ", text.split(SECTION, 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) >= 2, "the walkthrough and its terminal part"
    return "\n".join(blocks)


@dataclass
class Run:
    folder: Path
    result: subprocess.CompletedProcess[str]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def run_walkthrough(
    gateway: GatewayProcess, folder: Path, *, request: dict[str, object] | None = None
) -> Run:
    """Lay ``folder`` out like the project (``data/`` of the served gateway, ``examples/``, ``.venv``),
    save the walkthrough as ``walkthrough.sh`` there and run ``bash walkthrough.sh`` in it, as the
    README says, with nothing on PATH but the system's tools."""
    folder.mkdir(parents=True)
    (folder / "data").symlink_to(gateway.data_dir, target_is_directory=True)
    (folder / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    shutil.copytree(ROOT / "examples", folder / "examples")
    if request is not None:
        (folder / "examples" / "issuance-request.json").write_text(json.dumps(request), encoding="utf-8")
    (folder / "walkthrough.sh").write_text(walkthrough(), encoding="utf-8")
    result = subprocess.run(
        ["bash", "walkthrough.sh"],
        cwd=folder,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(folder),
            "COLUMNS": "160",
            "LANG": "C.UTF-8",
        },
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return Run(folder, result)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The newcomer's own ``make run``: ``scripts.serve`` on a fresh data folder, stopped by pid."""
    process = GatewayProcess(tmp_path_factory.mktemp("newcomer"))
    try:
        process.start()
        yield process
    finally:
        process.close()


@pytest.fixture(scope="module")
def first_run(fresh: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_walkthrough(fresh, tmp_path_factory.mktemp("walk") / "project")


def _env(gateway: GatewayProcess) -> dict[str, str]:
    """What ``source data/demo-credentials.env`` puts into a shell."""
    script = f"source {shlex.quote(str(gateway.data_dir / 'demo-credentials.env'))}; env -0"
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, env={"PATH": "/usr/bin:/bin"}, check=True
    )
    return dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)


def test_make_run_names_a_0600_env_file_with_every_demo_credential(fresh: GatewayProcess) -> None:
    """The first start prints where the exports are; the file is the owner's only, and sourcing it
    gives the same tokens and addresses the printed JSON shows."""
    stdout = (fresh.root / "serve-001.out").read_text()
    line = next(line for line in stdout.splitlines() if line.startswith(ENV_FILE_MARKER))
    path = Path(line.removeprefix(ENV_FILE_MARKER).strip())
    assert path == (fresh.data_dir / "demo-credentials.env").resolve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    env = _env(fresh)
    assert set(ENV_NAMES) <= set(env)
    printed = fresh.credentials
    assert printed is not None
    for name in ("carrier", "shipper", "bank", "consignee", "auditor", "governance"):
        assert env[name.upper()] == printed[name]["token"]
    for name in ("carrier", "shipper", "bank", "consignee"):
        assert env[f"{name.upper()}_ORG"] == printed[name]["org"]
    assert env["EBL_GATEWAY_URL"] == fresh.url


def test_the_readme_walkthrough_runs_end_to_end(fresh: GatewayProcess, first_run: Run) -> None:
    """Issued, endorsed and handed to the bank, verified, passed to the consignee, surrendered and
    accepted; the auditor's history and the CLI's panels print; the bill ends SURRENDERED."""
    assert first_run.result.returncode == 0, first_run.output
    out = first_run.result.stdout
    ebl = re.search(r"issued eBL (\S+) to the shipper", out)
    assert ebl, out
    assert '"documentMatches":true' in out.replace(" ", "").replace("\n", ""), out
    assert "SACC" in out, out  # the history's last action, and the CLI's history table
    env = _env(fresh)
    r = httpx.get(
        f"{fresh.url}/v1/banks/ebls/{ebl.group(1)}/verification",
        headers={"Authorization": f"Bearer {env['BANK']}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "SURRENDERED", r.json()


def test_a_wrong_document_stops_the_walkthrough_at_step_1(
    fresh: GatewayProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The issuance request with a document lacking its issueDate: 422 at step 1, the problem on
    stderr, exit non-zero, and no later step runs (no eBL, no endorsement, no history)."""
    request = json.loads((ROOT / "examples" / "issuance-request.json").read_text(encoding="utf-8"))
    document = dict(request["document"])
    document["transportDocumentReference"] = "WRONGDOC000000000001"
    del document["issueDate"]
    run = run_walkthrough(
        fresh, tmp_path_factory.mktemp("wrong") / "project", request={**request, "document": document}
    )
    assert run.result.returncode != 0, run.output
    assert "POST /v1/carriers/ebls failed" in run.result.stderr, run.output
    assert "invalid_document" in run.result.stderr and "$.issueDate" in run.result.stderr, run.output
    assert "issued eBL" not in run.result.stdout, run.output
    assert "/v1/holders/" not in run.output, run.output


def test_running_the_walkthrough_again_stops_at_the_first_refused_step(
    fresh: GatewayProcess, first_run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A second run replays step 1 (same Idempotency-Key, same eBL), then the shipper, who no longer
    holds the bill, is refused at step 2: the script stops there, before the bank's verification."""
    assert first_run.result.returncode == 0, first_run.output
    again = run_walkthrough(fresh, tmp_path_factory.mktemp("again") / "project")
    assert again.result.returncode != 0, again.output
    assert "issued eBL" in again.result.stdout, again.output
    assert "POST /v1/holders/ebls/" in again.result.stderr and "/endorse failed" in again.result.stderr, (
        again.output
    )
    assert "documentMatches" not in again.result.stdout, again.output


def test_the_walkthrough_names_its_tools(first_run: Run) -> None:
    """The README says which tools the steps use and how to put ``ebl`` on PATH."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n### ", 1)[0]
    for tool in ("`curl`", "`jq`", "source .venv/bin/activate", ".venv/bin/ebl", "data/demo-credentials.env"):
        assert tool in text, tool
    script = walkthrough()
    for command in ("curl -sS --fail-with-body", "| jq", "ebl --gateway", "set -euo pipefail"):
        assert command in script, command
