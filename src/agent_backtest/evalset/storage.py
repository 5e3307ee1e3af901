"""Case and ``evalset.yaml`` files on disk: strict loading with file:line errors, atomic writes.

Loading is the hot path (10,000 cases in a few seconds), so it parses with
libyaml, validates once with pydantic, and only composes the YAML node tree
again when there is an error to place on a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from agent_backtest.errors import BacktestError, ConfigError, InputError, Location
from agent_backtest.evalset.case import CASE_SCHEMA, Case, content_hash_of
from agent_backtest.evalset.config import EVALSET_SCHEMA, EvalSetConfig
from agent_backtest.evalset.migrations import (
    MigrationRegistry,
    case_migrations,
    evalset_migrations,
)
from agent_backtest.evalset.parsecache import ParseCache
from agent_backtest.evalset.yamlio import dump_yaml, line_of, parse_yaml
from agent_backtest.trace.writers import atomic_writer

# Editors (VS Code YAML, JetBrains) validate and complete case files from this header.
# The schemas are also shipped in the package and written by ``backtest schema -o``.
SCHEMA_URL_BASE = (
    "https://raw.githubusercontent.com/agent-backtest/agent-backtest/main/"
    "src/agent_backtest/evalset/schemas/"
)
CASE_HEADER = f"# yaml-language-server: $schema={SCHEMA_URL_BASE}case.schema.json"
EVALSET_HEADER = f"# yaml-language-server: $schema={SCHEMA_URL_BASE}evalset.schema.json"
_VERSION = re.compile(r"^(?P<prefix>.+@)(?P<version>\d+)$")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class CaseFile:
    """A loaded case plus what ``validate`` needs to know about the file it came from."""

    path: Path
    case: Case
    migrated_from: int | None  # the file's schema version when it was older
    stored_hash_ok: bool  # the file's content_hash matches its content


# -- loading --------------------------------------------------------------------------


def read_case(path: Path, cache: ParseCache | None = None) -> CaseFile:
    raw = _read_bytes(path, InputError)
    key = ParseCache.key(raw) if cache is not None else ""
    parsed = cache.get(key) if cache is not None else None
    if parsed is None:
        parsed = parse_yaml(_decode(raw, path, InputError), path, InputError)
        if cache is not None:
            cache.put(key, parsed)
    # The text is decoded again only when an error has to be placed on a line.
    text = _LazyText(raw)
    data, migrated_from = _upgrade(parsed, text, path, case_migrations, InputError)
    case = _validate(Case, data, text, path, migrated_from, InputError)
    if migrated_from is not None and case.content_hash is None:
        # Old versions had no hash; the migrated content is what the hash is over now.
        case.content_hash = case.compute_content_hash()
        return CaseFile(path, case, migrated_from, True)
    stored = data.get("content_hash")
    # Fast path: a file we wrote is already canonical, so hashing the parsed data
    # equals hashing the model's dump, without dumping it.
    ok = stored is not None and (content_hash_of(data) == stored or case.content_hash_ok())
    return CaseFile(path, case, migrated_from, ok)


def load_case(path: Path) -> Case:
    return read_case(path).case


def load_evalset_config(path: Path) -> EvalSetConfig:
    raw = _read_bytes(path, ConfigError)
    text = _LazyText(raw)
    parsed = parse_yaml(_decode(raw, path, ConfigError), path, ConfigError)
    data, migrated_from = _upgrade(parsed, text, path, evalset_migrations, ConfigError)
    return _validate(EvalSetConfig, data, text, path, migrated_from, ConfigError)


class _LazyText:
    """File bytes that are decoded only if an error message needs line numbers."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


def _read_bytes(path: Path, error: type[BacktestError]) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", where=Location(path)) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", where=Location(path)) from None


def _decode(raw: bytes, path: Path, error: type[BacktestError]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"not UTF-8 text ({exc.reason})", where=Location(path), fix="save it as UTF-8"
        ) from None


def _upgrade(
    data: Any, text: _LazyText, path: Path, registry: MigrationRegistry, error: type[BacktestError]
) -> tuple[dict[str, Any], int | None]:
    current = f"{registry.prefix}{registry.current}"
    if not isinstance(data, dict):
        raise error(
            f"expected a mapping with 'schema: {current}', got {type(data).__name__}",
            where=Location(path, 1),
        )
    schema = data.get("schema")
    if schema is None:
        raise error(
            "missing key 'schema'",
            where=Location(path, 1, field="schema"),
            fix=f"add 'schema: {current}' as the first key",
        )
    match = _VERSION.match(schema) if isinstance(schema, str) else None
    line: int | None = None
    column: int | None = None
    if match is None or int(match["version"]) != registry.current:
        line, column = line_of(str(text), ["schema"])  # only off the fast path
    if match is None or match["prefix"] != registry.prefix:
        raise error(
            f"schema {schema!r} is not a {registry.prefix.rstrip('@')} schema",
            where=Location(path, line, column, field="schema"),
            fix=f"expected '{current}'",
        )
    version = int(match["version"])
    if version > registry.current:
        raise error(
            f"schema {schema} is newer than this agent-backtest reads ({current})",
            where=Location(path, line, column, field="schema"),
            fix="upgrade agent-backtest: pip install -U agent-backtest",
        )
    if version == registry.current:
        return data, None
    if version < registry.oldest():
        raise error(
            f"schema {schema} is too old to migrate (oldest supported: "
            f"{registry.prefix}{registry.oldest()})",
            where=Location(path, line, column, field="schema"),
        )
    return registry.upgrade(data, version), version


def _validate(
    model: type[M],
    data: dict[str, Any],
    text: _LazyText,
    path: Path,
    migrated_from: int | None,
    error: type[BacktestError],
) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, model, data, text, path, migrated_from, error) from None


# -- error messages -------------------------------------------------------------------


def _explain(
    exc: ValidationError,
    model: type[BaseModel],
    data: dict[str, Any],
    text: _LazyText,
    path: Path,
    migrated_from: int | None,
    error: type[BacktestError],
) -> BacktestError:
    first = exc.errors()[0]
    kind = first["type"]
    loc = _data_path(data, first["loc"], keep_missing_last=kind == "missing")
    field = _format_path(loc)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if migrated_from is not None:
        # Lines in the old file do not correspond to the migrated field paths.
        line = column = None
        more += f" after migrating from @{migrated_from}"
    else:
        line, column = line_of(str(text), loc)
    fix: str | None
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        valid = _valid_keys(model, loc[:-1])
        near = get_close_matches(key, valid, n=1)
        what = f"unknown key {key!r}"
        fix = (f"did you mean {near[0]!r}? " if near else "") + "valid keys: " + ", ".join(valid)
    elif kind == "missing":
        what = f"missing required key {str(loc[-1])!r}" if loc else "missing required key"
        fix = "add it"
    else:
        got = repr(first.get("input"))
        got = got if len(got) <= 60 else got[:57] + "..."
        what = f"{first['msg']} (got {got})"
        name = "case" if model is Case else "evalset"
        fix = f"see 'backtest schema {name}' for the expected shape"
    return error(what + more, where=Location(path, line, column, field or None), fix=fix)


def _data_path(
    data: Any, loc: tuple[str | int, ...], *, keep_missing_last: bool
) -> list[str | int]:
    """The part of a pydantic ``loc`` that names real keys and indexes in the data.

    Pydantic adds union member tags (``str``, ``dict[str,any]``) to ``loc``; they are
    not in the file, so they are skipped by walking the data alongside.
    """
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif keep_missing_last and i == len(loc) - 1:
            out.append(part)
    return out


def _format_path(loc: list[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _valid_keys(model: type[BaseModel], loc: list[str | int]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (for an unknown-key message)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
            if str(part) not in fields:
                return []
            annotation = fields[str(part)].annotation
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


# -- writing --------------------------------------------------------------------------


def case_to_yaml(case: Case) -> str:
    return dump_yaml(case.to_data(), header=CASE_HEADER)


def write_case(case: Case, path: Path) -> Case:
    """Write ``case`` atomically with a fresh content hash; returns what was written."""
    hashed = case.with_content_hash()
    with atomic_writer(path) as handle:
        handle.write(case_to_yaml(hashed).encode("utf-8"))
    return hashed


def evalset_config_to_yaml(config: EvalSetConfig) -> str:
    return dump_yaml(config.to_data(), header=EVALSET_HEADER)


def write_evalset_config(config: EvalSetConfig, path: Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(evalset_config_to_yaml(config).encode("utf-8"))


__all__ = [
    "CASE_HEADER",
    "CASE_SCHEMA",
    "EVALSET_HEADER",
    "EVALSET_SCHEMA",
    "CaseFile",
    "case_to_yaml",
    "evalset_config_to_yaml",
    "load_case",
    "load_evalset_config",
    "read_case",
    "write_case",
    "write_evalset_config",
]
