"""Redaction: replace secrets and personal data with keyed-hash placeholders.

``<redacted:email:3f9a2c1d>`` is the first 8 hex digits of HMAC-SHA256(key,
value). The same value always gets the same placeholder under one key, so a
case stays internally consistent: when the candidate agent reads the redacted
input and passes ``<redacted:email:3f9a2c1d>`` to a tool, replay still matches
the recorded arguments that carried the same placeholder.

The key only makes placeholders unguessable for low-entropy values (an email
or phone number could otherwise be confirmed by hashing a guess). It is not a
way to store or recover secrets: the original values are gone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_backtest.errors import ConfigError, Location
from agent_backtest.promote.detectors import (
    BUILTIN_DETECTORS,
    BUILTIN_KINDS,
    PLACEHOLDER_RE,
    Detector,
    find_all,
)
from agent_backtest.promote.jsonpath import Step, parse_path, replace_at
from agent_backtest.trace.writers import atomic_writer

POLICY_VERSION = "builtin@1"
KEY_FILE = ".redaction-key"
KEY_ENV = "BACKTEST_REDACTION_KEY"

# Shorter found values are not swept elsewhere: "pwd: abc" must not turn every "abc" into a placeholder.
_MIN_REPEAT = 8
_CACHE_MAX_TEXT = 2048
_CACHE_MAX_ENTRIES = 20_000
_KIND_NAME = re.compile(r"^[a-z0-9_.-]+$")

# String values under these keys are credentials whatever they look like
# ("password": "hunter2" matches no pattern). Matched on the whole key name.
_CREDENTIAL_KEYS = re.compile(
    r"(?i)^(?:password|passwd|pwd|secret|client_secret|api[_-]?key|x-api-key|"
    r"access[_-]?token|refresh[_-]?token|auth[_-]?token|id[_-]?token|private[_-]?key|"
    r"authorization|proxy-authorization|cookie|set-cookie|aws_secret_access_key)$"
)


def _kind_name(value: str) -> str:
    # The name appears inside placeholders, which scan recognises by this alphabet.
    if not _KIND_NAME.match(value):
        raise ValueError("use lower-case letters, digits, '_', '.', '-'")
    return value


class PatternRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    regex: str
    group: int = 0

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _kind_name(value)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from None
        return value


class PathRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _kind_name(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        try:
            parse_path(value)
        except ConfigError as exc:
            raise ValueError(exc.what) from None
        return value


class RedactionRules(BaseModel):
    """User rules: regexes over every string, JSON paths into the case document."""

    model_config = ConfigDict(extra="forbid")

    patterns: list[PatternRule] = Field(default_factory=list)
    paths: list[PathRule] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)

    @field_validator("disable")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BUILTIN_KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; built-in kinds: {', '.join(BUILTIN_KINDS)}")
        return value

    def policy_version(self) -> str:
        """``builtin@1``, plus a digest of the user rules so a changed rule shows in a diff."""
        if not (self.patterns or self.paths or self.disable):
            return POLICY_VERSION
        digest = hashlib.sha256(orjson.dumps(self.model_dump(), option=orjson.OPT_SORT_KEYS))
        return f"{POLICY_VERSION}+rules:{digest.hexdigest()[:8]}"


def rules_from_mapping(data: Any, where: Path | None = None) -> RedactionRules:
    """Validate user rules; errors name the file and the field path."""
    try:
        return RedactionRules.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"redaction rules: {first['msg']}",
            where=Location(where, field=path),
            fix="see docs/promote.md#redaction",
        ) from None


@dataclass
class RedactionReport:
    """How many values were replaced, per kind."""

    counts: Counter[str] = field(default_factory=Counter)
    # value -> kind of everything replaced during one ``redact`` call; emptied at its end
    # so no raw secret outlives the call.
    found: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class Redactor:
    """Walks JSON-like values and returns redacted copies; dict keys are left as they are."""

    def __init__(self, key: bytes, rules: RedactionRules | None = None) -> None:
        if not key:
            raise ConfigError(
                "the redaction key is empty",
                fix=f"unset {KEY_ENV} or set it to a long random string",
            )
        self._key = key
        self.rules = rules or RedactionRules()
        disabled = set(self.rules.disable)
        user = tuple(
            Detector(rule.name, re.compile(rule.regex), group=rule.group)
            for rule in self.rules.patterns
        )
        # User rules first: on an exact overlap the user's name for a value wins.
        self.detectors: tuple[Detector, ...] = user + tuple(
            d for d in BUILTIN_DETECTORS if d.kind not in disabled
        )
        self._paths: list[tuple[str, list[Step]]] = [
            (rule.name, parse_path(rule.path)) for rule in self.rules.paths
        ]
        self._matches: dict[str, list[tuple[int, int, str]]] = {}

    @property
    def policy_version(self) -> str:
        return self.rules.policy_version()

    def placeholder(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:8]
        return f"<redacted:{kind}:{digest}>"

    def redact_text(self, text: str, report: RedactionReport) -> str:
        matches = self._matches.get(text)
        if matches is None:
            matches = find_all(text, self.detectors)
            # System prompts, tool names and common results repeat across every
            # trace of a run; remembering short strings' matches saves most regex work.
            if len(text) <= _CACHE_MAX_TEXT:
                if len(self._matches) >= _CACHE_MAX_ENTRIES:
                    self._matches.clear()
                self._matches[text] = matches
        if not matches:
            return text
        parts: list[str] = []
        cursor = 0
        for start, end, kind in matches:
            parts.append(text[cursor:start])
            parts.append(self.placeholder(kind, text[start:end]))
            report.counts[kind] += 1
            report.found.setdefault(text[start:end], kind)
            cursor = end
        parts.append(text[cursor:])
        return "".join(parts)

    def redact(
        self, value: Any, report: RedactionReport | None = None
    ) -> tuple[Any, RedactionReport]:
        """A redacted deep copy of ``value`` (dicts, lists, strings, scalars) and the counts."""
        report = report if report is not None else RedactionReport()
        copied = orjson.loads(orjson.dumps(value)) if self._paths else value
        for name, steps in self._paths:
            replace_at(copied, steps, functools.partial(self._replace_whole, name, report=report))
        redacted = self._walk(copied, None, report)
        # Second pass: a value found once (an AWS secret next to its name, a token after
        # "Bearer", a JSON-path field) is replaced wherever else it appears, even where
        # nothing around it gives it away.
        repeated = {v: k for v, k in report.found.items() if len(v.strip()) >= _MIN_REPEAT}
        report.found.clear()
        if repeated:
            pattern = re.compile(
                "|".join(re.escape(v) for v in sorted(repeated, key=len, reverse=True))
            )
            redacted = self._sweep(redacted, pattern, repeated, report)
        return redacted, report

    def _sweep(
        self, value: Any, pattern: re.Pattern[str], kinds: dict[str, str], report: RedactionReport
    ) -> Any:
        if isinstance(value, str):
            if not pattern.search(value):
                return value
            # Placeholders are kept whole: a short value must not be replaced inside one.
            pieces = PLACEHOLDER_RE.split(value)
            holders = PLACEHOLDER_RE.findall(value)

            def swap(match: re.Match[str]) -> str:
                kind = kinds[match.group(0)]
                report.counts[kind] += 1
                return self.placeholder(kind, match.group(0))

            out = [pattern.sub(swap, piece) for piece in pieces]
            return "".join(p + (holders[i] if i < len(holders) else "") for i, p in enumerate(out))
        if isinstance(value, dict):
            return {k: self._sweep(v, pattern, kinds, report) for k, v in value.items()}
        if isinstance(value, list):
            return [self._sweep(v, pattern, kinds, report) for v in value]
        return value

    def _replace_whole(self, kind: str, found: Any, *, report: RedactionReport) -> str:
        report.counts[kind] += 1
        text = (
            found
            if isinstance(found, str)
            else orjson.dumps(found, option=orjson.OPT_SORT_KEYS).decode()
        )
        report.found.setdefault(text, kind)
        return self.placeholder(kind, text)

    def _walk(self, value: Any, key: str | None, report: RedactionReport) -> Any:
        if isinstance(value, str):
            redacted = self.redact_text(value, report)
            if (
                key is not None
                and redacted == value
                and value.strip()
                and _CREDENTIAL_KEYS.match(key)
                and not _is_placeholder(value)
            ):
                report.counts["credential_field"] += 1
                report.found.setdefault(value, "credential_field")
                return self.placeholder("credential_field", value)
            return redacted
        if isinstance(value, dict):
            return {
                k: self._walk(v, k if isinstance(k, str) else None, report)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._walk(v, None, report) for v in value]
        # Numbers can be card numbers or phone numbers too: a JSON number is
        # checked as text and, when it matches, becomes a placeholder string.
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000_000:
            text = str(value)
            redacted = self.redact_text(text, report)
            return value if redacted == text else redacted
        return value


def _is_placeholder(value: str) -> bool:
    return bool(re.fullmatch(r"\s*<redacted:[a-z0-9_.-]+:[0-9a-f]{8}>\s*", value))


def load_or_create_key(evalset_dir: Path, environ: dict[str, str] | None = None) -> bytes:
    """The evalset's redaction key: ``$BACKTEST_REDACTION_KEY``, else ``DIR/.redaction-key``,
    else a new random key written there (mode 0600, listed in ``DIR/.gitignore``)."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return env[KEY_ENV].encode("utf-8")
    path = evalset_dir / KEY_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise ConfigError(
                "the redaction key file is empty",
                where=Location(path),
                fix="delete it to create a new key",
            )
        return text.encode("utf-8")
    key = secrets.token_hex(32)
    with atomic_writer(path) as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.encode("ascii") + b"\n")
    _ignore_in_git(evalset_dir)
    return key.encode("utf-8")


def _ignore_in_git(evalset_dir: Path) -> None:
    """List the key file in the evalset's ``.gitignore``: with the key, anyone holding the
    repository could confirm a guessed email or phone number against a placeholder.
    Fingerprints do not depend on the key, so dedupe works across machines without it."""
    ignore = evalset_dir / ".gitignore"
    current = ignore.read_text(encoding="utf-8") if ignore.is_file() else ""
    if KEY_FILE in current.split():
        return
    prefix = current if not current or current.endswith("\n") else current + "\n"
    with atomic_writer(ignore) as handle:
        handle.write(f"{prefix}{KEY_FILE}\n".encode())
