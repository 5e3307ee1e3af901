"""Phoenix span exports: the spans dataframe as JSON Lines or Parquet.

``px.Client().get_spans_dataframe()`` (and ``TraceDataset.save()``) gives one
row per span with the columns ``context.span_id``, ``context.trace_id``,
``parent_id``, ``name``, ``span_kind``, ``start_time``, ``end_time``,
``status_code``, ``status_message``, ``events`` and one ``attributes.*`` column
per attribute. Phoenix builds those columns by *unflattening* the OpenInference
keys except below a semantic-convention key, so ``attributes.llm.input_messages``
holds a list of ``{"message.role": ..., "message.content": ...}`` objects and a
custom ``foo.bar`` attribute becomes ``attributes.foo = {"bar": ...}``. Reading
undoes that: nested objects and lists of objects are flattened back into the
dotted, indexed keys OpenInference spans carry (``llm.input_messages.0.message.role``),
so the same convention decoder reads Phoenix exports and OTLP alike.

Also read: the REST span shape (``context: {trace_id, span_id}``, ``attributes``).
Parquet is read batch by batch with pyarrow, so memory stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from agent_backtest.errors import InputError, Location
from agent_backtest.trace.raw import RawEvent, RawSpan, ReadItem, normalize_id
from agent_backtest.trace.readers.timestamps import to_ns
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "phoenix"
DESCRIPTION = "Phoenix spans dataframe (get_spans_dataframe) as JSONL or Parquet"

PARQUET_MAGIC = b"PAR1"
_ATTRIBUTE_PREFIX = "attributes."
# Phoenix parses these OpenInference values from JSON strings into objects; the
# convention says they are JSON strings, so they go back to being strings.
JSON_STRING_KEYS = (
    "document.metadata",
    "llm.prompt_template.variables",
    "metadata",
    "tool.parameters",
)
_BATCH_ROWS = 2048


# ---- Parquet: shared with the span-annotations reader -------------------------------


def parquet_columns(head: Head) -> list[str] | None:
    """Column names of a Parquet file, from its footer; None when they cannot be read."""
    if not head.raw.startswith(PARQUET_MAGIC):
        return None
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    try:
        if head.path is not None:
            schema = pq.read_schema(head.path)
        elif head.complete:
            schema = pq.read_schema(pa.BufferReader(head.raw))
        else:
            return None
    except (OSError, ValueError, pa.ArrowException):
        return None
    return [str(name) for name in schema.names]


def is_span_columns(columns: list[str] | set[str]) -> bool:
    return "context.span_id" in columns or ("span_kind" in columns and "parent_id" in columns)


def iter_parquet_rows(source: FileSource) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based row number, row as a dict) for each row, one record batch at a time."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise source.fail(
            "reading Parquet needs pyarrow, which is not installed",
            fix="pip install pyarrow, or export the dataframe with df.to_json(orient='records', lines=True)",
        ) from None
    try:
        parquet = pq.ParquetFile(source.path)
    except (OSError, pa.ArrowException) as exc:
        raise source.fail(
            f"not a readable Parquet file: {exc}", fix="the file looks truncated; export it again"
        ) from None
    row = 0
    total = max(1, parquet.metadata.num_rows)
    size = source.path.stat().st_size
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            for index, field in enumerate(batch.schema):
                if pa.types.is_timestamp(field.type):
                    # Exact integers, not datetime objects (which drop nanoseconds).
                    scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[field.type.unit]
                    ints = batch.column(index).cast(pa.int64()).to_pylist()
                    batch = batch.set_column(
                        index,
                        field.name,
                        pa.array([None if v is None else v * scale for v in ints], pa.int64()),
                    )
            for record in batch.to_pylist():
                row += 1
                yield row, record
            if source.options.progress is not None:
                source.options.progress(size * row // total)
    finally:
        parquet.close()


# ---- Reader ----------------------------------------------------------------------------


def sniff(head: Head) -> bool:
    if head.raw.startswith(PARQUET_MAGIC):
        columns = parquet_columns(head)
        # Unknown columns (a big file and no path) still default to spans: the
        # annotations reader only claims files whose columns it has seen.
        return columns is None or is_span_columns(columns)
    return is_span_record(head.first_value)


def is_span_record(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    if "context.span_id" in record:
        return True
    context = record.get("context")
    return isinstance(context, dict) and "span_id" in context and "span_kind" in record


def read(source: FileSource) -> Iterator[ReadItem]:
    with source.open() as handle:
        is_parquet = handle.read(4) == PARQUET_MAGIC
    rows = iter_parquet_rows(source) if is_parquet else source.iter_json_lines()
    where = "row" if is_parquet else "line"
    for number, record in rows:
        try:
            span = span_from_record(record)
        except _RecordError as bad:
            source.skip_or_raise(
                InputError(
                    bad.what,
                    where=Location(source.path, line=number, field=bad.field),
                    fix=f"{where} {number} is not a Phoenix span row; {bad.fix}",
                )
            )
            continue
        yield ReadItem(span=span, line=number)


class _RecordError(Exception):
    def __init__(self, field: str | None, what: str, fix: str) -> None:
        super().__init__(what)
        self.field, self.what, self.fix = field, what, fix


def _present(value: Any) -> bool:
    # pandas writes missing cells as null in JSON and NaN in float columns.
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def span_from_record(record: Any) -> RawSpan:
    if not isinstance(record, dict):
        raise _RecordError(
            None, f"expected an object, found {type(record).__name__}", "export rows as records"
        )
    nested_context = record.get("context")
    context: dict[str, Any] = nested_context if isinstance(nested_context, dict) else {}
    span_id = normalize_id(record.get("context.span_id") or context.get("span_id"), 16)
    trace_id = normalize_id(record.get("context.trace_id") or context.get("trace_id"), 32)
    if span_id is None or trace_id is None:
        missing = "context.span_id" if span_id is None else "context.trace_id"
        raise _RecordError(missing, f"missing {missing!r}", "every span row has both ids")
    start = _time(record, "start_time", required=True)
    end = _time(record, "end_time", required=False)
    attributes: dict[str, Any] = {}
    nested = record.get("attributes")
    if isinstance(nested, dict):
        flatten_into(attributes, "", nested)
    for column, value in record.items():
        if column.startswith(_ATTRIBUTE_PREFIX):
            flatten_into(attributes, column[len(_ATTRIBUTE_PREFIX) :], value)
    status = str(record.get("status_code") or "UNSET").lower()
    message = record.get("status_message")
    kind = record.get("span_kind")
    session = attributes.get("session.id")
    return RawSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=normalize_id(
            record.get("parent_id") if _present(record.get("parent_id")) else None, 16
        ),
        name=str(record.get("name") or ""),
        start_ns=start,
        end_ns=end if end is not None and end >= start else start,
        status_code=status if status in ("ok", "error") else "unset",
        status_message=message if isinstance(message, str) and message else None,
        attributes=attributes,
        events=_events(record.get("events")),
        kind_hint=str(kind).upper() if _present(kind) and kind else None,
        session_hint=str(session) if session is not None else None,
    )


def _time(record: dict[str, Any], key: str, *, required: bool) -> Any:
    value = record.get(key)
    if not _present(value):
        if required:
            raise _RecordError(key, f"missing {key!r}", "every span row has a start time")
        return None
    try:
        return to_ns(value)
    except (TypeError, ValueError) as exc:
        raise _RecordError(key, str(exc), "expected ISO-8601 or epoch milliseconds") from None


def flatten_into(out: dict[str, Any], key: str, value: Any) -> None:
    """Undo Phoenix's unflattening: nested objects and lists of objects -> dotted keys."""
    if not _present(value):
        return
    if isinstance(value, dict):
        if key.endswith(JSON_STRING_KEYS):
            out[key] = orjson.dumps(value).decode()
            return
        for child, child_value in value.items():
            flatten_into(out, f"{key}.{child}" if key else str(child), child_value)
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                flatten_into(out, f"{key}.{index}", item)
    elif isinstance(value, float) and value.is_integer() and "token_count" in key:
        # A dataframe column with gaps is float64, so 120 tokens arrive as 120.0.
        out[key] = int(value)
    else:
        out[key] = value


def _events(value: Any) -> list[RawEvent]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    if not isinstance(value, list):
        return []
    events: list[RawEvent] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        attributes: dict[str, Any] = {}
        flatten_into(attributes, "", item.get("attributes") or {})
        stamp = item.get("timestamp")
        try:
            time_ns = to_ns(stamp) if _present(stamp) else None
        except (TypeError, ValueError):
            time_ns = None
        events.append(
            RawEvent(name=str(item.get("name", "")), time_ns=time_ns, attributes=attributes)
        )
    return events
