from __future__ import annotations

import pytest


def test_help_shows_the_agent_evals_option_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*agent-backtest: replay production failures*", "*--agent-evals *"])
    assert result.ret == 0
