"""The ``pytest11`` entry point: options and hooks only; everything heavy is imported lazily.

Every pytest run in a project that has agent-backtest installed imports this
module, so it must cost nothing when ``--agent-evals`` is not given: case
collection, the runner, YAML and pydantic load inside the hooks that need them.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent_backtest.pytest_plugin.fixtures import backtest_case, replay
from agent_backtest.pytest_plugin.options import MARKER, add_options, resolve
from agent_backtest.pytest_plugin.state import state

if TYPE_CHECKING:
    from agent_backtest.report.shards import Shard

__all__ = ["backtest_case", "replay"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(agent=, llm=, repeat=, pass_rate=): agent-backtest settings for this test "
        "(beat ini and pyproject; lose to --agent-evals-* flags)",
    )
    if not config.getoption("agent_evals"):
        return
    resolved = resolve(config)  # fail fast on a bad flag or ini value: a UsageError
    _register_builtin_failure_modes(config)
    state(config).shard = _shard(resolved.settings.shard)
    if not hasattr(config, "workerinput"):  # xdist workers only run cases and send results
        from agent_backtest.pytest_plugin.run_gate import start

        start(config, resolved)
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        # ``pytest --agent-evals`` with no paths runs the evalsets, not the ordinary tests.
        folder = Path(config.rootpath, resolved.settings.evalsets)
        if not folder.is_dir():
            raise pytest.UsageError(
                f"--agent-evals: no evalsets folder at {folder} "
                "(create it with 'backtest promote', or set --agent-evals-evalsets / "
                "agent_evals_evalsets / [tool.agent-backtest] evalsets)"
            )
        config.args = [str(folder)]


def _shard(value: str | None) -> Shard | None:
    if value is None:
        return None
    from agent_backtest.report.shards import parse_shard

    try:
        return parse_shard(value)
    except ValueError as exc:
        raise pytest.UsageError(
            f"--agent-evals-shard: {exc}; give I/N with 1 <= I <= N, "
            "e.g. --agent-evals-shard 1/4 (I is 1-based, like a CI matrix index)"
        ) from None


def _register_builtin_failure_modes(config: pytest.Config) -> None:
    from agent_backtest.pytest_plugin.collection import register_marker

    try:
        from agent_backtest.scoring.detectors import BUILTIN_DETECTORS
    except ImportError:  # scoring is optional for collection; case files add their own
        return
    for detector in BUILTIN_DETECTORS.values():
        if detector.failure_mode:
            register_marker(config, detector.failure_mode)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.getoption("agent_evals"):
        from agent_backtest.pytest_plugin.collection import save_parse_caches

        save_parse_caches(session.config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not parent.config.getoption("agent_evals"):
        return None
    if file_path.suffix not in (".yaml", ".yml") or file_path.parent.name != "cases":
        return None
    from agent_backtest.pytest_plugin.collection import CaseFile, evalset_root

    if evalset_root(file_path) is None:
        return None
    case_file: CaseFile = CaseFile.from_parent(parent, path=file_path)
    return case_file


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = state(config).shard if config.getoption("agent_evals") else None
    if shard is None:
        return
    from agent_backtest.pytest_plugin.items import CaseItem

    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        # Only cases are sharded; ordinary tests given as paths run in every shard.
        mine = not isinstance(item, CaseItem) or shard.holds(item.evalset_config.name, item.case.id)
        (keep if mine else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.config.getoption("agent_evals"):
        from agent_backtest.pytest_plugin.items import attach_result

        attach_result(item, report)
    return report
