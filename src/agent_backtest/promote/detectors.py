"""Built-in detectors for secrets and personal data in free text.

Redaction (before a case is written) and ``backtest scan`` (after) share these,
so whatever promote would have replaced is exactly what scan reports.

Each detector yields ``(start, end)`` spans of the sensitive part of a match:
for ``Bearer <token>`` only the token is replaced, so the text still says an
``Authorization`` header was there. Checksummed kinds (cards, IBANs) are
validated before they count, because long digit runs (timestamps, order ids)
are everywhere in traces and redacting them would break replay matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

# What a replacement looks like. Detectors must never match inside one, and
# scan skips them: a placeholder is the proof that redaction already ran.
PLACEHOLDER_RE = re.compile(r"<redacted:[a-z0-9_.-]+:[0-9a-f]{8}>")


@dataclass(frozen=True, slots=True)
class Detector:
    """A regex, which group holds the sensitive part, and an optional validity check."""

    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    validate: Callable[[str], bool] | None = None
    credential: bool = True  # False for personal data (email, phone, card, IBAN)
    # Substrings every match contains; when none is in the text the regex is not run.
    # Most strings in a trace are plain prose or ids, so this skips most regex work.
    needles: tuple[str, ...] = ()
    trigger: re.Pattern[str] | None = field(init=False, default=None, compare=False)

    def __post_init__(self) -> None:
        # One C-level search beats a Python loop over the needles on every string.
        if self.needles:
            if all(len(n) == 1 for n in self.needles):
                alternation = "[" + "".join(re.escape(n) for n in self.needles) + "]"
            else:
                alternation = "|".join(re.escape(n) for n in self.needles)
            object.__setattr__(self, "trigger", re.compile(alternation))

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for match in self.pattern.finditer(text):
            start, end = match.span(self.group)
            if start < 0:
                continue
            if self.validate is None or self.validate(text[start:end]):
                yield start, end


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(number: str) -> bool:
    digits = _digits(number)
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_ok(text: str) -> bool:
    digits = _digits(text)
    if not 13 <= len(digits) <= 19:
        return False
    # Issuer prefixes (Visa 4, Mastercard 2221-2720/51-55, Amex 34/37, Discover,
    # Diners, JCB, UnionPay, Maestro 5x/6x): epoch-millisecond timestamps start
    # with 1 and would otherwise pass Luhn one time in ten.
    first = digits[0]
    if first == "2" and not 2221 <= int(digits[:4]) <= 2720:
        return False
    if first not in "23456":
        return False
    # Grouped numbers use one separator style ("4111 1111 ..." or "4111-1111-...").
    if " " in text and "-" in text:
        return False
    return luhn_ok(digits)


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _phone_ok(text: str) -> bool:
    return 8 <= len(_digits(text)) <= 15


class _IbanDetector(Detector):
    """IBANs written in groups of four can run into a following upper-case word;
    drop trailing groups until the checksum holds instead of missing the IBAN."""

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for match in self.pattern.finditer(text):
            start, candidate = match.start(), match.group(0)
            while candidate:
                if iban_ok(candidate):
                    yield start, start + len(candidate)
                    break
                cut = candidate.rfind(" ")
                candidate = candidate[:cut] if cut > 0 else ""


_TOKEN_END = r"(?![A-Za-z0-9_-])"
_DIGITS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")

BUILTIN_DETECTORS: tuple[Detector, ...] = (
    Detector(
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*\Z)"
        ),
        needles=("PRIVATE KEY",),
    ),
    Detector(
        "anthropic_api_key",
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}"),
        needles=("sk-ant-",),
    ),
    Detector(
        "openai_api_key",
        re.compile(
            r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
            + _TOKEN_END
        ),
        needles=("sk-",),
    ),
    Detector(
        "aws_access_key_id",
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        needles=("AKIA", "ASIA"),
    ),
    Detector(
        # A bare 40-character base64 string is not evidence on its own; it counts
        # next to a name that says it is an AWS secret key.
        "aws_secret_access_key",
        re.compile(
            r"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)"
            r"[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        group=1,
        needles=("ecret", "ECRET"),
    ),
    Detector(
        "github_token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"
            r"(?![A-Za-z0-9_])"
        ),
        needles=("gh", "github_pat_"),
    ),
    Detector(
        "google_api_key",
        re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}" + _TOKEN_END),
        needles=("AIza",),
    ),
    Detector(
        "slack_token",
        re.compile(r"(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}" + _TOKEN_END),
        needles=("xox",),
    ),
    Detector(
        "stripe_key",
        re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk|pk)_live_[A-Za-z0-9]{10,}(?![A-Za-z0-9_])"),
        needles=("_live_",),
    ),
    Detector(
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
            + _TOKEN_END
        ),
        needles=("eyJ",),
    ),
    Detector(
        "bearer_token",
        re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)(?![A-Za-z0-9._~+/=-])"),
        group=1,
        needles=("earer", "EARER"),
    ),
    Detector(
        "email",
        re.compile(
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
        ),
        credential=False,
        needles=("@",),
    ),
    Detector(
        "card_number",
        re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-])"),
        validate=_card_ok,
        credential=False,
        needles=_DIGITS,
    ),
    _IbanDetector(
        "iban",
        re.compile(
            r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
        ),
        credential=False,
        needles=_DIGITS,
    ),
    Detector(
        # Phones need a shape, not just digits: E.164 with a "+", North American
        # (555) 123-4567 / 555-123-4567 with one separator style, or a national
        # trunk "0" followed by space-separated groups. Dates (2024-01-15),
        # times (12:30:45), versions (1.2.3), UUIDs and bare digit runs do not fit,
        # nor does the tail of a longer digit-group run (an account number).
        "phone",
        re.compile(
            r"(?<![\w+.-])(?<!\d[ .-])(?:"
            r"\+[1-9]\d{0,3}(?:[ .-]?\(?\d{1,4}\)?)(?:[ .-]?\d{2,4}){1,5}"
            r"|\([2-9]\d{2}\)\s?\d{3}[-. ]\d{4}"
            r"|[2-9]\d{2}(?P<sep>[-. ])\d{3}(?P=sep)\d{4}"
            r"|0[1-9]\d{0,3}(?: \d{2,4}){2,4}"
            r")(?![\w-]|\.\d|:\d)"
        ),
        validate=_phone_ok,
        credential=False,
        needles=_DIGITS,
    ),
)

BUILTIN_KINDS: tuple[str, ...] = tuple(d.kind for d in BUILTIN_DETECTORS)


def find_all(text: str, detectors: Sequence[Detector]) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, kind)`` in text order, placeholders excluded.

    Overlaps go to the earliest start, then the longest match, then the detector
    listed first: a ``Bearer sk-...`` token is an ``openai_api_key``, and a
    private key block wins over anything inside it.
    """
    if not text:
        return []
    found: list[tuple[int, int, int, str]] = []
    for priority, detector in enumerate(detectors):
        trigger = detector.trigger
        if trigger is not None and trigger.search(text) is None:
            continue
        for start, end in detector.find(text):
            if end > start:
                found.append((start, -(end - start), priority, detector.kind))
    if not found:
        return []
    protected = [m.span() for m in PLACEHOLDER_RE.finditer(text)]
    found.sort()
    out: list[tuple[int, int, str]] = []
    cursor = 0
    for start, neg_length, _, kind in found:
        end = start - neg_length
        if start < cursor:
            continue
        if any(start < p_end and p_start < end for p_start, p_end in protected):
            continue
        out.append((start, end, kind))
        cursor = end
    return out
