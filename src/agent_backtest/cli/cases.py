"""``backtest cases``: list, show, validate and lock the cases of an evalset."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent_backtest.config import load_settings
from agent_backtest.errors import ConfigError, Location
from agent_backtest.evalset.evalset import (
    CONFIG_FILE,
    EvalSet,
    load_evalset,
    rewrite_stale,
    validate_evalset,
)
from agent_backtest.evalset.lock import lock_hash, write_lock
from agent_backtest.evalset.storage import case_to_yaml

evalset_option = click.option(
    "--evalset",
    "-e",
    "evalset_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Evalset folder (holding evalset.yaml). Default: the only one under 'evalsets'.",
)


def _cache_dir() -> Path:
    return Path(load_settings().cache_dir)


def resolve_evalset_dirs(evalset_dir: Path | None, *, allow_many: bool = False) -> list[Path]:
    """The evalset folders a command works on: the one given, or those under ``evalsets``."""
    if evalset_dir is not None:
        return [evalset_dir]
    base = Path(load_settings().evalsets)
    if (base / CONFIG_FILE).is_file():
        return [base]
    found = sorted(p.parent for p in base.glob(f"*/{CONFIG_FILE}"))
    if not found:
        raise ConfigError(
            f"no evalset found under {base}/",
            where=Location(base),
            fix="pass --evalset DIR, or create evalsets/<name>/evalset.yaml",
        )
    if len(found) > 1 and not allow_many:
        names = ", ".join(str(p) for p in found)
        raise ConfigError(
            f"several evalsets under {base}/: {names}", fix="choose one with --evalset DIR"
        )
    return found


def _load(evalset_dir: Path | None) -> EvalSet:
    return load_evalset(resolve_evalset_dirs(evalset_dir)[0], _cache_dir())


@click.group()
def cases() -> None:
    """List, show, validate and lock evalset cases."""


@cases.command("list")
@evalset_option
@click.option("--failure-mode", "-m", "modes", multiple=True, help="Only cases with this mode.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cases(evalset_dir: Path | None, modes: tuple[str, ...], as_json: bool) -> None:
    """List the cases of an evalset, sorted by id."""
    evalset = _load(evalset_dir)
    chosen = [c for c in evalset.cases if not modes or set(modes) & set(c.failure_modes)]
    if as_json:
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "failure_modes": c.failure_modes,
                "recordings": len(c.recordings),
                "path": str(evalset.paths[c.id]),
                "content_hash": c.content_hash,
            }
            for c in chosen
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max((len(c.id) for c in chosen), default=2)
    for case in chosen:
        modes_text = ",".join(case.failure_modes) or "-"
        click.echo(f"{case.id:<{width}}  {modes_text}  {len(case.recordings)} tools  {case.title}")
    click.echo(f"{len(chosen)} of {len(evalset.cases)} cases in {evalset.name}", err=True)


@cases.command()
@click.argument("case_id")
@evalset_option
def show(case_id: str, evalset_dir: Path | None) -> None:
    """Print one case as YAML."""
    evalset = _load(evalset_dir)
    case = evalset.case(case_id)
    click.echo(f"# {evalset.paths[case.id]}")
    click.echo(case_to_yaml(case), nl=False)


@cases.command()
@click.argument("evalset_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite cases in an old schema or with a stale content hash (review the diff).",
)
def validate(evalset_dir: Path | None, fix: bool) -> None:
    """Check schema, content hashes, llm_recordings references and duplicate ids.

    Exits 1 and prints one line per problem when anything is wrong.
    """
    failed = False
    for root in resolve_evalset_dirs(evalset_dir, allow_many=True):
        report = validate_evalset(root, _cache_dir())
        if fix and report.stale:
            for path in rewrite_stale(report):
                click.echo(f"rewrote {path}", err=True)
            report = validate_evalset(root, _cache_dir())
        for problem in report.problems:
            click.echo(f"error: {problem}", err=True)
        status = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(f"{root}: {report.cases} cases, {status}")
        failed = failed or not report.ok
    if failed:
        raise SystemExit(1)


@cases.command()
@evalset_option
def lock(evalset_dir: Path | None) -> None:
    """Write evalset.lock: every case's content hash and the evalset's lock hash."""
    evalset = _load(evalset_dir)
    path = write_lock(evalset)
    click.echo(f"{path}: {len(evalset.cases)} cases, lock_hash {lock_hash(evalset)}")
