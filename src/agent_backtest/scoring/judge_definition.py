"""LLM-judge definitions: the YAML a team writes, loaded strictly, versioned by content.

One file per judge in a ``classifiers/`` folder (or an inline mapping, e.g. in
evalset.yaml)::

    id: task_outcome
    description: Did the agent finish what the user asked for?
    kind: enum                      # binary (exactly 2 labels) | enum (2..10)
    labels:                         # a list, or label -> description
      completed: everything the user asked for was done
      partial: some of it was done
      failed: the agent tried and did not get there
      abandoned: the agent gave up or asked the user to do it
    pass: [completed]               # labels that count as a pass
    failure_mode: task_failure      # optional: the taxonomy key it tests
    model: gpt-4o-mini              # optional: settings.judge_model otherwise
    parameters: {temperature: 0, seed: 0, max_tokens: 400}
    truncation: {input: 2000}       # optional per-field character limits
    prompt: |
      The user asked: {{input}}
      Tool calls: {{tool_calls}}
      Final answer: {{output}}
      Labels: {{labels}}

``version`` is the first 12 hex digits of the sha256 of the canonical JSON of
everything that can change a verdict (all keys but ``description``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent_backtest.errors import ConfigError, InputError, Location
from agent_backtest.scoring.prompt import DEFAULT_LIMITS, FIELDS, placeholders

MAX_LABELS = 10


class JudgeParameters(BaseModel):
    """Sampling parameters sent with every call; deterministic by default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int | None = 512
    top_p: float | None = None


class JudgeDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    description: str = ""
    kind: Literal["binary", "enum"]
    labels: dict[str, str]
    pass_labels: list[str] = Field(alias="pass", min_length=1)
    prompt: str = Field(min_length=1)
    model: str | None = None
    parameters: JudgeParameters = Field(default_factory=JudgeParameters)
    truncation: dict[str, int] = Field(default_factory=dict)
    failure_mode: str | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(label): "" for label in value}
        return value

    @field_validator("truncation")
    @classmethod
    def _known_limits(cls, value: dict[str, int]) -> dict[str, int]:
        for name, limit in value.items():
            if name not in DEFAULT_LIMITS:
                raise ValueError(f"unknown field {name!r}; choose from {', '.join(DEFAULT_LIMITS)}")
            if limit < 100:
                raise ValueError(f"{name}: limit {limit} is below the minimum of 100 characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JudgeDefinition:
        count = len(self.labels)
        if self.kind == "binary" and count != 2:
            raise ValueError(f"a binary judge needs exactly 2 labels, got {count}")
        if not 2 <= count <= MAX_LABELS:
            raise ValueError(f"an enum judge needs 2 to {MAX_LABELS} labels, got {count}")
        unknown = [label for label in self.pass_labels if label not in self.labels]
        if unknown:
            raise ValueError(
                f"pass names {unknown} which are not labels ({', '.join(self.labels)})"
            )
        bad = sorted({p for p in placeholders(self.prompt) if p not in FIELDS})
        if bad:
            raise ValueError(
                f"prompt uses unknown placeholders {bad}; available: {', '.join(FIELDS)}"
            )
        return self

    @property
    def version(self) -> str:
        return _version(self)

    def canonical(self) -> dict[str, Any]:
        """The verdict-relevant definition as plain data (what the version hashes)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"description"})

    def labels_text(self) -> str:
        return "\n".join(
            f"- {label}: {text}" if text else f"- {label}" for label, text in self.labels.items()
        )


def _version(definition: JudgeDefinition) -> str:
    blob = json.dumps(definition.canonical(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# -- loading --------------------------------------------------------------


def judge_from_mapping(
    data: Any, *, path: str | Path | None = None, node: yaml.Node | None = None
) -> JudgeDefinition:
    """Validate one judge mapping; errors name the file, line and field and say the fix."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"a judge definition must be a mapping, got {type(data).__name__}",
            where=Location(path, line=_line(node, ())),
            fix="see docs/classifiers.md for the keys",
        )
    try:
        return JudgeDefinition.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        field = ".".join(str(p) for p in loc) or "(definition)"
        where = Location(path, line=_line(node, loc), field=field)
        if error["type"] == "extra_forbidden":
            valid = _valid_keys(loc)
            near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ConfigError(
                f"unknown key {loc[-1]!r}", where=where, fix=f"{hint}valid keys: {', '.join(valid)}"
            ) from None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(message, where=where, fix=_fix_for(loc)) from None


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) >= 2 and loc[0] == "parameters":
        return list(JudgeParameters.model_fields)
    return [f.alias or name for name, f in JudgeDefinition.model_fields.items()]


def _fix_for(loc: tuple[Any, ...]) -> str:
    head = str(loc[0]) if loc else ""
    fixes = {
        "kind": "use kind: binary (2 labels) or kind: enum (2-10 labels)",
        "labels": "list the labels, e.g. labels: [yes, no] or a mapping label: description",
        "pass": "list the labels that count as a pass, e.g. pass: [yes]",
        "prompt": "write the prompt with {{input}}, {{output}}, {{tool_calls}}, {{messages}}, {{labels}}",
        "truncation": f"limits are characters per field: {', '.join(DEFAULT_LIMITS)}",
        "id": "use letters, digits, _ . - and start with a letter",
    }
    return fixes.get(head, "see docs/classifiers.md for the judge format")


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    current: yaml.Node = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            match = next((kv for kv in current.value if kv[0].value == part), None)
            if match is None:
                break
            best = match[0].start_mark.line + 1
            current = match[1]
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and part < len(current.value)
        ):
            current = current.value[part]
            best = current.start_mark.line + 1
        else:
            break
    return best


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader that reads only true/false as booleans (YAML 1.2), so labels such
    as ``yes``/``no``/``on``/``off`` stay the strings the author wrote."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_judge_file(path: str | Path) -> JudgeDefinition:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_Yaml12Loader)
        data = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}",
            where=Location(path, line=mark.line + 1 if mark else None),
            fix="fix the YAML syntax",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read judge file: {exc.strerror}", where=Location(path)) from None
    return judge_from_mapping(data, path=path, node=node)


def load_judges(directory: str | Path) -> dict[str, JudgeDefinition]:
    """Every ``*.yaml``/``*.yml`` judge in ``directory``, by id (sorted by file name)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(
            "classifiers folder not found",
            where=Location(folder),
            fix="create it with one YAML file per judge, or pass --classifiers-dir",
        )
    found: dict[str, JudgeDefinition] = {}
    origin: dict[str, Path] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        definition = load_judge_file(path)
        if definition.id in found:
            raise ConfigError(
                f"judge id {definition.id!r} is defined twice (also in {origin[definition.id]})",
                where=Location(path, field="id"),
                fix="give each judge a unique id",
            )
        found[definition.id] = definition
        origin[definition.id] = path
    return found
