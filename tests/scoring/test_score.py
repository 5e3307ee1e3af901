"""score_traces from Python: sampling, annotations in the sidecar format, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError
from agent_backtest.scoring.score import format_distribution, sampled, score_traces
from agent_backtest.trace.api import TraceStream
from tests.scoring.judge_helpers import HELPFUL_JUDGE_YAML, runtime
from tests.support.openai_server import OpenAIServer, Reply
from tests.support.traces import agent_trace


@pytest.fixture
def judges_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "classifiers"
    folder.mkdir()
    (folder / "helpful.yaml").write_text(HELPFUL_JUDGE_YAML)
    return folder


def _answer(request_prompt: str) -> str:
    label = "yes" if "q0" in request_prompt or "q2" in request_prompt else "no"
    return json.dumps({"label": label, "reason": f"said {label}"})


def test_sampling_is_deterministic_and_nested() -> None:
    ids = [f"trace-{i}" for i in range(2000)]
    tenth = {i for i in ids if sampled(i, 0.1, seed=7)}
    assert tenth == {i for i in ids if sampled(i, 0.1, seed=7)}
    assert 150 < len(tenth) < 250
    assert tenth <= {i for i in ids if sampled(i, 0.3, seed=7)}
    assert tenth != {i for i in ids if sampled(i, 0.1, seed=8)}


def test_scores_writes_sidecar_and_reads_back(
    openai_server: OpenAIServer, judges_dir: Path, tmp_path: Path
) -> None:
    openai_server.handler = lambda request: _answer(request.prompt)
    traces = [agent_trace(f"{i + 1:032x}", question=f"q{i}") for i in range(4)]
    out = tmp_path / "annotations.jsonl"
    result = score_traces(
        traces,
        ["helpful", "step_repetition"],
        classifiers_dir=judges_dir,
        runtime=runtime(openai_server, tmp_path / "cache"),
        output=out,
        created_at="2025-01-01T00:00:00Z",
    )
    assert result.traces_scored == 4
    helpful = result.summaries["helpful"]
    assert dict(helpful.labels) == {"yes": 2, "no": 2}
    assert helpful.kind == "llm"
    assert result.summaries["step_repetition"].kind == "code"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    first = next(line for line in lines if line["name"] == "helpful")
    assert first == {
        "trace_id": f"{1:032x}",
        "name": "helpful",
        "label": "yes",
        "explanation": "said yes",
        "annotator": helpful.ref,
        "annotator_kind": "llm",
        "created_at": "2025-01-01T00:00:00Z",
    }
    # the sidecar reader takes the file back
    stream = TraceStream([out])
    assert list(stream) == []
    back = {(a.target.trace_id, a.label) for a in stream.unattached_annotations}
    assert back == {(f"{i + 1:032x}", "yes" if i in (0, 2) else "no") for i in range(4)} | {
        (f"{i + 1:032x}", "not_detected") for i in range(4)
    }
    assert "helpful" in format_distribution(result)


def test_errors_are_counted_not_written(
    openai_server: OpenAIServer, judges_dir: Path, tmp_path: Path
) -> None:
    openai_server.default = Reply(status=500)
    out = tmp_path / "a.jsonl"
    result = score_traces(
        [agent_trace()],
        ["helpful"],
        classifiers_dir=judges_dir,
        runtime=runtime(openai_server, None),
        output=out,
    )
    assert result.errors == 1
    assert out.read_text() == ""


def test_sample_and_version_pin(
    openai_server: OpenAIServer, judges_dir: Path, tmp_path: Path
) -> None:
    traces = [agent_trace(f"t{i}") for i in range(50)]
    openai_server.handler = lambda request: _answer(request.prompt)
    result = score_traces(
        traces,
        ["helpful"],
        classifiers_dir=judges_dir,
        runtime=runtime(openai_server, None),
        sample=0.2,
        seed=3,
    )
    expected = sum(sampled(t.trace_id, 0.2, 3) for t in traces)
    assert result.traces_read == 50
    assert result.traces_scored == expected == len(openai_server.completion_requests)
    with pytest.raises(ConfigError, match="not 000000000000"):
        score_traces(
            traces,
            ["helpful@000000000000"],
            classifiers_dir=judges_dir,
            runtime=runtime(openai_server, None),
        )


def test_unknown_classifier_lists_choices(judges_dir: Path, openai_server: OpenAIServer) -> None:
    with pytest.raises(ConfigError, match="unknown classifier 'helpfull'"):
        score_traces([agent_trace()], ["helpfull"], runtime=runtime(openai_server, None))
