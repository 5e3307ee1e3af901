"""The agent check: every entry point a run would use imports and is callable.

An evalset's ``agent:`` overrides ``[tool.agent-backtest] agent`` for its cases,
so each distinct entry point is loaded once and reported with the evalsets
that use it, exactly as the replay runner picks it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agent_backtest.doctor.configuration import LoadedSettings
from agent_backtest.doctor.evalsets import EvalsetState
from agent_backtest.doctor.result import CheckResult, Status
from agent_backtest.errors import ConfigError
from agent_backtest.replay.agent import Agent, load_agent

NAME = "agent"


@dataclass
class _Use:
    source: str
    from_settings: bool  # not an evalset's own agent: needs the settings to have loaded
    evalsets: list[str] = field(default_factory=list)


@dataclass
class AgentReport:
    results: list[CheckResult]
    loaded: dict[str, Agent]  # evalset root -> the agent its cases would run

    def agent_for(self, root: Path) -> Agent | None:
        return self.loaded.get(str(root))


@contextmanager
def project_on_path(root: Path) -> Iterator[None]:
    """Import agents the way ``pytest`` (rootdir on sys.path) and ``python -m`` would,
    even from the ``backtest`` console script whose sys.path lacks the project."""
    entry = str(root.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _uses(loaded: LoadedSettings, states: Sequence[EvalsetState]) -> dict[str | None, _Use]:
    origin = loaded.source("agent")  # "$BACKTEST_AGENT", "[tool.agent-backtest]" or "default"
    settings_source = origin if origin.startswith("$") else "[tool.agent-backtest] agent"
    uses: dict[str | None, _Use] = {}
    if loaded.settings.agent or not states:
        uses[loaded.settings.agent] = _Use(settings_source, from_settings=True)
    for state in states:
        own = state.config.agent if state.config is not None else None
        entry = own or loaded.settings.agent
        use = _Use(str(state.root / "evalset.yaml"), False) if own else _Use(settings_source, True)
        uses.setdefault(entry, use).evalsets.append(state.label)
    return uses


def check_agents(loaded: LoadedSettings, states: Sequence[EvalsetState]) -> AgentReport:
    report = AgentReport([], {})
    by_entry: dict[str | None, Agent] = {}
    for entry, use in _uses(loaded, states).items():
        used_by = f"; used by {', '.join(use.evalsets)}" if use.evalsets else ""
        if not loaded.loaded and use.from_settings:
            detail = f"[tool.agent-backtest] did not load (see configuration){used_by}"
            report.results.append(CheckResult(NAME, Status.SKIP, detail))
            continue
        try:
            agent = load_agent(entry, source=use.source)
        except ConfigError as error:
            report.results.append(CheckResult.from_error(NAME, error))
            continue
        by_entry[entry] = agent
        how = f"{'async' if agent.is_async else 'sync'} callable" + (
            ", takes state" if agent.takes_state else ""
        )
        detail = f"{entry} (from {use.source}) imports: {how}{used_by}"
        report.results.append(CheckResult(NAME, Status.OK, detail))
    for state in states:
        own = state.config.agent if state.config is not None else None
        runs = by_entry.get(own or loaded.settings.agent)
        if runs is not None:
            report.loaded[str(state.root)] = runs
    return report
