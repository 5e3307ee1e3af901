"""``backtest doctor`` in Python: every check, in order, as they finish.

Checks run in the order a user fixes things (configuration, agent, evalsets,
lock, recordings, secrets, judge endpoint); a check whose input failed earlier
says ``skip`` instead of repeating the failure. Paths are relative to the
working directory, as for every other command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from agent_backtest.doctor.agents import check_agents, project_on_path
from agent_backtest.doctor.configuration import check_configuration
from agent_backtest.doctor.evalsets import (
    check_lock,
    check_secrets,
    find_evalset_dirs,
    load_state,
    no_evalsets,
)
from agent_backtest.doctor.judge import DEFAULT_TIMEOUT, check_judge
from agent_backtest.doctor.recordings import check_recordings
from agent_backtest.doctor.result import CheckResult
from agent_backtest.replay.tools import registered_tools


@dataclass(frozen=True)
class DoctorOptions:
    evalsets: Path | None = None  # a folder of evalsets, or one evalset; beats the setting
    skip_judge: bool = False
    environ: Mapping[str, str] | None = None  # None: os.environ
    pyproject: Path | None = None  # None: the nearest pyproject.toml above the working dir
    classifiers_dir: Path = Path("classifiers")
    judge_timeout: float = DEFAULT_TIMEOUT


def run_checks(options: DoctorOptions | None = None) -> Iterator[CheckResult]:
    options = options or DoctorOptions()
    environ = os.environ if options.environ is None else options.environ
    overrides = {"evalsets": str(options.evalsets) if options.evalsets is not None else None}
    config_result, loaded = check_configuration(overrides, environ, options.pyproject)
    yield config_result
    settings = loaded.settings
    base = Path(settings.evalsets)
    roots = find_evalset_dirs(base)
    cache_dir = Path(settings.cache_dir)
    states = [load_state(root, cache_dir) for root in roots]
    with project_on_path(loaded.project_root):
        agents = check_agents(loaded, states)
    yield from agents.results
    if not roots:
        yield no_evalsets(base)
    for state in states:
        yield state.result
    for state in states:
        yield check_lock(state)
    declared = registered_tools()  # what the agents just imported declared with @tool
    for state in states:
        has_agent = agents.agent_for(state.root) is not None
        yield from check_recordings(state, declared if has_agent else None)
    yield check_secrets(roots)
    yield from check_judge(
        settings,
        states,
        environ=environ,
        classifiers_dir=options.classifiers_dir,
        timeout=options.judge_timeout,
        skip=options.skip_judge,
    )
