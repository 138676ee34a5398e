"""eBL ids in JSON: every form a client may send reads as the same uint256; the hex form is fixed width."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.types import ebl_id_hex, parse_ebl_id


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_every_ebl_id_form_reads_back(value: int) -> None:
    """Decimal string, 32-byte hex, short hex, upper-case hex and an exact integer are one id."""
    assert len(ebl_id_hex(value)) == 66
    for form in (
        str(value),
        ebl_id_hex(value),
        hex(value),
        ebl_id_hex(value).upper().replace("0X", "0x"),
        value,
    ):
        assert parse_ebl_id(form) == value


@pytest.mark.parametrize(
    "bad", [2**256, -1, "0x", "0x" + "1" * 65, "1" * 79, "12a", "", True, 1.5e76, None, [1]]
)
def test_what_is_not_an_ebl_id_is_refused(bad: object) -> None:
    """Out of range, malformed text, bools, floats (rounded JSON numbers) and other types raise ValueError."""
    with pytest.raises(ValueError):
        parse_ebl_id(bad)


def test_a_float_is_refused_with_a_hint() -> None:
    """A JSON number a JavaScript client rounded names the fix: send the decimal string."""
    with pytest.raises(ValueError, match="decimal string"):
        parse_ebl_id(float(2**255))
