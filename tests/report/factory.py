"""RunReports built from real objects: verdicts, a divergence report from a RecordingBook,
candidate traces with nested spans, and a gate decision.

Case outputs and reasons carry hostile text on purpose (markup, a closing script
tag, backticks, GitHub command characters) so every writer's escaping is tested
on the same report.
"""

from __future__ import annotations

from agent_backtest.evalset.case import ToolRecording
from agent_backtest.gate.model import CoverageSnapshot, GateDecision, ModeFrequency, ModeRow
from agent_backtest.gate.model import ModeStatus as Status
from agent_backtest.replay.divergence import DivergenceReport, build_report
from agent_backtest.replay.matching import RecordingBook
from agent_backtest.replay.result import BudgetCheck, CaseOutcome, CaseResult, RunResult
from agent_backtest.report.model import EvalsetInfo, RunReport
from agent_backtest.scoring.verdict import Outcome, Verdict
from agent_backtest.trace.model import (
    LLMCall,
    Message,
    Span,
    SpanKind,
    SpanStatus,
    StatusCode,
    ToolCall,
    Trace,
)

EVALSET = "support-agent"
LOCK_HASH = "sha256:4f2a9c0d1e"
HOSTILE = "</script><img src=x onerror=alert(1)> 100% done: a,b\r\nnext ``` line"
LOOP_REASON = "lookup_order called 4 times with the same arguments"
INVENTED_REASON = "refund amount 120.00 appears in no tool result"
JUDGE_ERROR = "judge task_outcome timed out after 3 retries"
# The step_repetition row of ``failing_gate()`` as every writer's mode table shows it.
STEP_REPETITION_CELLS = [
    "step_repetition",
    "42.0%",
    "2",
    "50% (2/4)",
    "[15%, 85%]",
    "-25pp (p=0.21)",
    "passed",
]


def candidate_trace(trace_id: str, *, loops: int = 1, answer: str = "Refunded.") -> Trace:
    """AGENT root > LLM, TOOL lookups, CHAIN > TOOL refund (failed): a nested tree."""
    spans = [
        Span(
            span_id=f"{trace_id}-root",
            kind=SpanKind.AGENT,
            name="support_agent",
            start_ns=0,
            end_ns=2_500_000_000,
            input="Refund order 42",
            output=answer,
        ),
        Span(
            span_id=f"{trace_id}-llm",
            parent_id=f"{trace_id}-root",
            kind=SpanKind.LLM,
            name="chat gpt-4o",
            start_ns=10_000_000,
            end_ns=810_000_000,
            llm=LLMCall(
                model="gpt-4o",
                input_messages=[Message(role="user", content="Refund order 42")],
                output_messages=[Message(role="assistant", content=answer)],
            ),
        ),
    ]
    spans.extend(
        Span(
            span_id=f"{trace_id}-lookup{n}",
            parent_id=f"{trace_id}-root",
            kind=SpanKind.TOOL,
            name="lookup_order",
            start_ns=900_000_000 + n * 10_000_000,
            end_ns=905_000_000 + n * 10_000_000,
            tool=ToolCall(name="lookup_order", arguments={"order": 42}, result={"ok": True}),
        )
        for n in range(loops)
    )
    spans += [
        Span(
            span_id=f"{trace_id}-chain",
            parent_id=f"{trace_id}-root",
            kind=SpanKind.CHAIN,
            name="refund_flow",
            start_ns=1_000_000_000,
            end_ns=2_000_000_000,
        ),
        Span(
            span_id=f"{trace_id}-refund",
            parent_id=f"{trace_id}-chain",
            kind=SpanKind.TOOL,
            name="issue_refund",
            start_ns=1_100_000_000,
            end_ns=1_350_000_000,
            status=SpanStatus(code=StatusCode.ERROR, message="amount over limit"),
            tool=ToolCall(name="issue_refund", arguments={"amount": 120}, error="over limit"),
        ),
    ]
    return Trace(trace_id=trace_id, start_ns=0, end_ns=2_500_000_000, spans=spans)


def divergence_with_a_loop() -> DivergenceReport:
    """The candidate repeats a lookup production made once and skips the refund."""
    book = RecordingBook(
        [
            ToolRecording(seq=0, tool="lookup_order", arguments={"order": 42}, result="ok"),
            ToolRecording(seq=1, tool="issue_refund", arguments={"amount": 20}, result="ok"),
        ]
    )
    book.match("lookup_order", {"order": 42})
    book.match("lookup_order", {"order": 42})
    book.match("send_email", {"to": "a@b.c"})
    return build_report(book)


def verdict(classifier: str, outcome: Outcome, reason: str, *evidence: str) -> Verdict:
    return Verdict(
        classifier=classifier,
        version="v1" if classifier != "task_outcome" else "j-5d1e",
        outcome=outcome,
        label="detected" if outcome is Outcome.FAIL else None,
        reason=reason,
        evidence=list(evidence),
        failure_mode=classifier if classifier != "task_outcome" else None,
    )


def passed_case() -> CaseResult:
    trace = candidate_trace("ok1")
    return CaseResult(
        case_id="loops-on-lookup-order-3f9a2c",
        evalset=EVALSET,
        failure_modes=["step_repetition"],
        outcome=CaseOutcome.PASSED,
        pass_rate=1.0,
        duration_s=1.25,
        runs=[
            RunResult(
                outcome=CaseOutcome.PASSED,
                output="Refunded.",
                verdicts=[verdict("step_repetition", Outcome.PASS, "no repeated tool calls")],
                trace=trace,
                duration_s=1.25,
            )
        ],
    )


def failed_case() -> CaseResult:
    """Three repeats, one passing: a case carrying two failure modes."""
    runs = []
    for attempt in range(3):
        passed = attempt == 2
        trace = candidate_trace(f"bad{attempt}", loops=1 if passed else 4, answer=HOSTILE)
        evidence = [s.span_id for s in trace.spans if s.name == "lookup_order"]
        runs.append(
            RunResult(
                attempt=attempt,
                outcome=CaseOutcome.PASSED if passed else CaseOutcome.FAILED,
                problems=[] if passed else [f"step_repetition: {LOOP_REASON}"],
                output=HOSTILE,
                verdicts=[
                    verdict("step_repetition", Outcome.PASS, "no repeated tool calls")
                    if passed
                    else verdict("step_repetition", Outcome.FAIL, LOOP_REASON, *evidence),
                    verdict(
                        "hallucinated_tool_input",
                        Outcome.FAIL,
                        INVENTED_REASON + " " + HOSTILE,
                        f"bad{attempt}-refund",
                    ),
                ],
                budgets=[
                    BudgetCheck(
                        name="max_tool_calls",
                        limit=5,
                        actual=6,
                        passed=False,
                        reason="6 tool calls, limit 5",
                    )
                ],
                divergence=None if passed else divergence_with_a_loop(),
                trace=trace,
                duration_s=2.5,
            )
        )
    return CaseResult(
        case_id="invents-refund-amount-9be41d",
        evalset=EVALSET,
        failure_modes=["step_repetition", "hallucinated_tool_input"],
        outcome=CaseOutcome.FAILED,
        pass_rate=1 / 3,
        required_pass_rate=0.66,
        duration_s=7.5,
        runs=runs,
    )


def errored_case() -> CaseResult:
    return CaseResult(
        case_id="overflows-context-77aa01",
        evalset=EVALSET,
        failure_modes=["context_overflow"],
        outcome=CaseOutcome.ERROR,
        duration_s=30.0,
        runs=[RunResult(outcome=CaseOutcome.ERROR, error=JUDGE_ERROR, duration_s=30.0)],
    )


def coverage() -> CoverageSnapshot:
    return CoverageSnapshot(
        generated_at="2025-05-01T09:00:00Z",
        sources=["prod/traces.jsonl"],
        traces=200,
        modes=[
            ModeFrequency(mode="step_repetition", count=84, share=0.42),
            ModeFrequency(mode="hallucinated_tool_input", count=40, share=0.20),
            ModeFrequency(mode="context_overflow", count=20, share=0.10),
            ModeFrequency(mode="cost_blowup", count=12, share=0.06),
        ],
    )


def failing_gate() -> GateDecision:
    return GateDecision(
        passed=False,
        reasons=[
            "hallucinated_tool_input: pass rate 33% [6%, 79%] below the minimum 100%",
            "cost_blowup (6% of production failures) has no cases (min 1)",
        ],
        warnings=["classifier drift: step_repetition labelled at v0, ran v1"],
        coverage=0.72,
        min_coverage=0.9,
        modes=[
            ModeRow(
                mode="step_repetition",
                production_count=84,
                production_share=0.42,
                cases=2,
                runs=4,
                passed_runs=2,
                pass_rate=0.5,
                interval=(0.15, 0.85),
                baseline_pass_rate=0.75,
                delta=-0.25,
                p_value=0.21,
                status=Status.PASSED,
            ),
            ModeRow(
                mode="hallucinated_tool_input",
                production_count=40,
                production_share=0.20,
                cases=1,
                runs=3,
                passed_runs=1,
                pass_rate=1 / 3,
                interval=(0.06, 0.79),
                status=Status.FAILED,
            ),
            ModeRow(
                mode="context_overflow",
                production_count=20,
                production_share=0.10,
                cases=1,
                status=Status.ERROR,
            ),
            ModeRow(
                mode="cost_blowup",
                production_count=12,
                production_share=0.06,
                status=Status.UNCOVERED,
            ),
        ],
        flaky=["invents-refund-amount-9be41d"],
        quarantined=[],
        drift=["loops-on-lookup-order-3f9a2c: classifier step_repetition v0 -> v1"],
    )


def run_report(*, gate: GateDecision | None = None, with_gate: bool = True) -> RunReport:
    return RunReport(
        created_at="2025-05-02T10:11:12Z",
        agent="support_bot.agent:run",
        evalsets=[
            EvalsetInfo(
                name=EVALSET,
                path="evalsets/support-agent",
                lock_hash=LOCK_HASH,
                cases=3,
                cases_per_mode={
                    "step_repetition": 2,
                    "hallucinated_tool_input": 1,
                    "context_overflow": 1,
                },
            )
        ],
        cases=[passed_case(), failed_case(), errored_case()],
        classifier_versions={
            "step_repetition": "v1",
            "hallucinated_tool_input": "v1",
            "task_outcome": "j-5d1e",
        },
        coverage=coverage(),
        gate=(gate or failing_gate()) if with_gate else None,
    )
