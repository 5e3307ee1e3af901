"""The failure-mode taxonomy: built-in YAML data, extended or overridden by a user file.

A taxonomy file (``schema: agent-backtest/taxonomy@1``) has two mappings::

    categories:
      billing:                       # a new category
        title: Billing
        description: Money moved wrongly.
    modes:
      refund_without_approval:       # a new mode: title, category, description required
        title: Refund without approval
        category: billing
        description: The agent refunded more than policy allows without a human.
        tested_by: [refund_policy_judge]
      step_repetition:               # an existing mode: only the fields given change
        tested_by: [step_repetition, my_loop_judge]

Loading is strict: an unknown key, a missing field on a new entry or a mode
in an unknown category is a ``ConfigError`` naming the file, the line and the
field, because a typo in a taxonomy silently drops a failure mode from coverage.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent_backtest.errors import ConfigError, Location

SCHEMA = "agent-backtest/taxonomy@1"
BUILTIN_FILE = "builtin.yaml"
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_LEVEL = ("schema", "categories", "modes")
_CATEGORY_FIELDS = ("title", "description")
_MODE_FIELDS = ("title", "category", "description", "tested_by", "source")
_MODE_REQUIRED = ("title", "category", "description")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    description: str


class FailureMode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    category: str
    description: str
    tested_by: tuple[str, ...] = ()  # classifier ids: rule detectors or judges
    source: str | None = None  # where the mode comes from, e.g. "MAST FM-1.3"


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: dict[str, Category] = Field(default_factory=dict)
    modes: dict[str, FailureMode] = Field(default_factory=dict)

    def keys(self) -> list[str]:
        return list(self.modes)

    def mode(self, key: str) -> FailureMode:
        try:
            return self.modes[key]
        except KeyError:
            close = difflib.get_close_matches(key, self.modes, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"unknown failure mode {key!r}",
                fix=f"{hint}known modes: {', '.join(sorted(self.modes))}",
            ) from None

    def in_category(self, category: str) -> list[FailureMode]:
        return [m for m in self.modes.values() if m.category == category]

    def tested_by(self, classifier_id: str) -> list[FailureMode]:
        """The modes a classifier provides evidence for (coverage counts these)."""
        return [m for m in self.modes.values() if classifier_id in m.tested_by]

    def untested(self) -> list[FailureMode]:
        return [m for m in self.modes.values() if not m.tested_by]

    def unknown_classifiers(self, known: set[str] | frozenset[str]) -> dict[str, list[str]]:
        """``{mode: [ids not in known]}``: ``tested_by`` entries nothing provides."""
        missing = {k: [c for c in m.tested_by if c not in known] for k, m in self.modes.items()}
        return {k: v for k, v in missing.items() if v}


def load_taxonomy(user_file: str | Path | None = None) -> Taxonomy:
    """The built-in taxonomy, extended or overridden by ``user_file`` when given."""
    categories, modes = _builtin_entries()
    categories, modes = dict(categories), dict(modes)
    if user_file is not None:
        path = Path(user_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the taxonomy file: {exc.strerror}",
                where=Location(path),
                fix="check the path",
            ) from exc
        _merge(text, path, categories, modes)
    return Taxonomy(categories=categories, modes=modes)


@cache
def builtin_taxonomy() -> Taxonomy:
    return load_taxonomy()


def failure_mode_keys() -> list[str]:
    """Keys of the built-in failure modes (promote uses these to validate labels)."""
    return builtin_taxonomy().keys()


@cache
def _builtin_entries() -> tuple[dict[str, Category], dict[str, FailureMode]]:
    resource = files("agent_backtest.taxonomy").joinpath(BUILTIN_FILE)
    categories: dict[str, Category] = {}
    modes: dict[str, FailureMode] = {}
    _merge(resource.read_text(encoding="utf-8"), BUILTIN_FILE, categories, modes)
    return categories, modes


# -- merging one file -------------------------------------------------------


class _Positions:
    """Line numbers of keys in a YAML document, for error messages."""

    def __init__(self, text: str) -> None:
        self.root = yaml.compose(text)

    def line(self, *path: str) -> int | None:
        node = self.root
        line = None
        for part in path:
            if not isinstance(node, yaml.MappingNode):
                break
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                break
        return line


def _merge(
    text: str,
    path: str | Path,
    categories: dict[str, Category],
    modes: dict[str, FailureMode],
) -> None:
    try:
        data = yaml.safe_load(text)
        positions = _Positions(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            where=Location(path, line=mark.line + 1 if mark else None),
        ) from exc

    def fail(what: str, *field: str, fix: str | None = None) -> ConfigError:
        return ConfigError(
            what,
            where=Location(path, line=positions.line(*field), field=".".join(field)),
            fix=fix,
        )

    if data is None:
        return
    if not isinstance(data, dict):
        raise fail(f"a taxonomy must be a mapping, got {type(data).__name__}")
    for key in data:
        if key not in _TOP_LEVEL:
            raise fail(f"unknown key {key!r}", str(key), fix=f"expected: {', '.join(_TOP_LEVEL)}")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise fail(f"unsupported schema {data['schema']!r}", "schema", fix=f"use {SCHEMA}")

    for key, body in _entries(data, "categories", fail).items():
        fields = _fields(body, "categories", key, _CATEGORY_FIELDS, fail)
        base = categories[key].model_dump() if key in categories else {"key": key}
        missing = [f for f in _CATEGORY_FIELDS if f not in base and f not in fields]
        if missing:
            raise fail(f"new category {key!r} needs {', '.join(missing)}", "categories", key)
        categories[key] = Category(**{**base, **fields})

    for key, body in _entries(data, "modes", fail).items():
        fields = _fields(body, "modes", key, _MODE_FIELDS, fail)
        base = modes[key].model_dump() if key in modes else {"key": key}
        missing = [f for f in _MODE_REQUIRED if f not in base and f not in fields]
        if missing:
            raise fail(f"new failure mode {key!r} needs {', '.join(missing)}", "modes", key)
        if "tested_by" in fields:
            tested = fields["tested_by"]
            if not isinstance(tested, list) or not all(isinstance(t, str) for t in tested):
                raise fail(
                    "tested_by must be a list of classifier ids",
                    "modes",
                    key,
                    "tested_by",
                    fix="e.g. tested_by: [step_repetition, my_judge]",
                )
            fields["tested_by"] = tuple(tested)
        merged = {**base, **fields}
        if merged["category"] not in categories:
            raise fail(
                f"unknown category {merged['category']!r}",
                "modes",
                key,
                "category",
                fix=f"choose one of: {', '.join(categories)}, or define it under categories",
            )
        modes[key] = FailureMode(**merged)


def _entries(data: dict[str, Any], section: str, fail: Any) -> dict[str, Any]:
    entries = data.get(section) or {}
    if not isinstance(entries, dict):
        raise fail(f"{section} must be a mapping of key -> fields", section)
    for key in entries:
        if not isinstance(key, str) or not _KEY.match(key):
            raise fail(
                f"invalid key {key!r}",
                section,
                str(key),
                fix="use lower_snake_case: letters, digits and underscores",
            )
    return entries


def _fields(
    body: Any, section: str, key: str, allowed: tuple[str, ...], fail: Any
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise fail(f"{section}.{key} must be a mapping of fields", section, key)
    for name, value in body.items():
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(
                f"unknown field {name!r}",
                section,
                key,
                str(name),
                fix=f"{hint}allowed: {', '.join(allowed)}",
            )
        if name != "tested_by" and not isinstance(value, str):
            raise fail(f"{name} must be text", section, key, str(name))
    return dict(body)
