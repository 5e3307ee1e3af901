from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent_backtest.evalset.evalset import load_evalset, validate_evalset
from agent_backtest.promote.promote import Status, promote
from agent_backtest.promote.scan import scan_paths
from agent_backtest.promote.select import Selection
from agent_backtest.trace.model import Annotation, AnnotationTarget
from tests.promote.factory import make_trace, write_traces
from tests.promote.seeded import SEEDS, Seed, planted


def _all_text(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file()
    )


def _forms(secret: str) -> set[str]:
    """The secret and the spellings a writer could turn it into (YAML folding, no separators)."""
    forms = {secret, secret.replace("\n", "\\n")}
    forms.update(line for line in secret.splitlines() if len(line) > 20)
    if any(ch.isdigit() for ch in secret) and (" " in secret or "-" in secret[4:]):
        forms.add(secret.replace(" ", "").replace("-", ""))
    return forms


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"{s.kind}:{s.secret[:12]}")
def test_a_seeded_secret_reaches_no_written_file(tmp_path: Path, seed: Seed) -> None:
    text = planted(seed)
    trace = make_trace(
        user=f"Hi, {text}. Where is my order?",
        arguments={
            "order_id": "1234",
            "note": text,
            "nested": [{"raw": f'{{"v": "{seed.secret}"}}'}],
        },
        result={"status": "in_transit", "echo": text},
        extra_annotations=(
            Annotation(target=AnnotationTarget(), name="note", explanation=f"user pasted {text}"),
        ),
    )
    trace.session_id = f"session {text}"
    evalset = tmp_path / "evalset"
    result = promote([write_traces(tmp_path / "t.jsonl", trace)], evalset, Selection())
    assert [o.status for o in result.outcomes] == [Status.WRITTEN]
    assert result.outcomes[0].redacted.get(seed.kind, 0) >= 5
    written = _all_text(evalset)
    for form in _forms(seed.secret):
        assert form not in written
    assert f"<redacted:{seed.kind}:" in written
    assert scan_paths([evalset]).findings == []
    load_evalset(evalset)


def test_promote_twice_writes_nothing_the_second_time(tmp_path: Path) -> None:
    source = write_traces(
        tmp_path / "t.jsonl", make_trace("a" * 32), make_trace("b" * 32, tools=("refund",))
    )
    evalset = tmp_path / "es"
    first = promote([source], evalset, Selection())
    assert [o.status for o in first.outcomes] == [Status.WRITTEN, Status.WRITTEN]
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in evalset.rglob("*") if p.is_file()}
    second = promote([source], evalset, Selection())
    assert [o.status for o in second.outcomes] == [Status.DUPLICATE, Status.DUPLICATE]
    assert [o.case_id for o in second.outcomes] == [o.case_id for o in first.outcomes]
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in evalset.rglob("*") if p.is_file()}
    assert after == before


def test_an_equivalent_trace_is_a_duplicate_naming_the_case(tmp_path: Path) -> None:
    evalset = tmp_path / "es"
    one = make_trace("a" * 32, user="I am jane@acme.test; where is 1234?")
    two = make_trace("b" * 32, user="I am bob@other.test;   where is 1234?")
    result = promote([write_traces(tmp_path / "t.jsonl", one, two)], evalset, Selection())
    assert [o.status for o in result.outcomes] == [Status.WRITTEN, Status.DUPLICATE]
    assert result.outcomes[1].case_id == result.outcomes[0].case_id
    assert len(list((evalset / "cases").glob("*.yaml"))) == 1


def test_existing_case_changes_only_with_update(tmp_path: Path) -> None:
    evalset = tmp_path / "es"
    promote([write_traces(tmp_path / "a.jsonl", make_trace("a" * 32))], evalset, Selection())
    (path,) = (evalset / "cases").glob("*.yaml")
    original = path.read_bytes()
    relabelled = make_trace("a" * 32)
    relabelled.annotations[0].explanation = "looped five times on lookup_order"
    source = write_traces(tmp_path / "b.jsonl", relabelled)
    assert promote([source], evalset, Selection()).outcomes[0].status is Status.DUPLICATE
    assert path.read_bytes() == original
    dry = promote([source], evalset, Selection(), update=True, dry_run=True)
    assert dry.outcomes[0].status is Status.UPDATED
    assert path.read_bytes() == original
    assert promote([source], evalset, Selection(), update=True).outcomes[0].status is Status.UPDATED
    assert b"looped five times" in path.read_bytes()
    again = promote([source], evalset, Selection(), update=True)
    assert again.outcomes[0].status is Status.UNCHANGED
    assert validate_evalset(evalset).ok


def test_dry_run_writes_nothing_at_all(tmp_path: Path) -> None:
    evalset = tmp_path / "es"
    result = promote(
        [write_traces(tmp_path / "t.jsonl", make_trace())], evalset, Selection(), dry_run=True
    )
    assert [o.status for o in result.outcomes] == [Status.WRITTEN]
    assert not evalset.exists()


def test_label_mapping_from_evalset_yaml(tmp_path: Path) -> None:
    evalset = tmp_path / "es"
    evalset.mkdir()
    (evalset / "evalset.yaml").write_text(
        "schema: agent-backtest/evalset@1\nname: support\n"
        "failure_mode_labels:\n  failure_mode=looped: step_repetition\n"
    )
    from agent_backtest.promote.promote import load_label_map

    selection = Selection(label_map=load_label_map(evalset))
    result = promote(
        [write_traces(tmp_path / "t.jsonl", make_trace(label="looped"))], evalset, selection
    )
    assert result.outcomes[0].failure_modes == ("step_repetition",)
    assert not result.created_config


_SLOW_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agent_backtest.promote.promote import promote
    from agent_backtest.promote.select import Selection
    promote([Path(sys.argv[1])], Path(sys.argv[2]), Selection(), format_name="normalized")
    """
)


def test_killing_promote_mid_write_leaves_no_partial_case(tmp_path: Path) -> None:
    # Big tool results make each YAML dump take long enough to kill the real
    # process (SIGKILL: no cleanup runs) while a temp file is open.
    big = [f"line {i} of a long tool result" for i in range(20_000)]
    traces = [make_trace(f"{i:032x}", tools=(f"tool_{i}",), result={"rows": big}) for i in range(3)]
    source = write_traces(tmp_path / "t.jsonl", *traces)
    evalset = tmp_path / "es"
    cases = evalset / "cases"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_CHILD, str(source), str(evalset)])
    deadline = time.monotonic() + 60
    try:
        while not (cases.is_dir() and list(cases.glob(".*.tmp"))):
            assert child.poll() is None, "promote finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    leftovers = list(cases.glob(".*.tmp"))
    assert leftovers, "the kill should have interrupted a write"
    complete = list(cases.glob("*.yaml"))
    assert len(complete) < len(traces)
    report = validate_evalset(evalset)  # every case file present is whole and hash-valid
    assert report.ok
    assert report.cases == len(complete)
    # The next run finishes the job and points at the leftover.
    result = promote([source], evalset, Selection(), format_name="normalized")
    assert result.count(Status.WRITTEN) == len(traces) - len(complete)
    assert result.leftover_temp_files == sorted(leftovers)
    assert len(load_evalset(evalset).cases) == len(traces)


def test_a_case_without_a_stored_fingerprint_is_fingerprinted_from_its_content(
    tmp_path: Path,
) -> None:
    source = write_traces(tmp_path / "t.jsonl", make_trace())
    evalset = tmp_path / "es"
    promote([source], evalset, Selection())
    (path,) = (evalset / "cases").glob("*.yaml")
    text = path.read_text()
    path.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("fingerprint:")) + "\n"
    )
    again = promote([source], evalset, Selection())
    assert [(o.status, o.path) for o in again.outcomes] == [(Status.DUPLICATE, path)]
