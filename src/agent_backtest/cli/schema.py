"""``backtest schema``: print or write the JSON Schema of case files or evalset.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from agent_backtest.evalset.schema import SCHEMA_NAMES, SchemaName, shipped
from agent_backtest.trace.writers import atomic_writer


@click.command("schema")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="case")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE (e.g. evalsets/case.schema.json) instead of stdout.",
)
def schema(name: SchemaName, output: Path | None) -> None:
    """Print the JSON Schema for NAME: case (default) or evalset."""
    text = shipped(name)
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_writer(output) as handle:
        handle.write(text.encode("utf-8"))
    click.echo(f"wrote {output}", err=True)
