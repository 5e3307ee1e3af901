"""What the convention decoders found on one span, before it becomes a ``Span``.

Decoders run in priority order and each only fills what is still ``None``: the
first convention that states a fact wins, later ones fill gaps. That is what
makes a span carrying four conventions decode like the clean one. A plain
slotted dataclass, because this is the ingestion hot path.
"""

from __future__ import annotations

from typing import Any, TypeVar

from agent_backtest.trace.model import LLMCall, Message, SpanKind, ToolCall

# One OpenInference message's keys: [role, content, tool_call_id, name, more],
# "more" being a dict of every other key (contents, tool calls), or None.
MessageSlots = list[Any]
ROLE, CONTENT, CALL_ID, NAME, MORE = range(5)
_SLOTS = {
    "message.role": ROLE,
    "message.content": CONTENT,
    "message.tool_call_id": CALL_ID,
    "message.name": NAME,
}
G = TypeVar("G")


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
    # llm.input_messages.{i}.* / llm.output_messages.{i}.*, one MessageSlots per index
    oi_input: list[MessageSlots] | None = None
    oi_output: list[MessageSlots] | None = None
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

# What a key is, as (role, flag bits, list index, rest of the key, message slot).
# Flag bits say which convention the key belongs to; roles 1-4 file the key under
# an indexed family, 5-6 list it. Computed once per distinct key and memoized.
_LLM, _GEN_AI, _VERTEX, _TRACELOOP = 1, 2, 4, 8
_PLAIN, _OI_IN, _OI_OUT, _OL_PROMPT, _OL_COMPLETION, _REQUEST, _ANNOTATION = range(7)
_Kind = tuple[int, int, str, str, int]
_NOTHING: _Kind = (_PLAIN, 0, "", "", MORE)
_KIND_CACHE_MAX = 1 << 16  # keys with ids in their names must not grow it without bound
_kind_cache: dict[str, _Kind] = {}


def _indexed(role: int, flags: int, tail: str) -> _Kind:
    index, _, rest = tail.partition(".")
    return (role, flags, index, rest, _SLOTS.get(rest, MORE))


def _classify(key: str) -> _Kind:
    """The one place that decides which family a key belongs to."""
    first = key[:1]
    if first == "l":
        if key.startswith("llm."):
            if key.startswith("input_messages.", 4):
                return _indexed(_OI_IN, _LLM, key[_IN:])
            if key.startswith("output_messages.", 4):
                return _indexed(_OI_OUT, _LLM, key[_OUT:])
            return (_PLAIN, _LLM, "", "", MORE)
    elif first == "g":
        if key.startswith("gen_ai."):
            if key.startswith("prompt.", 7):
                return _indexed(_OL_PROMPT, _GEN_AI, key[_PROMPT:])
            if key.startswith("completion.", 7):
                return _indexed(_OL_COMPLETION, _GEN_AI, key[_COMPLETION:])
            if key.startswith("request.", 7):
                return (_REQUEST, _GEN_AI, "", "", MORE)
            return (_PLAIN, _GEN_AI, "", "", MORE)
        if key.startswith("gcp.vertex.agent."):
            return (_PLAIN, _VERTEX, "", "", MORE)
    elif first == "t":
        if key.startswith("traceloop."):
            return (_PLAIN, _TRACELOOP, "", "", MORE)
        if key.startswith(_ANNOTATION_PREFIXES):
            return (_ANNOTATION, 0, "", "", MORE)
    elif first in _ANNOTATION_FIRST and key.startswith(_ANNOTATION_PREFIXES):
        return (_ANNOTATION, 0, "", "", MORE)
    return _NOTHING


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


def _file(
    groups: dict[str, dict[str, Any]] | None, index: str, rest: str, value: Any
) -> dict[str, dict[str, Any]]:
    if groups is None:
        groups = {index: {rest: value}}
    elif (group := groups.get(index)) is None:
        groups[index] = {rest: value}
    else:
        group[rest] = value
    return groups


def _append(keys: list[str] | None, key: str) -> list[str]:
    if keys is None:
        keys = []
    keys.append(key)
    return keys


_INDEXES = [str(i) for i in range(64)]


def _ordered(groups: dict[str, G] | None) -> list[G] | None:
    if groups is None:
        return None
    # Exporters write list items in index order, so the common case is one comparison.
    if list(groups) == _INDEXES[: len(groups)]:
        return list(groups.values())
    return [groups[i] for i in sorted((i for i in groups if i.isdigit()), key=int)]


def index_keys(attrs: dict[str, Any]) -> KeyIndex:
    """One pass over the attributes: one memo lookup per key, work only for indexed families."""
    ki = KeyIndex()
    cache_get = _kind_cache.get
    flags = 0
    oi_in: dict[str, MessageSlots] | None = None
    oi_out: dict[str, MessageSlots] | None = None
    ol_prompt: dict[str, dict[str, Any]] | None = None
    ol_completion: dict[str, dict[str, Any]] | None = None
    request: list[str] | None = None
    annotations: list[str] | None = None
    for key, value in attrs.items():
        kind = cache_get(key)
        if kind is None:
            kind = _classify(key)
            if len(_kind_cache) < _KIND_CACHE_MAX:
                _kind_cache[key] = kind
        role, bits, index, rest, slot = kind
        flags |= bits
        if not role:
            continue
        # OpenInference message keys are most keys of an LLM span: their plain
        # fields go straight into the message's slot list.
        if role <= _OI_OUT:  # _OI_IN or _OI_OUT
            if role == _OI_IN:
                groups = oi_in = {} if oi_in is None else oi_in
            else:
                groups = oi_out = {} if oi_out is None else oi_out
            slots = groups.get(index)
            if slots is None:
                slots = groups[index] = [None, None, None, None, None]
            if slot != MORE:
                slots[slot] = value
            elif (more := slots[MORE]) is None:
                slots[MORE] = {rest: value}
            else:
                more[rest] = value
        elif role == _OL_PROMPT:
            ol_prompt = _file(ol_prompt, index, rest, value)
        elif role == _OL_COMPLETION:
            ol_completion = _file(ol_completion, index, rest, value)
        elif role == _REQUEST:
            request = _append(request, key)
        else:
            annotations = _append(annotations, key)
    if flags:
        if flags & _LLM:
            ki.has_llm = True
            ki.oi_input = _ordered(oi_in)
            ki.oi_output = _ordered(oi_out)
        if flags & _GEN_AI:
            ki.has_gen_ai = True
            ki.ol_prompt = _ordered(ol_prompt)
            ki.ol_completion = _ordered(ol_completion)
            ki.gen_ai_request = request
        if flags & _VERTEX:
            ki.has_vertex = True
        if flags & _TRACELOOP:
            ki.has_traceloop = True
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
