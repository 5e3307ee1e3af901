from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_backtest.errors import InputError
from agent_backtest.report.json_io import read_result, write_result
from agent_backtest.report.model import RUN_SCHEMA
from tests.report.factory import run_report


def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(run_report().to_json())
    return loaded


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_result(path)
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith(str(path))
    return line


def test_a_written_result_reads_back_equal(tmp_path: Path) -> None:
    report = run_report()
    path = tmp_path / "out" / "result.json"
    write_result(report, path)
    assert read_result(path) == report
    assert json.loads(path.read_text())["schema"] == RUN_SCHEMA
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # no temp file left


def test_rewriting_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text("x" * 1_000_000)
    write_result(run_report(with_gate=False), path)
    assert read_result(path).gate is None


def test_a_missing_file_names_the_file_and_where_results_come_from(tmp_path: Path) -> None:
    line = _error(tmp_path / "nope.json")
    assert "run result not found" in line
    assert "pytest --agent-evals" in line


def test_a_folder_is_not_a_result(tmp_path: Path) -> None:
    assert "is a folder, not a run result (pass the result.json inside it)" in _error(tmp_path)


def test_bad_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{\n  "schema": "agent-backtest/run-result@1",\n  oops\n}')
    line = _error(path)
    assert line.startswith(f"{path}:3:3: run result is not valid JSON")
    assert "write it again with pytest --agent-evals" in line


def test_bytes_that_are_not_text(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xff\xfe{}")
    assert "run result is not UTF-8 text" in _error(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([], "a run result is a JSON object, found list"),
        (
            {"created_at": "x"},
            "not a run result: no schema, expected 'agent-backtest/run-result@1'",
        ),
        (
            {"schema": "agent-backtest/case-result@1"},
            "not a run result: schema 'agent-backtest/case-result@1'",
        ),
        (
            {"schema": "agent-backtest/run-result@2"},
            "run result version 'agent-backtest/run-result@2' is not supported",
        ),
    ],
)
def test_the_wrong_kind_of_file_or_version(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(content))
    line = _error(path)
    assert message in line
    if isinstance(content, dict):
        assert line.startswith(f"{path} at schema: ")


def test_an_invalid_field_is_named_by_its_path(tmp_path: Path) -> None:
    data = _data()
    data["cases"][1]["outcome"] = "maybe"
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    line = _error(path)
    assert line.startswith(f"{path} at cases.1.outcome: invalid run result: Input should be")
    assert "'passed', 'failed' or 'error'" in line


def test_unknown_fields_are_rejected_and_the_count_of_other_problems_given(
    tmp_path: Path,
) -> None:
    data = _data()
    data["surprise"] = 1
    data["created_at"] = 5
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    line = _error(path)
    assert "invalid run result" in line
    assert "(and 1 more)" in line


def test_a_complete_result_of_another_version_or_without_a_schema_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "result.json"
    data = _data()
    data["schema"] = "agent-backtest/run-result@2"
    path.write_text(json.dumps(data))
    assert "run result version 'agent-backtest/run-result@2' is not supported" in _error(path)
    del data["schema"]
    path.write_text(json.dumps(data))
    assert "not a run result: no schema" in _error(path)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + run_report().to_json().encode())
    assert read_result(path) == run_report()
