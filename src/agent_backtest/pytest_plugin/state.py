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
    from agent_backtest.replay.result import CaseResult


@dataclass
class PluginState:
    # evalset folder -> its parsed evalset.yaml, loaded once per session
    configs: dict[Path, EvalSetConfig] = field(default_factory=dict)
    # node id -> result, filled by a batch run before the items report one by one
    results: dict[str, CaseResult] = field(default_factory=dict)
    # case index for the fixtures: "id" and "evalset/id" -> (case, config, evalset folder)
    index: dict[str, tuple[Case, EvalSetConfig, Path]] | None = None


STATE = pytest.StashKey[PluginState]()


def state(config: pytest.Config) -> PluginState:
    found = config.stash.get(STATE, None)
    if found is None:
        found = config.stash[STATE] = PluginState()
    return found
