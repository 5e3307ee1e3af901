"""Timestamps as Langfuse and Phoenix exports spell them -> integer nanoseconds.

Both formats write wall-clock times, not OTLP's integer nanoseconds: ISO-8601
strings (API responses, ``df.to_json(date_format="iso")``), the blob-export
spelling ``2024-05-29 13:46:19.963000`` (UTC implied), or epoch numbers
(``df.to_json()`` defaults to epoch milliseconds). Parsing is pure integer
arithmetic: going through ``datetime.timestamp()`` or a float would lose the
microseconds (and nanoseconds) that span ordering and durations depend on.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def iso_to_ns(text: str) -> int:
    """``2024-05-29T13:46:19.963123Z`` -> ns since the epoch; no timezone means UTC.

    Raises ``ValueError`` with the offending text when it is not ISO-8601.
    """
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = calendar.timegm(
        (int(year), int(month), int(day), int(hour), int(minute), int(second or 0), 0, 0, 0)
    )
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        seconds -= sign * offset
    return seconds * 1_000_000_000 + nanos


def _unit_ns(value: int) -> int:
    magnitude = abs(value)
    if magnitude < 10**11:
        return 1_000_000_000
    if magnitude < 10**14:
        return 1_000_000
    if magnitude < 10**17:
        return 1_000
    return 1


def epoch_to_ns(value: int) -> int:
    """An epoch number of unknown unit -> ns, by magnitude.

    pandas writes epoch milliseconds by default and ``date_unit`` can make it
    seconds, microseconds or nanoseconds; the magnitudes of those units do not
    overlap for any date between 1973 and 2286, so the size of the number is
    enough to tell them apart.
    """
    return value * _unit_ns(value)


def to_ns(value: Any) -> int:
    """Any timestamp spelling these exports use -> ns. ``ValueError``/``TypeError`` if not."""
    if isinstance(value, bool):
        raise TypeError("expected a timestamp, got a boolean")
    if isinstance(value, datetime):
        # Nested timestamps in Parquet arrive as datetime objects (microseconds;
        # pandas.Timestamp adds .nanosecond). Naive means UTC, as in the exports.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        seconds = calendar.timegm(aware.astimezone(UTC).timetuple())
        extra = int(getattr(value, "nanosecond", 0))
        return seconds * 1_000_000_000 + value.microsecond * 1_000 + extra
    if isinstance(value, int):
        return epoch_to_ns(value)
    if isinstance(value, float):
        # Only seen when a tool re-serialised epoch numbers through float; keep
        # the integer part exactly and round the fraction to whole nanoseconds.
        whole = int(value)
        unit = _unit_ns(whole)
        return whole * unit + round((value - whole) * unit)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return epoch_to_ns(int(text))
        return iso_to_ns(text)
    raise TypeError(f"expected a timestamp, got {type(value).__name__}")
