from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_backtest.cli.main import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
COLLECTOR = FIXTURES / "otlp" / "collector.jsonl"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_stats_json_has_totals_and_per_file_detail() -> None:
    code, out, _ = run(
        "traces", "stats", "--json", str(COLLECTOR), str(FIXTURES / "otlp" / "legacy_pretty.json")
    )
    assert code == 0
    data = json.loads(out)
    assert {
        "traces",
        "spans",
        "llm_spans",
        "tool_spans",
        "error_spans",
        "annotations",
        "files",
    } <= set(data)
    assert (data["traces"], data["spans"], data["llm_spans"], data["tool_spans"]) == (3, 7, 1, 1)
    assert [f["format"] for f in data["files"]] == ["otlp_json", "otlp_json"]
    assert data["files"][0]["spans"] == 5


def test_stats_table_names_the_detected_format() -> None:
    code, out, _ = run("traces", "stats", str(COLLECTOR))
    assert code == 0
    assert "otlp_json" in out.splitlines()[1]


def test_show_draws_the_span_tree() -> None:
    code, out, _ = run("traces", "show", str(COLLECTOR))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("trace ")
    indents = [
        len(line) - len(line.lstrip()) for line in lines[1:] if not line.lstrip().startswith("#")
    ]
    assert max(indents) > min(indents)  # children are drawn under their parents


def test_show_unknown_trace_id_is_a_usage_error() -> None:
    code, _, err = run("traces", "show", str(COLLECTOR), "--trace", "ffff")
    assert code == 2
    assert "no trace with id 'ffff'" in err


def test_convert_writes_normalized_jsonl_that_reads_back_the_same(tmp_path: Path) -> None:
    out = tmp_path / "normalized.jsonl"
    code, _, err = run("traces", "convert", str(COLLECTOR), "-o", str(out))
    assert code == 0
    assert "wrote 2 traces" in err
    code, stats_out, _ = run("traces", "stats", "--json", str(out))
    assert json.loads(stats_out)["files"][0]["format"] == "normalized"
    assert json.loads(stats_out)["spans"] == 5
    again = tmp_path / "again.jsonl"
    run("traces", "convert", str(out), "-o", str(again))
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("name", "where", "what"),
    [
        ("truncated.jsonl", "truncated.jsonl:2", "invalid JSON"),
        ("invalid_utf8.jsonl", "invalid_utf8.jsonl:2", "invalid UTF-8"),
        ("wrong_types.jsonl", "wrong_types.jsonl:2", "startTimeUnixNano"),
    ],
)
def test_bad_input_is_one_line_with_place_and_exit_2(name: str, where: str, what: str) -> None:
    code, out, err = run("traces", "stats", str(FIXTURES / "otlp" / name))
    assert code == 2
    assert out == ""
    (line,) = err.strip().splitlines()
    assert where in line
    assert what in line
    assert "Traceback" not in err


def test_skip_invalid_continues_and_says_how_many_were_skipped() -> None:
    code, out, err = run(
        "traces", "stats", "--json", "--skip-invalid", str(FIXTURES / "otlp" / "truncated.jsonl")
    )
    assert code == 0
    data = json.loads(out)
    assert data["skipped"] == 1
    assert data["traces"] == 2
    assert "skipped 1 invalid records" in err


def test_unknown_format_lists_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, these are not traces\n")
    code, _, err = run("traces", "stats", str(path))
    assert code == 2
    assert "unknown trace format" in err
    assert "otlp_json" in err
    assert "--format" in err


def test_format_override_must_be_a_known_reader() -> None:
    code, _, err = run("traces", "stats", "--format", "zipkin", str(COLLECTOR))
    assert code == 2
    assert "zipkin" in err


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    code, _, err = run("traces", "stats", str(path))
    assert code == 2
    assert "empty" in err
