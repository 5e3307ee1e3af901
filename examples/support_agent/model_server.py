"""The scripted model over HTTP: an OpenAI-compatible chat-completions server on 127.0.0.1.

Standard library only, so the example needs nothing beyond agent-backtest's own
dependencies. Point the agent at it with ``OPENAI_BASE_URL``::

    python -m examples.support_agent.model_server --port 8300 &
    OPENAI_BASE_URL=http://127.0.0.1:8300/v1 python -m pytest --agent-evals --agent-evals-llm=record

or let it serve exactly as long as one command runs (it sets both variables)::

    python -m examples.support_agent.model_server -- python -m pytest --agent-evals --agent-evals-llm=record

or use it from Python: ``with ScriptedModelServer() as server: ... server.base_url``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from examples.support_agent.scripted_model import completion

MODEL_IDS = ("gpt-4o-mini",)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the OpenAI client expects

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the server is quiet; the agent's traces say what happened

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            models = [{"id": m, "object": "model", "owned_by": "scripted"} for m in MODEL_IDS]
            self._send(200, {"object": "list", "data": models})
            return
        self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}; the scripted model serves chat completions")
            return
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            self._error(400, f"request body is not JSON: {exc}")
            return
        if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
            self._error(400, "a chat-completions request needs a 'messages' list")
            return
        if request.get("stream"):
            self._error(400, "the scripted model does not stream; call it with stream=false")
            return
        try:
            body = completion(request)
        except (KeyError, TypeError, ValueError) as exc:  # a request shape it cannot read
            self._error(400, f"the scripted model cannot read this request: {exc!r}")
            return
        self._send(200, body)


class ScriptedModelServer:
    """``with ScriptedModelServer() as server:`` serves on a free port until the block ends."""

    def __init__(self, port: int = 0) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll, 0.5 s by default.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def run_with_model(command: list[str], port: int = 0) -> int:
    """Run ``command`` with OPENAI_BASE_URL pointing at a scripted model; its exit code.

    The server lives exactly as long as the command, so a quickstart or a CI step
    needs no background process to clean up.
    """
    with ScriptedModelServer(port) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "scripted-model"}
        return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve the support agent's scripted model.",
        usage="%(prog)s [--port PORT] [-- COMMAND ...]",
        epilog="With '-- COMMAND', serve only while COMMAND runs (with OPENAI_BASE_URL and "
        "OPENAI_API_KEY set for it) and exit with its exit code.",
    )
    parser.add_argument("--port", type=int, default=None)
    args, command = _split_command(sys.argv[1:] if argv is None else argv)
    port = parser.parse_args(args).port
    if command:
        sys.exit(run_with_model(command, port or 0))
    port = 8300 if port is None else port
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    print(f"scripted model at http://127.0.0.1:{port}/v1 (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


if __name__ == "__main__":
    main()
