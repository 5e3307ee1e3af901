"""Plugin state in ``config.stash`` (never ``config._x`` or module globals).

Module globals would leak between pytester runs in one process and between
sessions; the stash dies with its ``Config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from agent_backtest.evalset.case import Case
    from agent_backtest.evalset.config import EvalSetConfig
    from agent_backtest.evalset.parsecache import ParseCache
    from agent_backtest.replay.result import CaseResult
    from agent_backtest.report.assemble import GateInputs
    from agent_backtest.report.model import RunReport
    from agent_backtest.report.shards import Shard


@dataclass
class PluginState:
    # evalset folder -> its parsed evalset.yaml, loaded once per session
    configs: dict[Path, EvalSetConfig] = field(default_factory=dict)
    # evalset folder -> its parse cache: collection parses each case once per content
    parse_caches: dict[Path, ParseCache] = field(default_factory=dict)
    # node id -> result, filled by a batch run before the items report one by one
    results: dict[str, CaseResult] = field(default_factory=dict)
    # case index for the fixtures: "id" and "evalset/id" -> (case, config, evalset folder)
    index: dict[str, tuple[Case, EvalSetConfig, Path]] | None = None
    # node id -> result of a case that has reported, in the process that reports it
    finished: dict[str, CaseResult] = field(default_factory=dict)
    # --agent-evals-shard, parsed once; every process (workers too) deselects by it
    shard: Shard | None = None


@dataclass
class RunState:
    """What the controller (or the only process) gathers for result.json and the gate."""

    inputs: GateInputs  # policy, coverage.json, baseline, override: checked before the run
    # node id -> the case's full result (with traces): the object when the case ran in
    # this process, else the JSON its report carried from an xdist worker
    reported: dict[str, CaseResult | str] = field(default_factory=dict)
    evalset_roots: set[Path] = field(default_factory=set)  # evalset folders that ran
    other_failed: bool = False  # a failure that is not a case result: pytest's exit code stands
    report: RunReport | None = None  # built at session finish
    written: dict[str, Path] = field(default_factory=dict)  # output name -> file


STATE = pytest.StashKey[PluginState]()
RUN = pytest.StashKey[RunState]()


def state(config: pytest.Config) -> PluginState:
    found = config.stash.get(STATE, None)
    if found is None:
        found = config.stash[STATE] = PluginState()
    return found
