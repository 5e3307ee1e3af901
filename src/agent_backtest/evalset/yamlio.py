"""YAML text in and out: the libyaml loader/dumper with the rules case files need.

- Loading never guesses types a round trip would change (no timestamps: a date in
  a tool argument stays the string the agent saw) and rejects duplicate keys,
  which plain YAML silently resolves to the last one.
- Dumping keeps key order, writes multi-line strings as literal blocks so a git
  diff shows the text as text, never emits aliases, and keeps unicode.
- ``line_of`` maps a field path to the line it sits on, by composing the node
  tree only when an error has to be reported (the fast path never composes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import yaml

from agent_backtest.errors import BacktestError, InputError, Location

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class StrictLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader without timestamp resolution and with duplicate-key detection."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if len(mapping) != len(node.value):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return mapping


class BlockDumper(_BaseDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        # Aliases (&a / *a) make a diff unreadable and tie unrelated values together.
        return True


def _represent_str(dumper: Any, data: str) -> Any:
    if "\n" in data:
        # The emitter falls back to a quoted style on its own when a block cannot
        # represent the text exactly (e.g. trailing spaces), so this is always safe.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


BlockDumper.add_representer(str, _represent_str)


def parse_yaml(text: str, path: Path, error: type[BacktestError] = InputError) -> Any:
    try:
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        raise error(
            f"invalid YAML: {problem}",
            where=Location(
                path,
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            ),
            fix="fix the YAML syntax at that line",
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", where=Location(path)) from None


def dump_yaml(data: Any, header: str | None = None) -> str:
    body: str = yaml.dump(
        data,
        Dumper=BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,  # no folding of long lines: one value, one line in a diff
    )
    return f"{header}\n{body}" if header else body


def line_of(text: str, loc: Sequence[str | int]) -> tuple[int | None, int | None]:
    """1-based (line, column) of the deepest node along ``loc`` that exists in ``text``.

    For a key that exists the key's own position is returned (an unknown key is
    reported where it is written); a missing key resolves to its parent mapping.
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError:
        return None, None
    if node is None:
        return None, None
    mark = node.start_mark
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    mark, node = key_node.start_mark, value_node
                    break
            else:
                continue  # pydantic union tags ("str", "dict[str,any]") are not in the file
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        else:
            continue
    return mark.line + 1, mark.column + 1
