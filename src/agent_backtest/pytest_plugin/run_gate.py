"""The controller's side of ``--agent-evals``: gather results, write the reports, decide the gate.

Registered by ``pytest_configure`` in the process that reports (the only one,
or the xdist controller; never a worker), so the gate is decided exactly once.
Case results arrive as the JSON string every case report carries
(``items.RESULT_ATTR``), whether the case ran here or on a worker.

Exit status, when any case ran: a failure that is not a case result keeps
pytest's own code; a shard keeps pytest's own code (the gate is decided by
``backtest merge``); otherwise 0 when the gate passed (tolerated case failures
included), 1 when it failed and a case failed, 6 when it failed and none did.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest.errors import BacktestError
from agent_backtest.pytest_plugin.items import EVALSET_ATTR, RESULT_ATTR
from agent_backtest.pytest_plugin.options import Resolved, pyproject_of, resolve
from agent_backtest.pytest_plugin.state import RUN, RunState, state
from agent_backtest.replay.result import CaseResult
from agent_backtest.report.assemble import (
    build_run_report,
    evalset_configs,
    evalset_folders,
    exit_code,
    gate_policy,
    load_evalsets,
    load_gate_inputs,
    override_from_env,
)
from agent_backtest.report.model import RunReport
from agent_backtest.report.publish import closing_lines, github_error_lines, publish

ENFORCED_EXITS = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


def start(config: pytest.Config, resolved: Resolved) -> None:
    """Check the gate's inputs before any case runs and register the reporting hooks."""
    settings = resolved.settings
    folders = evalset_folders(Path(config.rootpath, settings.evalsets))
    try:
        gate_policy(settings, evalset_configs(folders), pyproject_of(config))
        inputs = load_gate_inputs(
            settings, project_root=config.rootpath, override=override_from_env()
        )
    except BacktestError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    config.stash[RUN] = RunState(inputs=inputs)
    config.pluginmanager.register(GateReporter(config), "agent-backtest-gate")


class GateReporter:
    """Hooks that only the reporting process runs."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def run(self) -> RunState:
        return self.config.stash[RUN]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        root = getattr(report, EVALSET_ATTR, None)
        here = state(self.config).finished.pop(report.nodeid, None)
        body = here if here is not None else getattr(report, RESULT_ATTR, None)
        if root is not None:
            self.run.evalset_roots.add(Path(root))
        if body is not None:
            self.run.reported[report.nodeid] = body
        elif report.failed:
            # A test of the user's, or a case that broke before it had a result.
            self.run.other_failed = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = self.run
        if not run.reported:
            return
        settings = resolve(self.config).settings
        try:
            run.report = self._build()
        except BacktestError as exc:
            raise pytest.UsageError(exc.one_line()) from None
        run.written = publish(run.report, Path(self.config.rootpath, settings.report_dir))
        if self._enforced() and session.exitstatus in ENFORCED_EXITS:
            session.exitstatus = exit_code(run.report)

    def _enforced(self) -> bool:
        return state(self.config).shard is None and not self.run.other_failed

    def _build(self) -> RunReport:
        settings = resolve(self.config).settings
        root = self.config.rootpath
        results = [
            body if isinstance(body, CaseResult) else CaseResult.from_json(body)
            for body in self.run.reported.values()
        ]
        results.sort(key=lambda r: (r.evalset, r.case_id))
        # Evalsets given as paths outside the evalsets folder count too.
        found = [*evalset_folders(Path(root, settings.evalsets)), *self.run.evalset_roots]
        folders = {folder.resolve() for folder in found}
        cache = Path(root, settings.cache_dir) if settings.cache_dir else None
        shard = state(self.config).shard
        return build_run_report(
            results,
            evalsets=load_evalsets(sorted(folders), cache),
            inputs=self.run.inputs,
            settings=settings,
            project_root=root,
            pyproject=pyproject_of(self.config),
            shard=str(shard) if shard else None,
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        report = self.run.report
        if report is None:
            return
        from agent_backtest.report.terminal import render_summary

        width = self.config.get_terminal_writer().fullwidth
        terminalreporter.write_sep("=", "agent-backtest")
        lines = render_summary(report, width=width).splitlines()
        lines += closing_lines(report, self.run.written, enforced=self._enforced())
        lines += github_error_lines(report)
        for line in lines:
            terminalreporter.write_line(line)
