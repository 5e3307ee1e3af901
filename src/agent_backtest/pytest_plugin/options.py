"""The ``agent-evals`` options, their ini keys, and the one precedence that resolves them.

For every setting: command-line flag > ``@pytest.mark.agent_evals(...)`` marker >
``BACKTEST_*`` environment variable > pytest ini key (``agent_evals_*``) >
``[tool.agent-backtest]`` in pyproject.toml > default. The agent has one extra
level: a flag or marker beats the evalset's ``agent:``, which beats the rest.

Kept free of heavy imports: ``plugin.py`` imports this at startup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agent_backtest.config import Settings

MARKER = "agent_evals"
LLM_CHOICES = ("live", "record", "replay")


@dataclass(frozen=True)
class Option:
    setting: str  # the Settings field
    flag: str
    help: str
    metavar: str | None = None
    type: Any = str
    marker: str | None = None  # keyword in @pytest.mark.agent_evals(...), when it has one

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def ini(self) -> str:
        return self.dest


OPTIONS = (
    Option(
        "agent",
        "--agent-evals-agent",
        "candidate agent entry point (beats evalset.yaml agent: and [tool.agent-backtest] agent)",
        "MODULE:CALLABLE",
        marker="agent",
    ),
    Option(
        "llm_mode",
        "--agent-evals-llm",
        "LLM calls: replay from cassettes (default), record them, or go live without recording",
        "live|record|replay",
        marker="llm",
    ),
    Option(
        "concurrency",
        "--agent-evals-concurrency",
        "cases run at once inside one pytest process (default 8)",
        "N",
        int,
    ),
    Option(
        "repeat", "--agent-evals-repeat", "run each case K times (default 1)", "K", int, "repeat"
    ),
    Option(
        "pass_rate",
        "--agent-evals-pass-rate",
        "with repeats: share of runs that must pass, 0-1 (default: every run)",
        "RATE",
        float,
        "pass_rate",
    ),
    Option(
        "traces_dir",
        "--agent-evals-traces",
        "write each candidate run as OTLP JSON under DIR/<evalset>/<case>.otlp.json",
        "DIR",
    ),
    Option(
        "evalsets",
        "--agent-evals-evalsets",
        "folder holding the evalsets (default evalsets)",
        "DIR",
    ),
    Option(
        "update",
        "--agent-evals-update",
        "record missing interactions for the selected cases (tools allowed to run live, "
        "LLM calls) and prune unused ones; never runs a side-effecting tool",
        type=bool,
    ),
    Option(
        "shard",
        "--agent-evals-shard",
        "run only slice I of N of the cases (I is 1-based, 1..N; by a stable hash of "
        "evalset/case id); the gate is not enforced, 'backtest merge' decides it over all shards",
        "I/N",
    ),
    Option(
        "baseline",
        "--agent-evals-baseline",
        "a result.json from the main branch: the gate tests for regressions against it",
        "FILE",
    ),
    Option(
        "report_dir",
        "--agent-evals-report",
        "write result.json, junit.xml, report.html and summary.md here (default .backtest/report)",
        "DIR",
    ),
)
BY_SETTING = {o.setting: o for o in OPTIONS}
MARKER_KEYS = {o.marker: o for o in OPTIONS if o.marker}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-evals", "agent-backtest: replay production failures")
    group.addoption(
        "--agent-evals",
        action="store_true",
        default=False,
        help="collect every case under the evalsets folder and replay it against the candidate",
    )
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "default": None}
        if option.type is bool:
            # A switch: None (not given) lets ini/pyproject decide; given means on.
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        else:
            kwargs["metavar"] = option.metavar
        if option.flag == "--agent-evals-llm":
            kwargs["choices"] = LLM_CHOICES
        if option.type not in (str, bool):
            kwargs["type"] = option.type
        group.addoption(option.flag, help=f"{option.help} [ini: {option.ini}]", **kwargs)
        parser.addini(option.ini, option.help, default=None)


def pyproject_of(config: pytest.Config) -> Path | None:
    from agent_backtest.config import find_pyproject

    inipath = config.inipath
    if inipath is not None and inipath.name == "pyproject.toml":
        return inipath
    return find_pyproject(config.rootpath)


def _ini(config: pytest.Config, option: Option) -> Any:
    value = config.getini(option.ini)
    if value in (None, "", []):
        return None
    if option.type is bool:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise pytest.UsageError(f"ini {option.ini} = {value!r} is not true or false")
    try:
        return option.type(value) if option.type is not str else value
    except (TypeError, ValueError):
        raise pytest.UsageError(
            f"ini {option.ini} = {value!r} is not a valid {option.type.__name__}"
        ) from None


def marker_values(marker: pytest.Mark | None) -> dict[str, Any]:
    """``@pytest.mark.agent_evals(llm="record", repeat=3)`` as Settings fields."""
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown or marker.args:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes keywords {', '.join(sorted(MARKER_KEYS))}; "
            f"got {', '.join(unknown) or repr(marker.args)}"
        )
    return {MARKER_KEYS[k].setting: v for k, v in marker.kwargs.items()}


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    agent_override: str | None  # from the flag or a marker: beats evalset.yaml


_RESOLVED = pytest.StashKey[dict[str, "Resolved"]]()


def resolve(config: pytest.Config, marker: pytest.Mark | None = None) -> Resolved:
    """The settings for one item (or the session, without a marker).

    Memoized per session: every case item asks, and reading pyproject.toml and the
    ini keys 500 times cost about 0.3 s of a 500-case run. The key holds everything
    the answer depends on that can differ between calls: the marker and the
    ``BACKTEST_*`` environment.
    """
    from agent_backtest.config import ENV_PREFIX

    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX))
    key = repr((marker.args, sorted(marker.kwargs.items())) if marker else None) + repr(environment)
    cache = config.stash.setdefault(_RESOLVED, {})
    if key not in cache:
        cache[key] = _resolve(config, marker)
    return cache[key]


def _resolve(config: pytest.Config, marker: pytest.Mark | None) -> Resolved:
    from agent_backtest.config import ENV_PREFIX, load_settings
    from agent_backtest.errors import ConfigError

    overrides: dict[str, Any] = {}
    for option in OPTIONS:
        if os.environ.get(ENV_PREFIX + option.setting.upper()) is None:
            value = _ini(config, option)
            if value is not None:
                overrides[option.setting] = value
    marked = marker_values(marker)
    flags = {o.setting: config.getoption(o.dest) for o in OPTIONS}
    flags = {k: v for k, v in flags.items() if v is not None}
    for source in (marked, flags):
        overrides.update({k: v for k, v in source.items() if k != "agent"})
    # The project-level agent (ini, env, pyproject) ranks below evalset.yaml's, so
    # flag and marker travel separately.
    agent_override = flags.get("agent") or marked.get("agent")
    try:
        settings = load_settings(overrides, pyproject=pyproject_of(config))
    except ConfigError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    if settings.llm_mode not in LLM_CHOICES:
        raise pytest.UsageError(
            f"llm mode {settings.llm_mode!r} is not one of {', '.join(LLM_CHOICES)}"
        )
    if settings.pass_rate is not None and not 0 <= settings.pass_rate <= 1:
        raise pytest.UsageError(f"pass rate {settings.pass_rate} must be between 0 and 1")
    if settings.repeat < 1 or settings.concurrency < 1:
        raise pytest.UsageError("repeat and concurrency must be at least 1")
    return Resolved(settings, agent_override)
