"""``backtest export`` / ``backtest import``: move an evalset to and from a HF dataset."""

from __future__ import annotations

from pathlib import Path

import click

from agent_backtest.evalset.hf import export_hf, import_hf

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("export")
@click.argument("evalset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=_DIR)
@click.option(
    "--to",
    "target",
    type=click.Choice(["hf"]),
    required=True,
    help="Target format: hf = Hugging Face dataset (Parquet).",
)
def export(evalset_dir: Path, out: Path, target: str) -> None:
    """Export EVALSET_DIR to OUT as a Hugging Face dataset (Parquet files)."""
    count = export_hf(evalset_dir, out)
    click.echo(f"exported {count} cases from {evalset_dir} to {out} ({target})")


@click.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "dest", type=_DIR, required=True, help="Evalset folder to create.")
def import_(source: Path, dest: Path) -> None:
    """Import a dataset written by 'backtest export' into the evalset folder --to DIR."""
    count = import_hf(source, dest)
    click.echo(f"imported {count} cases from {source} into {dest}")
