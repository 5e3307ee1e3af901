"""One pytest item per case, run concurrently in batches but reported one by one.

The first case item to run takes every selected case item after it (same
session, not yet run), runs them all on one event loop with the concurrency
limit, and leaves the results in the stash; each item then reports its own.
Under an xdist worker items arrive one at a time, so each runs on its own (the
workers still produce the same results: a run depends only on the case).

Each item puts its result on the report twice: compact JSON (no traces) in
``user_properties``, which ``--junitxml`` writes out, and the full JSON (with
the candidate traces) as the plain string attribute ``agent_backtest_result``.
pytest serializes every JSON-able attribute of a report for xdist, so the
controller receives the full result and builds result.json and the gate once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agent_backtest.errors import BacktestError
from agent_backtest.pytest_plugin.options import MARKER, Resolved, resolve
from agent_backtest.pytest_plugin.state import state

if TYPE_CHECKING:
    from agent_backtest.evalset.case import Case
    from agent_backtest.evalset.config import EvalSetConfig
    from agent_backtest.replay.result import CaseResult

RESULT_PROPERTY = "agent_backtest.result"
OUTCOME_PROPERTY = "agent_backtest.outcome"
PASS_RATE_PROPERTY = "agent_backtest.pass_rate"
RESULT_ATTR = "agent_backtest_result"  # full CaseResult JSON on the call report
EVALSET_ATTR = "agent_backtest_evalset"  # the case's evalset folder, on every case report


class CaseFailed(Exception):  # noqa: N818 - it reads as what happened to the case
    """The case did not pass; ``repr_failure`` renders the result, not a traceback."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.outcome.value)
        self.result = result


def compact_json(result: CaseResult) -> str:
    """The result without candidate traces: small enough for JUnit XML properties."""
    runs = [run.model_copy(update={"trace": None}) for run in result.runs]
    return result.model_copy(update={"runs": runs}).to_json()


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class CaseItem(pytest.Item):
    def __init__(
        self,
        *,
        case: Case,
        evalset_config: EvalSetConfig,
        evalset_root: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.evalset_config = evalset_config
        self.evalset_root = evalset_root
        self.case_result: CaseResult | None = None  # set by runtest, read by the report hook

    def resolved(self) -> Resolved:
        return resolve(self.config, self.get_closest_marker(MARKER))

    def runtest(self) -> None:
        result = self.case_result = self._result()
        self.user_properties.append((OUTCOME_PROPERTY, result.outcome.value))
        self.user_properties.append((PASS_RATE_PROPERTY, f"{result.pass_rate:.4g}"))
        self.user_properties.append((RESULT_PROPERTY, compact_json(result)))
        if not result.passed:
            raise CaseFailed(result)

    def _result(self) -> CaseResult:
        results = state(self.config).results
        if self.nodeid not in results:
            batch: list[CaseItem] = [self]
            if not is_xdist_worker(self.config):
                later = self.session.items[self.session.items.index(self) + 1 :]
                batch += [i for i in later if isinstance(i, CaseItem) and i.nodeid not in results]
            results.update(run_items(batch))
        return results.pop(self.nodeid)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, CaseFailed):
            return excinfo.value.result.render()
        if isinstance(excinfo.value, BacktestError | pytest.UsageError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"case {self.evalset_config.name}/{self.case.id}"


def attach_result(item: pytest.Item, report: pytest.TestReport) -> None:
    """Put what the controller needs on a case item's report (plain strings: xdist-safe)."""
    if not isinstance(item, CaseItem):
        return
    setattr(report, EVALSET_ATTR, str(item.evalset_root))
    if report.when == "call" and item.case_result is not None:
        setattr(report, RESULT_ATTR, item.case_result.to_json())
        if not is_xdist_worker(item.config):
            # The reporting process is this one: hand over the object itself, which
            # saves parsing the JSON back (0.5 s for 500 cases with their traces).
            state(item.config).finished[item.nodeid] = item.case_result
        item.case_result = None  # the report carries it now; traces can be large


def run_items(items: Sequence[CaseItem]) -> dict[str, CaseResult]:
    """Run the items' cases, grouped by their resolved settings (markers may differ)."""
    from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases

    groups: dict[str, tuple[Resolved, list[CaseItem]]] = {}
    for item in items:
        resolved = item.resolved()
        key = f"{resolved.settings.model_dump_json()}|{resolved.agent_override}"
        groups.setdefault(key, (resolved, []))[1].append(item)
    out: dict[str, CaseResult] = {}
    for resolved, members in groups.values():
        settings = resolved.settings
        root = members[0].config.rootpath
        traces = Path(root, settings.traces_dir) if settings.traces_dir else None
        options = RunOptions.from_settings(settings, traces_dir=traces)
        jobs = [
            CaseJob(i.case, i.evalset_config, i.evalset_root, resolved.agent_override)
            for i in members
        ]
        results = asyncio.run(
            run_cases(
                jobs, options, settings_agent=settings.agent, concurrency=settings.concurrency
            )
        )
        out.update(zip((i.nodeid for i in members), results, strict=True))
    return out
