"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

Shared infrastructure: judges, replay and benchmarks all talk to it through the
real ``openai`` client over real sockets, so retries, timeouts and connection
reuse are exercised exactly as in production.

Usage::

    with OpenAIServer(latency=0.01) as server:
        server.script(Reply(status=429, headers={"Retry-After": "1"}), Reply(content="ok"))
        client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        ...
        assert len(server.requests) == 2

Each request is answered by, in order: the next scripted ``Reply`` (a FIFO
queue), else ``handler(request)`` if one is set, else ``default`` (a ``Reply``
whose content is ``{"label": ..., "reason": ...}`` JSON). A handler may return a
``Reply`` or a plain string (the assistant content).

The server is a ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive: one
thread per client connection, so a client with N pooled connections gets N
requests served in parallel and latency is a plain ``time.sleep`` per request.
That keeps overhead at a fraction of a millisecond per request, enough for the
judge benchmark (16-way, 100 ms) and the replay benchmark.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["OpenAIServer", "RecordedRequest", "Reply", "openai_server"]

DEFAULT_CONTENT = json.dumps({"label": "pass", "reason": "looks fine"})


@dataclass(frozen=True)
class Reply:
    """How to answer one request. Defaults give a normal 200 chat completion.

    - ``content``: the assistant message text (``None`` means the server default).
    - ``status`` + ``headers``: e.g. ``Reply(status=429, headers={"Retry-After": "1"})``.
    - ``error_body``: JSON body for non-200 replies (an OpenAI-style error by default).
    - ``latency``: seconds to wait before answering (overrides the server latency).
    - ``hang``: seconds to sit on the request before closing it without an answer,
      to push the client past its timeout. Ends early when the server stops.
    - ``malformed``: answer 200 with a body that is not valid JSON.
    - ``raw_body``: answer 200 with exactly these bytes (content-type JSON).
    - ``usage``: ``(prompt_tokens, completion_tokens)``.
    - ``finish_reason``: e.g. ``"length"``.
    - ``tool_calls``: OpenAI-shaped tool calls to put on the assistant message.
    """

    content: str | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    error_body: Any = None
    latency: float | None = None
    hang: float | None = None
    malformed: bool = False
    raw_body: bytes | None = None
    usage: tuple[int, int] = (10, 5)
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON
    received_at: float  # time.monotonic()

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def prompt(self) -> str:
        """All message contents joined: handy for handlers that key on the prompt."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)

    @property
    def response_format(self) -> Any:
        return self.body.get("response_format") if isinstance(self.body, dict) else None


Handler = Callable[[RecordedRequest], "Reply | str"]


class OpenAIServer:
    """Start with ``with OpenAIServer() as server`` (or ``start()``/``stop()``).

    Args:
        latency: default seconds to wait before each answer.
        structured_output: when False, a request with a ``json_schema``
            ``response_format`` gets 400, like servers without structured output.
        handler: answers requests when no scripted reply is queued.
        default: the reply when neither a script nor a handler answers.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        structured_output: bool = True,
        handler: Handler | None = None,
        default: Reply | None = None,
    ) -> None:
        self.latency = latency
        self.structured_output = structured_output
        self.handler = handler
        self.default = default or Reply(content=DEFAULT_CONTENT)
        self._script: queue.SimpleQueue[Reply] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> OpenAIServer:
        httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging requests
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running; use `with OpenAIServer() as server`")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as the OpenAI client's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- behaviour ---------------------------------------------------------

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next requests, in order (strings are contents)."""
        for reply in replies:
            self._script.put(Reply(content=reply) if isinstance(reply, str) else reply)

    def reset(self) -> None:
        """Forget recorded requests, the in-flight maximum and any queued replies."""
        with self._lock:
            self._requests.clear()
            self.max_in_flight = self._in_flight
        while not self._script.empty():
            self._script.get_nowait()

    # -- what happened -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a snapshot)."""
        with self._lock:
            return list(self._requests)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- internals used by the handler -------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _choose(self, request: RecordedRequest) -> Reply:
        try:
            return self._script.get_nowait()
        except queue.Empty:
            pass
        if self.handler is not None:
            answer = self.handler(request)
            return Reply(content=answer) if isinstance(answer, str) else answer
        return self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hanging request never blocks interpreter exit
    # The default backlog (5) drops connections when 16+ clients connect at once,
    # and a dropped SYN costs the client a 1 s retransmit: ruinous for benchmarks.
    request_queue_size = 256
    owner: OpenAIServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled client connections are reused
    # Headers and body go out as separate small writes; with Nagle on, the body
    # waits for the client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]}
            )
        else:
            self._send_json(404, _error("not found", "not_found"))

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = RecordedRequest(
            method="POST",
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        owner._record(request)
        try:
            self._answer(owner, request)
        finally:
            owner._done()

    def _answer(self, owner: OpenAIServer, request: RecordedRequest) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, _error(f"no route {self.path}", "not_found"))
            return
        if not isinstance(request.body, dict):
            self._send_json(400, _error("request body is not a JSON object", "invalid_request"))
            return
        fmt = request.response_format
        if (
            not owner.structured_output
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
        ):
            self._send_json(
                400, _error("response_format json_schema is not supported", "invalid_request")
            )
            return
        reply = owner._choose(request)
        if reply.hang is not None:
            owner._stopping.wait(reply.hang)
            self.close_connection = True  # give up without answering, like a dead upstream
            return
        delay = owner.latency if reply.latency is None else reply.latency
        if delay > 0:
            time.sleep(delay)
        if reply.status != 200:
            body = (
                reply.error_body
                if reply.error_body is not None
                else _error(f"scripted status {reply.status}", "server_error")
            )
            self._send_json(reply.status, body, reply.headers)
        elif reply.malformed:
            self._send_bytes(200, b'{"id": "chatcmpl-broken", "choices": [', reply.headers)
        elif reply.raw_body is not None:
            self._send_bytes(200, reply.raw_body, reply.headers)
        elif request.body.get("stream"):
            self._send_stream(request.body, reply)
        else:
            self._send_json(200, _completion(request.body, reply), reply.headers)

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(body).encode(), headers)

    def _send_bytes(
        self, status: int, data: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, body: dict[str, Any], reply: Reply) -> None:
        """Server-sent events: role chunk, one chunk per word, finish chunk, usage, [DONE]."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.close_connection = True  # no Content-Length: the end of the stream ends the body
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        base = _completion(body, reply)
        model, created = base["model"], base["created"]
        content = base["choices"][0]["message"]["content"] or ""
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": piece} for piece in _pieces(content)]
        for delta in deltas:
            self._event(_chunk(model, created, delta, None))
        self._event(_chunk(model, created, {}, reply.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage_chunk = _chunk(model, created, None, None)
            usage_chunk["usage"] = base["usage"]
            self._event(usage_chunk)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()


def _pieces(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find(" ", start + 1)
        end = len(text) if end == -1 else end
        yield text[start:end]
        start = end


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    prompt_tokens, completion_tokens = reply.usage
    message: dict[str, Any] = {
        "role": "assistant",
        "content": DEFAULT_CONTENT if reply.content is None else reply.content,
    }
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chunk(
    model: str, created: int, delta: dict[str, Any] | None, finish: str | None
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }


def openai_server(**kwargs: Any) -> Iterator[OpenAIServer]:
    """Generator body for a pytest fixture: ``yield from openai_server()``.

    Kept free of pytest imports so benchmarks can use this module too.
    """
    with OpenAIServer(**kwargs) as server:
        yield server
