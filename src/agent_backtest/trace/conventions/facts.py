"""What the convention decoders found on one span, before it becomes a ``Span``.

Decoders run in priority order and each only fills what is still ``None``: the
first convention that states a fact wins, later ones fill gaps. That is what
makes a span carrying four conventions decode like the clean one. A plain
slotted dataclass, because this is the ingestion hot path.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.model import LLMCall, Message, SpanKind, ToolCall


class KeyIndex:
    """What one pass over the keys found: which conventions are present, and the
    indexed (flattened list) families already grouped by index.

    Plain keys are read with ``dict.get``; only families whose keys carry an
    index need the pass. A plain class with class-level defaults rather than a
    dataclass: creating one per span then costs nothing for absent families.
    """

    has_llm: bool = False  # any "llm." key (OpenInference, OpenLLMetry)
    has_gen_ai: bool = False  # any "gen_ai." key
    has_vertex: bool = False  # any "gcp.vertex.agent." key (Google ADK)
    has_traceloop: bool = False
    oi_input: list[dict[str, Any]] | None = None  # llm.input_messages.{i}.*
    oi_output: list[dict[str, Any]] | None = None  # llm.output_messages.{i}.*
    ol_prompt: list[dict[str, Any]] | None = None  # gen_ai.prompt.{i}.*
    ol_completion: list[dict[str, Any]] | None = None  # gen_ai.completion.{i}.*
    gen_ai_request: list[str] | None = None  # gen_ai.request.*
    annotations: list[str] | None = None  # [trace.|session.](annotations|evaluations).*


_ANNOTATION_PREFIXES = (
    "annotations.",
    "evaluations.",
    "trace.annotations.",
    "trace.evaluations.",
    "session.annotations.",
    "session.evaluations.",
)
_ANNOTATION_FIRST = frozenset("aes")
_IN = len("llm.input_messages.")
_OUT = len("llm.output_messages.")
_PROMPT = len("gen_ai.prompt.")
_COMPLETION = len("gen_ai.completion.")


def _add(
    groups: dict[str, dict[str, Any]] | None, tail: str, value: Any
) -> dict[str, dict[str, Any]]:
    """File ``{i}.rest`` under index ``i``; the groups dict is created on first use."""
    if groups is None:
        groups = {}
    index, _, rest = tail.partition(".")
    group = groups.get(index)
    if group is None:
        group = groups[index] = {}
    group[rest] = value
    return groups


def _append(keys: list[str] | None, key: str) -> list[str]:
    if keys is None:
        keys = []
    keys.append(key)
    return keys


_INDEXES = [str(i) for i in range(64)]


def _ordered(groups: dict[str, dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if groups is None:
        return None
    # Exporters write list items in index order, so the common case is one comparison.
    if list(groups) == _INDEXES[: len(groups)]:
        return list(groups.values())
    return [groups[i] for i in sorted((i for i in groups if i.isdigit()), key=int)]


def index_keys(attrs: dict[str, Any]) -> KeyIndex:
    """One pass over the attributes; a few ``startswith`` calls per key at most."""
    ki = KeyIndex()
    has_llm = has_gen_ai = False
    oi_in: dict[str, dict[str, Any]] | None = None
    oi_out: dict[str, dict[str, Any]] | None = None
    ol_prompt = ol_completion = None
    request: list[str] | None = None
    annotations: list[str] | None = None
    for key, value in attrs.items():
        # Dispatch on the first character so keys of no interest ("input.value",
        # "http.url", ...) cost one comparison, not a chain of startswith calls.
        first = key[:1]
        if first == "l":
            if key.startswith("llm."):
                has_llm = True
                # Inlined _add: these are most of the keys of an OpenInference LLM span.
                if key.startswith("input_messages.", 4):
                    index, _, rest = key[_IN:].partition(".")
                    if oi_in is None:
                        oi_in = {}
                    group = oi_in.get(index)
                    if group is None:
                        group = oi_in[index] = {}
                    group[rest] = value
                elif key.startswith("output_messages.", 4):
                    index, _, rest = key[_OUT:].partition(".")
                    if oi_out is None:
                        oi_out = {}
                    group = oi_out.get(index)
                    if group is None:
                        group = oi_out[index] = {}
                    group[rest] = value
        elif first == "g":
            if key.startswith("gen_ai."):
                has_gen_ai = True
                if key.startswith("prompt.", 7):
                    ol_prompt = _add(ol_prompt, key[_PROMPT:], value)
                elif key.startswith("completion.", 7):
                    ol_completion = _add(ol_completion, key[_COMPLETION:], value)
                elif key.startswith("request.", 7):
                    if request is None:
                        request = []
                    request.append(key)
            elif key.startswith("gcp.vertex.agent."):
                ki.has_vertex = True
        elif first == "t":
            if key.startswith("traceloop."):
                ki.has_traceloop = True
            elif key.startswith(_ANNOTATION_PREFIXES, 0):
                annotations = _append(annotations, key)
        elif first in _ANNOTATION_FIRST and key.startswith(_ANNOTATION_PREFIXES):
            annotations = _append(annotations, key)
    if has_llm:
        ki.has_llm = True
        ki.oi_input = _ordered(oi_in)
        ki.oi_output = _ordered(oi_out)
    if has_gen_ai:
        ki.has_gen_ai = True
        ki.ol_prompt = _ordered(ol_prompt)
        ki.ol_completion = _ordered(ol_completion)
        ki.gen_ai_request = request
    ki.annotations = annotations
    return ki


def group_indexed(attrs: dict[str, Any], keys: list[str], prefix_len: int) -> list[dict[str, Any]]:
    """``prefix.{i}.rest`` keys -> one ``{rest: value}`` dict per index, in index order."""
    groups: dict[str, dict[str, Any]] | None = None
    for key in keys:
        groups = _add(groups, key[prefix_len:], attrs[key])
    return _ordered(groups) or []


class Facts:
    """Class-level defaults instead of a dataclass ``__init__``: a span that
    carries five facts only pays for five attribute writes."""

    kind: SpanKind | None = None
    # LLM
    provider: str | None = None
    model: str | None = None
    input_messages: list[Message] | None = None
    output_messages: list[Message] | None = None
    finish_reasons: list[str] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    cost: float | None = None
    invocation_parameters: dict[str, Any] | None = None
    # TOOL
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_arguments: Any = None  # as found: JSON text or a structured value
    tool_result: Any = None
    tool_error: str | None = None
    # span / trace level
    input: Any = None
    output: Any = None
    error_type: str | None = None
    session_id: str | None = None
    agent_name: str | None = None
    agent_id: str | None = None

    @property
    def wants_llm(self) -> bool:
        """Message parsing is the expensive part: skip it on spans known not to be LLM calls."""
        return self.kind is None or self.kind is SpanKind.LLM

    @property
    def wants_tool(self) -> bool:
        return self.kind is None or self.kind is SpanKind.TOOL

    def has_llm_evidence(self) -> bool:
        return bool(self.input_messages or self.output_messages) or (
            self.model is not None
            and (self.input_tokens is not None or self.output_tokens is not None)
        )

    def seed_llm(self, llm: LLMCall) -> None:
        """Fields a reader already knew (Langfuse generations) win over every convention."""
        self.provider = llm.provider
        self.model = llm.model
        self.input_messages = llm.input_messages or None
        self.output_messages = llm.output_messages or None
        self.finish_reasons = llm.finish_reasons or None
        usage = llm.usage
        self.input_tokens = usage.input
        self.output_tokens = usage.output
        self.total_tokens = usage.total
        self.cache_read = usage.cache_read
        self.cache_write = usage.cache_write
        self.cost = llm.cost
        self.invocation_parameters = llm.invocation_parameters or None

    def seed_tool(self, tool: ToolCall) -> None:
        self.tool_name = tool.name or None
        self.tool_call_id = tool.call_id
        self.tool_arguments = (
            tool.arguments_raw if tool.arguments_raw is not None else tool.arguments
        )
        self.tool_result = tool.result
        self.tool_error = tool.error
