"""The subset of JSON Schema that tool definitions use, checked without a dependency.

Tool parameter schemas (OpenAI ``function.parameters``, MCP ``inputSchema``) are
almost always flat objects: ``type``, ``properties``, ``required``, ``enum``,
``additionalProperties``, ``items`` and simple bounds. Anything else (``$ref``,
``format``, ...) is ignored rather than guessed at, so the detector only ever
reports a violation it is sure of.
"""

from __future__ import annotations

import re
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_ok(value: Any, name: str) -> bool:
    if name not in _TYPES:
        return True
    if isinstance(value, bool) and name in ("integer", "number"):
        return False  # bool is an int subclass in Python, not in JSON
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[name])


def schema_errors(value: Any, schema: Any, path: str = "$") -> list[str]:
    """Human-readable violations of ``schema`` by ``value``, ``[]`` when it conforms."""
    if not isinstance(schema, dict):
        return []
    errors: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, str(n)) for n in names):
            return [
                f"{path} is {type(value).__name__} {value!r}, expected {'/'.join(map(str, names))}"
            ]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path} = {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path} = {value!r}, expected {schema['const']!r}")
    for alternatives in ("anyOf", "oneOf"):
        options = schema.get(alternatives)
        if (
            isinstance(options, list)
            and options
            and all(schema_errors(value, option, path) for option in options)
        ):
            errors.append(f"{path} = {value!r} matches none of the {alternatives} alternatives")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        missing = [key for key in schema.get("required") or [] if key not in value]
        errors.extend(f"{path}.{key} is required but missing" for key in missing)
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                errors.extend(schema_errors(item, properties[key], f"{path}.{key}"))
            elif extra is False:
                errors.append(f"{path}.{key} is not a known parameter")
            elif isinstance(extra, dict):
                errors.extend(schema_errors(item, extra, f"{path}.{key}"))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors.extend(schema_errors(item, schema["items"], f"{path}[{i}]"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path} = {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path} = {value} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path} is shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path} is longer than {schema['maxLength']} characters")
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            errors.append(f"{path} = {value!r} does not match the pattern {pattern!r}")
    return errors


def tool_schemas_in(invocation_parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool parameter schemas an LLM call was given (OpenAI and Anthropic shapes)."""
    found: dict[str, dict[str, Any]] = {}
    tools = invocation_parameters.get("tools")
    if not isinstance(tools, list):
        return found
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        spec: dict[str, Any] = function if isinstance(function, dict) else tool
        name = spec.get("name")
        schema = spec.get("parameters") or spec.get("input_schema") or spec.get("inputSchema")
        if isinstance(name, str) and isinstance(schema, dict):
            found[name] = schema
    return found
