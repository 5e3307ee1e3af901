"""What one doctor check found: a status, what was checked, and the fix for a problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent_backtest.errors import BacktestError, Location


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"  # the project will not run as configured: exit 1
    WARN = "warn"  # runs, but something is off (stale files, unchecked parts)
    SKIP = "skip"  # not applicable, or blocked by an earlier failure (the detail says why)

    @property
    def label(self) -> str:
        """How the status is printed: FAIL in capitals so it stands out in a CI log."""
        return "FAIL" if self is Status.FAIL else self.value


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of ``backtest doctor``: ``name`` is the check, ``detail`` what it found."""

    name: str
    status: Status
    detail: str
    fix: str | None = None  # the command to run or the setting to change

    def line(self) -> str:
        text = f"{self.status.label:<4}  {self.name}: {self.detail}"
        if self.fix and self.status in (Status.FAIL, Status.WARN):
            text += f"; fix: {self.fix}"
        return text

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }

    @classmethod
    def from_error(
        cls, name: str, error: BacktestError, *, where: Location | None = None
    ) -> CheckResult:
        """A failure from one of our errors: its what and where as the detail, its fix as the
        fix. ``where`` replaces the error's own location (e.g. with a shorter path)."""
        place = str(where or error.where)
        detail = f"{place}: {error.what}" if place else error.what
        return cls(name, Status.FAIL, detail, error.fix)


def listing(items: Iterable[object], shown: int = 3) -> str:
    """The first few items, then how many more: a line stays a line on 10,000 cases."""
    texts = [str(item) for item in items]
    more = f", +{len(texts) - shown} more" if len(texts) > shown else ""
    return ", ".join(texts[:shown]) + more


def failed(results: Iterable[CheckResult]) -> bool:
    return any(result.status is Status.FAIL for result in results)


def counts(results: Iterable[CheckResult]) -> dict[str, int]:
    """``{"ok": n, "fail": n, "warn": n, "skip": n}`` in that order, zeros included."""
    tally = dict.fromkeys((s.value for s in Status), 0)
    for result in results:
        tally[result.status.value] += 1
    return tally
