"""One policy per run: the project's table per key, else the strictest evalset, else defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest.config import load_settings
from agent_backtest.errors import ConfigError, Location
from agent_backtest.evalset.config import GatePolicy
from agent_backtest.evalset.storage import load_evalset_config
from agent_backtest.gate.policy import STRICTEST, effective_policy


def test_every_policy_key_has_a_strictness_rule() -> None:
    assert list(STRICTEST) == list(GatePolicy.model_fields)


def test_nothing_set_gives_the_defaults() -> None:
    assert effective_policy(None, []) == GatePolicy()
    assert effective_policy(None, [GatePolicy(), GatePolicy()]) == GatePolicy()
    assert effective_policy({}, []) == GatePolicy()


def test_defaults_pass_a_clean_run_and_fail_any_failure() -> None:
    policy = GatePolicy()
    assert policy.min_pass_rate == 1.0
    assert policy.errors_count_as == "fail"
    assert 0 < policy.min_coverage < 1  # a long tail of one-off modes must not block


def test_strictest_value_per_key_over_the_evalsets() -> None:
    policies = [
        GatePolicy(
            min_pass_rate=0.8,
            max_regressions=2,
            errors_count_as="skip",
            classifier_drift="ignore",
            min_pass_rate_by_mode={"cost_blowup": 0.5, "truncation": 0.9},
            alpha=0.01,
        ),
        GatePolicy(
            min_pass_rate=0.9,
            max_regressions=1,
            classifier_drift="warn",
            quarantine_flaky=True,
            min_pass_rate_by_mode={"cost_blowup": 0.7},
            calibration_min_kappa=0.4,
            max_uncovered_share=0.1,
        ),
        GatePolicy(errors_count_as="fail", min_coverage=0.9, confidence=0.99),
    ]
    policy = effective_policy(None, policies)
    assert policy.min_pass_rate == 0.9
    assert policy.max_regressions == 1
    assert policy.errors_count_as == "fail"
    assert policy.classifier_drift == "warn"
    assert policy.quarantine_flaky is True  # nobody said false
    assert policy.min_pass_rate_by_mode == {"cost_blowup": 0.7, "truncation": 0.9}
    assert policy.calibration_min_kappa == 0.4
    # Only the second evalset set it: unset keys are not the default's vote.
    assert policy.max_uncovered_share == 0.1
    assert (policy.min_coverage, policy.confidence) == (0.9, 0.99)
    assert policy.alpha == 0.01


def test_an_evalset_that_sets_nothing_does_not_tighten_another() -> None:
    policy = effective_policy(None, [GatePolicy(min_pass_rate=0.7), GatePolicy()])
    assert policy.min_pass_rate == 0.7
    assert policy.quarantine_flaky is False
    loose = effective_policy(None, [GatePolicy(quarantine_flaky=True), GatePolicy()])
    assert loose.quarantine_flaky is True
    strict = effective_policy(
        None, [GatePolicy(quarantine_flaky=True), GatePolicy(quarantine_flaky=False)]
    )
    assert strict.quarantine_flaky is False


def test_policies_read_from_evalset_yaml_know_which_keys_were_written(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(
        "schema: agent-backtest/evalset@1\nname: a\ngate:\n  min_pass_rate: 0.75\n",
        encoding="utf-8",
    )
    second.write_text("schema: agent-backtest/evalset@1\nname: b\n", encoding="utf-8")
    policies = [load_evalset_config(p).gate for p in (first, second)]
    assert effective_policy(None, policies).min_pass_rate == 0.75


def test_project_table_wins_per_key_and_leaves_the_rest_to_the_evalsets(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.agent-backtest.gate]\nmin-pass-rate = 0.6\nmax_regressions = 3\n"
        'classifier_drift = "ignore"\n',
        encoding="utf-8",
    )
    settings = load_settings(pyproject=pyproject, environ={})
    evalsets = [GatePolicy(min_pass_rate=0.9, classifier_drift="fail", min_cases_per_mode=2)]
    policy = effective_policy(settings.gate, evalsets, where=pyproject)
    assert policy.min_pass_rate == 0.6
    assert policy.max_regressions == 3
    assert policy.classifier_drift == "ignore"
    assert policy.min_cases_per_mode == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "min_coverage = 1.5",
            "pyproject.toml: [tool.agent-backtest.gate] min_coverage: 1.5 is not valid "
            "(expected a number from 0 to 1)",
        ),
        (
            'errors_count_as = "pass"',
            "pyproject.toml: [tool.agent-backtest.gate] errors_count_as: 'pass' is not valid "
            '(expected one of: "fail", "skip")',
        ),
        (
            "min_cases_per_mode = 0",
            "pyproject.toml: [tool.agent-backtest.gate] min_cases_per_mode: 0 is not valid "
            "(expected an integer >= 1)",
        ),
        (
            "alpha = 0",
            "pyproject.toml: [tool.agent-backtest.gate] alpha: 0 is not valid "
            "(expected a number > 0 and <= 0.5)",
        ),
        (
            "min_pass_rate_by_mode = { truncation = 2 }",
            "pyproject.toml: [tool.agent-backtest.gate] min_pass_rate_by_mode.truncation: 2 is "
            "not valid (expected a table of failure mode = a number from 0 to 1)",
        ),
    ],
)
def test_a_bad_project_value_is_one_line_naming_key_range_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text(f"[tool.agent-backtest.gate]\n{body}\n", encoding="utf-8")
    settings = load_settings(environ={})
    with pytest.raises(ConfigError) as caught:
        effective_policy(settings.gate, [], where=Path("pyproject.toml"))
    assert caught.value.one_line() == message
    assert "\n" not in caught.value.one_line()


def test_an_unknown_project_key_suggests_the_near_one() -> None:
    with pytest.raises(ConfigError) as caught:
        effective_policy({"min_coverge": 0.5}, [], where=Location("pyproject.toml"))
    line = caught.value.one_line()
    assert line.startswith("pyproject.toml: [tool.agent-backtest.gate] min_coverge: unknown key")
    assert "did you mean min_coverage?" in line
    assert "max_uncovered_share" in line  # the valid keys are listed
