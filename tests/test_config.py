from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest.config import load_settings
from agent_backtest.errors import ConfigError


def _pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    return path


def test_precedence_is_flag_then_env_then_pyproject_then_default(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path, '[tool.agent-backtest]\nagent = "from_pyproject:run"\nconcurrency = 4\n'
    )
    assert load_settings(pyproject=path, environ={}).agent == "from_pyproject:run"
    assert load_settings(pyproject=path, environ={}).repeat == 1  # default
    env = {"BACKTEST_AGENT": "from_env:run", "BACKTEST_CONCURRENCY": "3"}
    from_env = load_settings(pyproject=path, environ=env)
    assert (from_env.agent, from_env.concurrency) == ("from_env:run", 3)
    flagged = load_settings(
        {"agent": "from_flag:run", "concurrency": None}, pyproject=path, environ=env
    )
    assert (flagged.agent, flagged.concurrency) == ("from_flag:run", 3)


def test_unknown_key_names_the_file_field_and_valid_keys(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[tool.agent-backtest]\nconcurrancy = 4\n")
    with pytest.raises(ConfigError) as info:
        load_settings(pyproject=path, environ={})
    message = info.value.one_line()
    assert str(path) in message
    assert "concurrancy" in message
    assert "concurrency" in message


def test_broken_toml_is_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[tool.agent-backtest\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(pyproject=path, environ={})
