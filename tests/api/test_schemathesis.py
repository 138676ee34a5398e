"""Schemathesis fuzzes every operation of the gateway's own OpenAPI document, as every role.

The schema is loaded from ``{gateway}/openapi.json`` of a running gateway. Each operation is fuzzed
as each role (governance, the five members, the auditor, and no credential at all) with positive and
negative (schema-violating) inputs, and every response must pass:

* ``not_a_server_error``: never a 5xx;
* ``status_code_conformance`` and ``content_type_conformance``: the status and media type are the
  documented ones (errors are documented as ``application/problem+json``, see
  ``api.problems.document_problems``);
* ``response_schema_conformance``: the body matches the documented schema for that status;
* every error is the RFC 9457 problem+json the gateway promises, its ``status`` the HTTP status.

The fuzzing writes (onboards organisations, issues eBLs ...), so it runs on its own registry and
gateway (the same wiring as ``tests/api/conftest.py``), never on the session gateway whose state
the other API tests rely on.

Budget: ``max_examples`` per operation, role and generation mode from the Hypothesis profile (5 under
``ci``, about 60 s for the whole file on 2 cores; 25 under ``long``, about 3 min); no shrinking, so a
failure costs no extra requests. Each test collects every distinct failure of its operation and
asserts there is none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.serving import serve_in_thread
from registry.chain.anvil import AnvilProcess
from registry.config import Settings
from registry.runtime import Runtime
from tests.api.conftest import Gateway
from tests.api.helpers import PROBLEM_FIELDS, PROBLEM_JSON, onboard_cast
from tests.hypothesis_profiles import PROFILE

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {"ci": 5, "dev": 2, "long": 25}[PROFILE]
ROLES = ("governance", "carrier", "shipper", "bank", "consignee", "other_carrier", "auditor", "anonymous")

# The operations, read from the same application at collection time (no runtime needed to render
# the document); the test itself fuzzes the document the running gateway serves.
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, item in create_app().openapi()["paths"].items()
    for method in item
    # /v3 speaks DCSA (ErrorResponse, signed PINT answers), not /v1's problem+json: its own suites test it
    if method in {"get", "post", "put", "patch", "delete"} and not path.startswith("/v3/")
)


@pytest.fixture(scope="module")
def fuzz_gateway(anvil: AnvilProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data: Path = tmp_path_factory.mktemp("fuzz-data")
    settings_ = Settings(data_dir=data, rpc_url=anvil.url, keystore_kdf_n=2**14, relayer_max_delay=0.01)
    with Runtime.open(settings_) as runtime:
        app = create_app(runtime)
        with serve_in_thread(app) as server:
            yield Gateway(server.url, runtime, app.state.credentials)


@pytest.fixture(scope="module")
def tokens(fuzz_gateway: Gateway) -> dict[str, str | None]:
    """A credential per role, onboarded through the governance API as the session fixtures do."""
    gov_token = fuzz_gateway.credentials.issue("fuzz governance", "governance", None).token
    out: dict[str, str | None] = {"governance": gov_token, "anonymous": None}
    with fuzz_gateway.client(gov_token) as gov:
        cast = onboard_cast(gov, "FUZZ", "Fuzz auditor")
    for name, body in cast.items():
        out[name] = body["token"] if name == "auditor" else body["credential"]["token"]
    return out


@pytest.fixture(scope="module")
def api_schema(fuzz_gateway: Gateway) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_gateway.url}/openapi.json")


def _fuzz(schema: Any, base_url: str, label: str, token: str | None) -> dict[str, str]:
    """Fuzz one operation; every distinct failure (key) with an example request and response (value)."""
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failures: dict[str, str] = {}

    def record(key: str, case: Any, response: Any) -> None:
        failures.setdefault(
            key, f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:300]}"
        )

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(
            max_examples=EXAMPLES,
            derandomize=PROFILE != "long",
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            status = response.status_code
            try:
                case.validate_response(response, checks=CHECKS)
            except (Failure, FailureGroup) as exc:
                for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                    record(f"{_first_line(failure.title)} [{status}]", case, response)
            if status >= 400:
                problem = _problem_violation(response)
                if problem:
                    record(f"not problem+json: {problem} [{status}]", case, response)

        try:
            run()
        except Unsatisfiable:
            # Nothing of this operation can be made schema-violating (no parameters, or only free
            # strings): there is no negative case to send.
            assert mode is GenerationMode.NEGATIVE, f"{label}: no positive case could be generated"
    return failures


def _problem_violation(response: Any) -> str:
    """Why an error response is not the RFC 9457 problem+json the gateway documents ('' if it is)."""
    content_type = response.headers.get("content-type")
    if isinstance(content_type, list):  # schemathesis' Response keeps every value of a header
        content_type = content_type[0] if content_type else None
    if content_type != PROBLEM_JSON:
        return f"content-type {content_type}"
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or not body.keys() >= PROBLEM_FIELDS:
        return "missing problem fields"
    if body["status"] != response.status_code:
        return "status field differs from the HTTP status"
    return ""


def _first_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().splitlines()[0]) if text.strip() else ""


def _report(failures: dict[str, str]) -> str:
    return "\n".join(f"{k}\n    e.g. {v}" for k, v in sorted(failures.items()))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_as_role(api_schema, fuzz_gateway, tokens, operation, role):
    """As each role: never a 5xx; every status, media type and body is the documented one; errors are
    problem+json."""
    failures = _fuzz(api_schema, fuzz_gateway.url, operation, tokens[role])
    assert not failures, _report(failures)
