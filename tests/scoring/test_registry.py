"""The classifier registry, plugins through entry points, and the Python scoring API."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError, JudgeError
from agent_backtest.scoring.classify import classify_trace, verdicts_to_annotations
from agent_backtest.scoring.detectors import BUILTIN_DETECTORS, StepRepetition
from agent_backtest.scoring.registry import ClassifierRegistry, classifier_names, get_classifier
from agent_backtest.scoring.verdict import Classifier, Outcome, Verdict
from agent_backtest.trace.model import AnnotatorKind, Trace
from tests.scoring.traces import TraceBuilder

BUILTINS = {
    "step_repetition",
    "context_overflow",
    "hallucinated_tool_input",
    "cascading_retries",
    "silent_tool_failure",
    "truncation",
    "cost_blowup",
    "latency_budget",
    "tool_error_rate",
}


class FixedJudge:
    """Stands in for an LLM judge: answers the same label for every trace."""

    id = "always_completed"
    version = "abc123"

    def classify(self, trace: Trace) -> Verdict:
        return Verdict(
            classifier=self.id,
            version=self.version,
            outcome=Outcome.PASS,
            label="completed",
            reason="looks done",
        )


class BrokenJudge:
    id = "broken_judge"
    version = "1"
    failure_mode = "wrong_final_answer"

    def classify(self, trace: Trace) -> Verdict:
        raise JudgeError("judge gave up after 4 attempts (HTTP 500)")


def registry() -> ClassifierRegistry:
    return ClassifierRegistry(BUILTIN_DETECTORS, entry_point_group=None)


def test_every_builtin_detector_is_registered_and_a_classifier() -> None:
    assert set(classifier_names()) >= BUILTINS
    for name in BUILTINS:
        classifier = get_classifier(name)
        assert isinstance(classifier, Classifier)
        assert classifier.id == name
        assert classifier.failure_mode == name  # type: ignore[attr-defined]


def test_get_classifier_passes_parameters() -> None:
    detector = get_classifier("step_repetition", min_repeats=4)
    assert isinstance(detector, StepRepetition)
    assert detector.min_repeats == 4


def test_unknown_name_suggests_the_nearest_and_lists_all() -> None:
    with pytest.raises(ConfigError) as info:
        registry().get("step_repetiton")
    message = str(info.value)
    assert "unknown classifier 'step_repetiton'" in message
    assert "did you mean 'step_repetition'?" in message
    assert "cost_blowup" in message


def test_bad_parameters_name_the_field_and_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        registry().get("step_repetition", min_repeat=4)
    message = str(info.value)
    assert "min_repeat" in message
    assert "min_repeats=3" in message
    with pytest.raises(ConfigError, match="min_repeats"):
        registry().get("step_repetition", min_repeats="many")


def test_pinned_version_must_match() -> None:
    assert registry().get("truncation@1").version == "1"
    with pytest.raises(ConfigError, match="is version 1, not 2"):
        registry().get("truncation@2")


def test_register_instances_and_factories() -> None:
    reg = registry()
    assert reg.register(FixedJudge()) == "always_completed"
    assert reg.get("always_completed@abc123").version == "abc123"
    with pytest.raises(ConfigError, match="takes no parameters"):
        reg.get("always_completed", temperature=0)
    with pytest.raises(ConfigError, match="already registered"):
        reg.register(FixedJudge())
    reg.register(FixedJudge(), replace=True)
    reg.register(lambda min_repeats=5: StepRepetition(min_repeats=min_repeats), name="loops")
    assert reg.get("loops", min_repeats=6).min_repeats == 6  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="built-in detector"):
        reg.register(FixedJudge(), name="truncation")


def test_entry_point_plugins_load_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_plugin.py").write_text(
        textwrap.dedent(
            """
            from agent_backtest.scoring.detectors import ToolErrorRate

            LOADED = True

            class Strict(ToolErrorRate):
                id = "strict_errors"

            def make(max_error_rate=0.0):
                return Strict(max_error_rate=max_error_rate)

            instance = Strict()
            """
        )
    )
    dist = tmp_path / "my_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[agent_backtest.classifiers]\n"
        "strict_errors = my_plugin:make\n"
        "strict_instance = my_plugin:instance\n"
        "broken = my_plugin_missing:thing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_plugin", raising=False)
    reg = ClassifierRegistry(BUILTIN_DETECTORS)
    assert {"strict_errors", "strict_instance", "broken"} <= set(reg.names())
    assert "my_plugin" not in sys.modules  # listing names imports nothing
    built = reg.get("strict_errors", max_error_rate=0.5)
    assert built.max_error_rate == 0.5  # type: ignore[attr-defined]
    assert reg.get("strict_instance").id == "strict_errors"
    with pytest.raises(ConfigError, match="failed to load"):
        reg.get("broken")


# --- the Python scoring API ------------------------------------------------


def looping_trace() -> tuple[Trace, list[str]]:
    b = TraceBuilder(trace_id="trace-7")
    tools = [b.tool("lookup_order", {"order_id": 1843}, {"status": "processing"}) for _ in range(3)]
    return b.build("Still processing"), tools


def test_classify_trace_by_name_and_object_in_order() -> None:
    trace, tools = looping_trace()
    verdicts = classify_trace(trace, ["step_repetition", FixedJudge(), "truncation@1"])
    assert [v.classifier for v in verdicts] == ["step_repetition", "always_completed", "truncation"]
    assert verdicts[0].evidence == tools
    assert verdicts[2].outcome is Outcome.PASS


def test_classify_trace_turns_a_judge_failure_into_an_error_verdict() -> None:
    trace, _ = looping_trace()
    broken, ok = classify_trace(trace, [BrokenJudge(), "step_repetition"])
    assert broken.outcome is Outcome.ERROR
    assert not broken.passed
    assert broken.failure_mode == "wrong_final_answer"
    assert "judge gave up after 4 attempts" in broken.reason
    assert ok.outcome is Outcome.FAIL


def test_verdicts_to_annotations() -> None:
    trace, tools = looping_trace()
    judge = FixedJudge()
    verdicts = classify_trace(trace, ["step_repetition", judge])
    notes = verdicts_to_annotations(trace, verdicts, classifiers=[judge], created_at="2025-01-01")
    on_trace = [n for n in notes if n.target.kind == "trace"]
    on_spans = [n for n in notes if n.target.kind == "span"]
    assert [(n.name, n.label, n.classifier, n.annotator_kind) for n in on_trace] == [
        ("step_repetition", "detected", "step_repetition@1", AnnotatorKind.CODE),
        ("always_completed", "completed", "always_completed@abc123", AnnotatorKind.LLM),
    ]
    assert on_trace[0].score == 3
    assert on_trace[0].explanation == verdicts[0].reason
    assert on_trace[0].target.trace_id == "trace-7"
    assert [n.target.span_id for n in on_spans] == tools
    assert all(n.name == "step_repetition" and n.label == "detected" for n in on_spans)
    assert len(verdicts_to_annotations(trace, verdicts, evidence_spans=False)) == 2
