"""Sidecar annotation JSONL: labels kept outside the tracing tool, one object per line.

Teams often label failures in a spreadsheet, a ticket system or a script, not in
the trace store. One line per label::

    {"trace_id": "4bf92f35...", "span_id": "00f067aa0ba902b7", "name": "failure_mode",
     "label": "step_repetition", "score": 1, "explanation": "...",
     "annotator": "alice", "annotator_kind": "human", "created_at": "2025-01-31T10:00:00Z"}

The format is strict on purpose: a typo in a key (``lable``) would otherwise
drop a label silently, and a label that never reaches its trace is a failure
mode that never gets promoted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agent_backtest.trace.model import Annotation, AnnotationTarget, AnnotatorKind
from agent_backtest.trace.raw import ReadItem, normalize_id
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.errors import InputError
    from agent_backtest.trace.registry import Head

NAME = "sidecar"
DESCRIPTION = "sidecar annotation JSONL ({trace_id, span_id?, name, label?, score?, ...} per line)"
ANNOTATIONS_ONLY = True

TARGET_KEYS = ("trace_id", "span_id", "session_id")
TEXT_KEYS = ("name", "label", "explanation", "annotator", "annotator_kind", "created_at")
KEYS = frozenset((*TARGET_KEYS, *TEXT_KEYS, "score"))
_HEX_OR_DASH = frozenset("0123456789abcdefABCDEF-")
_KINDS = ", ".join(k.value for k in AnnotatorKind)


def export_id(value: Any, width: int) -> str | None:
    """An id as a tool's export or a person writes it -> the spelling readers produce.

    Hex and UUID ids go through ``normalize_id`` so they match spans from OTLP
    and friends; any other string (Langfuse cuids, ``obs-1``) is kept exactly:
    ``normalize_id`` would read some of them as base64, and then the id shown
    in reports would not be the one the user can search for in their tool.
    """
    if isinstance(value, str):
        text = value.strip()
        bare = text[2:] if text[:2] in ("0x", "0X") else text
        if bare and not all(c in _HEX_OR_DASH for c in bare):
            return text
    return normalize_id(value, width)


def sniff(head: Head) -> bool:
    first = head.first_value
    if not isinstance(first, dict) or "name" not in first:
        return False
    # Every key must be a sidecar key: that keeps span-like records (Phoenix
    # annotations with ``result``, OTLP, Langfuse scores) out of this reader.
    return (
        ("trace_id" in first or "span_id" in first)
        and ("label" in first or "score" in first)
        and set(first) <= KEYS
    )


def read(source: FileSource) -> Iterator[ReadItem]:
    for line, value in source.iter_json_lines():
        try:
            annotation = parse_line(source, line, value)
        except _LineError as bad:
            source.skip_or_raise(bad.error)
            continue
        yield ReadItem(annotation=annotation, line=line)


class _LineError(Exception):
    def __init__(self, error: InputError) -> None:
        super().__init__(error.one_line())
        self.error = error


def parse_line(source: FileSource, line: int, value: Any) -> Annotation:
    def bad(what: str, field: str | None = None, fix: str | None = None) -> _LineError:
        return _LineError(source.fail(what, line=line, field=field, fix=fix))

    if not isinstance(value, dict):
        raise bad(
            f"expected a JSON object, found {type(value).__name__}",
            fix="each line is one annotation object",
        )
    unknown = sorted(set(value) - KEYS)
    if unknown:
        raise bad(
            f"unknown key {unknown[0]!r}",
            field=unknown[0],
            fix=f"allowed keys: {', '.join(sorted(KEYS))}",
        )
    for key in TEXT_KEYS:
        if value.get(key) is not None and not isinstance(value[key], str):
            raise bad(f"expected a string, found {type(value[key]).__name__}", field=key)
    if not value.get("name"):
        raise bad("missing 'name'", field="name", fix="name the annotation, e.g. failure_mode")
    score = value.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise bad(f"expected a number, found {type(score).__name__}", field="score")
    if value.get("label") is None and score is None:
        raise bad(
            "neither 'label' nor 'score' is set", field="label", fix="give a label, a score or both"
        )
    for key in ("trace_id", "span_id"):
        # A spreadsheet export may write a decimal id as a number; normalize_id
        # understands ints, so only other types are wrong.
        raw_id = value.get(key)
        if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, str | int)):
            raise bad(f"expected a string id, found {type(raw_id).__name__}", field=key)
    trace_id = export_id(value.get("trace_id"), 32)
    span_id = export_id(value.get("span_id"), 16)
    session_id = value.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        raise bad(f"expected a string, found {type(session_id).__name__}", field="session_id")
    if trace_id is None and span_id is None and not session_id:
        raise bad(
            "no target: set 'trace_id', 'span_id' or 'session_id'",
            field="trace_id",
            fix="say which trace, span or session the label is about",
        )
    kind_text = (value.get("annotator_kind") or "human").lower()
    try:
        kind = AnnotatorKind(kind_text)
    except ValueError:
        raise bad(
            f"unknown annotator_kind {value['annotator_kind']!r}",
            field="annotator_kind",
            fix=f"choose one of: {_KINDS}",
        ) from None
    target_kind = "span" if span_id else "trace" if trace_id else "session"
    return Annotation.model_construct(
        target=AnnotationTarget.model_construct(
            kind=target_kind, trace_id=trace_id, span_id=span_id, session_id=session_id, step=None
        ),
        name=value["name"],
        label=value.get("label"),
        score=float(score) if score is not None else None,
        explanation=value.get("explanation"),
        annotator_kind=kind,
        annotator=value.get("annotator"),
        classifier=None,
        source=NAME,
        created_at=value.get("created_at"),
    )
