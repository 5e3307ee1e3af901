"""The case file model: one promoted production failure, ``agent-backtest/case@1``.

A case is a contract on disk (reviewed in pull requests, loaded by the plugin,
exported to Hugging Face), so every model forbids unknown keys and the field
order below *is* the key order written to YAML. Add fields only at the end of a
model, and bump the schema version (with a migration) for anything else.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent_backtest.trace.model import AnnotatorKind, Message

CASE_SCHEMA: Final = "agent-backtest/case@1"
CASE_SCHEMA_PREFIX = "agent-backtest/case@"
CASE_SCHEMA_VERSION = 1

# Lowercase slug words joined by "-"; the last word is the short hash.
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_SLUG_MAX = 48
HASH_PREFIX = "sha256:"


class _Strict(BaseModel):
    # ``populate_by_name`` lets code pass ``schema_=`` while files say ``schema:``.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CaseSource(_Strict):
    """Where the case came from, so a reviewer can open the original trace."""

    trace_id: str
    session_id: str | None = None
    agent: str | None = None
    captured_at: str | None = None  # ISO 8601, kept as text so it round-trips exactly
    origin: str | None = None  # file or system the trace was read from
    format: str | None = None  # trace reader name, e.g. "otlp_json"


class CaseAnnotation(_Strict):
    """A label that flagged the trace: by a human, an LLM judge or a rule."""

    name: str
    label: str | None = None
    score: float | None = None
    explanation: str | None = None
    annotator: str | None = None
    annotator_kind: AnnotatorKind = AnnotatorKind.HUMAN
    classifier: str | None = None  # "id@version" when a classifier made it
    span_id: str | None = None  # the span it was about, when not the whole trace


class CaseToolCallRequest(_Strict):
    """A tool call an assistant message asked for (arguments already decoded)."""

    id: str | None = None
    name: str
    arguments: Any = None


class CaseMessage(_Strict):
    role: str
    content: str | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[CaseToolCallRequest] = Field(default_factory=list)

    @classmethod
    def from_trace(cls, message: Message) -> CaseMessage:
        """Convert a normalized trace ``Message`` (what promote reads) to the file shape."""
        return cls(
            role=message.role,
            content=message.content,
            name=message.name,
            tool_call_id=message.tool_call_id,
            tool_calls=[
                CaseToolCallRequest(
                    id=c.id,
                    name=c.name,
                    arguments=c.arguments if c.arguments is not None else c.arguments_raw,
                )
                for c in message.tool_calls
            ],
        )


class CaseInput(_Strict):
    """What the agent was given: the conversation so far and any initial state."""

    messages: list[CaseMessage] = Field(default_factory=list)
    state: dict[str, Any] | None = None


class ToolRecording(_Strict):
    """One tool interaction as it happened in production; replay answers from it."""

    seq: int = Field(ge=0)
    tool: str
    call_id: str | None = None
    arguments: Any = None
    result: Any = None
    error: str | None = None
    latency_ms: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _result_or_error(self) -> ToolRecording:
        if self.error is not None and self.result is not None:
            raise ValueError("a recording has either a result or an error, not both")
        return self


class Budgets(_Strict):
    """Upper bounds the candidate must stay within on this case (None: no bound)."""

    max_llm_calls: int | None = Field(default=None, ge=0)
    max_tool_calls: int | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_duration_s: float | None = Field(default=None, ge=0)


class Expectations(_Strict):
    """What must hold when the candidate replays this case."""

    # classifier id -> the label (or value) it must return, e.g. task_outcome: completed
    classifiers: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # failure modes (taxonomy keys) that must not be detected on the candidate's run
    not_detected: list[str] = Field(default_factory=list)
    budgets: Budgets = Field(default_factory=Budgets)


class RedactionInfo(_Strict):
    """Which redaction policy ran before the case was written, and what it replaced."""

    policy: str  # e.g. "builtin@1"
    replaced: int = Field(default=0, ge=0)
    by_detector: dict[str, int] = Field(default_factory=dict)


class Case(_Strict):
    """One promoted production failure (``agent-backtest/case@1``)."""

    schema_: Literal["agent-backtest/case@1"] = Field(default=CASE_SCHEMA, alias="schema")
    id: str = Field(pattern=ID_PATTERN)
    title: str
    source: CaseSource
    failure_modes: list[str] = Field(default_factory=list)
    annotations: list[CaseAnnotation] = Field(default_factory=list)
    input: CaseInput = Field(default_factory=CaseInput)
    recordings: list[ToolRecording] = Field(default_factory=list)
    # Relative path (from the evalset folder) of content-addressed LLM interaction files.
    llm_recordings: str | None = None
    expect: Expectations = Field(default_factory=Expectations)
    redaction: RedactionInfo | None = None
    fingerprint: str | None = None  # dedupe key; computed by promote
    content_hash: str | None = None  # "sha256:<hex>" over everything above

    @field_validator("llm_recordings")
    @classmethod
    def _relative_inside(cls, value: str | None) -> str | None:
        # The reference must stay inside the evalset so a case folder is self-contained.
        if value is None:
            return value
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value) or ".." in parts:
            raise ValueError("llm_recordings must be a relative path inside the evalset")
        return value

    @model_validator(mode="after")
    def _recordings_in_order(self) -> Case:
        seqs = [r.seq for r in self.recordings]
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            raise ValueError("recordings must have unique seq numbers in increasing order")
        return self

    # -- canonical content and hashing ------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The case as plain data in file key order, without defaults (what YAML holds)."""
        body = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        body.pop("schema", None)
        # ``schema`` has a default, so exclude_defaults drops it; a file always states it.
        return {"schema": self.schema_, **body}

    def compute_content_hash(self) -> str:
        return content_hash_of(self.to_data())

    def with_content_hash(self) -> Case:
        """A copy whose ``content_hash`` matches its content (call before writing)."""
        copy = self.model_copy()
        copy.content_hash = self.compute_content_hash()
        return copy

    def content_hash_ok(self) -> bool:
        return self.content_hash is not None and self.content_hash == self.compute_content_hash()


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the byte string hashes are computed over."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def content_hash_of(data: dict[str, Any]) -> str:
    """Hash of a case's plain data, ignoring its ``content_hash`` key."""
    body = {k: v for k, v in data.items() if k != "content_hash"}
    return HASH_PREFIX + hashlib.sha256(canonical_json(body)).hexdigest()


def slugify(text: str, max_len: int = _SLUG_MAX) -> str:
    slug = _SLUG_STRIP.sub("-", text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug.strip("-") or "case"


def make_case_id(title: str, key: str) -> str:
    """A readable, stable id: slug of the title plus 6 hex of ``key`` (e.g. the fingerprint).

    ``make_case_id("Loops on lookup_order", fp)`` -> ``"loops-on-lookup-order-3f9a2c"``.
    """
    short = hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    return f"{slugify(title)}-{short}"
