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
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


class CaseSource(_Strict):
    """Where the case came from, so a reviewer can open the original trace."""

    trace_id: str
    """Trace id in the production tracing system."""
    session_id: str | None = None
    """Session (conversation) the trace belonged to."""
    agent: str | None = None
    """Agent name or id recorded on the trace."""
    captured_at: str | None = None
    """When the trace started, ISO 8601 (kept as text so it round-trips exactly)."""
    origin: str | None = None
    """File or system the trace was read from."""
    format: str | None = None
    """Trace reader that read it, e.g. `otlp_json`, `openinference`."""


class CaseAnnotation(_Strict):
    """A label that flagged the trace: by a human, an LLM judge or a rule."""

    name: str
    """Annotation name, e.g. `failure_mode`, `task_outcome`."""
    label: str | None = None
    """Categorical label, e.g. `looped`."""
    score: float | None = None
    """Numeric score, when the annotation has one."""
    explanation: str | None = None
    """Why the annotator chose the label."""
    annotator: str | None = None
    """Who annotated: a person, a model or a rule name."""
    annotator_kind: AnnotatorKind = AnnotatorKind.HUMAN
    """`human`, `llm` or `code`."""
    classifier: str | None = None
    """`id@version` of the classifier that made the annotation, if one did."""
    span_id: str | None = None
    """The span the annotation is about, when not the whole trace."""


class CaseToolCallRequest(_Strict):
    """A tool call an assistant message asked for (arguments already decoded)."""

    id: str | None = None
    """Tool call id from the model output."""
    name: str
    """Tool name."""
    arguments: Any = None
    """Decoded arguments (or the raw string when they were not valid JSON)."""


class CaseMessage(_Strict):
    """One message of the conversation the agent was given."""

    role: str
    """`system`, `user`, `assistant` or `tool`."""
    content: str | None = None
    """Message text."""
    name: str | None = None
    """Participant or tool name, when the message carries one."""
    tool_call_id: str | None = None
    """For `tool` messages: the call this message answers."""
    tool_calls: list[CaseToolCallRequest] = Field(default_factory=list)
    """For `assistant` messages: the tool calls it asked for."""

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
    """The conversation, oldest first."""
    state: dict[str, Any] | None = None
    """Initial state the agent received besides messages (session data, user profile)."""


class ToolRecording(_Strict):
    """One tool interaction as it happened in production; replay answers from it."""

    seq: int = Field(ge=0)
    """Position in production order (unique, increasing)."""
    tool: str
    """Tool name."""
    call_id: str | None = None
    """Tool call id, when the trace had one."""
    arguments: Any = None
    """Arguments the agent passed (decoded JSON)."""
    result: Any = None
    """What the tool returned. Absent when it failed."""
    error: str | None = None
    """The error the tool raised, instead of a result."""
    latency_ms: float | None = Field(default=None, ge=0)
    """How long the call took in production, in milliseconds."""

    @model_validator(mode="after")
    def _result_or_error(self) -> ToolRecording:
        if self.error is not None and self.result is not None:
            raise ValueError("a recording has either a result or an error, not both")
        return self


class Budgets(_Strict):
    """Upper bounds the candidate must stay within on this case (absent: no bound)."""

    max_llm_calls: int | None = Field(default=None, ge=0)
    """Most LLM calls allowed."""
    max_tool_calls: int | None = Field(default=None, ge=0)
    """Most tool calls allowed."""
    max_cost_usd: float | None = Field(default=None, ge=0)
    """Most LLM spend allowed, in US dollars."""
    max_duration_s: float | None = Field(default=None, ge=0)
    """Longest run allowed, in seconds."""


class Expectations(_Strict):
    """What must hold when the candidate replays this case."""

    classifiers: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Classifier id -> the label or value it must return, e.g. `task_outcome: completed`."""
    not_detected: list[str] = Field(default_factory=list)
    """Failure modes (taxonomy keys) that must not be detected on the candidate's run."""
    budgets: Budgets = Field(default_factory=Budgets)
    """Resource limits for the run."""


class RedactionInfo(_Strict):
    """Which redaction policy ran before the case was written, and what it replaced."""

    policy: str
    """Redaction policy id and version, e.g. `builtin@1`."""
    replaced: int = Field(default=0, ge=0)
    """How many values were replaced by placeholders."""
    by_detector: dict[str, int] = Field(default_factory=dict)
    """Replacements per detector, e.g. `email: 2`."""


class Case(_Strict):
    """One promoted production failure (`agent-backtest/case@1`)."""

    schema_: Literal["agent-backtest/case@1"] = Field(default=CASE_SCHEMA, alias="schema")
    """File format and version. Older versions are migrated on load."""
    id: str = Field(pattern=ID_PATTERN)
    """Stable id: slug of the title plus a short hash; also the file name."""
    title: str
    """One line saying what went wrong."""
    source: CaseSource
    """The production trace the case was promoted from."""
    failure_modes: list[str] = Field(default_factory=list)
    """Taxonomy keys of the failure modes this case exhibits."""
    annotations: list[CaseAnnotation] = Field(default_factory=list)
    """The labels that flagged the trace."""
    input: CaseInput = Field(default_factory=CaseInput)
    """What the agent was given."""
    recordings: list[ToolRecording] = Field(default_factory=list)
    """Tool interactions in production order; replay answers from these."""
    llm_recordings: str | None = None
    """Relative path (from the evalset folder) of content-addressed LLM interaction files."""
    expect: Expectations = Field(default_factory=Expectations)
    """What the candidate must achieve."""
    redaction: RedactionInfo | None = None
    """The redaction that ran before the case was written."""
    fingerprint: str | None = None
    """Dedupe key (normalized input + tool sequence + failure modes), computed by promote."""
    content_hash: str | None = None
    """`sha256:<hex>` over the canonical content of every other key."""

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
