from __future__ import annotations

import subprocess
import sys

import agent_backtest


def test_every_exported_name_resolves() -> None:
    for name in agent_backtest.__all__:
        assert getattr(agent_backtest, name) is not None


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, agent_backtest\n"
        "heavy = [m for m in ('pydantic', 'yaml', 'openai', 'orjson') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agent_backtest", "--help"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "traces" in out.stdout
