from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tools import REQUIRE_TOOLS_ENV, require_tool


def _path_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *programs: str) -> None:
    for program in programs:
        exe = tmp_path / program
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_a_tool_on_path_is_returned_by_its_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _path_with(tmp_path, monkeypatch, "chromium")
    monkeypatch.delenv(REQUIRE_TOOLS_ENV, raising=False)
    assert require_tool("chromium") == str(tmp_path / "chromium")


def test_a_missing_tool_skips_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _path_with(tmp_path, monkeypatch)
    monkeypatch.delenv(REQUIRE_TOOLS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"chromium is not on PATH \(apt-get"):
        require_tool("chromium")


@pytest.mark.parametrize("value", ["1", "true"])
def test_a_missing_tool_fails_when_ci_requires_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    _path_with(tmp_path, monkeypatch)
    monkeypatch.setenv(REQUIRE_TOOLS_ENV, value)
    with pytest.raises(pytest.fail.Exception, match="BACKTEST_REQUIRE_TOOLS=1 requires it"):
        require_tool("actionlint")


def test_zero_means_not_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _path_with(tmp_path, monkeypatch)
    monkeypatch.setenv(REQUIRE_TOOLS_ENV, "0")
    with pytest.raises(pytest.skip.Exception):
        require_tool("actionlint")
