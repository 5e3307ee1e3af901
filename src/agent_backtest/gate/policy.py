"""The one gate policy a run is judged by: the project's table over the evalsets' ``gate:``.

A key set in ``[tool.agent-backtest.gate]`` wins (a project decides for all its
evalsets). A key it leaves out takes the strictest value any evalset set
explicitly, because one run gates all of them together and loosening one
evalset must not loosen another's cases. A key nobody sets keeps its default.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from agent_backtest.errors import ConfigError, Location
from agent_backtest.evalset.config import GatePolicy

TABLE = "[tool.agent-backtest.gate]"


def _highest(values: list[Any]) -> Any:
    return max(values)


def _lowest(values: list[Any]) -> Any:
    return min(values)


def _first_of(order: Sequence[Any]) -> Callable[[list[Any]], Any]:
    """Strictest = earliest in ``order``."""

    def pick(values: list[Any]) -> Any:
        return min(values, key=order.index)

    return pick


def _highest_per_mode(values: list[dict[str, float]]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for mapping in values:
        for mode, rate in mapping.items():
            merged[mode] = max(rate, merged.get(mode, rate))
    return dict(sorted(merged.items()))


def _highest_set(values: list[float | None]) -> float | None:
    # None (no calibration check) is the loosest value.
    present = [v for v in values if v is not None]
    return max(present) if present else None


# Every key needs a rule; tests/gate/test_policy.py checks none is missing.
STRICTEST: dict[str, Callable[[list[Any]], Any]] = {
    "min_coverage": _highest,
    "min_cases_per_mode": _highest,
    "max_uncovered_share": _lowest,
    "min_pass_rate": _highest,
    "min_pass_rate_by_mode": _highest_per_mode,
    "max_regressions": _lowest,
    "alpha": _highest,  # a larger alpha flags a regression on less evidence
    "confidence": _highest,
    "errors_count_as": _first_of(("fail", "skip")),
    "quarantine_flaky": _first_of((False, True)),
    "classifier_drift": _first_of(("fail", "warn", "ignore")),
    "calibration_min_kappa": _highest_set,
}


def effective_policy(
    project: Mapping[str, Any] | None,
    evalset_policies: Sequence[GatePolicy],
    *,
    where: Path | Location | None = None,
) -> GatePolicy:
    """The policy for one run. ``project`` is ``Settings.gate`` (raw, validated here);
    ``where`` names the pyproject.toml it came from, for the error message."""
    chosen: dict[str, Any] = {}
    for key, rule in STRICTEST.items():
        values = [getattr(p, key) for p in evalset_policies if key in p.model_fields_set]
        if values:
            chosen[key] = rule(values)
    if project is not None:
        given = validate_project_policy(project, where=where)
        chosen.update({key: getattr(given, key) for key in given.model_fields_set})
    return GatePolicy.model_validate(chosen)


def validate_project_policy(
    table: Mapping[str, Any], *, where: Path | Location | None = None
) -> GatePolicy:
    """``[tool.agent-backtest.gate]`` as a GatePolicy; a one-line ConfigError when it is wrong."""
    location = where if isinstance(where, Location) else Location(where)
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"{TABLE} must be a table, got {type(table).__name__}",
            where=location,
            fix=f"write {TABLE} with keys such as min_pass_rate = 0.9",
        )
    data = {str(key).replace("-", "_"): value for key, value in table.items()}
    unknown = sorted(set(data) - set(GatePolicy.model_fields))
    if unknown:
        near = difflib.get_close_matches(unknown[0], list(GatePolicy.model_fields), n=1)
        hint = f"did you mean {near[0]}? " if near else ""
        raise ConfigError(
            f"{TABLE} {unknown[0]}: unknown key",
            where=location,
            fix=f"{hint}valid keys: {', '.join(GatePolicy.model_fields)}",
        )
    try:
        return GatePolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0])
        inner = ".".join(str(part) for part in first["loc"][1:])
        place = f"{key}.{inner}" if inner else key
        raise ConfigError(
            f"{TABLE} {place}: {first['input']!r} is not valid",
            where=location,
            fix=f"expected {expected_value(key)}",
        ) from None


def expected_value(key: str) -> str:
    """What a gate key accepts, in words: its type and range or its choices."""
    field = GatePolicy.model_fields[key]
    if key == "min_pass_rate_by_mode":
        return "a table of failure mode = a number from 0 to 1"
    choices = get_args(field.annotation)
    if choices and all(isinstance(c, str) for c in choices):
        return "one of: " + ", ".join(f'"{c}"' for c in choices)
    if field.annotation is bool:
        return "true or false"
    noun = "an integer" if field.annotation is int else "a number"
    # The constraints are annotated_types objects (Ge(ge=0), ...); read them by name.
    limits = {
        attr: getattr(bound, attr)
        for bound in field.metadata
        for attr in ("ge", "gt", "le", "lt")
        if hasattr(bound, attr)
    }
    if set(limits) == {"ge", "le"}:
        text = f"{noun} from {limits['ge']} to {limits['le']}"
    else:
        signs = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
        bounds = " and ".join(f"{signs[attr]} {value}" for attr, value in limits.items())
        text = f"{noun} {bounds}".rstrip()
    return text + (", or leave it out" if field.default is None else "")
