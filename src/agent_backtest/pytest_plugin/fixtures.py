"""Fixtures for hand-written eval tests: ``backtest_case`` and ``replay``.

::

    def test_refund_is_not_repeated(backtest_case, replay):
        case = backtest_case("refunds-twice")          # or "support/refunds-twice"
        result = replay.run(case)                      # the full runner: a CaseResult
        assert result.passed, result.render()

    def test_lookup_by_hand(backtest_case, replay):
        with replay.session("follows-recorded-path") as session:
            assert lookup_order(order_id="A1") == {"status": "shipped"}   # from the recording
        assert session.errors == []

Both honour the same settings as case items, including
``@pytest.mark.agent_evals(agent=..., llm=..., repeat=..., pass_rate=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent_backtest.pytest_plugin.options import MARKER, Resolved, resolve
from agent_backtest.pytest_plugin.state import state

if TYPE_CHECKING:
    from agent_backtest.evalset.case import Case
    from agent_backtest.evalset.config import EvalSetConfig
    from agent_backtest.replay.result import CaseResult
    from agent_backtest.replay.session import ReplaySession

Located = tuple["Case", "EvalSetConfig", Path]


def _index(config: pytest.Config, evalsets: Path) -> dict[str, Located]:
    st = state(config)
    if st.index is None:
        from agent_backtest.evalset.evalset import load_evalset

        index: dict[str, Located] = {}
        folders = sorted(p.parent for p in evalsets.glob("*/evalset.yaml"))
        for folder in folders:
            loaded = load_evalset(folder)
            for case in loaded.cases:
                entry = (case, loaded.config, folder)
                index[f"{loaded.name}/{case.id}"] = entry
                index.setdefault(case.id, entry)
        st.index = index
    return st.index


class Replayer:
    """Runs the candidate (or your own code) against a case inside an ordinary test."""

    def __init__(self, config: pytest.Config, resolved: Resolved) -> None:
        self.config = config
        self.resolved = resolved

    def locate(self, case: Case | str) -> Located:
        evalsets = Path(self.config.rootpath, self.resolved.settings.evalsets)
        index = _index(self.config, evalsets)
        key = case if isinstance(case, str) else case.id
        if key not in index:
            near = ", ".join(sorted(k for k in index if "/" not in k)[:10]) or "none"
            raise pytest.UsageError(f"no case {key!r} under {evalsets} (cases: {near})")
        found_case, found_config, root = index[key]
        # A Case object the test edited wins over the file's copy.
        return (found_case if isinstance(case, str) else case), found_config, root

    def run(self, case: Case | str, *, agent: str | None = None) -> CaseResult:
        """Run the candidate on the case with the full runner (budgets, verdicts, divergence)."""
        from agent_backtest.replay.runner import RunOptions, run_case

        found, evalset_config, root = self.locate(case)
        settings = self.resolved.settings
        traces = Path(self.config.rootpath, settings.traces_dir) if settings.traces_dir else None
        return run_case(
            found,
            evalset_config,
            settings,
            root=root,
            agent=agent or self.resolved.agent_override,
            options=RunOptions.from_settings(settings, traces_dir=traces),
        )

    @contextmanager
    def session(self, case: Case | str) -> Iterator[ReplaySession]:
        """Tools and LLM calls answer from the case's recordings inside the block."""
        from agent_backtest.replay.http_intercept import LLMReplay, install
        from agent_backtest.replay.runner import (
            CaseJob,
            RunOptions,
            llm_allowed_hosts,
            llm_store,
            session_policies,
        )
        from agent_backtest.replay.session import ReplaySession, replaying

        found, evalset_config, root = self.locate(case)
        mode = RunOptions.from_settings(self.resolved.settings).llm_mode  # checks the mode
        default, policies = session_policies(evalset_config)
        llm = LLMReplay(
            mode=mode,
            store=llm_store(CaseJob(found, evalset_config, root)),
            allowed_hosts=llm_allowed_hosts(mode, None),
        )
        install()
        with replaying(
            ReplaySession(found.recordings, policies=policies, default=default, llm=llm)
        ) as active:
            yield active

    __call__ = session


@pytest.fixture
def backtest_case(request: pytest.FixtureRequest) -> Callable[[str], Case]:
    """``backtest_case("id")`` or ``backtest_case("evalset/id")``: the Case from the evalsets."""
    replayer = Replayer(
        request.config, resolve(request.config, request.node.get_closest_marker(MARKER))
    )

    def load(case_id: str) -> Case:
        return replayer.locate(case_id)[0]

    return load


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Replayer:
    """Run a case from an ordinary test: ``replay.run(case)`` or ``with replay.session(case)``."""
    return Replayer(
        request.config, resolve(request.config, request.node.get_closest_marker(MARKER))
    )
