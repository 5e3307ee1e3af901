"""docs/gate.md documents every policy key with its real default, and its numbers are real."""

from __future__ import annotations

import re
from pathlib import Path

from agent_backtest.evalset.config import GatePolicy
from agent_backtest.gate.model import ExitCode
from agent_backtest.gate.policy import STRICTEST
from agent_backtest.gate.stats import p_value_worse, wilson_interval

DOC = Path(__file__).parents[2] / "docs" / "gate.md"
_ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \|", re.M)


def _policy_rows() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Policy keys", 1)[1].split("\n## ", 1)[0]
    return {key: default.strip() for key, default in _ROW.findall(section)}


def _as_written(value: object) -> str:
    """A default as the doc's table writes it (TOML-ish, as a user would type it)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_every_policy_key_is_documented_with_its_default() -> None:
    rows = _policy_rows()
    assert list(rows) == list(GatePolicy.model_fields) == list(STRICTEST)
    defaults = GatePolicy()
    for key, written in rows.items():
        assert written == _as_written(getattr(defaults, key)), key


def test_the_index_links_the_gate_doc() -> None:
    index = (DOC.parent / "index.md").read_text(encoding="utf-8")
    assert "(gate.md)" in index


def test_every_exit_code_is_documented() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Exit codes", 1)[1]
    for code in ExitCode:
        assert f"\n| {code.value} |" in section, code


def test_the_worked_example_numbers_are_what_the_code_computes() -> None:
    text = DOC.read_text(encoding="utf-8")
    low, high = wilson_interval(24, 30)
    assert f"interval {low:.0%}-{high:.0%}" in text
    low, high = wilson_interval(240, 300)
    assert f"240 of 300 is 80% with {low:.0%}-{high:.0%}" in text
    assert f"p =\n  {p_value_worse(24, 30, 27, 30):.3f}" in text
    assert f"p = {p_value_worse(15, 30, 27, 30):.5f}" in text
    assert f"(p={p_value_worse(15, 30, 27, 30):.3g})" in text
