"""Every problem code the gateway can answer with is in one table, and the OpenAPI document lists it.

The table (``api.problems.PROBLEM_CODES``: code → HTTP status, meaning) is walked against what can
produce a problem: every custom error in the contracts' ABI, every ``Problem(status, code, ...)`` the
gateway's source raises, and every registry error the handler renders. Contract refusals speak DCSA
words: each error's message is a sentence with its enum arguments by name.
"""

from __future__ import annotations

import ast
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.problems import _CONTRACT, PROBLEM_CODES, problem_for_contract_error, problem_for_registry_error
from registry.chain.build import load_artifact, project_root
from registry.chain.errors import REASONS, error_classes
from registry.errors import ContractRevertError, InvalidRequestError, RegistryError
from registry.types import Action, DocumentKind, Role, Status

ABI_ERRORS = {e["name"]: e["inputs"] for e in load_artifact().abi if e["type"] == "error"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


@pytest.mark.parametrize("name", sorted(ABI_ERRORS))
def test_every_contract_error_has_a_code_of_the_table_and_a_sentence(name: str) -> None:
    status, code = _CONTRACT[name]
    assert PROBLEM_CODES[code][0] == status, f"{name} → {code} answers {status}, the table says otherwise"
    assert REASONS.get(name), f"{name} has no message in registry.chain.errors.REASONS"


def _sample(param: dict[str, Any]) -> object:
    internal, kind = str(param.get("internalType", "")), str(param["type"])
    if internal == "enum Status":
        return Status.SURRENDERED
    if internal == "enum Role":
        return Role.CARRIER
    if kind == "uint8" and param["name"] == "action":
        return Action.TRANSFER
    if kind == "uint8" and param["name"] == "kind":
        return DocumentKind.TO_ORDER
    if kind == "address":
        return "0x" + "ab" * 20
    if kind.startswith("bytes"):
        return b"\x01" * 32
    if kind == "string":
        return "a string"
    return 2**255 + 7


@pytest.mark.parametrize("name", sorted(ABI_ERRORS))
def test_every_contract_refusal_reads_as_a_sentence_with_enums_by_name(name: str) -> None:
    inputs = ABI_ERRORS[name]
    exc = error_classes()[name]({p["name"]: _sample(p) for p in inputs})
    message = str(exc)
    assert "{" not in message and "=" not in message and name not in message, message
    problem = problem_for_contract_error(exc)
    assert problem.detail == message and problem.code in PROBLEM_CODES
    for param in inputs:
        value = _sample(param)
        rendered = problem.extra["args"][param["name"]]
        assert isinstance(rendered, str)
        if isinstance(value, Status | Role | Action | DocumentKind):
            assert rendered == value.name  # never the enum's number
            if "{" + param["name"] + "}" in REASONS[name]:
                assert value.name in message


def test_wrong_status_says_which_status_in_dcsa_words() -> None:
    exc = error_classes()["TitleWrongStatus"]({"eblId": 7, "status": Status.SURRENDERED})
    assert str(exc) == "the eBL is SURRENDERED"
    problem = problem_for_contract_error(exc)
    assert (problem.status, problem.code, problem.detail) == (409, "wrong_state", "the eBL is SURRENDERED")
    assert problem.extra["args"] == {"eblId": "7", "status": "SURRENDERED"}


def _problem_calls() -> list[tuple[str, int, object, object]]:
    """(file, line, status, code) of every ``Problem(...)`` call in the gateway's source."""
    found = []
    for path in sorted((project_root() / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Problem"
                and len(node.args) >= 2
            ):
                status, code = node.args[0], node.args[1]
                found.append(
                    (
                        str(path.relative_to(project_root())),
                        node.lineno,
                        status.value if isinstance(status, ast.Constant) else None,
                        code.value if isinstance(code, ast.Constant) else None,
                    )
                )
    return found


def test_every_problem_the_gateway_raises_has_a_code_of_the_table() -> None:
    calls = _problem_calls()
    assert len(calls) > 20
    for where, line, status, code in calls:
        if code is None:  # computed: from the table itself (contract errors, failed operations)
            continue
        assert code in PROBLEM_CODES, f"{where}:{line}: code {code!r} is not in api.problems.PROBLEM_CODES"
        if status is not None:
            assert PROBLEM_CODES[str(code)][0] == status, f"{where}:{line}: {code} with status {status}"


def _registry_error_classes() -> list[type[RegistryError]]:
    seen: list[type[RegistryError]] = []
    todo: list[type[RegistryError]] = [RegistryError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo += cls.__subclasses__()
    return seen


def test_every_registry_error_renders_as_a_code_of_the_table() -> None:
    error_classes()  # the generated contract errors are subclasses too
    for cls in _registry_error_classes():
        exc = cls.__new__(cls)
        Exception.__init__(exc, "sample")
        for attribute, value in (
            ("violations", ()),
            ("paths", ("$.a",)),
            ("document_hash", "00" * 32),
            ("args_by_name", {}),
            ("reason", "mismatch"),
        ):
            setattr(exc, attribute, value)
        problem = problem_for_registry_error(exc)
        assert problem.code in PROBLEM_CODES, f"{cls.__name__} answers {problem.code!r}"
        assert PROBLEM_CODES[problem.code][0] == problem.status, cls.__name__
        if isinstance(exc, ContractRevertError) and cls.error_name:
            assert problem.code == _CONTRACT[cls.error_name][1]


def test_the_openapi_document_lists_every_problem_code(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]["properties"]["code"]
    assert problem["enum"] == list(PROBLEM_CODES)
    for code in PROBLEM_CODES:
        assert f"`{code}`" in problem["description"]
    documented: dict[str, set[str]] = {}
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if int(status) >= 400:
                    codes = response["x-problem-codes"]
                    for code in codes:
                        assert PROBLEM_CODES[code][0] == int(status)
                        assert f"`{code}`" in response["description"]
                    documented.setdefault(status, set()).update(codes)
    undocumented = {
        code for code, (status, _) in PROBLEM_CODES.items() if code not in documented.get(str(status), set())
    }
    assert undocumented <= {"method_not_allowed"}, undocumented  # 405: a method no operation has


def test_the_bank_routes_document_not_found_and_no_matching_ebl(document: dict[str, Any]) -> None:
    by_document = document["paths"]["/v1/banks/verifications"]["post"]["responses"]["404"]
    assert "no_matching_ebl" in by_document["x-problem-codes"]
    for_ebl = document["paths"]["/v1/banks/ebls/{ebl_id}/verification"]["post"]
    assert "not_found" in for_ebl["responses"]["404"]["x-problem-codes"]
    assert "application/json" in for_ebl["requestBody"]["content"]


def test_the_readme_table_of_problem_codes_is_the_code_table() -> None:
    from scripts.problem_codes import markdown_table, readme_section

    readme = (project_root() / "README.md").read_text()
    assert readme_section(readme) == markdown_table(), (
        "run: .venv/bin/python -m scripts.problem_codes --write"
    )


def test_a_contract_errors_status_is_its_codes_status() -> None:
    """The contract table names codes only; a status is read from the one table of codes."""
    from registry.records.problems import CONTRACT_PROBLEMS, contract_problem

    assert set(CONTRACT_PROBLEMS) == set(ABI_ERRORS)
    for name, code in CONTRACT_PROBLEMS.items():
        assert contract_problem(name) == (PROBLEM_CODES[code][0], code)
    assert contract_problem("NotAnErrorOfTheContracts") == (409, "refused")


def _answer_of(exc: Exception) -> httpx.Response:
    """What the gateway's handlers answer for a route that raises ``exc`` (in process, over ASGI)."""
    import asyncio

    from fastapi import FastAPI

    from api.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/raise")
    def _raise() -> None:
        raise exc

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get("/raise")

    return asyncio.run(get())


def test_a_stray_value_error_is_a_500_not_a_422() -> None:
    """No blanket ``ValueError -> 422``: a bug that raises ValueError is answered as the bug it is."""
    r = _answer_of(ValueError("an internal assumption broke"))
    assert (r.status_code, r.json()["code"]) == (500, "internal_error")
    assert "assumption" not in r.text  # never leaks the message


def test_an_invalid_request_error_is_a_422_with_its_message() -> None:
    r = _answer_of(InvalidRequestError("invalid cursor 'x'"))
    assert (r.status_code, r.headers["content-type"]) == (422, "application/problem+json")
    body = r.json()
    assert (body["code"], body["title"], body["detail"]) == (
        "invalid_request",
        "The request is not valid",
        "invalid cursor 'x'",
    )
