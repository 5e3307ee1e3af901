from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from agent_backtest.replay.http_intercept import LLMReplay, NetworkBlocked, install
from agent_backtest.replay.llm_cassette import (
    CassetteStore,
    Interaction,
    LLMReplayMissError,
    key_material,
    request_key,
)
from agent_backtest.replay.session import ReplaySession, replaying
from agent_backtest.trace.model import SpanKind
from tests.support.openai_server import OpenAIServer, Reply

TOOL_CALL = [
    {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order_id": "1843"}'},
    }
]
MESSAGES: list[Any] = [{"role": "user", "content": "Where is order 1843?"}]


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    install()
    with OpenAIServer() as running:
        yield running


def _session(tmp_path: Path, mode: Any, server: OpenAIServer) -> ReplaySession:
    llm = LLMReplay(
        mode=mode, store=CassetteStore(tmp_path / "llm"), allowed_hosts=frozenset({"127.0.0.1"})
    )
    return ReplaySession([], llm=llm)


def _sync_call(server: OpenAIServer, stream: bool) -> tuple[str, Any]:
    client = OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    if stream:
        chunks = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, temperature=0
        )
        parts = [c.choices[0].delta.content or "" for c in chunks if c.choices]
        return "".join(parts), None
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=[], temperature=0
    )
    return reply.choices[0].message.content or "", reply.choices[0].message.tool_calls


@pytest.mark.parametrize("stream", [False, True])
def test_record_then_replay_sync_without_touching_the_server(
    tmp_path: Path, server: OpenAIServer, stream: bool
) -> None:
    server.script(Reply(content="It shipped yesterday via UPS", usage=(21, 7)))
    with replaying(_session(tmp_path, "record", server)) as recorded:
        live_text, _ = _sync_call(server, stream)
    assert live_text == "It shipped yesterday via UPS"
    assert len(server.completion_requests) == 1
    assert len(list((tmp_path / "llm").glob("*/*.json"))) == 1

    with replaying(_session(tmp_path, "replay", server)) as replayed:
        again, _ = _sync_call(server, stream)
    assert again == live_text
    assert len(server.completion_requests) == 1  # replay made no request
    for session in (recorded, replayed):
        (span,) = session.spans
        assert span.kind is SpanKind.LLM
        assert span.llm is not None
        assert span.llm.output_messages[0].content == "It shipped yesterday via UPS"
        assert span.llm.input_messages[0].content == "Where is order 1843?"


def test_stream_chunk_boundaries_are_kept(tmp_path: Path, server: OpenAIServer) -> None:
    """Replay hands the client exactly the recorded chunks, boundaries included."""
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    event = '{"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}'
    chunks = (
        f"data: {event % 'one'}\n\n".encode(),
        f"data: {event % ' two'}\n\ndata: {event % ' three'}\n\n".encode(),  # two events in one read
        b"data: [DONE]\n\n",
    )
    store = CassetteStore(tmp_path / "llm")
    store.put(Interaction(request_key(body, 0), key_material(body, 0), 200, None, chunks))
    seen: list[bytes] = []
    with (
        replaying(_session(tmp_path, "replay", server)) as session,
        httpx.Client() as client,
        client.stream("POST", f"{server.base_url}/chat/completions", json=body) as response,
    ):
        seen.extend(response.iter_raw())
    assert tuple(seen) == chunks
    assert server.completion_requests == []
    (span,) = session.spans
    assert span.llm is not None
    assert span.llm.output_messages[0].content == "one two three"


def test_async_client_records_tool_calls_and_usage(tmp_path: Path, server: OpenAIServer) -> None:
    server.script(
        Reply(content=None, tool_calls=TOOL_CALL, finish_reason="tool_calls", usage=(30, 5))
    )

    async def call() -> Any:
        client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        reply = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        return reply.choices[0].message.tool_calls

    with replaying(_session(tmp_path, "record", server)) as session:
        calls = asyncio.run(call())
    assert calls[0].function.name == "lookup_order"
    with replaying(_session(tmp_path, "replay", server)) as replayed:
        again = asyncio.run(call())
    assert again[0].function.arguments == '{"order_id": "1843"}'
    for span_session in (session, replayed):
        (span,) = span_session.spans
        assert span.llm is not None
        assert span.llm.tool_calls[0].arguments == {"order_id": "1843"}
        assert span.llm.usage.input == 30
        assert span.llm.finish_reasons == ["tool_calls"]


def test_identical_requests_get_successive_recorded_answers(
    tmp_path: Path, server: OpenAIServer
) -> None:
    server.script(Reply(content="first"), Reply(content="second"))
    with replaying(_session(tmp_path, "record", server)):
        assert [_sync_call(server, False)[0] for _ in range(2)] == ["first", "second"]
    with replaying(_session(tmp_path, "replay", server)):
        assert [_sync_call(server, False)[0] for _ in range(2)] == ["first", "second"]


def test_replay_miss_names_the_nearest_recording_and_the_differing_field(
    tmp_path: Path, server: OpenAIServer
) -> None:
    with replaying(_session(tmp_path, "record", server)):
        _sync_call(server, False)
    client = OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    with replaying(_session(tmp_path, "replay", server)), pytest.raises(LLMReplayMissError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Where is order 9999?"}],
            tools=[],
            temperature=0,
        )
    message = info.value.one_line()
    assert "differs in messages" in message
    assert "messages[0]" in message
    assert "9999" in message


def test_other_hosts_are_blocked_while_a_case_runs(tmp_path: Path, server: OpenAIServer) -> None:
    with (
        replaying(_session(tmp_path, "replay", server)),
        pytest.raises(NetworkBlocked, match=r"blocked network access to example\.com"),
    ):
        httpx.get("http://example.com/orders/1843")


@pytest.mark.parametrize("module_name", ["httpx", "httpx2"])
def test_http_tools_are_answered_from_recordings_by_either_client(
    tmp_path: Path, server: OpenAIServer, module_name: str
) -> None:
    import importlib

    from agent_backtest.evalset.case import ToolRecording

    module = importlib.import_module(module_name)
    recording = ToolRecording(
        seq=0,
        tool="GET api.example.com/orders/1843",
        arguments={"query": {"expand": "items"}},
        result={"status": 200, "json": {"status": "shipped"}},
    )
    session = ReplaySession([recording])
    with replaying(session):
        response = module.get("https://api.example.com/orders/1843", params={"expand": "items"})
    assert response.status_code == 200
    assert response.json() == {"status": "shipped"}
    assert session.spans[0].tool is not None
    assert session.spans[0].tool.name == "GET api.example.com/orders/1843"
