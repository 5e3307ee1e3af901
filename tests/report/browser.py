"""Headless Chromium for the HTML report tests: the DOM the page's script built, and
every request the page tried to make, caught by a proxy on 127.0.0.1.

Chromium runs with a throwaway profile, without background networking, and is
killed (with its child processes) if it does not finish in time, so a hung
browser fails one test instead of hanging the suite.
"""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BROWSER_TIMEOUT_S = 60
# Virtual time lets timers and the page's script finish before the DOM is dumped,
# without waiting in real time.
VIRTUAL_TIME_BUDGET_MS = 5000
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--safebrowsing-disable-auto-update",
    "--no-pings",
    "--dns-prefetch-disable",
    "--allow-browser-signin=false",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
    "AutofillServerCommunication,PreconnectToSearch,DnsOverHttps,NetworkPrediction",
)
# Chromium still calls a few of its own services (sign-in, search preconnect) on
# google.com whatever the flags; those requests are the browser's, not the page's.
BROWSER_SERVICE_DOMAIN = "google.com"


@dataclass
class RequestLog:
    """Request lines a proxy received: what the browser tried to fetch from outside."""

    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def from_page(self) -> list[str]:
        """The request lines not made by Chromium's own services."""
        with self.lock:
            return [line for line in self.lines if not _is_browser_service(line)]


def _is_browser_service(request_line: str) -> bool:
    # "CONNECT host:443 HTTP/1.1" or "GET http://host/path HTTP/1.1"
    target = request_line.split(" ")[1] if " " in request_line else ""
    host = target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].lower()
    return host == BROWSER_SERVICE_DOMAIN or host.endswith("." + BROWSER_SERVICE_DOMAIN)


@contextmanager
def recording_proxy() -> Iterator[tuple[int, RequestLog]]:
    """An HTTP proxy on 127.0.0.1 that records each request line and answers 502."""
    log = RequestLog()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline(4096).decode("latin-1").strip()
            if line:
                with log.lock:
                    log.lines.append(line)
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1], log
        finally:
            server.shutdown()


def dump_dom(
    chromium: str, page: Path, profile: Path, *, proxy_port: int, fragment: str = ""
) -> str:
    """Open ``page`` (at ``#fragment``) in headless Chromium, let its script run, and
    return the DOM as HTML."""
    command = [
        chromium,
        *QUIET_FLAGS,
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        # Send loopback through the proxy too: nothing may be fetched at all.
        "--proxy-bypass-list=<-loopback>",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        "--dump-dom",
        page.resolve().as_uri() + (f"#{fragment}" if fragment else ""),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so a timeout kills the helpers too
    )
    try:
        out, err = process.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(
            f"chromium did not finish within {BROWSER_TIMEOUT_S}s on {page}"
        ) from None
    if process.returncode != 0 or not out.strip():
        raise AssertionError(
            f"chromium exited {process.returncode} on {page}: "
            + err.decode("utf-8", "replace")[-2000:]
        )
    return out.decode("utf-8")
