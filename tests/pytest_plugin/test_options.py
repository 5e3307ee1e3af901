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


def test_the_plugin_module_imports_nothing_heavy() -> None:
    """Every pytest run imports the plugin; replay, YAML and openai load only when used."""
    import subprocess
    import sys

    code = (
        "import sys, agent_backtest.pytest_plugin.plugin\n"
        "heavy = ('agent_backtest.replay', 'agent_backtest.evalset', 'yaml', 'openai', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
