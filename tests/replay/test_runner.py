"""The runner end to end: record against a real local server once, then replay with none."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest

from agent_backtest.config import Settings
from agent_backtest.errors import ConfigError, JudgeError
from agent_backtest.evalset.evalset import EvalSet, load_evalset
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.replay.runner import CaseJob, RunOptions, run_case, run_cases
from agent_backtest.scoring.verdict import Classifier, Verdict
from agent_backtest.trace.api import read_traces
from agent_backtest.trace.model import SpanKind, Trace
from tests.fixtures.plugin.script import support_server_handler
from tests.support.openai_server import OpenAIServer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "plugin" / "evalsets"
AGENT = "tests.fixtures.plugin.support_bot"
CLOSED_PORT = "http://127.0.0.1:9/v1"  # nothing listens: any real request would fail


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> EvalSet:
    """The fixture evalset with its LLM calls recorded once against the local server."""
    root = tmp_path_factory.mktemp("project") / "evalsets"
    shutil.copytree(FIXTURE, root)
    evalset = load_evalset(root / "support")
    with pytest.MonkeyPatch.context() as mp, OpenAIServer(handler=support_server_handler) as srv:
        mp.setenv("OPENAI_API_KEY", "test")
        mp.setenv("OPENAI_BASE_URL", srv.base_url)
        mp.setenv("SUPPORT_BOT_SIDE_EFFECTS", str(root / "side-effects.log"))
        results = _run(evalset, RunOptions(llm_mode="record"))
        assert [r.outcome for r in results] == [
            CaseOutcome.PASSED,
            CaseOutcome.FAILED,
            CaseOutcome.FAILED,
        ]
        assert len(srv.completion_requests) == 10
    return evalset


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, recorded: EvalSet) -> Path:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_BASE_URL", CLOSED_PORT)
    marker = recorded.root / "side-effects.log"
    monkeypatch.setenv("SUPPORT_BOT_SIDE_EFFECTS", str(marker))
    return marker


def _run(evalset: EvalSet, options: RunOptions, agent: str = f"{AGENT}:run") -> list[CaseResult]:
    jobs = [CaseJob(c, evalset.config, evalset.root, agent_override=agent) for c in evalset.cases]
    return asyncio.run(run_cases(jobs, options, concurrency=4))


def _by_id(results: list[CaseResult]) -> dict[str, CaseResult]:
    return {r.case_id: r for r in results}


@pytest.mark.parametrize("agent", ["run", "run_async"])
def test_replay_needs_no_server_and_tells_the_loop_from_the_recorded_path(
    recorded: EvalSet, offline: Path, agent: str
) -> None:
    results = _by_id(_run(recorded, RunOptions(), agent=f"{AGENT}:{agent}"))
    good, loop = results["follows-recorded-path"], results["loops-on-lookup"]
    assert good.outcome is CaseOutcome.PASSED, good.render()
    assert good.runs[0].output == "Your order has shipped."
    assert loop.outcome is CaseOutcome.FAILED
    text = loop.render()
    assert 'repeated: lookup_order(order_id="A2") x4' in text
    assert "step_repetition detected" in text
    assert "NO RECORDING" in text
    assert not offline.exists()  # the side-effecting refund never ran


def test_side_effecting_tool_never_runs_even_when_live_is_asked_for(
    recorded: EvalSet, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = recorded.config.model_copy(deep=True)
    config.replay.default.unmatched = "live"
    config.replay.tools.clear()  # nothing in evalset.yaml says refund has side effects
    case = recorded.case("refunds-twice")
    with OpenAIServer(handler=support_server_handler) as server:
        for mode in ("replay", "record", "live"):
            if mode != "replay":
                monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            result = run_case(
                case,
                config,
                Settings(llm_mode=mode),
                root=recorded.root,
                agent=f"{AGENT}:run",
            )
            # In replay the changed tool message misses the LLM cassette: an error, not a pass.
            assert result.outcome is not CaseOutcome.PASSED, mode
            trace = result.runs[0].trace
            assert trace is not None
            errors = [s.tool.error or "" for s in trace.spans_of_kind(SpanKind.TOOL) if s.tool]
            assert "not run live: refund is not marked read_only" in errors[-1], mode
    assert not offline.exists()


def test_an_agent_that_raises_is_an_error_with_one_line(recorded: EvalSet, offline: Path) -> None:
    result = _by_id(_run(recorded, RunOptions(), agent=f"{AGENT}:boom"))["follows-recorded-path"]
    assert result.outcome is CaseOutcome.ERROR
    error = result.runs[0].error or ""
    assert error.startswith("agent raised ValueError: the candidate blew up (at support_bot.py:")
    assert "Traceback" not in result.render()


def test_a_broken_entry_point_errors_every_case_with_the_fix(recorded: EvalSet) -> None:
    results = _run(recorded, RunOptions(), agent=f"{AGENT}:nope")
    assert {r.outcome for r in results} == {CaseOutcome.ERROR}
    assert "has no attribute 'nope'" in (results[0].runs[0].error or "")


def test_an_unrecorded_llm_request_says_what_differs(recorded: EvalSet, offline: Path) -> None:
    case = recorded.case("follows-recorded-path").model_copy(deep=True)
    case.input.messages[0].content = "Where is order A9?"
    result = run_case(case, recorded.config, Settings(), root=recorded.root, agent=f"{AGENT}:run")
    assert result.outcome is CaseOutcome.ERROR
    assert "LLM request not recorded" in (result.runs[0].error or "")


def test_unmatched_error_policy_errors_the_case(recorded: EvalSet, offline: Path) -> None:
    config = recorded.config.model_copy(deep=True)
    config.replay.default.unmatched = "error"
    result = run_case(
        recorded.case("loops-on-lookup"),
        config,
        Settings(),
        root=recorded.root,
        agent=f"{AGENT}:run",
    )
    assert result.outcome is CaseOutcome.ERROR
    assert "no recorded response for lookup_order" in (result.runs[0].error or "")


class _Broken:
    id = "flaky_judge"
    version = "1"

    def classify(self, trace: Trace) -> Verdict:
        raise JudgeError("judge out of retries")


def test_a_classifier_error_makes_the_case_error_never_pass(
    recorded: EvalSet, offline: Path
) -> None:
    case = recorded.case("follows-recorded-path").model_copy(deep=True)
    case.expect.classifiers = {"flaky_judge": "completed"}
    case.expect.not_detected = []

    def resolve(name: str) -> Classifier:
        if name == "flaky_judge":
            return _Broken()
        raise ConfigError(f"unknown classifier {name!r}")

    options = RunOptions(resolve_classifier=resolve)
    result = run_case(
        case, recorded.config, Settings(), root=recorded.root, agent=f"{AGENT}:run", options=options
    )
    assert result.outcome is CaseOutcome.ERROR
    assert "judge out of retries" in (result.runs[0].error or "")
    case.expect.classifiers = {"no_such_classifier": "x"}
    result = run_case(
        case, recorded.config, Settings(), root=recorded.root, agent=f"{AGENT}:run", options=options
    )
    assert result.outcome is CaseOutcome.ERROR
    assert "unknown classifier 'no_such_classifier'" in (result.runs[0].error or "")


def test_budgets_fail_the_case_and_say_by_how_much(recorded: EvalSet, offline: Path) -> None:
    case = recorded.case("follows-recorded-path").model_copy(deep=True)
    case.expect.budgets.max_llm_calls = 1
    case.expect.budgets.max_cost_usd = 0.5
    result = run_case(case, recorded.config, Settings(), root=recorded.root, agent=f"{AGENT}:run")
    assert result.outcome is CaseOutcome.FAILED
    assert "budget max_llm_calls: 2 > 1" in result.render()
    assert "no LLM cost recorded, not checked" in result.render()


def test_repeats_report_a_pass_rate(recorded: EvalSet, offline: Path) -> None:
    results = _by_id(_run(recorded, RunOptions(repeat=3)))
    good = results["follows-recorded-path"]
    assert (good.outcome, len(good.runs), good.pass_rate) == (CaseOutcome.PASSED, 3, 1.0)
    loop = results["loops-on-lookup"]
    assert loop.pass_rate == 0.0
    assert "pass rate 0% (0/3 runs; need all runs)" in loop.render()


def test_result_json_round_trips(recorded: EvalSet, offline: Path) -> None:
    (result, *_) = _run(recorded, RunOptions())
    again = CaseResult.from_json(result.to_json())
    assert again == CaseResult.model_validate(result.model_dump())
    assert again.runs[0].trace is not None
    assert again.runs[0].divergence == result.runs[0].divergence


def test_candidate_trace_round_trips_through_otlp_json(
    recorded: EvalSet, offline: Path, tmp_path: Path
) -> None:
    results = _by_id(_run(recorded, RunOptions(traces_dir=tmp_path)))
    original = results["loops-on-lookup"].runs[0].trace
    assert original is not None
    (read,) = read_traces(tmp_path / "support" / "loops-on-lookup.otlp.json")
    assert read.trace_id == original.trace_id
    assert [(s.span_id, s.parent_id, s.kind) for s in read.spans] == [
        (s.span_id, s.parent_id, s.kind) for s in original.spans
    ]
    tools = read.spans_of_kind(SpanKind.TOOL)
    assert [t.tool.arguments for t in tools if t.tool] == [{"order_id": "A2"}] * 4
    assert [bool(t.tool and t.tool.error) for t in tools] == [True] * 4
    llm = read.spans_of_kind(SpanKind.LLM)[-1].llm
    original_llm = original.spans_of_kind(SpanKind.LLM)[-1].llm
    assert llm is not None
    assert original_llm is not None
    assert llm.output_messages == original_llm.output_messages
    assert [m.role for m in llm.input_messages] == [m.role for m in original_llm.input_messages]
    assert llm.usage == original_llm.usage
    assert read.metrics.tool_calls == original.metrics.tool_calls == 4


def test_sync_agents_run_concurrently_up_to_the_limit(recorded: EvalSet, offline: Path) -> None:
    jobs = [CaseJob(c, recorded.config, recorded.root, f"{AGENT}:nap") for c in recorded.cases]
    options = RunOptions(repeat=2, fail_on_extra_calls=False)
    started = time.perf_counter()
    results = asyncio.run(run_cases(jobs, options, concurrency=6))
    elapsed = time.perf_counter() - started
    assert [r.runs[0].output for r in results] == ["rested"] * 3
    assert elapsed < 1.0  # 6 runs x 0.3 s would take 1.8 s one at a time
    started = time.perf_counter()
    asyncio.run(run_cases(jobs[:1], options, concurrency=1))
    assert time.perf_counter() - started >= 0.6  # the limit holds: 2 runs, one at a time


def test_replay_runs_an_agent_that_builds_an_openai_client_without_any_api_key(
    recorded: EvalSet, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    results = _by_id(_run(recorded, RunOptions()))
    assert results["follows-recorded-path"].outcome is CaseOutcome.PASSED
    assert "OPENAI_API_KEY" not in os.environ  # the placeholder lives only as long as the batch


def test_live_and_record_never_get_a_placeholder_key(
    recorded: EvalSet, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    result = _by_id(_run(recorded, RunOptions(llm_mode="live")))["follows-recorded-path"]
    assert result.outcome is CaseOutcome.ERROR
    assert result.runs[0].error is not None
    assert "api_key" in result.runs[0].error
