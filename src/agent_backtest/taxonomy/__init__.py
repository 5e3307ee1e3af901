"""Failure modes: the built-in taxonomy (operational + MAST) and user extensions.

Also ships judge templates as YAML data (``judges/``) for the judge loader.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from agent_backtest.errors import ConfigError
from agent_backtest.taxonomy.taxonomy import (
    SCHEMA,
    Category,
    FailureMode,
    Taxonomy,
    builtin_taxonomy,
    failure_mode_keys,
    load_taxonomy,
)


def judge_templates() -> dict[str, Traversable]:
    """Shipped judge definitions by id (file stem), e.g. ``task_outcome``."""
    folder = files("agent_backtest.taxonomy").joinpath("judges")
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def judge_template_text(name: str) -> str:
    """The YAML text of a shipped judge template, ready for the judge loader."""
    templates = judge_templates()
    if name not in templates:
        raise ConfigError(
            f"no judge template {name!r}", fix=f"available: {', '.join(templates) or 'none'}"
        )
    return templates[name].read_text(encoding="utf-8")


__all__ = [
    "SCHEMA",
    "Category",
    "FailureMode",
    "Taxonomy",
    "builtin_taxonomy",
    "failure_mode_keys",
    "judge_template_text",
    "judge_templates",
    "load_taxonomy",
]
