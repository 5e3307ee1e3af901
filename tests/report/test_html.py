from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_backtest.report.html import DATA_ELEMENT_ID, render_html, write_html
from agent_backtest.report.model import RunReport
from tests.report.browser import dump_dom, recording_proxy
from tests.report.dom import Node, parse
from tests.report.factory import (
    HOSTILE,
    INVENTED_REASON,
    JUDGE_ERROR,
    LOOP_REASON,
    STEP_REPETITION_CELLS,
    run_report,
)
from tests.support.tools import require_tool

INJECTED_IMAGE = '<img src="http://reports.example.invalid/pixel.png">'
DATA_BLOCK = re.compile(
    rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', re.DOTALL
)


def _split(page: str) -> tuple[str, str]:
    """(the page without its embedded data, the embedded data)."""
    match = DATA_BLOCK.search(page)
    assert match is not None
    return page[: match.start(1)] + page[match.end(1) :], match.group(1)


# --- the file itself -----------------------------------------------------------


def test_the_page_holds_no_url_outside_the_embedded_data() -> None:
    shell, _ = _split(render_html(run_report()))
    assert not re.search(r"https?:|//[a-z0-9]", shell, re.IGNORECASE), "an external reference"
    assert not re.search(r"<(link|img|iframe|object|embed)\b", shell)
    assert not re.search(r"<script[^>]+src=", shell)
    assert not re.search(r"@import|url\(", shell)


def test_the_data_round_trips_and_cannot_close_its_script_element() -> None:
    report = run_report()
    _, data = _split(render_html(report))
    assert "<" not in data
    assert ">" not in data
    assert "&" not in data
    assert RunReport.model_validate(json.loads(data)) == report
    assert json.loads(data)["cases"][1]["runs"][0]["output"] == HOSTILE  # only encoded


def test_the_content_security_policy_allows_only_the_pages_own_script_and_style() -> None:
    page = render_html(run_report())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = dict(part.strip().split(" ", 1) for part in csp.group(1).split(";"))
    assert policy["default-src"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert policy["script-src"] == f"'sha256-{digest}'"
    assert policy["style-src"].startswith("'sha256-")


def test_write_html_writes_the_rendered_page(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "report.html"
    write_html(run_report(), path)
    assert path.read_text("utf-8") == render_html(run_report())


# --- what renders in a browser -------------------------------------------------


@dataclass
class Rendered:
    dom: Node
    page_requests: list[str]


def _render_in_chromium(tmp: Path, html_text: str, fragment: str = "") -> Rendered:
    chromium = require_tool("chromium")
    page = tmp / "page.html"
    page.write_text(html_text, "utf-8")
    with recording_proxy() as (port, log):
        dom = dump_dom(chromium, page, tmp / "profile", proxy_port=port, fragment=fragment)
        requests = log.from_page()
    return Rendered(parse(dom), requests)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render_in_chromium(tmp_path_factory.mktemp("html"), render_html(run_report()))


def test_the_script_ran_and_made_no_request(rendered: Rendered) -> None:
    report = rendered.dom.find(id="report")
    assert report.attrs.get("data-rendered") == "true"
    assert rendered.page_requests == []


def test_the_request_check_catches_a_page_that_loads_from_outside(tmp_path: Path) -> None:
    # Without the page's Content Security Policy, an injected image is fetched: the
    # proxy sees it, so an empty request list above means something.
    page = re.sub(
        r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", render_html(run_report())
    )
    page = page.replace("</body>", f"{INJECTED_IMAGE}</body>")
    assert _render_in_chromium(tmp_path, page).page_requests == [
        "GET http://reports.example.invalid/pixel.png HTTP/1.1"
    ]


def test_the_content_security_policy_blocks_injected_markup_from_loading(tmp_path: Path) -> None:
    page = render_html(run_report()).replace("</body>", f"{INJECTED_IMAGE}</body>")
    assert _render_in_chromium(tmp_path, page).page_requests == []


def test_the_gate_verdict_with_its_reasons(rendered: Rendered) -> None:
    gate = rendered.dom.find("section", id="gate")
    assert gate.attrs["data-state"] == "failed"
    assert gate.find(cls="gate-verdict").text() == "Gate FAILED"
    reasons = [li.text() for li in gate.find("ul", cls="gate-reasons").children_of("li")]
    assert reasons == run_report().gate.reasons  # type: ignore[union-attr]
    assert "72.0% (minimum 90.0%)" in gate.find(cls="gate-coverage").text()


def test_a_coverage_chart_row_per_mode_with_share_and_pass_rate_bars(rendered: Rendered) -> None:
    rows = rendered.dom.find_all("div", cls="chart-row")
    assert [row.attrs["data-mode"] for row in rows] == [
        "step_repetition",
        "hallucinated_tool_input",
        "context_overflow",
        "cost_blowup",
    ]
    widths = {
        row.attrs["data-mode"]: (
            row.find("rect", cls="bar-share").attrs["width"],
            [bar.attrs["width"] for bar in row.find_all("rect", cls="bar-pass")],
        )
        for row in rows
    }
    assert widths["step_repetition"] == ("126.0", ["150.0"])  # 42% and 50% of 300
    assert widths["hallucinated_tool_input"] == ("60.0", ["100.0"])
    assert widths["cost_blowup"] == ("18.0", [])  # no runs: no pass-rate bar
    failed = rows[1].find("rect", cls="bar-pass")
    assert "below" in failed.classes
    assert rows[0].find("line", cls="whisker").attrs["x1"] == "45"
    assert rows[0].find("svg").attrs["aria-label"] == "step_repetition: production 42.0% · pass 50%"


def test_the_mode_table(rendered: Rendered) -> None:
    row = rendered.dom.find("tr", cls="mode-row", data_mode="step_repetition")
    cells = [td.text() for td in row.children_of("td")]
    assert cells == STEP_REPETITION_CELLS


def test_every_case_with_its_verdicts_reasons_and_evidence(rendered: Rendered) -> None:
    cases = rendered.dom.find_all("details", cls="case")
    assert [(c.attrs["data-case-id"], c.attrs["data-outcome"]) for c in cases] == [
        ("invents-refund-amount-9be41d", "failed"),
        ("overflows-context-77aa01", "error"),
        ("loops-on-lookup-order-3f9a2c", "passed"),
    ]
    failed, errored, passed = cases
    assert "open" in failed.attrs
    assert "open" not in passed.attrs
    assert passed.find_all("section", cls="run") == []  # built when opened
    assert len(failed.find_all("section", cls="run")) == 3
    first_run = failed.find_all("section", cls="run")[0]
    loop = first_run.find("tr", cls="verdict", data_classifier="step_repetition")
    assert loop.attrs["data-outcome"] == "fail"
    assert loop.find("td", cls="reason").text() == LOOP_REASON
    links = loop.find("td", cls="evidence").find_all("a")
    assert [a.text() for a in links] == [f"bad0-lookup{n}" for n in range(4)]
    invented = first_run.find("tr", cls="verdict", data_classifier="hallucinated_tool_input")
    assert invented.find("td", cls="reason").text() == f"{INVENTED_REASON} {HOSTILE}"
    assert errored.find("p", cls="run-error").text() == f"Error: {JUDGE_ERROR}"


def test_evidence_links_point_at_highlighted_nodes_of_the_span_tree(rendered: Rendered) -> None:
    run = rendered.dom.find("details", cls="case").find_all("section", cls="run")[0]
    for link in run.find("td", cls="evidence").find_all("a"):
        target = run.find("li", id=link.attrs["href"].removeprefix("#"))
        assert target.attrs["data-span-id"] == link.text()
        assert "evidence" in target.classes


def test_the_divergence_report(rendered: Rendered) -> None:
    run = rendered.dom.find("details", cls="case").find_all("section", cls="run")[0]
    divergence = run.find("div", cls="divergence")
    assert divergence.attrs["data-alignment"] == "in_order"
    calls = [
        [td.text() for td in tr.children_of("td")]
        for tr in divergence.find_all("tr", cls="divergence-call")
    ]
    assert calls[0] == ["1", "lookup_order(order=42)", "recording #0", "exact", "same arguments"]
    assert calls[2][:4] == ["3", 'send_email(to="a@b.c")', "NO RECORDING", "unmatched"]
    assert calls[2][4] == "tool-level: tool 'send_email' was never called in production"
    assert divergence.find("p", cls="unused").text() == (
        "Unused recordings: #1 issue_refund(amount=20)"
    )


def test_the_candidate_span_tree_is_nested_with_kind_name_duration_and_status(
    rendered: Rendered,
) -> None:
    run = rendered.dom.find("details", cls="case").find_all("section", cls="run")[0]
    tree = run.find("ul", cls="span-tree")
    (root,) = tree.children_of("li")
    assert root.attrs["data-kind"] == "AGENT"
    assert root.find("span", cls="span-duration").text() == "2.50 s"
    children = root.find("ul", cls="span-children").children_of("li")
    assert [c.attrs["data-span-id"] for c in children] == [
        "bad0-llm",
        *(f"bad0-lookup{n}" for n in range(4)),
        "bad0-chain",
    ]
    chain = children[-1]
    assert chain.find("details").attrs.get("open") == ""  # collapsible, shown open
    (refund,) = chain.find("ul", cls="span-children").children_of("li")
    assert refund.find("span", cls="span-name").text() == "issue_refund"
    assert refund.find("span", cls="span-duration").text() == "250 ms"
    assert refund.find("span", cls="span-status-error").text() == " error: amount over limit"
    # The failed case's three runs; the passed case is closed, so not built yet.
    assert len(rendered.dom.find_all("li", cls="span")) == 8 + 8 + 5


def test_untrusted_text_is_shown_as_text_never_as_markup(rendered: Rendered) -> None:
    assert rendered.dom.find_all("img") == []
    outputs = rendered.dom.find_all("pre", cls="output")
    assert outputs
    assert outputs[0].text() == HOSTILE


def test_a_result_without_a_gate_says_so(tmp_path: Path) -> None:
    dom = _render_in_chromium(tmp_path, render_html(run_report(with_gate=False))).dom
    assert dom.find("section", id="gate").find(cls="gate-verdict").text() == "Gate not evaluated"
    assert dom.find_all("div", cls="chart-row") == []
    assert "No gate decision" in dom.find("section", id="coverage").text()
    assert len(dom.find_all("details", cls="case")) == 3


def test_a_case_linked_by_its_fragment_is_opened_and_built(tmp_path: Path) -> None:
    dom = _render_in_chromium(
        tmp_path, render_html(run_report()), fragment="case-loops-on-lookup-order-3f9a2c"
    ).dom
    passed = dom.find("details", id="case-loops-on-lookup-order-3f9a2c")
    assert "open" in passed.attrs
    (run,) = passed.find_all("section", cls="run")
    assert run.find("td", cls="reason").text() == "no repeated tool calls"
    assert len(run.find_all("li", cls="span")) == 5


def test_only_the_first_failed_cases_start_open_in_a_large_run(tmp_path: Path) -> None:
    report = run_report()
    failed = report.cases[1]
    report.cases = [
        failed.model_copy(update={"case_id": f"case-{n:02d}", "runs": failed.runs[:1]})
        for n in range(30)
    ]
    dom = _render_in_chromium(tmp_path, render_html(report)).dom
    cases = dom.find_all("details", cls="case")
    built = [c.attrs["data-case-id"] for c in cases if c.find_all("section", cls="run")]
    assert built == [f"case-{n:02d}" for n in range(25)]
    assert all("open" not in c.attrs for c in cases[25:])
    assert "open any other case" in dom.find("p", id="cases-note").text()
