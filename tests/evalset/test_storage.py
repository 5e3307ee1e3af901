"""YAML storage: round trips, layout, and errors that name file, line and field path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError, InputError
from agent_backtest.evalset.case import CASE_SCHEMA
from agent_backtest.evalset.storage import (
    CASE_HEADER,
    case_to_yaml,
    load_case,
    load_evalset_config,
    read_case,
    write_case,
)
from agent_backtest.evalset.yamlio import dump_yaml, parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "evalsets"
GOOD = FIXTURES / "support-agent"
BROKEN = FIXTURES / "broken"
CASE = GOOD / "cases" / "loops-on-lookup-order-3f9a2c.yaml"


def test_fixture_case_round_trips_byte_for_byte(tmp_path: Path) -> None:
    case = load_case(CASE)
    assert case_to_yaml(case) == CASE.read_text(encoding="utf-8")
    out = tmp_path / "again.yaml"
    write_case(case, out)
    assert out.read_bytes() == CASE.read_bytes()


def test_written_file_has_header_literal_blocks_unicode_and_no_aliases() -> None:
    text = CASE.read_text(encoding="utf-8")
    assert text.splitlines()[0] == CASE_HEADER
    assert "$schema=" in CASE_HEADER
    assert "content: |\n      You are the support agent for Acme.\n" in text
    assert "Où est ma commande" in text  # not \xF9 escapes
    # The same dict object used twice must be written out twice, not as &id001 / *id001.
    shared = {"a": 1}
    assert "&" not in dump_yaml({"x": shared, "y": shared})


def test_dates_in_tool_results_stay_strings() -> None:
    case = load_case(CASE)
    assert case.recordings[1].result["eta"] == "2025-11-04"
    assert parse_yaml("when: 2025-11-04\n", Path("x.yaml")) == {"when": "2025-11-04"}


def test_fixture_hashes_are_valid() -> None:
    loaded = read_case(CASE)
    assert loaded.stored_hash_ok
    assert loaded.migrated_from is None


def test_hand_edit_is_detected_by_the_hash(tmp_path: Path) -> None:
    edited = tmp_path / CASE.name
    edited.write_text(CASE.read_text().replace("max_tool_calls: 3", "max_tool_calls: 4"))
    assert not read_case(edited).stored_hash_ok


def test_unknown_key_names_file_line_and_field() -> None:
    path = BROKEN / "unknown-key.yaml"
    with pytest.raises(InputError) as info:
        load_case(path)
    message = info.value.one_line()
    assert message.startswith(f"{path}:11:3 ")
    assert "at recordings[0].reslut" in message
    assert "unknown key 'reslut'" in message
    assert "did you mean 'result'?" in message
    assert "\n" not in message


def test_wrong_type_at_nested_path_names_file_line_and_field() -> None:
    path = BROKEN / "wrong-type-nested.yaml"
    with pytest.raises(InputError) as info:
        load_case(path)
    message = info.value.one_line()
    assert message.startswith(f"{path}:10:")
    assert "at expect.budgets.max_tool_calls" in message
    assert "'three'" in message
    assert "backtest schema case" in message


def test_future_schema_version_says_upgrade() -> None:
    path = BROKEN / "future-version.yaml"
    with pytest.raises(InputError) as info:
        load_case(path)
    message = info.value.one_line()
    assert message.startswith(f"{path}:2:1 at schema: ")
    assert "case@9 is newer" in message
    assert "pip install -U agent-backtest" in message


def test_missing_key_points_at_the_parent_mapping() -> None:
    path = BROKEN / "missing-key.yaml"
    with pytest.raises(InputError) as info:
        load_case(path)
    message = info.value.one_line()
    # 'title' is the first missing key; there is no line for it, so the document's.
    assert "missing required key 'title'" in message
    assert f"{path}:1:" in message


def test_missing_nested_key_points_at_its_mapping(tmp_path: Path) -> None:
    path = BROKEN / "missing-key.yaml"
    fixed = tmp_path / "m.yaml"
    fixed.write_text(path.read_text().replace("id: missing-000004\n", "id: m-1\ntitle: t\n"))
    with pytest.raises(InputError) as info:
        load_case(fixed)
    assert info.value.one_line().startswith(f"{fixed}:4:")
    assert "at source.trace_id" in info.value.one_line()


def test_duplicate_key_is_an_error_with_its_line() -> None:
    path = BROKEN / "duplicate-key.yaml"
    with pytest.raises(InputError, match=r"duplicate-key\.yaml:4:1: invalid YAML: duplicate key"):
        load_case(path)


def test_yaml_syntax_error_has_line() -> None:
    path = BROKEN / "bad-yaml.yaml"
    with pytest.raises(InputError, match=r"bad-yaml\.yaml:4:\d+: invalid YAML"):
        load_case(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "expected a mapping"),
        ("id: x\n", "missing key 'schema'"),
        ("schema: agent-backtest/evalset@1\n", "is not a agent-backtest/case schema"),
    ],
)
def test_not_a_case_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=expected):
        load_case(path)


def test_case_zero_migrates_and_resaves_as_case_one(tmp_path: Path) -> None:
    old = FIXTURES / "old-format" / "loops-on-lookup-order-0a0b0c.yaml"
    loaded = read_case(old)
    assert loaded.migrated_from == 0
    case = loaded.case
    assert case.title == "Loops on lookup_order"
    assert case.source.session_id == "sess-1"
    assert case.annotations[0].label == "looped"
    assert case.annotations[0].explanation == "Same call five times."
    assert case.recordings[0].arguments == {"order_id": "A1"}
    assert case.recordings[0].latency_ms == 120
    assert case.expect.not_detected == ["step_repetition"]
    assert case.expect.budgets.max_tool_calls == 2
    assert case.input.state == {"locale": "en-GB"}
    assert case.content_hash_ok()
    out = tmp_path / old.name
    write_case(case, out)
    again = read_case(out)
    assert again.migrated_from is None
    assert again.stored_hash_ok
    assert f"schema: {CASE_SCHEMA}\n" in out.read_text()
    assert again.case == case


def test_migrated_error_names_the_migrated_field(tmp_path: Path) -> None:
    old = FIXTURES / "old-format" / "loops-on-lookup-order-0a0b0c.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(old.read_text().replace("  ms: 120", "  ms: slow"))
    with pytest.raises(InputError, match=r"recordings\[0\]\.latency_ms.*after migrating from @0"):
        load_case(bad)


def test_evalset_config_loads_and_errors_are_config_errors(tmp_path: Path) -> None:
    config = load_evalset_config(GOOD / "evalset.yaml")
    assert config.replay.for_tool("lookup_order").matcher == "subset"
    assert config.replay.for_tool("unknown").unmatched == "tool_error"
    assert isinstance(config.classifiers[2], dict)
    broken = tmp_path / "evalset.yaml"
    text = (GOOD / "evalset.yaml").read_text()
    broken.write_text(text.replace("unmatched: tool_error", "unmatched: live"))
    with pytest.raises(ConfigError, match="side_effects: true cannot use unmatched: live"):
        load_evalset_config(broken)
    broken.write_text(text.replace("  min_coverage: 0.9", "  min_coverage: 2"))
    with pytest.raises(ConfigError) as info:
        load_evalset_config(broken)
    assert info.value.one_line().startswith(f"{broken}:18:3 ")
    assert "gate.min_coverage" in info.value.one_line()


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_case(tmp_path / "nope.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    shutil.copy(CASE, path)
    path.write_bytes(path.read_bytes() + "title2: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_case(path)
