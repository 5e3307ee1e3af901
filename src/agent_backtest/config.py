"""One settings loader: ``[tool.agent-backtest]`` in pyproject.toml plus ``BACKTEST_*`` env.

Precedence, for every setting (documented in docs/configuration.md):
CLI flag / pytest option > pytest marker > environment (BACKTEST_*) > pyproject > default.
The adapters pass flags in as ``overrides``; this module does the rest.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent_backtest.errors import ConfigError, Location

ENV_PREFIX = "BACKTEST_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    evalsets: str = "evalsets"
    llm_mode: str = "replay"
    concurrency: int = 8
    repeat: int = 1
    pass_rate: float | None = None  # with repeat > 1: the share of runs that must pass
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key_env: str = "OPENAI_API_KEY"
    cache_dir: str = ".backtest/cache"
    traces_dir: str | None = None
    # Record missing tool/LLM interactions for the selected cases and prune unused ones.
    update: bool = False
    shard: str | None = None  # "i/n": run the i-th of n deterministic slices of the cases
    baseline: str | None = None  # a run-result JSON from main to compare against
    report_dir: str = ".backtest/report"  # result.json, junit.xml, report.html, summary.md
    # [tool.agent-backtest.gate]: the project's gate policy (keys of GatePolicy);
    # validated by the gate, which can name the key and its valid range.
    gate: dict[str, Any] | None = None


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _from_pyproject(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"invalid TOML: {exc}", where=Location(path), fix="fix the syntax"
        ) from None
    section = data.get("tool", {}).get("agent-backtest", {})
    return {key.replace("-", "_"): value for key, value in section.items()}


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            out[name] = value
    return out


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    pyproject: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    path = pyproject if pyproject is not None else find_pyproject()
    merged: dict[str, Any] = _from_pyproject(path) if path else {}
    merged.update(_from_env(os.environ if environ is None else environ))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        choices = ", ".join(sorted(Settings.model_fields))
        raise ConfigError(
            f"[tool.agent-backtest] {field}: {first['msg']}",
            where=Location(path, field=field),
            fix=f"valid keys: {choices}",
        ) from None
