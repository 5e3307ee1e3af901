"""Collecting cases: every ``<evalset>/cases/<id>.yaml`` becomes one pytest item.

Imported lazily from ``pytest_collect_file`` so a plain ``pytest`` run never
pays for YAML and pydantic. The node id is ``evalsets/<set>/cases/<id>.yaml::<id>``,
so ``-k``, ``--lf``, ``--junitxml`` and xdist's scheduling all work unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_backtest.errors import BacktestError
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import CASES_DIR, CONFIG_FILE
from agent_backtest.evalset.parsecache import ParseCache
from agent_backtest.evalset.storage import load_evalset_config, read_case
from agent_backtest.pytest_plugin.items import CaseItem
from agent_backtest.pytest_plugin.options import resolve
from agent_backtest.pytest_plugin.state import state


def evalset_root(file_path: Path) -> Path | None:
    """The evalset folder when ``file_path`` is a case file inside one, else None."""
    if file_path.suffix not in (".yaml", ".yml") or file_path.parent.name != CASES_DIR:
        return None
    root = file_path.parent.parent
    return root if (root / CONFIG_FILE).is_file() else None


def register_marker(config: pytest.Config, mode: str) -> None:
    """Declare a failure-mode marker so ``-m mode`` (and --strict-markers) work."""
    line = f"{mode}: cases promoted for the {mode} failure mode (agent-backtest)"
    if line not in config.getini("markers"):
        config.addinivalue_line("markers", line)


def save_parse_caches(config: pytest.Config) -> None:
    """Write what collection parsed, so the next load (the gate's, the next run's) is cheap."""
    for cache in state(config).parse_caches.values():
        cache.save()


class CaseFile(pytest.File):
    """One case file; yields its single case item."""

    def _config_for(self, root: Path) -> EvalSetConfig:
        configs = state(self.config).configs
        if root not in configs:
            configs[root] = load_evalset_config(root / CONFIG_FILE)
        return configs[root]

    def _parse_cache_for(self, root: Path) -> ParseCache | None:
        caches = state(self.config).parse_caches
        if root not in caches:
            cache_dir = resolve(self.config).settings.cache_dir
            if not cache_dir:
                return None
            caches[root] = ParseCache.for_evalset(Path(self.config.rootpath, cache_dir), root)
        return caches[root]

    def collect(self) -> Iterator[CaseItem]:
        root = self.path.parent.parent
        try:
            evalset = self._config_for(root)
            case = read_case(self.path, self._parse_cache_for(root)).case
        except BacktestError as exc:
            # One line with file:line and the fix; no traceback through our loader.
            raise self.CollectError(exc.one_line()) from None
        item = CaseItem.from_parent(
            self, name=case.id, case=case, evalset_config=evalset, evalset_root=root
        )
        for mode in case.failure_modes:
            register_marker(self.config, mode)
            item.add_marker(mode)
        yield item
