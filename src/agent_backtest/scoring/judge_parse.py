"""Reading a label out of what a judge model answered, structured or not.

In order: a JSON object (bare, inside a code fence, or embedded in prose) with a
``label`` key; a ``label: X`` line; the answer being just a label word; a single
label named as a whole word in the text. Labels match case-insensitively with
spaces and hyphens treated as underscores. When two different labels are
equally plausible the answer is ambiguous and parsing fails: a guess would be
a verdict nobody made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_LABEL_LINE = re.compile(
    r"""(?im)^\W*(?:label|verdict|answer|classification)\W*[:=]\s*["'`*]*([\w -]+?)["'`*.,]*\s*$"""
)
_REASON_LINE = re.compile(r"(?im)^\W*(?:reason|explanation|rationale)\W*[:=]\s*(.+)$")


@dataclass(frozen=True)
class ParsedAnswer:
    label: str
    reason: str


def _norm(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().strip("\"'`*.,:;!").lower())


def _match(candidate: Any, labels: Iterable[str]) -> str | None:
    if not isinstance(candidate, str | bool | int):
        return None
    wanted = _norm(str(candidate))
    return next((label for label in labels if _norm(label) == wanted), None)


def _json_objects(text: str) -> Iterable[dict[str, Any]]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            yield value
        start = text.find("{", start + 1)


def parse_answer(text: str, labels: list[str]) -> ParsedAnswer | None:
    """The label (one of ``labels``, in its defined spelling) and reason, or ``None``."""
    for obj in _json_objects(text):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        label = _match(lowered.get("label", lowered.get("verdict")), labels)
        if label is not None:
            reason = lowered.get("reason", lowered.get("explanation", ""))
            return ParsedAnswer(label, str(reason or ""))
    reason_match = _REASON_LINE.search(text)
    reason = reason_match.group(1).strip() if reason_match else text.strip()
    line = _LABEL_LINE.search(text)
    if line is not None:
        label = _match(line.group(1), labels)
        if label is not None:
            return ParsedAnswer(label, reason)
    label = _match(text, labels)
    if label is not None:
        return ParsedAnswer(label, "")
    words = set(re.findall(r"[\w-]+", text.lower()))
    normalized = {_norm(w) for w in words}
    named = [label for label in labels if _norm(label) in normalized]
    if len(named) == 1:
        return ParsedAnswer(named[0], reason)
    return None
