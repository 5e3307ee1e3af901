"""``backtest scan`` through CliRunner: every planted kind is caught, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from tests.promote.seeded import SEEDS, Seed, planted


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["scan", *args], catch_exceptions=False)


def _yaml_with(seed: Seed) -> str:
    # Planted by hand the way a secret leaks into a case: inside a block scalar,
    # several lines down, next to harmless content and an existing placeholder.
    body = planted(seed).replace("\n", "\n      ")
    return (
        "schema: agent-backtest/case@1\n"
        "id: leaked-1\n"
        "input:\n"
        "  messages:\n"
        "  - role: user\n"
        "    content: |\n"
        "      my email is <redacted:email:3f9a2c1d>\n"
        f"      {body}\n"
    )


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"{s.kind}:{s.secret[:12]}")
def test_scan_catches_each_kind_planted_in_yaml(tmp_path: Path, seed: Seed) -> None:
    case = tmp_path / "evalsets" / "support" / "cases" / "leaked-1.yaml"
    case.parent.mkdir(parents=True)
    case.write_text(_yaml_with(seed))
    result = run(str(tmp_path / "evalsets"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{case}:{_where(seed)}: {seed.kind} ({_preview(seed)})"]
    assert seed.secret not in result.output
    assert "1 finding(s) in 1 file(s)" in result.stderr


def _where(seed: Seed) -> str:
    before = planted(seed)[: planted(seed).index(seed.secret)]
    line = 8 + before.count("\n")
    column = 7 + len(before.rsplit("\n", 1)[-1])
    return f"{line}:{column}"


def _preview(seed: Seed) -> str:
    as_written = seed.secret.replace("\n", "\n      ")
    flat = " ".join(as_written.split())
    return f"{flat[: min(4, len(flat) // 4)]}…[{len(as_written)} chars]"


def test_clean_files_and_placeholders_exit_0(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(
        "content: call <redacted:phone:0a1b2c3d> at 2024-01-15T12:30:45Z, order 1700000000123\n"
    )
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01sk-proj-" + b"A" * 40)
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "clean: 1 file(s) scanned" in result.stderr


def test_json_and_cassette_files_too(tmp_path: Path) -> None:
    cassette = tmp_path / "cassettes" / "lookup.json"
    cassette.parent.mkdir()
    cassette.write_text(
        '{"request": {"headers": {"Authorization": "Bearer abcdefghijklmnop0123"}}}'
    )
    result = run(str(cassette))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{cassette}:1:")
    assert "bearer_token" in result.stdout


def test_exclude_kind(tmp_path: Path) -> None:
    (tmp_path / "docs.md").write_text("Call us at +1 415 555 2671.\n")
    assert run(str(tmp_path)).exit_code == 1
    assert run("--exclude-kind", "phone", str(tmp_path)).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [(), ("does/not/exist",), ("--exclude-kind", "nonsense", ".")],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2
