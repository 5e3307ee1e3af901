from __future__ import annotations

from pathlib import Path

from junitparser import JUnitXml

from agent_backtest.report.html import render_html
from agent_backtest.report.json_io import read_result
from agent_backtest.report.markdown import render_step_summary
from agent_backtest.report.outputs import write_all
from tests.report.factory import run_report


def test_write_all_writes_every_report_file_and_returns_them_by_kind(tmp_path: Path) -> None:
    report = run_report()
    folder = tmp_path / ".backtest" / "report"
    written = write_all(report, folder)
    assert written == {
        "json": folder / "result.json",
        "junit": folder / "junit.xml",
        "html": folder / "report.html",
        "markdown": folder / "summary.md",
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written.values())
    assert read_result(written["json"]) == report
    assert written["markdown"].read_bytes().decode() == render_step_summary(report)
    assert written["html"].read_bytes().decode() == render_html(report)
    suites = [suite.name for suite in JUnitXml.fromfile(str(written["junit"]))]
    assert suites[0] == "step_repetition"


def test_write_all_overwrites_an_earlier_run(tmp_path: Path) -> None:
    write_all(run_report(), tmp_path)
    second = run_report(with_gate=False)
    written = write_all(second, tmp_path)
    assert read_result(written["json"]).gate is None
    assert "gate not evaluated" in written["markdown"].read_text("utf-8")
