"""``result.json``: write a run result atomically, read one back with errors that teach.

Reading is where users hand us files (``--agent-evals-baseline``, ``backtest
merge``), so every way a file can be wrong is one ``InputError`` line naming
the file, what is wrong and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_backtest.errors import InputError, Location
from agent_backtest.report.model import RUN_SCHEMA, RunReport
from agent_backtest.trace.writers import atomic_writer

SCHEMA_PREFIX = RUN_SCHEMA.rsplit("@", 1)[0] + "@"
REGENERATE = "write it again with pytest --agent-evals or backtest merge"


def write_result(report: RunReport, path: Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(report.to_json().encode("utf-8") + b"\n")


def read_result(path: Path) -> RunReport:
    raw = _read_bytes(path)
    try:
        # The common case in one pass: pydantic parses and validates the bytes
        # (a run with every candidate trace is tens of MB; a separate json.loads
        # first cost a third of the time).
        report = RunReport.model_validate_json(raw)
    except ValidationError:
        return _read_with_diagnosis(path, raw)
    if "schema_" not in report.model_fields_set or report.schema_ != RUN_SCHEMA:
        # Valid fields but no or another schema: a default must not pass for one.
        given = "schema_" in report.model_fields_set
        _check_schema(path, {"schema": report.schema_} if given else {})
    return report


def _read_with_diagnosis(path: Path, raw: bytes) -> RunReport:
    """The slow path, for a file that did not validate: say exactly what is wrong."""
    data = _parse_json(path, raw)
    _check_schema(path, data)
    try:
        return RunReport.model_validate(data)  # e.g. a byte-order mark pydantic refused
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InputError(
            f"invalid run result: {error['msg']}{more}",
            where=Location(path, field=field),
            fix=REGENERATE,
        ) from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            "run result not found",
            where=Location(path),
            fix="pass the result.json pytest --agent-evals wrote, by default in .backtest/report/",
        ) from None
    except IsADirectoryError:
        raise InputError(
            "is a folder, not a run result",
            where=Location(path),
            fix="pass the result.json inside it",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read run result: {exc.strerror}", where=Location(path)) from None


def _parse_json(path: Path, raw: bytes) -> Any:
    try:
        # Decoded here: json.loads on bytes would guess UTF-16 from a stray BOM.
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(
            "run result is not UTF-8 text", where=Location(path), fix=REGENERATE
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"run result is not valid JSON: {exc.msg}",
            where=Location(path, line=exc.lineno, column=exc.colno),
            fix=REGENERATE,
        ) from None


def _check_schema(path: Path, data: Any) -> None:
    if not isinstance(data, dict):
        raise InputError(
            f"a run result is a JSON object, found {type(data).__name__}",
            where=Location(path),
            fix=REGENERATE,
        )
    schema = data.get("schema")
    if schema == RUN_SCHEMA:
        return
    where = Location(path, field="schema")
    if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
        raise InputError(
            f"run result version {schema!r} is not supported (this agent-backtest reads "
            f"{RUN_SCHEMA!r})",
            where=where,
            fix="run the agent-backtest version that wrote it, or write it again with this one",
        )
    found = "no schema" if schema is None else f"schema {schema!r}"
    raise InputError(
        f"not a run result: {found}, expected {RUN_SCHEMA!r}",
        where=where,
        fix="pass the result.json pytest --agent-evals writes, not a case or trace file",
    )
