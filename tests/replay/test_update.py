"""``--agent-evals-update`` end to end: real case files, a real local LLM server, real tools.

``update_bot``'s tools append to a log file whenever they really run, so each
test can say exactly which tool executed; the server answers from a script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent_backtest.config import Settings
from agent_backtest.errors import ConfigError
from agent_backtest.evalset.case import Case, CaseInput, CaseMessage, CaseSource, ToolRecording
from agent_backtest.evalset.evalset import LOCK_FILE, load_evalset
from agent_backtest.evalset.lock import lock_data, write_lock
from agent_backtest.evalset.storage import CASE_HEADER, read_case, write_case
from agent_backtest.replay.llm_cassette import CassetteStore, Interaction
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases
from agent_backtest.trace.model import SpanKind
from tests.replay.update_bot import CONTACT, script
from tests.support.openai_server import OpenAIServer, Reply

AGENT = "tests.replay.update_bot:run"
CLOSED_PORT = "http://127.0.0.1:9/v1"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("UPDATE_BOT_LOG", str(tmp_path / "ran.log"))
    monkeypatch.delenv("BACKTEST_REDACTION_KEY", raising=False)
    with OpenAIServer(handler=script) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


def _ran(tmp_path: Path) -> list[str]:
    log = tmp_path / "ran.log"
    return log.read_text().splitlines() if log.exists() else []


def _recording(seq: int, order_id: str) -> ToolRecording:
    return ToolRecording(
        seq=seq, tool="lookup_order", arguments={"order_id": order_id}, result={"status": "x"}
    )


def _evalset(
    tmp_path: Path,
    cases: dict[str, tuple[str, list[ToolRecording]]],
    replay: dict[str, Any] | None = None,
    **case_fields: Any,
) -> Path:
    root = tmp_path / "evalsets" / "support"
    (root / "cases").mkdir(parents=True)
    config: dict[str, Any] = {"schema": "agent-backtest/evalset@1", "name": "support"}
    if replay:
        config["replay"] = replay
    (root / "evalset.yaml").write_text(yaml.safe_dump(config))
    for case_id, (question, recordings) in cases.items():
        case = Case(
            id=case_id,
            title=question,
            source=CaseSource(trace_id=case_id),
            input=CaseInput(messages=[CaseMessage(role="user", content=question)]),
            recordings=recordings,
            **case_fields,
        )
        write_case(case, root / "cases" / f"{case_id}.yaml")
    return root


def _update(root: Path, *, update: bool = True, **settings: Any) -> dict[str, CaseResult]:
    evalset = load_evalset(root)
    jobs = [CaseJob(c, evalset.config, evalset.root, AGENT) for c in evalset.cases]
    options = RunOptions.from_settings(Settings(update=update, **settings))
    return {r.case_id: r for r in asyncio.run(run_cases(jobs, options, concurrency=4))}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_missing_read_only_call_is_recorded_redacted_and_then_replays_offline(
    server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _evalset(tmp_path, {"where-a1": ("Where is order A1?", [])})
    result = _update(root)["where-a1"]
    assert result.outcome is CaseOutcome.PASSED, result.render()
    assert _ran(tmp_path) == ["lookup_order A1"]
    assert result.updated is not None
    assert result.updated.added == ['#0 lookup_order(order_id="A1")']
    assert len(result.updated.llm_added) == 2 == len(server.completion_requests)
    assert "tool recordings +1 -0, LLM interactions +2 -0" in result.render()

    path = root / "cases" / "where-a1.yaml"
    loaded = read_case(path)
    assert loaded.stored_hash_ok
    assert path.read_text().startswith(CASE_HEADER)  # written by the storage writer
    (recording,) = loaded.case.recordings
    assert (recording.tool, recording.arguments) == ("lookup_order", {"order_id": "A1"})
    assert recording.result["status"] == "shipped"
    assert recording.result["contact"].startswith("<redacted:email:")
    # Nothing written (case, cassette files) carries the personal data, not even the
    # model's answer that repeated it.
    leaked = [name for name, data in _files(root).items() if CONTACT.encode() in data]
    assert leaked == []

    monkeypatch.setenv("OPENAI_BASE_URL", CLOSED_PORT)  # no endpoint any more
    replayed = _update(root, update=False)["where-a1"]
    assert replayed.outcome is CaseOutcome.PASSED, replayed.render()
    assert replayed.runs[0].output.startswith("Done. Questions? Write to <redacted:email:")
    assert _ran(tmp_path) == ["lookup_order A1"]  # answered from the new recording
    trace = replayed.runs[0].trace
    assert trace is not None
    tiers = [
        s.attributes.get("agent_backtest.replay.tier") for s in trace.spans_of_kind(SpanKind.TOOL)
    ]
    assert tiers == ["exact"]


def test_unused_recordings_and_cassette_files_are_pruned(
    server: OpenAIServer, tmp_path: Path
) -> None:
    root = _evalset(
        tmp_path, {"where-a1": ("Where is order A1?", [_recording(0, "A1"), _recording(1, "A9")])}
    )
    stray = Interaction(key="ab" + "0" * 62, request={"model": "old"}, status=200, body={})
    stray_path = CassetteStore(root / "llm" / "where-a1").put(stray)
    result = _update(root)["where-a1"]
    assert result.updated is not None
    assert result.updated.pruned == ['#1 lookup_order(order_id="A9")']
    assert result.updated.added == []
    assert result.updated.llm_pruned == [stray.key]
    assert not stray_path.exists()
    assert [r.arguments for r in read_case(root / "cases" / "where-a1.yaml").case.recordings] == [
        {"order_id": "A1"}
    ]
    assert _ran(tmp_path) == []  # A1 was recorded: nothing had to run


def test_a_cassette_folder_shared_with_a_case_that_did_not_run_is_not_pruned(
    server: OpenAIServer, tmp_path: Path
) -> None:
    root = _evalset(
        tmp_path,
        {"where-a1": ("Where is order A1?", []), "track-a4": ("Track A4", [])},
        llm_recordings="llm/shared",
    )
    stray = CassetteStore(root / "llm" / "shared").put(
        Interaction(key="cd" + "0" * 62, request={}, status=200, body={})
    )
    evalset = load_evalset(root)
    job = CaseJob(evalset.case("where-a1"), evalset.config, root, AGENT)
    (result,) = asyncio.run(run_cases([job], RunOptions(update=True)))
    assert result.updated is not None
    assert len(result.updated.llm_added) == 2
    assert result.updated.llm_pruned == []
    assert stray.exists()  # track-a4 may need it


def test_a_side_effecting_tool_never_runs_under_update_even_with_unmatched_live(
    server: OpenAIServer, tmp_path: Path
) -> None:
    root = _evalset(
        tmp_path,
        {
            "refund-a3": ("Refund A3", []),
            "track-a4": ("Track A4", []),
            "search": ("Search", []),
        },
        replay={
            "default": {"unmatched": "live"},  # live asked for every tool, refund included
            "tools": {"track_parcel": {"side_effects": True}},  # evalset.yaml beats read_only
        },
    )
    for llm in ("replay", "record"):
        results = _update(root, llm_mode=llm)
        refund = results["refund-a3"]
        assert refund.outcome is CaseOutcome.FAILED
        assert "left the recorded path: 1 tool call(s) had no recording (refund(" in refund.render()
        assert refund.updated is not None
        assert refund.updated.added in ([], ['#0 lookup_order(order_id="A3")'])
        errors = _tool_errors(results["track-a4"])
        assert (
            "not recorded by --agent-evals-update: track_parcel is not marked read_only"
            in errors[0]
        )
        assert (
            "not run live: search_kb is not marked read_only" in _tool_errors(results["search"])[0]
        )
    assert _ran(tmp_path) == ["lookup_order A3"]  # once, then replayed from its recording
    recorded = {case.id: [r.tool for r in case.recordings] for case in load_evalset(root).cases}
    assert recorded == {"refund-a3": ["lookup_order"], "search": [], "track-a4": []}


def _tool_errors(result: CaseResult) -> list[str]:
    trace = result.runs[0].trace
    assert trace is not None
    return [s.tool.error for s in trace.spans_of_kind(SpanKind.TOOL) if s.tool and s.tool.error]


def test_repeated_updates_are_idempotent_and_refresh_the_lock(
    server: OpenAIServer, tmp_path: Path
) -> None:
    root = _evalset(
        tmp_path,
        {
            "where-a1": ("Where is order A1?", [_recording(0, "A9")]),
            "refund-a3": ("Refund A3", []),
        },
    )
    write_lock(load_evalset(root))
    locked_before = (root / LOCK_FILE).read_bytes()
    first = _update(root)
    assert all(r.updated and r.updated.changed for r in first.values())
    after_first = _files(root)
    assert after_first[LOCK_FILE] != locked_before
    lock = yaml.safe_load(after_first[LOCK_FILE])
    assert lock["lock_hash"] == lock_data(load_evalset(root))["lock_hash"]
    ran = _ran(tmp_path)

    server.reset()
    second = _update(root)
    assert server.completion_requests == []  # every LLM call replayed from the cassette
    assert _ran(tmp_path) == ran  # every tool call answered from the recordings
    assert _files(root) == after_first
    for result in second.values():
        assert result.updated is not None
        assert not result.updated.changed
        assert "recordings up to date" in result.render()


def test_an_errored_run_writes_nothing(server: OpenAIServer, tmp_path: Path) -> None:
    root = _evalset(tmp_path, {"where-a1": ("Where is order A1?", [_recording(0, "A9")])})
    before = _files(root)
    server.script(Reply(status=500))  # the endpoint fails: the agent raises
    result = _update(root)["where-a1"]
    assert result.outcome is CaseOutcome.ERROR
    assert result.updated is not None
    assert (result.updated.skipped or "").startswith("the run errored (")
    assert _files(root) == before  # the unused A9 recording was not pruned either


def test_update_with_repeats_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        RunOptions.from_settings(Settings(update=True, repeat=3))
    assert "records from one run per case, not 3" in info.value.one_line()
    assert RunOptions.from_settings(Settings(update=True)).update


@pytest.mark.parametrize("update", [True, False])
def test_an_http_get_allowed_live_answers_and_update_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update: bool
) -> None:
    tool_name = "GET 127.0.0.1/v1/models"
    root = _evalset(
        tmp_path,
        {"models": ("Which models?", [])},
        replay={"tools": {tool_name: {"unmatched": "live"}}},
    )
    evalset = load_evalset(root)
    job = CaseJob(
        evalset.case("models"), evalset.config, root, "tests.replay.update_bot:fetch_models"
    )
    # The LLM endpoint is elsewhere, so 127.0.0.1 is only reachable as the HTTP tool.
    options = RunOptions(update=update, llm_base_url="http://llm.invalid/v1")
    with OpenAIServer() as api:
        monkeypatch.setenv("MODELS_URL", f"{api.base_url}/models")
        (live,) = asyncio.run(run_cases([job], options))
    expected = {"object": "list", "data": [{"id": "test-model", "object": "model"}]}
    assert live.runs[0].output == expected, live.render()
    recordings = read_case(root / "cases" / "models.yaml").case.recordings
    if not update:
        assert recordings == []  # live answers are not written without --agent-evals-update
        return
    assert [(r.tool, r.result) for r in recordings] == [
        (tool_name, {"status": 200, "json": expected})
    ]
    replay_job = CaseJob(
        read_case(root / "cases" / "models.yaml").case, evalset.config, root, job.agent_override
    )
    (replayed,) = asyncio.run(run_cases([replay_job], RunOptions()))  # the server is gone
    assert replayed.runs[0].output == expected, replayed.render()


def test_a_case_file_broken_since_collection_is_reported_not_overwritten(
    server: OpenAIServer, tmp_path: Path
) -> None:
    root = _evalset(tmp_path, {"where-a1": ("Where is order A1?", [])})
    evalset = load_evalset(root)
    path = root / "cases" / "where-a1.yaml"
    path.write_text("schema: agent-backtest/case@1\nid: [not, an, id]\n")  # edited meanwhile
    job = CaseJob(evalset.case("where-a1"), evalset.config, root, AGENT)
    (result,) = asyncio.run(run_cases([job], RunOptions(update=True)))
    assert result.updated is not None
    assert str(path) in (result.updated.skipped or "")
    assert "id: [not, an, id]" in path.read_text()
