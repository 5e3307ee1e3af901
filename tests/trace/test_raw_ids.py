from __future__ import annotations

import pytest

from agent_backtest.trace.raw import normalize_id, to_int


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [
        ("3E289017FE03FFD7C4145316D2EB3D0D", 32, "3e289017fe03ffd7c4145316d2eb3d0d"),
        ("0x1f9762ca1e03e2d2", 16, "1f9762ca1e03e2d2"),
        (12324293800750531911, 16, "ab08afea3548c547"),
        ("PiiQF/4D/9fEFFMW0us9DQ==", 32, "3e289017fe03ffd7c4145316d2eb3d0d"),
        ("3e289017-fe03-ffd7-c414-5316d2eb3d0d", 32, "3e289017fe03ffd7c4145316d2eb3d0d"),
        ("abc", 16, "0000000000000abc"),
        ("00000000000000000000000000000000", 32, None),
        ("", 16, None),
        (None, 16, None),
    ],
)
def test_ids_in_every_spelling_become_lower_hex(
    value: object, width: int, expected: str | None
) -> None:
    assert normalize_id(value, width) == expected


def test_64_bit_times_never_pass_through_float() -> None:
    big = "1758026593210770123"
    assert to_int(big) == 1758026593210770123
    assert to_int(1758026593210770123) == 1758026593210770123
