"""Running the example's commands the way a user does: a fresh Python process in the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EVALSET = REPO / "evalsets" / "support-agent"
# Settings a user's shell or this test run may carry that would change what the
# example does: an API key or endpoint, agent-backtest settings, pytest options,
# and CI outputs a nested run must not write to.
_DROPPED = ("OPENAI_", "BACKTEST_", "PYTEST_", "GITHUB_")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update(extra)
    return env


def run_python(
    args: list[str], *, env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def outcomes(output: str) -> dict[str, str]:
    """node id -> PASSED/FAILED/ERROR from pytest's -rA short summary."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR") and rest.startswith("evalsets/"):
            found[rest.split()[0]] = word
    return found


def case_node_ids() -> set[str]:
    return {
        f"evalsets/support-agent/cases/{path.name}::{path.stem}"
        for path in (EVALSET / "cases").glob("*.yaml")
    }
