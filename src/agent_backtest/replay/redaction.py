"""Redaction of what replay writes: new tool recordings and LLM cassette files.

The same redactor as ``backtest promote`` (built-in detectors, the evalset's
key, so a value gets the same placeholder it got in the promoted case). A
cassette's request keeps the key computed from the request as sent, so
redacting the stored copy never breaks replay; the stored answer is what
replay hands back.

Streams are redacted per SSE event, so chunk boundaries stay as received
unless something had to be replaced; a secret split over several deltas
(``"sk-pro"`` + ``"j-..."``) is found by reassembling each choice's content and
tool-call arguments, and that text is then merged into its first delta.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agent_backtest.replay.llm_cassette import Interaction

if TYPE_CHECKING:
    from agent_backtest.promote.redact import RedactionRules, Redactor

_EVENT_END = "\n\n"
_DATA = "data: "


class EvalsetRedaction:
    """One evalset's redactor, built on first use and shared by every case of the set.

    Lazy, because replay writes nothing and must not create a key file; locked,
    because sync agents call tools from worker threads and two threads creating
    the key at once would redact with different keys.
    """

    def __init__(self, root: Path, rules: RedactionRules | None = None) -> None:
        self.root = root
        self.rules = rules
        self._redactor: Redactor | None = None
        self._lock = threading.Lock()

    def redactor(self) -> Redactor:
        with self._lock:
            if self._redactor is None:
                from agent_backtest.promote.redact import Redactor, load_or_create_key

                self._redactor = Redactor(load_or_create_key(self.root), self.rules)
            return self._redactor

    def value(self, value: Any) -> Any:
        """A redacted copy of plain JSON data (a tool's arguments, result or error)."""
        return self.redactor().redact(value)[0]

    def interaction(self, interaction: Interaction) -> Interaction:
        return redact_interaction(interaction, self.redactor())


def redact_interaction(interaction: Interaction, redactor: Redactor) -> Interaction:
    request = redactor.redact(interaction.request)[0]
    body = redactor.redact(interaction.body)[0] if interaction.body is not None else None
    chunks = redact_stream(interaction.chunks, redactor) if interaction.chunks is not None else None
    return replace(interaction, request=request, body=body, chunks=chunks)


def redact_stream(chunks: tuple[bytes, ...], redactor: Redactor) -> tuple[bytes, ...]:
    """Redacted SSE chunks; the original chunks when nothing needed replacing."""
    blocks = b"".join(chunks).decode("utf-8", "replace").split(_EVENT_END)
    events: list[Any] = [_event_data(block) for block in blocks]
    parsed = [i for i, event in enumerate(events) if event is not None]
    redacted, report = redactor.redact([events[i] for i in parsed])
    for i, event in zip(parsed, redacted, strict=True):
        events[i] = event
    merged = _merge_split_secrets([events[i] for i in parsed], redactor)
    if not report.total and not merged:
        return chunks
    out: list[bytes] = []
    for index, (block, event) in enumerate(zip(blocks, events, strict=True)):
        text = block if event is None else _DATA + orjson.dumps(event).decode()
        last = index == len(blocks) - 1
        if text or not last:
            out.append((text + ("" if last else _EVENT_END)).encode("utf-8"))
    return tuple(out)


def _event_data(block: str) -> Any:
    """The JSON payload of a one-line ``data:`` event, else None (``[DONE]``, comments)."""
    if not block.startswith(_DATA) or "\n" in block:
        return None
    try:
        return orjson.loads(block[len(_DATA) :])
    except orjson.JSONDecodeError:
        return None


def _merge_split_secrets(events: list[Any], redactor: Redactor) -> bool:
    """Find secrets only visible in the reassembled text; merge that text into one delta."""
    from agent_backtest.promote.redact import RedactionReport

    pieces: dict[tuple[Any, ...], list[tuple[dict[str, Any], str]]] = {}
    for event in events:
        choices = event.get("choices") if isinstance(event, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            slot = (choice.get("index", 0),)
            if isinstance(delta.get("content"), str):
                pieces.setdefault((*slot, "content"), []).append((delta, "content"))
            for call in delta.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    key = (*slot, "tool_call", call.get("index", 0))
                    pieces.setdefault(key, []).append((function, "arguments"))
    merged = False
    for parts in pieces.values():
        whole = "".join(holder[name] for holder, name in parts)
        report = RedactionReport()
        clean = redactor.redact_text(whole, report)
        if not report.total:
            continue
        merged = True
        first, name = parts[0]
        first[name] = clean
        for holder, other in parts[1:]:
            holder[other] = ""
    return merged
