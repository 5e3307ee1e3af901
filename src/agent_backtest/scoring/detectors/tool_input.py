"""``hallucinated_tool_input``: tool arguments the agent made up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import (
    Detector,
    Finding,
    ToolUse,
    as_text,
    in_order,
    plural,
    short,
    tool_uses,
)
from agent_backtest.scoring.detectors.schema_check import schema_errors, tool_schemas_in
from agent_backtest.trace.model import Span, SpanKind, Trace

# Keys that hold identifiers: id, ids, order_id, order-ids, orderId, customerIds.
DEFAULT_ID_KEY = r"(?i:(?:^|[_-])ids?)$|[a-z0-9]Ids?$"
# Values that look like identifiers whatever their key: UUIDs, and prefixed codes
# with a digit after the separator (ORD-1843, cus_9s6XKz) so that plain words
# joined by an underscore (new_york) are not taken for ids.
DEFAULT_ID_VALUE = (
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z]{2,10}[-_](?=[A-Za-z]*\d)[A-Za-z0-9]{3,}[A-Za-z0-9-]*)$"
)


class HallucinatedToolInput(Detector):
    """Arguments that fail the tool's JSON schema, or ids that came from nowhere.

    Parameters (defaults):
        tool_schemas (None): ``{tool_name: JSON schema}``; these win over schemas
            found in the trace (the ``tools`` an LLM call was given).
        check_ids (True): look for id-like argument values never seen before the
            call in any tool result, the user/system/tool messages, or the agent's
            input. The model's own earlier words do not count as a source.
        id_key_pattern / id_value_pattern: what makes a value id-like (a key such
            as ``order_id``/``orderId``/``ids``, or a value such as a UUID or
            ``ORD-1843``).
        min_id_length (3): shorter values (``1``, ``42``) appear everywhere by
            chance, so they are not checked.

    Evidence: the TOOL spans (or LLM spans, when only requests are recorded)
    whose arguments are wrong.
    """

    id = "hallucinated_tool_input"
    version = "1"
    failure_mode = "hallucinated_tool_input"

    @validate_call
    def __init__(
        self,
        *,
        tool_schemas: dict[str, dict[str, Any]] | None = None,
        check_ids: bool = True,
        id_key_pattern: str = DEFAULT_ID_KEY,
        id_value_pattern: str = DEFAULT_ID_VALUE,
        min_id_length: Annotated[int, Field(ge=1)] = 3,
    ) -> None:
        self.tool_schemas = tool_schemas
        self.check_ids = check_ids
        self.id_key_pattern = id_key_pattern
        self.id_value_pattern = id_value_pattern
        self.min_id_length = min_id_length
        self._id_key = re.compile(id_key_pattern)
        self._id_value = re.compile(id_value_pattern)

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def _ids(self, value: Any, key: str = "", id_key: bool = False) -> Iterator[tuple[str, str]]:
        """(path, value) of every id-like leaf in the arguments."""
        if isinstance(value, dict):
            for k, v in value.items():
                path = f"{key}.{k}" if key else str(k)
                yield from self._ids(v, path, bool(self._id_key.search(str(k))))
        elif isinstance(value, list):
            for v in value:
                yield from self._ids(v, key, id_key)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value).strip()
            if len(text) >= self.min_id_length and (
                id_key or (isinstance(value, str) and self._id_value.match(text))
            ):
                yield key, text

    def detect(self, trace: Trace) -> Finding:
        schemas: dict[str, dict[str, Any]] = {}
        for span in in_order(trace, SpanKind.LLM):
            if span.llm is not None:
                schemas.update(tool_schemas_in(span.llm.invocation_parameters))
        schemas.update(self.tool_schemas or {})

        sources = _sources(trace)
        seen: list[str] = []
        problems: list[str] = []
        evidence: list[str] = []
        uses = tool_uses(trace)
        for use in uses:
            while sources and sources[0][0] <= use.span.start_ns:
                seen.append(sources.pop(0)[1])
            found = self._check(use, schemas, "\n".join(seen))
            if found:
                problems.append(f"{use.name}: {'; '.join(found)}")
                evidence.append(use.span.span_id)
            # A result is a source for every later call.
            seen.append(as_text(use.result))
        if problems:
            return Finding(True, "; ".join(problems), tuple(evidence), float(len(evidence)))
        checked = f"{plural(len(uses), 'tool call')} checked"
        with_schema = sum(1 for u in uses if u.name in schemas)
        return Finding(
            False,
            f"{checked} ({with_schema} against a schema); every id-like argument appeared earlier",
            value=0.0,
        )

    def _check(self, use: ToolUse, schemas: dict[str, dict[str, Any]], seen: str) -> list[str]:
        found: list[str] = []
        schema = schemas.get(use.name)
        if schema is not None:
            errors = schema_errors(use.arguments, schema)
            if errors:
                found.append("arguments fail its schema: " + "; ".join(errors[:3]))
        if self.check_ids:
            for path, value in self._ids(use.arguments):
                pattern = rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
                if re.search(pattern, seen, re.IGNORECASE) is None:
                    found.append(
                        f"{path}={short(value, 60)} appears in no earlier tool result or message"
                    )
        return found


def _sources(trace: Trace) -> list[tuple[int, str]]:
    """(time it became known, text) of everything an argument may legitimately quote."""
    sources: list[tuple[int, str]] = []
    for span in in_order(trace):
        if span.kind is SpanKind.LLM and span.llm is not None:
            # The model's own earlier words (assistant messages, tool-call
            # arguments) are not evidence that an id exists.
            text = "\n".join(
                m.content or "" for m in span.llm.input_messages if m.role != "assistant"
            )
            sources.append((span.start_ns, text))
        elif span.kind is not SpanKind.TOOL and span.tool is None:
            sources.append((span.start_ns, _span_input(span)))
    return sources


def _span_input(span: Span) -> str:
    return as_text(span.input) if span.input is not None else ""
