"""Promotion: selected production traces become redacted, deduplicated eval cases."""

from __future__ import annotations

from agent_backtest.promote.build import RejectedError, build_case
from agent_backtest.promote.fingerprint import fingerprint
from agent_backtest.promote.modes import LabelMap, known_failure_modes
from agent_backtest.promote.promote import (
    Outcome,
    PromoteResult,
    Status,
    load_label_map,
    load_rules_file,
    promote,
)
from agent_backtest.promote.redact import (
    POLICY_VERSION,
    RedactionReport,
    RedactionRules,
    Redactor,
    load_or_create_key,
)
from agent_backtest.promote.scan import Finding, ScanResult, scan_paths, scan_text
from agent_backtest.promote.select import AnnotationFilter, ScoreBelow, Selection

__all__ = [
    "POLICY_VERSION",
    "AnnotationFilter",
    "Finding",
    "LabelMap",
    "Outcome",
    "PromoteResult",
    "RedactionReport",
    "RedactionRules",
    "Redactor",
    "RejectedError",
    "ScanResult",
    "ScoreBelow",
    "Selection",
    "Status",
    "build_case",
    "fingerprint",
    "known_failure_modes",
    "load_label_map",
    "load_or_create_key",
    "load_rules_file",
    "promote",
    "scan_paths",
    "scan_text",
]
