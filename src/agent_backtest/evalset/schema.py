"""JSON Schemas for case files and ``evalset.yaml``, generated from the models.

The generated files ship in the package (``evalset/schemas/*.json``) so editors can
validate through the ``# yaml-language-server: $schema=`` header; a test
regenerates them and fails when the committed copies are stale.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel

from agent_backtest.evalset.case import CASE_SCHEMA, Case
from agent_backtest.evalset.config import EVALSET_SCHEMA, EvalSetConfig

SchemaName = Literal["case", "evalset"]
SCHEMA_NAMES: tuple[SchemaName, ...] = ("case", "evalset")
_MODELS: dict[SchemaName, tuple[type[BaseModel], str]] = {
    "case": (Case, CASE_SCHEMA),
    "evalset": (EvalSetConfig, EVALSET_SCHEMA),
}


def file_name(name: SchemaName) -> str:
    return f"{name}.schema.json"


def json_schema(name: SchemaName) -> dict[str, Any]:
    model, version = _MODELS[name]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    # ``schema`` has a default in Python (so code can omit it) but every file must
    # state it, so it is required in the published contract.
    required = schema.setdefault("required", [])
    if "schema" not in required:
        required.insert(0, "schema")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": version,
        **schema,
    }


def render(name: SchemaName) -> str:
    """The schema as committed: 2-space indent, stable key order, trailing newline."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"


def shipped(name: SchemaName) -> str:
    """The copy shipped in the package (what ``backtest schema`` prints)."""
    return (
        resources.files("agent_backtest.evalset")
        .joinpath("schemas", file_name(name))
        .read_text(encoding="utf-8")
    )
