"""docs/cases.md: its field tables are generated from the JSON Schemas and must be current.

The test rewrites the tables between ``<!-- fields:NAME -->`` and ``<!-- /fields -->``
and fails when they changed (commit the regenerated doc). It also checks that the
example case in the doc is a valid case with a correct content hash.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent_backtest.evalset.case import Case
from agent_backtest.evalset.schema import SCHEMA_NAMES, json_schema
from agent_backtest.evalset.yamlio import parse_yaml

DOC = Path(__file__).parents[2] / "docs" / "cases.md"
_BLOCK = re.compile(r"(<!-- fields:(\w+) -->\n)(.*?)(<!-- /fields -->)", re.S)


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[1]
        if "enum" in defs.get(name, {}):  # enums have no table (no heading) to link to
            return _type(defs[name], defs)
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null")
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"map of {_type(prop['additionalProperties'], defs)}"
    return str(kind) if kind else "any"


def _table(model: dict[str, Any], defs: dict[str, Any]) -> str:
    required = set(model.get("required", []))
    rows = ["| key | type | required | description |", "| --- | --- | --- | --- |"]
    for key, prop in model.get("properties", {}).items():
        text = " ".join(prop.get("description", "").split()).replace("|", "\\|")
        rows.append(
            f"| `{key}` | {_type(prop, defs)} | {'yes' if key in required else ''} | {text} |"
        )
    return "\n".join(rows) + "\n"


def render_fields(name: str) -> str:
    schema = json_schema(name)  # type: ignore[arg-type]
    title = "Case" if name == "case" else "EvalSetConfig"
    defs = schema.get("$defs", {})
    parts = [f"#### {title}\n\n{_table(schema, defs)}"]
    for def_name, model in sorted(defs.items()):
        if "properties" in model:
            parts.append(
                f"#### {def_name}\n\n{model.get('description', '')}\n\n{_table(model, defs)}"
            )
    return "\n".join(parts)


def test_doc_field_tables_are_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = [m.group(2) for m in _BLOCK.finditer(text)]
    assert sorted(names) == sorted(SCHEMA_NAMES)
    fresh = _BLOCK.sub(lambda m: m.group(1) + render_fields(m.group(2)) + m.group(4), text)
    if fresh != text:
        DOC.write_text(fresh, encoding="utf-8")
    assert fresh == text, "docs/cases.md field tables were stale and have been regenerated"


def test_doc_lists_every_field() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in SCHEMA_NAMES:
        schema = json_schema(name)
        models = [schema, *schema.get("$defs", {}).values()]
        for model in models:
            for key in model.get("properties", {}):
                assert f"| `{key}` |" in text, f"{key} missing from docs/cases.md"


def test_doc_example_case_is_valid_and_hashed() -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"<!-- example:case -->\n```yaml\n(.*?)```", text, re.S)
    assert example is not None
    case = Case.model_validate(parse_yaml(example.group(1), DOC))
    assert case.content_hash_ok()
