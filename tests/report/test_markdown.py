from __future__ import annotations

import pytest

from agent_backtest.gate.model import GateDecision
from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult
from agent_backtest.report.markdown import (
    escape_data,
    escape_property,
    github_annotations,
    render_step_summary,
    workflow_command,
)
from agent_backtest.report.model import EvalsetInfo, RunReport
from tests.report.factory import HOSTILE, failed_case, failing_gate, run_report


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),  # an escape sequence in the text is not decoded by GitHub
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ],
)
def test_workflow_command_escaping_follows_github_rules(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_a_command_line_puts_escaped_properties_before_the_message() -> None:
    line = workflow_command("error", "50% failed\nsee log", file="a,b.yaml", title="x: y")
    assert line == "::error file=a%2Cb.yaml,title=x%3A y::50%25 failed%0Asee log"
    assert workflow_command("warning", "m") == "::warning::m"


def test_annotations_point_at_each_unpassed_case_file_and_the_gate() -> None:
    lines = github_annotations(run_report())
    assert len(lines) == 3
    failed, errored, gate = lines
    assert failed.startswith(
        "::error file=evalsets/support-agent/cases/invents-refund-amount-9be41d.yaml,"
        "title=failed%3A invents-refund-amount-9be41d "
        "(step_repetition%2C hallucinated_tool_input)::"
        "case invents-refund-amount-9be41d (support-agent): FAILED%0Apass rate 33%25"
    )
    # The hostile output's CR LF and percent sign cannot break out of the message.
    assert "100%25 done: a,b%0D%0Anext" in failed
    assert "\n" not in failed
    assert "\r" not in failed
    assert errored == (
        "::error file=evalsets/support-agent/cases/overflows-context-77aa01.yaml,"
        "title=error%3A overflows-context-77aa01 (context_overflow)::"
        "case overflows-context-77aa01 (support-agent): ERROR%0A"
        "error: judge task_outcome timed out after 3 retries"
    )
    assert gate == (
        "::error title=agent-backtest gate::"
        "hallucinated_tool_input: pass rate 33%25 [6%25, 79%25] below the minimum 100%25%0A"
        "cost_blowup (6%25 of production failures) has no cases (min 1)"
    )


def test_the_case_file_follows_the_evalset_path_in_the_report() -> None:
    report = run_report(gate=GateDecision(passed=True))
    report.evalsets = [EvalsetInfo(name="support-agent", path="qa/evalsets/support/")]
    lines = github_annotations(report)
    assert lines[0].startswith("::error file=qa/evalsets/support/cases/invents-refund")
    assert len(lines) == 2  # a passing gate adds no line


def test_an_override_is_a_warning_annotation() -> None:
    gate = failing_gate().model_copy(update={"passed": True, "override": "ok'd, by: lead"})
    assert github_annotations(run_report(gate=gate))[-1] == (
        "::warning title=agent-backtest gate::gate passed by override: ok'd, by: lead"
    )


def test_the_step_summary_starts_with_the_verdict_then_the_mode_table() -> None:
    text = render_step_summary(run_report())
    lines = text.splitlines()
    assert lines[0] == "## ❌ agent-backtest: gate FAILED"
    assert (
        "- hallucinated\\_tool\\_input\\: pass rate 33% \\[6%, 79%\\] below the minimum 100%"
        in (lines)
    )
    table = lines.index(
        "| Failure mode | Production share | Cases | Pass rate | 95% interval "
        "| Δ vs baseline | Status |"
    )
    assert lines[table + 2] == (
        "| <code>step\\_repetition</code> | 42.0% | 2 | 50% (2/4) | [15%, 85%] "
        "| -25pp (p=0.21) | ✅ passed |"
    )
    assert lines[table + 5] == "| <code>cost\\_blowup</code> | 6.0% | 0 | - | - | - | ⚠️ uncovered |"
    assert text.index("Why the gate failed") < table_position(text) < text.index("<details>")


def table_position(text: str) -> int:
    return text.index("| Failure mode |")


def test_failed_cases_are_collapsed_with_escaped_summaries_and_fenced_reasons() -> None:
    text = render_step_summary(run_report())
    assert text.count("<details>") == 2
    assert text.count("</details>") == 2
    summary = next(line for line in text.splitlines() if "invents-refund" in line)
    assert summary == (
        "<details><summary><code>invents-refund-amount-9be41d</code> (support-agent): "
        "<b>FAILED</b> [step_repetition, hallucinated_tool_input]: step_repetition: "
        "lookup_order called 4 times with the same arguments</summary>"
    )
    # The hostile text contains ```: the fence around the rendered case is longer.
    block = text.split("````text\n", 1)[1].split("\n````\n", 1)[0]
    assert block == failed_case().render()
    assert "passed" not in summary


def test_untrusted_text_cannot_inject_html_or_markdown() -> None:
    report = RunReport(
        created_at="2025-01-01T00:00:00Z",
        cases=[
            CaseResult(
                case_id="c<1>",
                evalset="s",
                failure_modes=["m"],
                outcome=CaseOutcome.FAILED,
                runs=[RunResult(outcome=CaseOutcome.FAILED, problems=[HOSTILE])],
            )
        ],
        gate=GateDecision(
            passed=False, reasons=["[click](javascript:alert(1)) **now** | <b>x</b> $x$"]
        ),
    )
    text = render_step_summary(report)
    assert (
        "- \\[click\\]\\(javascript\\:alert\\(1\\)\\) \\*\\*now\\*\\* \\| \\<b\\>x\\</b\\> \\$x\\$"
        in text
    )
    summary = next(line for line in text.splitlines() if line.startswith("<details>"))
    assert summary == (
        "<details><summary><code>c&lt;1&gt;</code> (s): <b>FAILED</b> [m]: "
        "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; 100% done: a,b next ``` line"
        "</summary>"
    )
    # Only the fenced code block (shown verbatim, never rendered) holds the raw text.
    outside = text.split("````text\n")[0] + text.split("\n````\n")[1]
    assert "<img" not in outside
    assert "</script>" not in outside
    assert "<img" in text


def test_a_summary_without_a_gate_or_cases() -> None:
    text = render_step_summary(RunReport(created_at="2025-01-01T00:00:00Z"))
    assert text.splitlines()[0] == "## ⚪ agent-backtest: gate not evaluated"
    assert "0 cases\\: no cases" in text
    assert "<details>" not in text
    assert "| Failure mode |" not in text
