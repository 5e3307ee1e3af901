"""The shipped JSON Schemas are generated from the models and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest.evalset import schema as schemas
from agent_backtest.evalset.schema import SCHEMA_NAMES, SchemaName, file_name, json_schema, render

SHIPPED = Path(schemas.__file__).parent / "schemas"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_shipped_schema_is_current(name: SchemaName) -> None:
    """Regenerates the file; fails when it changed, so commit the regenerated copy."""
    path = SHIPPED / file_name(name)
    fresh = render(name)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old != fresh:
        path.write_text(fresh, encoding="utf-8")
    assert old == fresh, f"{path} was stale and has been regenerated; commit it"


def test_schema_requires_the_version_key_and_forbids_extras() -> None:
    case = json_schema("case")
    assert case["required"][0] == "schema"
    assert case["properties"]["schema"]["const"] == "agent-backtest/case@1"
    assert case["additionalProperties"] is False
    assert case["$defs"]["ToolRecording"]["additionalProperties"] is False
    assert "description" in case["properties"]["recordings"]


def test_shipped_copy_is_what_the_package_serves() -> None:
    for name in SCHEMA_NAMES:
        assert schemas.shipped(name) == render(name)
