from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from agent_backtest.errors import ConfigError
from agent_backtest.promote.jsonpath import parse_path
from agent_backtest.promote.redact import (
    KEY_ENV,
    KEY_FILE,
    POLICY_VERSION,
    Redactor,
    load_or_create_key,
    rules_from_mapping,
)

EMAIL = "jane.doe@example.com"


def test_equal_values_get_equal_placeholders_and_the_key_matters() -> None:
    one, _ = Redactor(b"k1").redact({"a": f"mail {EMAIL}", "b": [EMAIL, "x"]})
    again, _ = Redactor(b"k1").redact({"a": f"mail {EMAIL}"})
    other, _ = Redactor(b"k2").redact({"a": f"mail {EMAIL}"})
    placeholder = one["b"][0]
    assert placeholder.startswith("<redacted:email:")
    assert EMAIL not in str(one)
    assert one["a"] == f"mail {placeholder}" == again["a"]
    assert other["a"] != one["a"]


def test_keys_untouched_values_nested_and_json_in_strings_scanned() -> None:
    value = {
        EMAIL: {"deep": [{"note": '{"contact": "jane.doe@example.com", "n": 1}'}]},
        "count": 3,
        "ok": True,
        "ratio": 0.5,
        "none": None,
    }
    redacted, report = Redactor(b"k").redact(value)
    assert list(redacted) == [EMAIL, "count", "ok", "ratio", "none"]
    note = redacted[EMAIL]["deep"][0]["note"]
    assert EMAIL not in note
    assert note.startswith('{"contact": "<redacted:email:')
    assert (redacted["count"], redacted["ok"], redacted["ratio"], redacted["none"]) == (
        3,
        True,
        0.5,
        None,
    )
    assert report.as_dict() == {"email": 1}


def test_counts_per_kind_and_input_is_not_mutated() -> None:
    value = {"t": f"{EMAIL} {EMAIL} card 4111-1111-1111-1111", "n": 4111111111111111}
    redacted, report = Redactor(b"k").redact(value)
    assert report.as_dict() == {"card_number": 2, "email": 2}
    assert report.total == 4
    assert isinstance(redacted["n"], str)
    assert redacted["n"].startswith("<redacted:card_number:")
    assert value["n"] == 4111111111111111


def test_redacting_twice_changes_nothing() -> None:
    redactor = Redactor(b"k")
    once, _ = redactor.redact({"t": f"write to {EMAIL}", "password": "hunter2"})
    twice, report = redactor.redact(once)
    assert twice == once
    assert report.total == 0


def test_values_under_credential_keys_are_redacted_whatever_they_look_like() -> None:
    redacted, report = Redactor(b"k").redact(
        {"headers": {"Authorization": "Basic dXNlcjpwYXNz", "X-Api-Key": "abc"}, "password": "p"}
    )
    assert "dXNlcjpwYXNz" not in str(redacted)
    assert "'p'" not in str(redacted)
    assert report.as_dict() == {"credential_field": 3}


def test_user_regex_and_json_path_rules() -> None:
    rules = rules_from_mapping(
        {
            "patterns": [{"name": "customer_id", "regex": r"CUST-\d{6}"}],
            "paths": [{"name": "ssn", "path": "$.recordings[*].arguments.ssn"}],
        }
    )
    redactor = Redactor(b"k", rules)
    doc: dict[str, Any] = {
        "input": "customer CUST-004211 asks",
        "recordings": [{"arguments": {"ssn": "078-05-1120"}}, {"arguments": {"ssn": 78051120}}],
    }
    redacted, report = redactor.redact(doc)
    assert "CUST-004211" not in str(redacted)
    assert "078-05-1120" not in str(redacted)
    assert redacted["recordings"][1]["arguments"]["ssn"].startswith("<redacted:ssn:")
    assert report.as_dict() == {"customer_id": 1, "ssn": 2}
    assert doc["recordings"][0]["arguments"]["ssn"] == "078-05-1120"
    assert redactor.policy_version.startswith(POLICY_VERSION + "+rules:")
    assert Redactor(b"k").policy_version == POLICY_VERSION


def test_disabled_builtin_kind_is_left_alone() -> None:
    redacted, _ = Redactor(b"k", rules_from_mapping({"disable": ["phone"]})).redact("+14155552671")
    assert redacted == "+14155552671"


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"patterns": [{"name": "x", "regex": "("}]}, "patterns.0.regex"),
        ({"patterns": [{"name": "Bad Name", "regex": "x"}]}, "patterns.0.name"),
        ({"paths": [{"name": "x", "path": "a.b"}]}, "paths.0.path"),
        ({"disable": ["emails"]}, "disable"),
        ({"pattern": []}, "pattern"),
    ],
)
def test_bad_rules_name_the_field(rules: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        rules_from_mapping(rules, where=Path("rules.yaml"))
    assert f"rules.yaml at {field}" in info.value.one_line()


def test_json_path_subset() -> None:
    assert parse_path("$.a['b c'][*].d[2].*")[:2] == ["a", "b c"]
    with pytest.raises(ConfigError, match="cannot read"):
        parse_path("$.a..b")


def test_key_file_is_created_private_ignored_by_git_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path, environ={})
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / ".gitignore").read_text() == f"{KEY_FILE}\n"
    assert load_or_create_key(tmp_path, environ={}) == key
    assert load_or_create_key(tmp_path, environ={KEY_ENV: "shared"}) == b"shared"


def test_existing_gitignore_is_extended_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.tmp")
    load_or_create_key(tmp_path, environ={})
    assert (tmp_path / ".gitignore").read_text() == f"*.tmp\n{KEY_FILE}\n"
