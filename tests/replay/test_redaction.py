"""What replay writes is redacted: cassette streams, bodies, and record mode through the runner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agent_backtest.evalset.case import Case, CaseInput, CaseMessage, CaseSource, ToolRecording
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.promote.redact import KEY_FILE, Redactor
from agent_backtest.replay.redaction import redact_stream
from agent_backtest.replay.result import CaseOutcome
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases
from tests.replay.update_bot import CONTACT, script
from tests.support.openai_server import OpenAIServer

REDACTOR = Redactor(b"test-key")
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"


def _event(delta: dict[str, Any]) -> bytes:
    payload = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
    return f"data: {json.dumps(payload)}\n\n".encode()


def _content(chunks: tuple[bytes, ...]) -> str:
    text = b"".join(chunks).decode()
    events = [e[len("data: ") :] for e in text.split("\n\n") if e.startswith("data: {")]
    return "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events)


def test_a_stream_without_secrets_keeps_its_chunks_exactly() -> None:
    chunks = (
        _event({"role": "assistant", "content": ""}),
        _event({"content": "hi"}),
        b"data: [DONE]\n\n",
    )
    assert redact_stream(chunks, REDACTOR) is chunks


def test_a_secret_split_over_deltas_and_transport_chunks_is_redacted() -> None:
    raw = b"".join(
        [
            _event({"content": f"key {API_KEY[:10]}"}),
            _event({"content": f"{API_KEY[10:]} and {CONTACT}"}),
            b"data: [DONE]\n\n",
        ]
    )
    chunks = (raw[:37], raw[37:90], raw[90:])  # boundaries inside events, as sockets deliver
    out = redact_stream(chunks, REDACTOR)
    joined = b"".join(out)
    assert API_KEY[:10].encode() not in joined
    assert API_KEY[10:].encode() not in joined
    assert CONTACT.encode() not in joined
    assert _content(out).startswith("key <redacted:openai_api_key:")
    assert "<redacted:email:" in _content(out)
    assert out[-1] == b"data: [DONE]\n\n"


def test_tool_call_arguments_split_over_deltas_are_redacted() -> None:
    def call(arguments: str) -> dict[str, Any]:
        return {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]}

    chunks = (_event(call('{"email": "jane.doe@exa')), _event(call('mple.com"}')))
    out = b"".join(redact_stream(chunks, REDACTOR))
    assert b"jane.doe" not in out
    assert b"<redacted:email:" in out


def test_record_mode_redacts_cassettes_and_replay_creates_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.delenv("BACKTEST_REDACTION_KEY", raising=False)
    recording = ToolRecording(
        seq=0, tool="lookup_order", arguments={"order_id": "A1"}, result={"status": "shipped"}
    )
    case = Case(
        id="where-a1",
        title="where",
        source=CaseSource(trace_id="t"),
        input=CaseInput(messages=[CaseMessage(role="user", content="Where is order A1?")]),
        recordings=[recording],
    )
    job = CaseJob(case, EvalSetConfig(name="support"), tmp_path, "tests.replay.update_bot:run")
    with OpenAIServer(handler=script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        (recorded,) = asyncio.run(run_cases([job], RunOptions(llm_mode="record")))
    assert recorded.outcome is CaseOutcome.PASSED, recorded.render()
    assert recorded.runs[0].output == f"Done. Questions? Write to {CONTACT}."  # the run saw it
    files = list((tmp_path / "llm" / "where-a1").rglob("*.json"))
    assert len(files) == 2
    assert not [f for f in files if CONTACT in f.read_text()]  # the cassette does not
    assert (tmp_path / KEY_FILE).is_file()

    (tmp_path / KEY_FILE).unlink()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    (replayed,) = asyncio.run(run_cases([job], RunOptions()))
    assert replayed.outcome is CaseOutcome.PASSED, replayed.render()
    assert "<redacted:email:" in replayed.runs[0].output
    assert not (tmp_path / KEY_FILE).exists()  # replay writes nothing, so needs no key
