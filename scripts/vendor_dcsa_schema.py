"""Vendor DCSA eBL 3.0's ``TransportDocument`` schema as a self-contained JSON Schema (draft 2020-12).

Reads ``components/schemas/TransportDocument`` (and ``IssueToParty``, the recipient an issuance request names
next to the document) with every component schema they reference, transitively, from the DCSA OpenAPI 3.0
file, rewrites the OpenAPI 3.0 dialect into JSON Schema draft 2020-12 and writes one JSON file that the
``registry`` package loads at runtime. The package never reads the OpenAPI file itself.

Conversions:

* ``$ref: '#/components/schemas/X'`` becomes ``$ref: '#/$defs/X'``;
* ``nullable: true`` adds ``"null"`` to ``type`` (and ``None`` to ``enum``); ``nullable: false`` is dropped;
* boolean ``exclusiveMinimum`` / ``exclusiveMaximum`` (OpenAPI 3.0) become the numeric 2020-12 form;
* ``example``, ``examples``, ``discriminator``, ``xml`` and ``externalDocs`` are dropped (annotations only;
  ``discriminator`` merely hints at which ``oneOf`` branch applies and never changes the outcome);
* ``title``, ``description``, ``format`` and everything else is kept as is.

Usage::

    .venv/bin/python scripts/vendor_dcsa_schema.py [--source PATH] [--output PATH] [--check]

``--check`` exits non-zero when the committed file differs from what the script would write.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "dcsa" / "openapi" / "EBL_v3.0.0.yaml"
DEFAULT_OUTPUT = ROOT / "registry" / "schemas" / "dcsa_ebl_3.0.0_transport_document.json"

ROOT_SCHEMAS = ("TransportDocument", "IssueToParty")
COMPONENT_PREFIX = "#/components/schemas/"
DEFS_PREFIX = "#/$defs/"

UPSTREAM = "dcsaorg/DCSA-OpenAPI @5d0f8337, ebl/v3/EBL_v3.0.0.yaml"
DROPPED_KEYWORDS = frozenset({"example", "examples", "discriminator", "xml", "externalDocs"})

# Keywords whose value is a map of name -> subschema, a list of subschemas, or a single subschema.
SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_KEYWORDS = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
    }
)


class VendorError(Exception):
    """Raised when the OpenAPI source holds something this converter does not understand."""


def _refs(schema: Any) -> Iterator[str]:
    """Yield every component name referenced (at any depth) from ``schema``."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith(COMPONENT_PREFIX):
                raise VendorError(f"unsupported $ref {ref!r}")
            yield ref.removeprefix(COMPONENT_PREFIX)
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def collect(components: dict[str, Any], roots: tuple[str, ...]) -> dict[str, Any]:
    """Return the named component schemas and everything they reference, in discovery order."""
    found: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        name = pending.pop(0)
        if name in found:
            continue
        if name not in components:
            raise VendorError(f"component schema {name!r} is referenced but not defined")
        found[name] = components[name]
        pending.extend(ref for ref in _refs(components[name]) if ref not in found)
    return found


def convert(schema: Any, where: str) -> Any:
    """Convert one OpenAPI 3.0 schema object (recursively) to JSON Schema draft 2020-12."""
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        raise VendorError(f"{where}: expected a schema object, got {type(schema).__name__}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED_KEYWORDS or key in {"nullable", "exclusiveMinimum", "exclusiveMaximum"}:
            continue
        if key == "$ref":
            out[key] = DEFS_PREFIX + value.removeprefix(COMPONENT_PREFIX)
        elif key in SCHEMA_MAP_KEYWORDS:
            out[key] = {name: convert(sub, f"{where}/{key}/{name}") for name, sub in value.items()}
        elif key in SCHEMA_LIST_KEYWORDS:
            out[key] = [convert(sub, f"{where}/{key}/{i}") for i, sub in enumerate(value)]
        elif key in SCHEMA_KEYWORDS and isinstance(value, dict | bool):
            out[key] = convert(value, f"{where}/{key}")
        else:
            out[key] = value
    _convert_nullable(schema, out, where)
    _convert_exclusive(schema, out, where, "exclusiveMinimum", "minimum")
    _convert_exclusive(schema, out, where, "exclusiveMaximum", "maximum")
    _check_enum(out, where)
    return out


def _convert_nullable(schema: dict[str, Any], out: dict[str, Any], where: str) -> None:
    if schema.get("nullable") is not True:
        return
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif kind is not None:
        raise VendorError(f"{where}: nullable with type {kind!r}")
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


def _convert_exclusive(schema: dict[str, Any], out: dict[str, Any], where: str, key: str, bound: str) -> None:
    flag = schema.get(key)
    if flag is None or flag is False:
        return
    if flag is not True:
        out[key] = flag  # already the numeric (3.1 / 2020-12) form
        return
    if bound not in out:
        raise VendorError(f"{where}: {key}: true without {bound}")
    out[key] = out.pop(bound)


def _check_enum(out: dict[str, Any], where: str) -> None:
    """Fail if YAML 1.1 turned an enum value into something other than the declared type (``NO`` -> False)."""
    if out.get("type") == "string" and "enum" in out:
        odd = [value for value in out["enum"] if not isinstance(value, str)]
        if odd:
            raise VendorError(f"{where}: non-string enum values {odd!r} in a string schema")


def build(source: Path) -> dict[str, Any]:
    """Build the vendored JSON Schema document from the OpenAPI file at ``source``."""
    raw = source.read_bytes()
    spec = yaml.safe_load(raw)
    components = spec["components"]["schemas"]
    picked = collect(components, ROOT_SCHEMAS)
    defs = {name: convert(schema, f"{COMPONENT_PREFIX}{name}") for name, schema in sorted(picked.items())}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:dcsa:ebl:3.0.0:schema:TransportDocument",
        "$comment": (
            "Generated by scripts/vendor_dcsa_schema.py from the DCSA eBL 3.0.0 OpenAPI specification "
            f"({UPSTREAM}); converted from OpenAPI 3.0 to JSON Schema draft 2020-12. "
            "Copyright DCSA, licensed under the Apache License, Version 2.0. Do not edit by hand."
        ),
        "x-source": {
            "specification": "DCSA eBL 3.0.0 (Shipping Instructions and Transport Document API)",
            "file": source.name,
            "upstream": UPSTREAM,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "openapiVersion": spec.get("openapi"),
            "infoVersion": spec.get("info", {}).get("version"),
            "license": "Apache-2.0",
            "licenseUrl": "https://www.apache.org/licenses/LICENSE-2.0",
            "roots": list(ROOT_SCHEMAS),
        },
        "$ref": DEFS_PREFIX + ROOT_SCHEMAS[0],
        "$defs": defs,
    }


def render(document: dict[str, Any]) -> str:
    """Serialise the schema document deterministically (stable diffs)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is out of date")
    args = parser.parse_args(argv)

    text = render(build(args.source))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run scripts/vendor_dcsa_schema.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode())} bytes, {text.count(DEFS_PREFIX)} refs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
