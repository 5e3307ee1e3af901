"""Interception at the httpx transport: LLM record/replay, HTTP tools, network block.

The ``openai`` client (sync, async, streaming) sends through the default
transports of httpx (openai 1.x/2.x) or of its API-compatible successor httpx2
(openai 3.x), so patching ``HTTPTransport.handle_request`` and
``AsyncHTTPTransport.handle_async_request`` of each installed module sees every
call the candidate makes without touching its code. The patch is installed once and consults the
active replay session (a ContextVar); outside a session it is a pass-through.
While a case runs, a request is either an LLM call (answered per the LLM
mode), an HTTP tool answered from the recordings (or, for a GET the policy
lets run ``live``, by the real endpoint), or blocked.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from agent_backtest.replay.llm_cassette import CassetteStore, Interaction, key_material, request_key
from agent_backtest.replay.llm_spans import llm_span_from_exchange
from agent_backtest.replay.session import ReplaySession, active_session
from agent_backtest.replay.tools import ToolSpec

LLMMode = Literal["live", "record", "replay"]
_LLM_PATHS = ("/chat/completions",)


class NetworkBlocked(Exception):  # noqa: N818 - it reads as what happened to the request
    """Raised to the candidate for any network access replay does not allow.

    The raised object also subclasses the HTTP client's own ``ConnectError``, so
    agent code that handles connection failures handles this the same way.
    """


@dataclass
class LLMReplay:
    """The LLM side of one case's replay."""

    mode: LLMMode
    store: CassetteStore
    allowed_hosts: frozenset[str] = frozenset()  # the configured LLM endpoint's host(s)
    counts: Counter[str] = field(default_factory=Counter)
    interactions: list[str] = field(default_factory=list)  # keys used, in order
    # Replay mode under --agent-evals-update: a request the cassette lacks goes to
    # the endpoint and is stored, instead of failing the case.
    record_missing: bool = False
    recorded: list[str] = field(default_factory=list)  # keys stored by this run, in order

    def sample_index(self, body: dict[str, Any]) -> int:
        material = orjson.dumps(key_material(body, 0), option=orjson.OPT_SORT_KEYS).decode()
        index = self.counts[material]
        self.counts[material] += 1
        return index


def _is_llm_call(request: Any) -> bool:
    return bool(request.method == "POST" and request.url.path.endswith(_LLM_PATHS))


def _body(request: Any) -> dict[str, Any]:
    try:
        value = orjson.loads(request.content) if request.content else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class _Chunks:
    """A recorded SSE stream, replayed with its original chunk boundaries."""

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class _Tee:
    """Passes a live stream through while keeping its chunks for the cassette."""

    def __init__(self, inner: Any, done: Callable[[tuple[bytes, ...]], None]) -> None:
        self._inner = inner
        self._done = done
        self._chunks: list[bytes] = []

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._chunks.append(chunk)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._chunks.append(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()
        self._done(tuple(self._chunks))

    async def aclose(self) -> None:
        await self._inner.aclose()
        self._done(tuple(self._chunks))


@dataclass(frozen=True)
class _Flavor:
    """The classes of one HTTP client module (httpx or httpx2)."""

    module: Any
    chunks: type
    tee: type
    blocked: type

    @classmethod
    def of(cls, module: Any) -> _Flavor:
        streams = (module.SyncByteStream, module.AsyncByteStream)
        return cls(
            module=module,
            chunks=type("RecordedChunks", (_Chunks, *streams), {}),
            tee=type("RecordingTee", (_Tee, *streams), {}),
            blocked=type("NetworkBlocked", (NetworkBlocked, module.ConnectError), {}),
        )


def _replayed_response(flavor: _Flavor, request: Any, interaction: Interaction) -> Any:
    if interaction.chunks is not None:
        return flavor.module.Response(
            interaction.status,
            headers={"content-type": "text/event-stream"},
            stream=flavor.chunks(interaction.chunks),
            request=request,
        )
    return flavor.module.Response(interaction.status, json=interaction.body, request=request)


def _http_tool_name(request: Any) -> str:
    return f"{request.method} {request.url.host}{request.url.path}"


def _http_tool_arguments(request: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if request.url.query:
        arguments["query"] = dict(request.url.params.multi_items())
    if request.content:
        try:
            arguments["json"] = orjson.loads(request.content)
        except orjson.JSONDecodeError:
            arguments["body"] = request.content.decode("utf-8", "replace")
    return arguments


class _Exchange:
    """One intercepted request inside a replay session; shared by sync and async paths."""

    def __init__(self, flavor: _Flavor, session: ReplaySession, request: Any) -> None:
        self.flavor = flavor
        self.session = session
        self.request = request
        self.started = time.time_ns()
        self.llm = session.llm
        self.is_llm = self.llm is not None and _is_llm_call(request)
        self.body = _body(request) if self.is_llm else {}
        self.key = ""
        self.sample = 0
        self.store_answer = self.llm is not None and self.llm.mode == "record"
        self.live_tool: tuple[ToolSpec, dict[str, Any], int] | None = None
        if self.is_llm and self.llm is not None:
            self.sample = self.llm.sample_index(self.body)
            self.key = request_key(self.body, self.sample)
            self.llm.interactions.append(self.key)

    def answer_without_network(self) -> Any:
        """A response when no real request may or need be made, else None."""
        llm = self.llm
        if self.is_llm and llm is not None:
            if llm.mode == "replay":
                recorded = llm.store.get(self.key)
                if recorded is None and llm.record_missing:
                    self.store_answer = True
                    return None
                if recorded is None:
                    raise llm.store.miss(self.body, self.sample)
                self._span(recorded.status, recorded.body, recorded.chunks)
                replayed: Any = _replayed_response(self.flavor, self.request, recorded)
                return replayed
            return None
        if llm is not None and self.request.url.host in llm.allowed_hosts:
            return None
        return self._http_tool()

    def _http_tool(self) -> Any:
        spec = ToolSpec(
            _http_tool_name(self.request),
            read_only=self.request.method in ("GET", "HEAD"),
            live_needs_policy=True,
        )
        arguments = _http_tool_arguments(self.request)
        named = self.session.policies.get(spec.name)
        allowed_live = named is not None and named.unmatched == "live"
        if not allowed_live and not any(rec.tool == spec.name for rec in self.session.recordings):
            raise self.flavor.blocked(
                f"agent-backtest blocked network access to {self.request.url.host} during replay "
                f"({spec.name} has no recording)",
                request=self.request,
            )
        started = time.perf_counter_ns()
        outcome = self.session.answer(spec, arguments)
        if outcome.run_live:
            self.live_tool = (spec, arguments, started)
            return None
        if outcome.error is not None:
            return self.flavor.module.Response(
                502, json={"error": outcome.error}, request=self.request
            )
        return self._tool_response(outcome.result)

    def _tool_response(self, result: Any) -> Any:
        """A recorded HTTP tool answer: ``{"status", "json" | "text"}``, or a bare JSON body."""
        if (
            isinstance(result, dict)
            and "status" in result
            and ("json" in result or "text" in result)
        ):
            if "json" in result:
                return self.flavor.module.Response(
                    int(result["status"]), json=result["json"], request=self.request
                )
            return self.flavor.module.Response(
                int(result["status"]), text=str(result["text"]), request=self.request
            )
        return self.flavor.module.Response(200, json=result, request=self.request)

    def finish_live_tool(self, response: Any) -> Any:
        """Keep a live HTTP tool's (read) answer the way recordings hold it."""
        assert self.live_tool is not None
        spec, arguments, started = self.live_tool
        result: dict[str, Any] = {"status": response.status_code}
        try:
            result["json"] = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            result["text"] = response.text
        call = self.session.finish_live(spec, arguments, started, result=result)
        # In update mode the candidate sees the redacted answer a later replay will give.
        return self._tool_response(call.result) if self.session.update else response

    def after_live(self, response: Any) -> Any:
        """Record (and, in record mode, store) what the live endpoint answered."""
        if not self.is_llm or self.llm is None:
            return response
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        if streaming:
            response.stream = self.flavor.tee(
                response.stream, lambda chunks: self._finish_stream(response.status_code, chunks)
            )
            return response
        return response  # the body is read by the caller; see finish_body

    def finish_body(self, response: Any) -> None:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        self._store(response.status_code, body, None)
        self._span(response.status_code, body, None)

    def _finish_stream(self, status: int, chunks: tuple[bytes, ...]) -> None:
        self._store(status, None, chunks)
        self._span(status, None, chunks)

    def _store(self, status: int, body: Any, chunks: tuple[bytes, ...] | None) -> None:
        llm = self.llm
        if llm is None or not self.store_answer or status >= 400:
            return
        llm.store.put(
            Interaction(self.key, key_material(self.body, self.sample), status, body, chunks)
        )
        llm.recorded.append(self.key)

    def _span(self, status: int, body: Any, chunks: tuple[bytes, ...] | None) -> None:
        span = llm_span_from_exchange(
            span_number=len(self.session.spans) + 1,
            parent_id=self.session.parent_span_id,
            request_body=self.body,
            status=status,
            response_body=body,
            chunks=chunks,
            start_ns=self.started,
            end_ns=time.time_ns(),
        )
        self.session.spans.append(span)


_PATCHED: set[str] = set()


def _patch(flavor: _Flavor) -> None:
    module = flavor.module
    original_sync = module.HTTPTransport.handle_request
    original_async = module.AsyncHTTPTransport.handle_async_request

    def handle_request(self: Any, request: Any) -> Any:
        session = active_session()
        if session is None:
            return original_sync(self, request)
        exchange = _Exchange(flavor, session, request)
        answered = exchange.answer_without_network()
        if answered is not None:
            return answered
        response = exchange.after_live(original_sync(self, request))
        if exchange.live_tool is not None:
            response.read()
            return exchange.finish_live_tool(response)
        if exchange.is_llm and not isinstance(response.stream, _Tee):
            response.read()
            exchange.finish_body(response)
        return response

    async def handle_async_request(self: Any, request: Any) -> Any:
        session = active_session()
        if session is None:
            return await original_async(self, request)
        exchange = _Exchange(flavor, session, request)
        answered = exchange.answer_without_network()
        if answered is not None:
            return answered
        response = exchange.after_live(await original_async(self, request))
        if exchange.live_tool is not None:
            await response.aread()
            return exchange.finish_live_tool(response)
        if exchange.is_llm and not isinstance(response.stream, _Tee):
            await response.aread()
            exchange.finish_body(response)
        return response

    module.HTTPTransport.handle_request = handle_request
    module.AsyncHTTPTransport.handle_async_request = handle_async_request


def install() -> None:
    """Patch the default transports of httpx and httpx2, once per process (idempotent)."""
    for name in ("httpx", "httpx2"):
        if name in _PATCHED:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        _patch(_Flavor.of(module))
        _PATCHED.add(name)
