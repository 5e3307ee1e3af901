"""``backtest doctor``: one line per check of the project, with the fix for each failure."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("doctor")
@click.option(
    "--evalsets",
    "evalsets_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of evalsets, or one evalset [default: the evalsets setting].",
)
@click.option("--skip-judge", is_flag=True, help="Do not send the request to the judge endpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor_command(evalsets_dir: Path | None, skip_judge: bool, as_json: bool) -> None:
    """Check that this project can run `pytest --agent-evals`: configuration, agent
    import, evalset validity and lock, recording integrity, secret scan, and a real
    request to the judge endpoint.

    Prints ok, FAIL, warn or skip per check, with the fix for each problem.
    Exits 1 when a check failed, 0 otherwise (warnings included).
    """
    # Imported here: the checks pull in replay and scoring, which no other command
    # should pay for at start-up.
    from agent_backtest.doctor import DoctorOptions, counts, failed, run_checks

    options = DoctorOptions(evalsets=evalsets_dir, skip_judge=skip_judge)
    results = []
    for result in run_checks(options):
        results.append(result)
        if not as_json:
            click.echo(result.line())  # as each check finishes: the judge request can take a while
    tally = counts(results)
    if as_json:
        payload = {
            "ok": not failed(results),
            "counts": tally,
            "checks": [r.to_data() for r in results],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        summary = ", ".join(f"{n} {s if s != 'fail' else 'FAIL'}" for s, n in tally.items() if n)
        click.echo(f"{len(results)} checks: {summary}", err=True)
    if failed(results):
        raise SystemExit(1)
