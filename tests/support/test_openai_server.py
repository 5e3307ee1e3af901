from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from tests.support.openai_server import OpenAIServer, Reply


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def _client(server: OpenAIServer, timeout: float = 5) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=timeout)


def _ask(client: openai.OpenAI, **extra: Any) -> Any:
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], **extra
    )


def test_default_reply_and_recording(server: OpenAIServer) -> None:
    reply = _ask(_client(server))
    assert json.loads(reply.choices[0].message.content or "")["label"] == "pass"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 10
    (request,) = server.completion_requests
    assert request.body["model"] == "m"
    assert request.prompt == "hi"
    assert request.headers["authorization"] == "Bearer k"


def test_script_then_handler(server: OpenAIServer) -> None:
    server.script("first", Reply(content="second", usage=(7, 3), finish_reason="length"))
    server.handler = lambda request: f"echo {request.prompt}"
    client = _client(server)
    first, second, third = _ask(client), _ask(client), _ask(client)
    assert first.choices[0].message.content == "first"
    assert second.choices[0].finish_reason == "length"
    assert second.usage is not None
    assert second.usage.completion_tokens == 3
    assert third.choices[0].message.content == "echo hi"


def test_status_errors_carry_headers(server: OpenAIServer) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "2"}), Reply(status=503))
    client = _client(server)
    with pytest.raises(openai.RateLimitError) as limited:
        _ask(client)
    assert limited.value.response.headers["retry-after"] == "2"
    with pytest.raises(openai.InternalServerError):
        _ask(client)


def test_hang_pushes_client_past_timeout(server: OpenAIServer) -> None:
    server.script(Reply(hang=5))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _ask(_client(server, timeout=0.2))
    assert time.monotonic() - started < 2


def test_malformed_body(server: OpenAIServer) -> None:
    server.script(Reply(malformed=True))
    with pytest.raises(ValueError, match="Expecting"):
        _ask(_client(server))


def test_structured_output_toggle(server: OpenAIServer) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    client = _client(server)
    assert _ask(client, response_format=schema).choices
    server.structured_output = False
    with pytest.raises(openai.BadRequestError):
        _ask(client, response_format=schema)


def test_streaming(server: OpenAIServer) -> None:
    server.script("one two three")
    stream = _ask(_client(server), stream=True, stream_options={"include_usage": True})
    text, usage = [], None
    for chunk in stream:
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert "".join(text) == "one two three"
    assert usage is not None
    assert usage.total_tokens == 15


def test_concurrency_is_real_and_measured() -> None:
    with OpenAIServer(latency=0.2) as server:
        client = _client(server)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: _ask(client), range(8)))
        elapsed = time.monotonic() - started
        assert elapsed < 0.8  # 8 x 0.2 s served in parallel, not 1.6 s in series
        assert server.max_in_flight == 8


def test_unknown_route_is_404(server: OpenAIServer) -> None:
    request = urllib.request.Request(server.base_url + "/embeddings", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=5)
    assert missing.value.code == 404


def test_stop_releases_hanging_requests() -> None:
    server = OpenAIServer().start()
    server.script(Reply(hang=30))
    client = _client(server, timeout=10)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(_ask, client)
        time.sleep(0.2)
        started = time.monotonic()
        server.stop()
        with pytest.raises(openai.APIConnectionError):
            future.result()
    assert time.monotonic() - started < 5
