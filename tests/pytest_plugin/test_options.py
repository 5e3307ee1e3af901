from __future__ import annotations

import pytest

OPTIONS = (
    "--agent-evals-agent",
    "--agent-evals-llm",
    "--agent-evals-concurrency",
    "--agent-evals-repeat",
    "--agent-evals-pass-rate",
    "--agent-evals-traces",
    "--agent-evals-evalsets",
)


def test_help_shows_the_agent_evals_option_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        ["*agent-backtest: replay production failures*", "*--agent-evals *"]
        + [f"*{option}*" for option in OPTIONS]
    )
    # Every option is mirrored by an ini key.
    result.stdout.fnmatch_lines([f"*{o.lstrip('-').replace('-', '_')} (*" for o in OPTIONS])
    assert result.ret == 0
