"""Benchmark: every report writer on a large run, and the HTML report in headless Chromium.

    .venv/bin/python benchmarks/reports.py [--cases 1000] [--repeat 3] [--spans 40] [--browser]

Builds a RunReport of ``--cases`` failing cases, each with ``--repeat`` runs whose
candidate trace has ``--spans`` spans, two verdicts and a divergence report, so
the HTML report carries every span tree; then times each writer, the file
sizes, reading result.json back, and (with ``--browser``) how long Chromium
takes to build the page from it.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from agent_backtest.evalset.case import ToolRecording
from agent_backtest.gate.model import GateDecision, ModeRow, ModeStatus
from agent_backtest.replay.divergence import build_report
from agent_backtest.replay.matching import RecordingBook
from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult
from agent_backtest.report.html import write_html
from agent_backtest.report.json_io import read_result, write_result
from agent_backtest.report.junit import write_junit
from agent_backtest.report.markdown import github_annotations, render_step_summary
from agent_backtest.report.model import EvalsetInfo, RunReport
from agent_backtest.report.terminal import render_summary
from agent_backtest.scoring.verdict import Outcome, Verdict
from agent_backtest.trace.model import Span, SpanKind, ToolCall, Trace

MODES = ["step_repetition", "hallucinated_tool_input", "context_overflow", "cost_blowup"]


def trace(trace_id: str, spans: int) -> Trace:
    root = Span(
        span_id=f"{trace_id}-0", kind=SpanKind.AGENT, name="agent", start_ns=0, end_ns=10**9
    )
    children = [
        Span(
            span_id=f"{trace_id}-{n}",
            parent_id=root.span_id,
            kind=SpanKind.TOOL if n % 2 else SpanKind.LLM,
            name=f"step {n}",
            start_ns=n * 1000,
            end_ns=n * 1000 + 900,
            output="x" * 200,
            tool=ToolCall(name="lookup", arguments={"n": n}, result={"ok": True})
            if n % 2
            else None,
        )
        for n in range(1, spans)
    ]
    return Trace(trace_id=trace_id, spans=[root, *children], end_ns=10**9)


def divergence() -> object:
    book = RecordingBook([ToolRecording(seq=0, tool="lookup", arguments={"n": 1}, result="ok")])
    book.match("lookup", {"n": 1})
    book.match("lookup", {"n": 1})
    return build_report(book)


def build(cases: int, repeat: int, spans: int) -> RunReport:
    report_divergence = divergence()
    results = []
    for i in range(cases):
        modes = [MODES[i % len(MODES)], MODES[(i + 1) % len(MODES)]]
        runs = [
            RunResult(
                attempt=a,
                outcome=CaseOutcome.FAILED,
                problems=["step_repetition: lookup called 2 times"],
                output="the agent's answer " * 20,
                verdicts=[
                    Verdict(
                        classifier=mode,
                        version="v1",
                        outcome=Outcome.FAIL,
                        reason="repeated the same call",
                        evidence=[f"c{i}r{a}-1", f"c{i}r{a}-3"],
                        failure_mode=mode,
                    )
                    for mode in modes
                ],
                divergence=report_divergence,  # type: ignore[arg-type]
                trace=trace(f"c{i}r{a}", spans),
            )
            for a in range(repeat)
        ]
        results.append(
            CaseResult(
                case_id=f"case-{i:05d}",
                evalset="support",
                failure_modes=modes,
                outcome=CaseOutcome.FAILED,
                runs=runs,
            )
        )
    rows = [ModeRow(mode=m, cases=cases // 2, runs=cases, status=ModeStatus.FAILED) for m in MODES]
    return RunReport(
        created_at="2025-01-01T00:00:00Z",
        evalsets=[EvalsetInfo(name="support", path="evalsets/support", lock_hash="sha256:x")],
        cases=results,
        gate=GateDecision(passed=False, reasons=["pass rate too low"], modes=rows),
    )


def timed(label: str, action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:28} {elapsed:7.3f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spans", type=int, default=40)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    report = build(args.cases, args.repeat, args.spans)
    spans = args.cases * args.repeat * args.spans
    print(f"{args.cases} cases x {args.repeat} runs x {args.spans} spans = {spans:,} spans")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed("terminal summary", lambda: render_summary(report))
        timed(
            "step summary + annotations",
            lambda: (render_step_summary(report), github_annotations(report)),
        )
        timed("junit.xml", lambda: write_junit(report, folder / "junit.xml"))
        timed("result.json write", lambda: write_result(report, folder / "result.json"))
        timed("result.json read", lambda: read_result(folder / "result.json"))
        timed("report.html", lambda: write_html(report, folder / "report.html"))
        for name in ("result.json", "junit.xml", "report.html"):
            print(f"{name:28} {(folder / name).stat().st_size / 2**20:7.1f} MiB")
        if args.browser:
            command = [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                f"--user-data-dir={folder / 'profile'}", "--virtual-time-budget=60000",
                f"--screenshot={folder / 'shot.png'}", "--window-size=1280,2000",
                (folder / "report.html").as_uri(),
            ]  # fmt: skip
            # A screenshot waits for the page's script like --dump-dom does, without
            # serializing the 50 MB of embedded data back out.
            timed(
                "chromium: load + build DOM",
                lambda: subprocess.run(command, capture_output=True, check=True, timeout=600),
            )


if __name__ == "__main__":
    main()
