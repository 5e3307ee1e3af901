"""One error hierarchy for everything agent-backtest raises on purpose.

Every error carries *what* happened, *where* (file, line, field) and the *next
step*, so adapters (CLI, pytest plugin) can print one line and exit without a
traceback. Anything that is not a ``BacktestError`` is a bug in this project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a user's file a problem is. Every part is optional."""

    path: str | Path | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.field:
            parts.append(f"at {self.field}")
        return " ".join(parts)


class BacktestError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, what: str, *, where: Location | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where or Location()
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        head = f"{self.where}: " if str(self.where) else ""
        tail = f" ({self.fix})" if self.fix else ""
        return f"{head}{self.what}{tail}"


class InputError(BacktestError):
    """A file the user gave us is malformed: bad JSON, wrong type, unknown format."""


class ConfigError(BacktestError):
    """A setting is wrong: pyproject, evalset.yaml, an environment variable or a flag."""


class ReplayError(BacktestError):
    """Replay could not answer the candidate as the policy demands."""


class JudgeError(BacktestError):
    """A classifier could not produce a verdict (after retries). Never a pass."""

    exit_code = 1
