"""What every rule detector shares: the verdict shape and how it reads a trace.

A detector is a ``Classifier`` whose thresholds are constructor parameters. The
parameters are validated by pydantic (``validate_call`` on ``__init__``), so a
typo or a wrong type in ``evalset.yaml`` is a ``ValidationError`` the registry
turns into a ``ConfigError`` naming the field, not a wrong threshold at runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from agent_backtest.scoring.verdict import Outcome, Verdict
from agent_backtest.trace.model import AnnotatorKind, Span, SpanKind, StatusCode, Trace

DETECTED = "detected"
NOT_DETECTED = "not_detected"

# Provider spellings of "the model stopped because it ran out of output tokens".
LENGTH_FINISHES = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})


@dataclass(frozen=True, slots=True)
class Finding:
    """What ``detect`` found; ``Detector.classify`` turns it into a ``Verdict``."""

    detected: bool
    reason: str
    evidence: tuple[str, ...] = ()
    value: float | None = None


class Detector:
    """Base class for the built-in rule detectors.

    Subclasses set ``id``, ``version`` (bump it whenever the logic changes, so a
    case labelled by the old logic reports classifier drift) and
    ``failure_mode``, store their parameters as attributes of the same name, and
    implement ``detect``.
    """

    id: str = ""
    version: str = "1"
    failure_mode: str = ""
    # Annotations written from a rule's verdict are machine-made, not LLM-made.
    annotator_kind: ClassVar[AnnotatorKind] = AnnotatorKind.CODE

    def detect(self, trace: Trace) -> Finding:
        raise NotImplementedError

    def classify(self, trace: Trace) -> Verdict:
        found = self.detect(trace)
        return Verdict(
            classifier=self.id,
            version=self.version,
            outcome=Outcome.FAIL if found.detected else Outcome.PASS,
            label=DETECTED if found.detected else NOT_DETECTED,
            value=found.value,
            reason=found.reason,
            # Evidence explains a detection; a pass has nothing to point at.
            evidence=list(dict.fromkeys(found.evidence)) if found.detected else [],
            failure_mode=self.failure_mode,
        )

    def params(self) -> dict[str, Any]:
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# --- reading a trace -------------------------------------------------------


def in_order(trace: Trace, kind: SpanKind | None = None) -> list[Span]:
    """Spans by start time; ties (common with coarse clocks) keep the tree's order."""
    position = {span.span_id: i for i, (_, span) in enumerate(trace.walk())}
    spans = [s for s in trace.spans if kind is None or s.kind is kind]
    return sorted(spans, key=lambda s: (s.start_ns, position.get(s.span_id, len(position))))


@dataclass(frozen=True, slots=True)
class ToolUse:
    """One tool call, from a TOOL span (or, in traces without them, an LLM's request)."""

    span: Span
    name: str
    arguments: Any
    result: Any

    @property
    def error(self) -> str | None:
        return tool_error(self.span, self.result)


def _parse_json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def tool_uses(trace: Trace) -> list[ToolUse]:
    uses: list[ToolUse] = []
    for span in in_order(trace):
        if span.kind is not SpanKind.TOOL and span.tool is None:
            continue
        tool = span.tool
        if tool is None:
            uses.append(ToolUse(span, span.name, _parse_json(span.input), span.output))
            continue
        arguments = tool.arguments if tool.arguments is not None else tool.arguments_raw
        if arguments is None:
            arguments = span.input
        result = tool.result if tool.result is not None else span.output
        uses.append(ToolUse(span, tool.name, _parse_json(arguments), _parse_json(result)))
    if uses:
        return uses
    # Some instrumentations record only the model's tool-call requests; repetition
    # and invented ids are still visible there, with the LLM span as evidence.
    for span in in_order(trace, SpanKind.LLM):
        for request in span.llm.tool_calls if span.llm else []:
            arguments = (
                request.arguments if request.arguments is not None else request.arguments_raw
            )
            uses.append(ToolUse(span, request.name, _parse_json(arguments), None))
    return uses


_ERROR_TEXT = re.compile(r"^\s*(error|exception|traceback|failed|failure)\b", re.IGNORECASE)
_ERROR_STATUS = frozenset({"error", "failed", "failure", "fail"})


def error_payload(result: Any) -> str | None:
    """The error a tool *returned* (rather than raised), or ``None``.

    Many tool wrappers catch exceptions and hand the model ``{"error": ...}`` or
    ``"Error: ..."`` with an OK span status; that is the case the status misses.
    """
    result = _parse_json(result)
    if isinstance(result, dict):
        for key in ("error", "errors", "error_message", "exception"):
            if result.get(key):
                return short(result[key])
        status = result.get("status")
        if isinstance(status, str) and status.lower() in _ERROR_STATUS:
            return short(result.get("message") or result)
        if result.get("success") is False or result.get("ok") is False:
            return short(result.get("message") or result)
    if isinstance(result, str) and _ERROR_TEXT.match(result):
        return short(result.strip().splitlines()[0])
    return None


def tool_error(span: Span, result: Any = None) -> str | None:
    if span.tool is not None and span.tool.error is not None:
        return short(span.tool.error)
    if span.status.code is StatusCode.ERROR:
        return short(span.status.message or "span status error")
    if result is None:
        result = span.tool.result if span.tool is not None else None
    return error_payload(result if result is not None else span.output)


# --- text ------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """Arguments as compared: key order, case and whitespace in strings do not matter."""
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    return value


def canonical(value: Any) -> str:
    return json.dumps(normalize(value), sort_keys=True, separators=(",", ":"), default=str)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def short(value: Any, limit: int = 120) -> str:
    text = " ".join(as_text(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def output_text(span: Span) -> str:
    """What an LLM span said in words (tool-call requests excluded)."""
    parts: list[str] = []
    if span.llm is not None:
        parts.extend(m.content for m in span.llm.output_messages if m.content)
    if not parts and isinstance(span.output, str):
        parts.append(span.output)
    return "\n".join(parts)


def span_ids(spans: Iterable[Span]) -> tuple[str, ...]:
    return tuple(s.span_id for s in spans)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
