"""The wire conventions every record shares: camelCase JSON, eBL ids as decimal strings with a hex twin.

Integers in JSON: every integer that can exceed 2^53 (eBL ids, nonces, any uint256) is a decimal
**string**, because JavaScript reads a larger JSON number as a rounded float. An eBL id is
:data:`EblIdField`: a decimal string on output, with its 0x-prefixed 32-byte hex form beside it in a
``…Hex`` field (``eblId`` / ``eblIdHex``); on input it may be a decimal string, a 0x-hex string or a
JSON number. Block numbers, sequence numbers and chain ids stay numbers (far below 2^53).
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Self, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from registry.types import ebl_id_hex, parse_ebl_id

__all__ = ["EBL_ID_PATTERN", "EblIdField", "EblIdHex", "Record", "hex_or_none"]

_EXAMPLE_EBL_ID = "23059145367785474532624394617209431744376489286520349815651230911476478131187"
_EXAMPLE_EBL_ID_HEX = ebl_id_hex(int(_EXAMPLE_EBL_ID))
EBL_ID_PATTERN = r"^(0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78})$"
"""An eBL id in a path or a string field: decimal, or 0x-prefixed hex (the 32-byte form or shorter)."""

EblIdField = Annotated[
    int,
    BeforeValidator(lambda value: int(parse_ebl_id(value))),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{1,78}$",
            "description": "eBL id (uint256) as a decimal string",
            "examples": [_EXAMPLE_EBL_ID],
        },
        mode="serialization",
    ),
    WithJsonSchema(
        {
            "description": "eBL id (uint256): a decimal string, a 0x-prefixed hex string, or an exact "
            "JSON number",
            "anyOf": [
                {"type": "string", "pattern": EBL_ID_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "examples": [_EXAMPLE_EBL_ID, _EXAMPLE_EBL_ID_HEX],
        },
        mode="validation",
    ),
]
"""An eBL id field: an ``int`` in Python, a decimal string in JSON; any id form on input."""

EblIdHex = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^0x[0-9a-f]{64}$",
            "description": "eBL id as 0x-prefixed 32-byte hex",
            "examples": [_EXAMPLE_EBL_ID_HEX],
        }
    ),
]
"""The hex form of an eBL id, in the ``…Hex`` field beside each :data:`EblIdField`."""


def hex_or_none(value: int | None) -> str | None:
    """``value`` as an :data:`EblIdHex`, or None."""
    return None if value is None else ebl_id_hex(value)


class Record(BaseModel):
    """A wire shape: snake_case in Python, camelCase in JSON (either on input), no unknown fields.

    ``model_dump(mode="json", by_alias=True)`` is the JSON the gateway serves; :meth:`read` reads that
    JSON back (the CLI's gateway mode does, before it renders an answer).
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @classmethod
    def read(cls, data: Any) -> Self:
        """The record from its served JSON: the computed ``…Hex`` twins are dropped (they are recomputed
        from the decimal ids), any other field the record does not have is refused.

        Only reading pays for this; building a record from the domain (the gateway's path) does not.
        """
        return cls.model_validate(_without_computed(cls, data))


def _without_computed(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    computed = {f.alias or name for name, f in model.model_computed_fields.items()}
    out = {k: v for k, v in data.items() if k not in computed}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in out:
            out[key] = _nested(field.annotation, out[key])
    return out


def _nested(annotation: Any, value: Any) -> Any:
    """``value`` with the computed fields of the records ``annotation`` names (``X``, ``X | None``,
    ``list[X]``) dropped."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _without_computed(annotation, value)
    args = get_args(annotation)
    if get_origin(annotation) is list and isinstance(value, list) and args:
        return [_nested(args[0], item) for item in value]
    if get_origin(annotation) in (Union, UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel) and isinstance(value, dict):
                return _without_computed(arg, value)
    return value
