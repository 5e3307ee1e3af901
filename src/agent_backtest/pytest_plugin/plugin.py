"""The ``pytest11`` entry point: options only at import time; heavy imports are lazy."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-evals", "agent-backtest: replay production failures")
    group.addoption(
        "--agent-evals",
        action="store_true",
        default=False,
        help="collect every case under the evalsets folder and replay it against the candidate agent",
    )
    group.addoption(
        "--agent-evals-agent",
        default=None,
        metavar="MODULE:CALLABLE",
        help="the candidate agent entry point (overrides [tool.agent-backtest] agent)",
    )
    parser.addini(
        "agent_evals_agent", "the candidate agent entry point, MODULE:CALLABLE", default=None
    )
