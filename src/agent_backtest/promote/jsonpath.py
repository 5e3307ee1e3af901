"""A small JSON path subset for user redaction rules: ``$.a.b[*].c``, ``$['x y'][0]``, ``.*``.

Enough to point at a field inside a case ("every recording's
``arguments.customer.ssn``") without pulling in a JSONPath engine whose
filter expressions would make a redaction rule hard to review.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agent_backtest.errors import ConfigError

WILDCARD = object()
Step = str | int | object  # a key, an index, or WILDCARD

_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
      | \.(?P<star>\*)
      | \[(?P<index>-?\d+)\]
      | \[(?P<bstar>\*)\]
      | \[(?P<q>['"])(?P<quoted>(?:(?!(?P=q)).)*)(?P=q)\]""",
    re.VERBOSE,
)


def parse_path(path: str) -> list[Step]:
    """``$.a.b[*].c`` -> ``["a", "b", WILDCARD, "c"]``; anything else is a ConfigError."""
    if not path.startswith("$"):
        raise ConfigError(
            f"JSON path {path!r} must start with '$'",
            fix="write it like $.recordings[*].arguments.email",
        )
    steps: list[Step] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise ConfigError(
                f"JSON path {path!r}: cannot read {path[position:]!r} (at character {position})",
                fix="supported: .name, .*, [n], [*], ['quoted name']",
            )
        if match.group("name") is not None:
            steps.append(match.group("name"))
        elif match.group("star") or match.group("bstar"):
            steps.append(WILDCARD)
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("quoted"))
        position = match.end()
    return steps


def replace_at(document: Any, steps: list[Step], replace: Callable[[Any], Any]) -> int:
    """Replace every value the path reaches, in place; returns how many were replaced."""
    if not steps:
        return 0
    return _replace(document, steps, 0, replace)


def _replace(node: Any, steps: list[Step], depth: int, replace: Callable[[Any], Any]) -> int:
    step = steps[depth]
    last = depth == len(steps) - 1
    slots: list[Any]
    if isinstance(node, dict):
        if step is WILDCARD:
            slots = list(node)
        elif isinstance(step, str) and step in node:
            slots = [step]
        else:
            return 0
    elif isinstance(node, list):
        if step is WILDCARD:
            slots = list(range(len(node)))
        elif isinstance(step, int) and -len(node) <= step < len(node):
            slots = [step]
        else:
            return 0
    else:
        return 0
    count = 0
    for slot in slots:
        if last:
            if node[slot] is not None:
                node[slot] = replace(node[slot])
                count += 1
        else:
            count += _replace(node[slot], steps, depth + 1, replace)
    return count
