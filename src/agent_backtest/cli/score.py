"""``backtest score``: run the production classifiers over production traces."""

from __future__ import annotations

import sys
from pathlib import Path

import click

DEFAULT_CLASSIFIERS_DIR = Path("classifiers")


@click.command("score")
@click.argument(
    "traces", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-c",
    "--classifier",
    "classifier_names",
    multiple=True,
    required=True,
    help="Classifier id (a YAML judge or a detector), optionally id@version. Repeatable.",
)
@click.option(
    "--classifiers-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of YAML judges [default: ./classifiers when it exists].",
)
@click.option(
    "--sample",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Fraction of traces to score, chosen by a hash of seed and trace id.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write annotations as sidecar JSONL here.",
)
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint for judges.")
@click.option("--model", default=None, help="Judge model for judges that name none.")
@click.option("--concurrency", type=click.IntRange(1), default=None, help="Judge calls in flight.")
@click.option(
    "--budget", type=click.FloatRange(0), default=None, help="Stop judging after this many USD."
)
@click.option(
    "--price",
    "price",
    type=(float, float),
    default=None,
    metavar="IN OUT",
    help="USD per million input and output tokens of the judge model (for cost and --budget).",
)
@click.option("--no-cache", is_flag=True, help="Ask the judge even when the cache has an answer.")
@click.option("--format", "format_name", default=None, help="Trace format; detected when omitted.")
@click.option(
    "--skip-invalid", is_flag=True, help="Skip malformed trace records instead of stopping."
)
def score_command(
    traces: tuple[Path, ...],
    classifier_names: tuple[str, ...],
    classifiers_dir: Path | None,
    sample: float,
    seed: int,
    output: Path | None,
    base_url: str | None,
    model: str | None,
    concurrency: int | None,
    budget: float | None,
    price: tuple[float, float] | None,
    no_cache: bool,
    format_name: str | None,
    skip_invalid: bool,
) -> None:
    """Score production TRACES with the same classifiers CI uses; write annotations.

    Prints the label distribution per classifier. Exits 1 when any verdict is an
    error (a judge that failed after retries, or the budget ran out).
    """
    from agent_backtest.config import load_settings
    from agent_backtest.scoring.judge_client import JudgeConfig, JudgeRuntime, Price
    from agent_backtest.scoring.score import format_distribution, score_traces
    from agent_backtest.trace.api import TraceStream
    from agent_backtest.trace.source import ReadOptions

    settings = load_settings(
        {"judge_base_url": base_url, "judge_model": model, "concurrency": concurrency}
    )
    prices = {"*": Price(*price)} if price is not None else {}
    config = JudgeConfig.from_settings(settings, budget=budget, prices=prices)
    if no_cache:
        config = JudgeConfig(**{**config.__dict__, "cache_dir": None})
    runtime = JudgeRuntime(config)
    if classifiers_dir is None and DEFAULT_CLASSIFIERS_DIR.is_dir():
        classifiers_dir = DEFAULT_CLASSIFIERS_DIR
    stream = TraceStream(
        list(traces), format=format_name, options=ReadOptions(skip_invalid=skip_invalid)
    )
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result = score_traces(
            stream,
            list(classifier_names),
            classifiers_dir=classifiers_dir,
            runtime=runtime,
            sample=sample,
            seed=seed,
            output=output,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()
        runtime.close()
    click.echo(format_distribution(result))
    scored = f"scored {result.traces_scored} of {result.traces_read} traces"
    calls = f"{result.requests} judge requests, {result.cache_hits} cache hits, ${result.cost:.4f}"
    click.echo(f"{scored}; {calls}", err=True)
    if output is not None:
        click.echo(f"wrote {result.annotations_written} annotations to {output}", err=True)
    if result.errors:
        click.echo(
            f"error: {result.errors} verdicts are errors (see above); none counted as pass",
            err=True,
        )
        sys.exit(1)


class _Progress:
    """A one-line counter on stderr (the total is unknown while traces stream)."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, done: int) -> None:
        if done - self.shown >= 10 or done < 10:
            click.echo(f"\rscoring: {done} traces", nl=False, err=True)
            self.shown = done

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)
