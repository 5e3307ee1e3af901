"""Phoenix span annotations: human, LLM and code labels on spans.

Shapes read:

- the REST response of ``GET /v1/projects/{project}/span_annotations``
  (``{"data": [...], "next_cursor": ...}``), or its ``data`` items one per line;
- ``client.spans.get_span_annotations_dataframe(...)`` written as JSONL or
  Parquet: ``result`` flattened into ``result.label``/``result.score``/
  ``result.explanation``, ``name`` renamed to ``annotation_name``, and the
  ``span_id`` index (kept by Parquet; ``reset_index()`` before ``to_json``).

Each row becomes an ``Annotation`` on its span (``trace_id`` rows, as in trace
annotations, target the trace). Annotations carry no trace id, so they wait in
the assembler until the trace holding the span is built: that is why this
reader is ANNOTATIONS_ONLY and read before the span files.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from agent_backtest.errors import InputError, Location
from agent_backtest.trace.model import Annotation, AnnotationTarget, AnnotatorKind
from agent_backtest.trace.raw import ReadItem
from agent_backtest.trace.readers.phoenix import PARQUET_MAGIC, iter_parquet_rows, parquet_columns
from agent_backtest.trace.readers.sidecar import export_id
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "phoenix_annotations"
DESCRIPTION = "Phoenix span annotations (REST span_annotations or the annotations dataframe)"
ANNOTATIONS_ONLY = True

_KINDS = {"HUMAN": AnnotatorKind.HUMAN, "LLM": AnnotatorKind.LLM, "CODE": AnnotatorKind.CODE}
_ID_KEYS = ("span_id", "context.span_id", "trace_id")


def is_annotation_columns(columns: Any) -> bool:
    names = set(columns)
    return (
        "annotator_kind" in names
        and any(key in names for key in _ID_KEYS)
        and ("name" in names or "annotation_name" in names)
    )


def sniff(head: Head) -> bool:
    if head.raw.startswith(PARQUET_MAGIC):
        columns = parquet_columns(head)
        return columns is not None and is_annotation_columns(columns)
    first = head.first_value
    if isinstance(first, dict) and isinstance(first.get("data"), list) and first["data"]:
        first = first["data"][0]
    return isinstance(first, dict) and is_annotation_columns(first)


def read(source: FileSource) -> Iterator[ReadItem]:
    with source.open() as handle:
        is_parquet = handle.read(4) == PARQUET_MAGIC
    rows = iter_parquet_rows(source) if is_parquet else _json_rows(source)
    for number, record in rows:
        try:
            annotation = annotation_from_record(record)
        except _RecordError as bad:
            source.skip_or_raise(
                InputError(
                    bad.what,
                    where=Location(source.path, line=number, field=bad.field),
                    fix=bad.fix,
                )
            )
            continue
        yield ReadItem(annotation=annotation, line=number)


def _json_rows(source: FileSource) -> Iterator[tuple[int, Any]]:
    """Rows of a JSONL file; REST pages ``{"data": [...]}`` are unpacked, one per line or pretty."""
    with source.open() as handle:
        first_line = handle.readline().strip()
    try:
        orjson.loads(first_line)
    except orjson.JSONDecodeError:
        values: Iterator[tuple[int, Any]] = iter([(1, source.read_document())])
    else:
        values = source.iter_json_lines()
    for number, value in values:
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            for item in value["data"]:
                yield number, item
        elif isinstance(value, list):
            for item in value:
                yield number, item
        else:
            yield number, value


class _RecordError(Exception):
    def __init__(self, field: str | None, what: str, fix: str) -> None:
        super().__init__(what)
        self.field, self.what, self.fix = field, what, fix


def _value(record: dict[str, Any], key: str) -> Any:
    """``result.label`` from the flattened dataframe or ``result: {label}`` from REST."""
    value = record.get(f"result.{key}")
    if value is None and isinstance(record.get("result"), dict):
        value = record["result"].get(key)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def annotation_from_record(record: Any) -> Annotation:
    if not isinstance(record, dict):
        raise _RecordError(
            None, f"expected an object, found {type(record).__name__}", "one annotation per row"
        )
    name = record.get("annotation_name") or record.get("name")
    if not isinstance(name, str) or not name:
        raise _RecordError(
            "name", "annotation without a name", "rows need 'name' or 'annotation_name'"
        )
    span_id = export_id(record.get("span_id") or record.get("context.span_id"), 16)
    trace_id = export_id(record.get("trace_id"), 32)
    if span_id is None and trace_id is None:
        raise _RecordError(
            "span_id", "annotation without 'span_id'", "reset_index() before to_json keeps it"
        )
    kind_text = str(record.get("annotator_kind") or "HUMAN").upper()
    if kind_text not in _KINDS:
        raise _RecordError(
            "annotator_kind", f"unknown annotator_kind {kind_text!r}", "expected HUMAN, LLM or CODE"
        )
    score = _value(record, "score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise _RecordError(
            "result.score", f"expected a number, found {type(score).__name__}", "scores are numbers"
        )
    label = _value(record, "label")
    user = record.get("user_id")
    created = record.get("created_at")
    return Annotation.model_construct(
        target=AnnotationTarget.model_construct(
            kind="span" if span_id else "trace",
            trace_id=trace_id,
            span_id=span_id,
            session_id=None,
            step=None,
        ),
        name=name,
        label=str(label) if label is not None else None,
        score=float(score) if score is not None else None,
        explanation=_value(record, "explanation"),
        annotator_kind=_KINDS[kind_text],
        annotator=str(user) if user is not None else None,
        classifier=None,
        source="phoenix",
        created_at=created if isinstance(created, str) else None,
    )
