"""The gateway's own documentation: pages that work offline, and a real example for every operation.

* **Pages.** Swagger UI at ``/docs`` and ReDoc at ``/redoc`` (FastAPI's documented self-hosting recipe:
  ``get_swagger_ui_html(swagger_js_url=..., swagger_css_url=...)``) load their JavaScript and CSS from
  :data:`DOCS_ASSETS`, files installed with the project by the ``fastapi-offline`` package (the
  ``swagger-ui-dist`` 5 and ``redoc`` 2 bundles, packaged for Python), never from a CDN or a font
  service: a newcomer without internet sees the API, not a blank page. A Content-Security-Policy
  keeps the pages on the gateway's own origin (ReDoc's bundle would fetch its logo from a CDN, and
  Swagger UI's validator badge calls out on a public host name).
* **Authorize.** The bearer scheme :data:`api.deps.BEARER` is declared in the OpenAPI document, so
  Swagger UI has an Authorize button that sends ``Authorization: Bearer <token>``.
* **Examples.** :func:`document_examples` gives every request body named examples valid against its
  schema (issuance: the full DCSA eBL 3.0 document shipped in ``examples/``), every path parameter an
  example, and the answer of ``actions/prepare`` a real EIP-712 payload.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any, Final

from eth_account import Account
from eth_utils.crypto import keccak
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from registry.chain.build import project_root
from registry.chain.ids import ebl_id, tdr_hash
from registry.keys.typed_data import Domain, KeyRegistrationMessage, TitleActionMessage
from registry.types import Action

__all__ = ["DOCS_ASSETS", "SWAGGER_UI_PARAMETERS", "document_examples", "example_document", "install_docs"]

DOCS_ASSETS: Final = "/docs-assets"
"""Where the Swagger UI and ReDoc files are served (a static mount, outside the OpenAPI document)."""

SWAGGER_UI_PARAMETERS: Final[dict[str, Any]] = {
    "persistAuthorization": True,  # the token survives a reload of /docs
    "displayRequestDuration": True,
    "tryItOutEnabled": True,
    "validatorUrl": None,  # no badge from validator.swagger.io
}

# Only the gateway's own origin: scripts and styles from DOCS_ASSETS (plus the page's inline start-up
# script and the styles the bundles inject), images inline, ReDoc's search worker from a blob.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'self'",
    )
)

EXAMPLES_DIR: Final = project_root() / "examples"
"""``examples/`` at the top of the project: the same files the README walkthrough uses."""

# Example organisations (any checksummed address; the demo's own are printed by `make run`).
CARRIER: Final = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
SHIPPER: Final = "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2"
BANK: Final = "0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db"
CONSIGNEE: Final = "0x78731D3Ca6b7E34aC0F824c42a7cC18A495cabaB"
REGISTRY: Final = "0x617F2E2fD72FD9D5503197092aC168c91465E7f2"
CHAIN_ID: Final = 31337

# An example signing key, derived in the open so nobody mistakes it for a secret: it signs only the
# example typed data below, for the example registry address, and is a key of no organisation.
_EXAMPLE_KEY: Final = keccak(b"eBL title registry: OpenAPI example signing key")


@cache
def example_document() -> dict[str, Any]:
    """``examples/bl.json``: a DCSA eBL 3.0 bill of lading, ISSUED, of carrier MSC (SMDG), to order."""
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / "bl.json").read_text(encoding="utf-8"))
    return document


def _document() -> dict[str, Any]:
    return copy.deepcopy(example_document())


def _amended() -> dict[str, Any]:
    document = _document()
    document["consignmentItems"][0]["descriptionOfGoods"] = ["Shoes - black, leather uppers"]
    return document


def _ebl_id() -> str:
    return str(ebl_id(CARRIER, tdr_hash(example_document()["transportDocumentReference"])))


def _typed_data() -> dict[str, Any]:
    """What ``actions/prepare`` answers for a transfer to the bank: the ``eth_signTypedData_v4`` payload."""
    message = TitleActionMessage(
        action=int(Action.TRANSFER),
        ebl_id=int(_ebl_id()),
        party=BANK,
        data=bytes(32),
        nonce=int.from_bytes(keccak(b"example nonce"), "big"),
        deadline=1_893_456_000,  # 2030-01-01T00:00:00Z
    )
    return message.to_typed_data(Domain(CHAIN_ID, REGISTRY))


def _key_registration() -> dict[str, Any]:
    """What ``members/keys/challenge`` answers when the bank names the example key."""
    message = KeyRegistrationMessage(
        organisation=BANK,
        key=Account.from_key(_EXAMPLE_KEY).address,
        nonce=int.from_bytes(keccak(b"example challenge"), "big") >> 128,
        deadline=1_893_456_000,
    )
    return message.to_typed_data(Domain(CHAIN_ID, REGISTRY))


def _signature(typed: dict[str, Any]) -> str:
    signed = Account.sign_typed_data(_EXAMPLE_KEY, full_message=typed)
    return "0x" + bytes(signed.signature).hex()


def _body(summary: str, value: Any, description: str = "") -> dict[str, Any]:
    example: dict[str, Any] = {"summary": summary, "value": value}
    if description:
        example["description"] = description
    return example


def _request_examples() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    issue = {"document": _document(), "issueTo": SHIPPER}
    second = _document()
    second["transportDocumentReference"] = "62CD536BA8D34C469AFE"
    typed = _typed_data()
    key_registration = _key_registration()
    presented = {
        "presented": _body(
            "The transport document as presented (examples/bl.json)",
            _document(),
            "Any key order or whitespace: the registry compares the RFC 8785 canonical form's SHA-256.",
        )
    }
    return {
        ("post", "/v1/carriers/ebls"): {
            "to-order": _body(
                "A to-order bill to the shipper (examples/issuance-request.json)",
                issue,
                "The full DCSA eBL 3.0 transport document of `examples/bl.json`; `issueTo` is the member "
                "organisation that receives the eBL and first holds it (the demo shipper's address is "
                "printed by `make run`).",
            ),
            "with-issue-to-party": _body(
                "The same, with the DCSA IssueToParty validated beside it",
                {**issue, "issueToParty": {"partyName": "Demo Exporter GmbH", "sendToPlatform": "BOLE"}},
            ),
        },
        ("post", "/v1/carriers/ebls/batch"): {
            "two": _body(
                "Two bills in one request",
                {"items": [issue, {"document": second, "issueTo": SHIPPER}]},
            )
        },
        ("post", "/v1/carriers/ebls/{ebl_id}/amend"): {
            "corrected-goods": _body(
                "The amended document: a corrected description of goods",
                {"document": _amended()},
            )
        },
        ("post", "/v1/carriers/ebls/{ebl_id}/switch-to-paper"): {
            "paper": _body(
                "SHA-256 of the printed paper bill",
                {"paperDocumentHash": "0x" + keccak(b"printed paper bill, page 1 of 1").hex()},
            )
        },
        ("post", "/v1/holders/ebls/{ebl_id}/platform-transfers"): {
            "to-platform-b": _body(
                "Send the bill to the bank on platform EBLB (PINT)",
                {
                    "platform": "EBLB",
                    "recipient": {
                        "partyName": "Bank",
                        "eblPlatform": "EBLB",
                        "identifyingCodes": [{"codeListProvider": "EBLB", "partyCode": BANK}],
                    },
                    "actionCode": "TRANSFER",
                },
            )
        },
        ("post", "/v1/platforms"): {
            "platform-b": _body(
                "Trust platform EBLB: its code, PINT URL and public JWK set",
                {
                    "code": "EBLB",
                    "name": "Registry B",
                    "url": "http://b.example:8000",
                    "jwks": {
                        "keys": [
                            {
                                "kty": "OKP",
                                "crv": "Ed25519",
                                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                                "kid": "eblb-1",
                            }
                        ]
                    },
                },
            )
        },
        ("post", "/v1/holders/ebls/{ebl_id}/transfer"): {
            "to-bank": _body("Hand possession to the bank", {"to": BANK})
        },
        ("post", "/v1/holders/ebls/{ebl_id}/endorse"): {
            "to-order": _body("Endorse to the bank, to its order", {"endorsee": BANK, "toOrder": True}),
            "plain": _body("Endorse to the consignee (ENDORSE)", {"endorsee": CONSIGNEE, "toOrder": False}),
        },
        ("post", "/v1/holders/ebls/{ebl_id}/nominate"): {
            "consignee": _body("Nominate the consignee as next endorsee", {"nominee": CONSIGNEE})
        },
        ("post", "/v1/holders/ebls/{ebl_id}/surrender"): {
            "delivery": _body("Surrender for delivery", {"reason": "DELIVERY"}),
            "amendment": _body(
                "Surrender for amendment (switch to paper: SWTP)",
                {"reason": "AMENDMENT", "reasonCode": "SWTP"},
            ),
        },
        ("post", "/v1/holders/ebls/{ebl_id}/actions/prepare"): {
            "transfer": _body("Prepare a transfer to the bank", {"action": "TRANSFER", "party": BANK}),
            "surrender": _body("Prepare a surrender for delivery", {"action": "SURRENDER_FOR_DELIVERY"}),
        },
        ("post", "/v1/holders/signed-actions"): {
            "transfer": _body(
                "A transfer signed with the holder's own wallet (eth_signTypedData_v4)",
                {"typedData": typed, "signature": _signature(typed)},
                "`typedData` exactly as `actions/prepare` returned it; `signature` the wallet's 65 bytes.",
            )
        },
        ("post", "/v1/banks/verifications"): presented,
        ("post", "/v1/banks/ebls/{ebl_id}/verification"): presented,
        ("post", "/v1/banks/ebls/{ebl_id}/attestations"): presented,
        ("post", "/v1/members/keys/challenge"): {
            "wallet-key": _body(
                "Name the wallet key to register", {"key": _key_registration()["message"]["key"]}
            )
        },
        ("post", "/v1/members/keys"): {
            "signed-challenge": _body(
                "The challenge, signed by the key it names (eth_signTypedData_v4)",
                {"typedData": key_registration, "signature": _signature(key_registration)},
            )
        },
        ("post", "/v1/governance/organisations"): {
            "bank": _body(
                "Onboard a bank",
                {"identifier": "LEI:5493001KJTIIGC8Y1R12", "name": "Nordic Trade Bank AB", "role": "bank"},
            )
        },
        ("post", "/v1/governance/credentials"): {
            "auditor": _body(
                "A credential for a customs auditor", {"name": "Customs auditor", "role": "auditor"}
            ),
            "member": _body(
                "A second credential for a member organisation",
                {"name": "Demo Trade Bank plc, back office", "role": "bank", "org": BANK},
            ),
        },
    }


def _parameter_examples() -> dict[str, Any]:
    return {
        "ebl_id": _ebl_id(),
        "org": BANK,
        "operation_id": "3f2b8f3e-5c1d-4a7e-9b6f-2d8e4c1a7b90",
        "key": Account.from_key(_EXAMPLE_KEY).address,
        "credential_id": "3f9a0c1b2d4e5f60",
        "Idempotency-Key": "bl-0001",
        "transfer_id": "9c1e7d2a-4b6f-4e3a-8d5c-1f0a2b3c4d5e",
        "code": "EBLB",
        "envelopeReference": "4TkP5nvgTly0MwFrDxfIkR2rvOjkUIgzibBoKABU",
        "documentChecksum": "583c29ab3e47f2d80899993200d3fbadb9f8a367f3a39f715935c46d7a283006",
    }


@cache
def _examples() -> tuple[dict[tuple[str, str], dict[str, dict[str, Any]]], dict[str, Any], dict[str, Any]]:
    """(request bodies by (method, path), parameters by name, typed data answers by path), built once."""
    answers = {
        "/v1/holders/ebls/{ebl_id}/actions/prepare": _typed_data(),
        "/v1/members/keys/challenge": _key_registration(),
    }
    return _request_examples(), _parameter_examples(), answers


def _model_examples(schema: dict[str, Any], media: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A request model's own ``examples`` (``json_schema_extra``), as named media-type examples."""
    ref = media.get("schema", {}).get("$ref", "")
    model = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return {f"example-{i + 1}": {"value": value} for i, value in enumerate(model.get("examples", []))}


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI), ``/redoc`` and their assets, and document the examples.

    ``app`` must be built with ``docs_url=None, redoc_url=None`` (FastAPI's defaults load from a CDN).
    """
    app.mount(DOCS_ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
    title = app.title
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
        page.headers.update(headers)
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        page.headers.update(headers)
        return page

    document_examples(app)


def document_examples(app: FastAPI) -> None:
    """Add the examples to ``app``'s OpenAPI document (on top of whatever builds it already).

    A request body gets its named examples (media-type ``examples``, which Swagger UI offers in a
    list and ReDoc shows per example), from the table here or else from the request model's own
    ``examples``; a parameter without an example gets one by name; the typed data answers of
    ``actions/prepare`` and ``members/keys/challenge`` get an example payload. Existing examples are
    kept.
    """
    build = app.openapi
    done: list[dict[str, Any]] = []  # the document already given its examples (built once, then cached)

    def openapi() -> dict[str, Any]:
        schema = build()
        if done and done[0] is schema:
            return schema
        bodies, parameters, answers = _examples()
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict):
                    continue
                for parameter in operation.get("parameters", []):
                    name = parameter.get("name")
                    if name in parameters and "example" not in parameter and "examples" not in parameter:
                        parameter["example"] = parameters[name]
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    examples = bodies.get((method, path)) or _model_examples(schema, media)
                    if examples:
                        media.setdefault("examples", copy.deepcopy(examples))
                if path in answers:
                    ok = operation.get("responses", {}).get("200", {})
                    for media in ok.get("content", {}).values():
                        media.setdefault("example", answers[path])
        done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
