from __future__ import annotations

import pytest

from agent_backtest.scoring.calibrate import (
    agreement,
    calibrate,
    cohen_kappa,
    confusion_matrix,
    format_calibration,
    meets_threshold,
)

# The textbook example: 50 items, yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> kappa 0.4
TEXTBOOK = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15


def test_textbook_kappa() -> None:
    assert agreement(TEXTBOOK) == pytest.approx(0.7)
    assert cohen_kappa(TEXTBOOK) == pytest.approx(0.4)


def test_perfect_chance_and_worse() -> None:
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)
    assert cohen_kappa([("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]) == pytest.approx(0.0)
    assert cohen_kappa([("a", "a")] * 3) == 1.0
    assert cohen_kappa([]) == 0.0


def test_confusion_matrix_rows_are_human() -> None:
    labels, matrix = confusion_matrix(TEXTBOOK, ["yes", "no"])
    assert labels == ["yes", "no"]
    assert matrix == {"yes": {"yes": 20, "no": 5}, "no": {"yes": 10, "no": 15}}
    labels, _ = confusion_matrix([("maybe", "yes")], ["yes", "no"])
    assert labels == ["yes", "no", "maybe"]


def test_errors_are_excluded_and_counted() -> None:
    result = calibrate("helpful@abc", [*TEXTBOOK, ("yes", None), ("no", None)], ["yes", "no"])
    assert (result.n, result.errors) == (50, 2)
    assert result.kappa == pytest.approx(0.4)
    assert meets_threshold(result, min_kappa=0.35)
    assert not meets_threshold(result, min_kappa=0.6)
    assert not meets_threshold(result, min_kappa=0.0, min_pairs=51)
    text = format_calibration(result)
    assert "agreement 70.0%, kappa 0.400, 2 errors excluded" in text
    assert text.splitlines()[2].split() == ["yes", "20", "5"]
