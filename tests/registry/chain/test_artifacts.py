"""The shipped artifacts are a fresh compile of contracts/, and reading them needs no compiler or Node."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from fnmatch import fnmatch

from registry.chain.artifacts import MAIN_CONTRACTS, load_artifact, package_dir
from registry.chain.build import build, project_root


def test_shipped_artifacts_match_a_fresh_compile_of_the_contracts():
    """Every shipped artifact equals what compiling contracts/ now gives, field for field."""
    built = build()
    for name in MAIN_CONTRACTS:
        shipped, fresh = load_artifact(name).to_json(), built[name].to_json()
        stale = sorted(k for k in fresh if shipped.get(k) != fresh[k])
        assert not stale, (
            f"registry/chain/artifacts/{name}.json is out of date with contracts/ ({', '.join(stale)} "
            "differ): run `make compile` (python -m registry.chain.build) and commit the JSON"
        )


def test_the_artifacts_are_listed_as_package_data():
    """pyproject's package data ships every artifact file, so an installed registry has them."""
    config = tomllib.loads((project_root() / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["registry"]
    files = [p.relative_to(package_dir().parents[1]).as_posix() for p in package_dir().glob("*.json")]
    assert sorted(files) == sorted(f"chain/artifacts/{n}.json" for n in MAIN_CONTRACTS)
    assert all(any(fnmatch(f, pattern) for pattern in patterns) for f in files)


def test_the_run_time_reads_the_artifact_without_node_or_a_compiler(tmp_path):
    """With no Node on PATH and no checkout to compile, the chain client loads and never imports py-solc-x."""
    code = (
        "import sys\n"
        "import registry.chain.relayer, registry.chain.views, registry.chain.deploy, registry.runtime\n"
        "from registry.chain.abi import TITLE_OF\n"
        "from registry.chain.artifacts import load_artifact\n"
        "assert load_artifact().deployed_bytecode and TITLE_OF.selector\n"
        "assert 'solcx' not in sys.modules, 'the run time imported py-solc-x'\n"
    )
    env = {**os.environ, "PATH": str(tmp_path), "EBL_PROJECT_ROOT": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
