"""``backtest scan``: find secrets and personal data that reached files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from agent_backtest.promote.detectors import BUILTIN_DETECTORS, BUILTIN_KINDS
from agent_backtest.promote.scan import scan_paths


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--exclude-kind",
    multiple=True,
    type=click.Choice(BUILTIN_KINDS),
    help="Do not report this kind (e.g. phone in docs full of example numbers).",
)
def scan_command(paths: tuple[Path, ...], exclude_kind: tuple[str, ...]) -> None:
    """Find secrets in evalsets, cassettes and any text, YAML or JSON file.

    Prints FILE:LINE:COLUMN: KIND with a masked preview (never the value) and
    exits 1 when anything is found, 0 when clean, 2 on a usage error.
    Redaction placeholders (<redacted:KIND:HASH>) are not findings.
    """
    detectors = [d for d in BUILTIN_DETECTORS if d.kind not in set(exclude_kind)]
    result = scan_paths(paths, detectors)
    for finding in result.findings:
        click.echo(str(finding))
    for path, why in result.files_skipped:
        if why != "binary":
            click.echo(f"warning: {path}: not scanned ({why})", err=True)
    files = len({f.path for f in result.findings})
    if result.findings:
        click.echo(
            f"{len(result.findings)} finding(s) in {files} file(s); "
            f"{result.files_scanned} file(s) scanned",
            err=True,
        )
        sys.exit(1)
    click.echo(f"clean: {result.files_scanned} file(s) scanned", err=True)
