"""The configuration check: ``[tool.agent-backtest]`` loads, and where each setting came from."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_backtest.config import ENV_PREFIX, Settings, find_pyproject, load_settings
from agent_backtest.doctor.result import CheckResult, Status
from agent_backtest.errors import ConfigError
from agent_backtest.evalset.config import GatePolicy

NAME = "configuration"
PYPROJECT = "[tool.agent-backtest]"
LLM_MODES = ("live", "record", "replay")  # replay.runner.LLM_MODES, without importing replay


@dataclass(frozen=True)
class LoadedSettings:
    """The effective settings, and for each one set explicitly where it came from."""

    settings: Settings
    pyproject: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)  # setting -> "pyproject.toml" etc.
    loaded: bool = True  # False: the file did not load and these are the defaults

    @property
    def project_root(self) -> Path:
        """Where ``pytest`` would put its rootdir: the pyproject's folder, else here."""
        return self.pyproject.parent if self.pyproject is not None else Path.cwd()

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")


def _pyproject_keys(path: Path) -> set[str]:
    # Only called after load_settings read the same file, so it parses.
    section = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    return {key.replace("-", "_") for key in section.get("agent-backtest", {})}


def _sources(
    path: Path | None, overrides: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, str]:
    """The same precedence as ``load_settings``: flag > environment > pyproject."""
    from_file = _pyproject_keys(path) if path is not None else set()
    sources: dict[str, str] = {}
    for name in Settings.model_fields:
        if overrides.get(name) is not None:
            sources[name] = f"--{name.replace('_', '-')}"
        elif ENV_PREFIX + name.upper() in environ:
            sources[name] = f"${ENV_PREFIX}{name.upper()}"
        elif name in from_file:
            sources[name] = PYPROJECT
    return sources


def _shown(path: Path) -> Path:
    """Relative to the working directory when inside it: shorter, and what users type."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _describe_sources(sources: dict[str, str]) -> str:
    if not sources:
        return "every setting is the default"
    by_origin: dict[str, list[str]] = {}
    for name, origin in sources.items():
        by_origin.setdefault(origin, []).append(name)
    parts = [f"{', '.join(names)} from {origin}" for origin, names in by_origin.items()]
    return "; ".join(parts) + "; the rest default"


def _semantic_problem(settings: Settings, path: Path | None) -> CheckResult | None:
    """What the loader leaves to later stages but a run would reject."""
    where = f"{_shown(path)}: " if path is not None else ""
    if settings.llm_mode not in LLM_MODES:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{where}llm_mode {settings.llm_mode!r} is not one of {', '.join(LLM_MODES)}",
            "set llm_mode = 'replay' (or live, record) in [tool.agent-backtest]",
        )
    if settings.gate is not None:
        try:
            GatePolicy.model_validate(settings.gate)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            return CheckResult(
                NAME,
                Status.FAIL,
                f"{where}[tool.agent-backtest.gate] {key}: {first['msg']}",
                f"valid gate keys: {', '.join(GatePolicy.model_fields)} (see docs/cases.md)",
            )
    return None


def check_configuration(
    overrides: Mapping[str, Any], environ: Mapping[str, str], pyproject: Path | None = None
) -> tuple[CheckResult, LoadedSettings]:
    """Load the settings as every command does. On failure the later checks get the
    defaults (plus overrides), so they can still report what does not depend on them."""
    path = pyproject if pyproject is not None else find_pyproject()
    try:
        settings = load_settings(overrides, pyproject=path, environ=environ)
    except ConfigError as error:
        fallback = Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
        where = error.where
        if path is not None and where.path is not None:
            where = replace(where, path=_shown(Path(where.path)))
        result = CheckResult.from_error(NAME, error, where=where)
        return result, LoadedSettings(fallback, path, loaded=False)
    loaded = LoadedSettings(settings, path, _sources(path, overrides, environ))
    problem = _semantic_problem(settings, path)
    if problem is not None:
        return problem, loaded
    origin = "no pyproject.toml found" if path is None else str(_shown(path))
    return CheckResult(NAME, Status.OK, f"{origin}: {_describe_sources(loaded.sources)}"), loaded
