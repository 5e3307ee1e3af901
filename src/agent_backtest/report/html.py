"""The HTML report: one self-contained file, to attach to a CI run and open anywhere.

The page is static markup plus inline CSS and JS (``assets/``); the run result
is embedded as JSON and the page's script builds the gate verdict, the
coverage chart, the cases with their verdicts, divergence reports and span
trees from it. Nothing is fetched: the page holds no URL, and its Content
Security Policy allows only its own inline script and style (by hash), so
even text that slipped past escaping could not load or run anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
from functools import cache
from importlib import resources
from pathlib import Path

from agent_backtest.report import formatting as fmt
from agent_backtest.report.model import RunReport
from agent_backtest.trace.writers import atomic_writer

DATA_ELEMENT_ID = "backtest-data"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<svg id="svg-proto" width="0" height="0" aria-hidden="true"></svg>
<main id="report">
<noscript><h1>{title}</h1><p>{noscript}</p></noscript>
</main>
<script type="application/json" id="{data_id}">{data}</script>
<script>{js}</script>
</body>
</html>
"""


@cache
def _asset(name: str) -> str:
    return resources.files("agent_backtest.report").joinpath("assets", name).read_text("utf-8")


def _sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def embedded_json(report: RunReport) -> str:
    """The result as JSON that cannot end its <script> element or open a comment in it.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\\u``
    escapes mean the same characters to ``JSON.parse``.
    """
    text = report.model_dump_json(by_alias=True, exclude_none=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(report: RunReport) -> str:
    css, js = _asset("report.css"), _asset("report.js")
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256_source(js)}",
            f"style-src {_sha256_source(css)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    title = f"agent-backtest report: {fmt.gate_headline(report.gate)}"
    noscript = (
        f"{len(report.cases)} cases: {fmt.outcome_counts(report)}. "
        "This report is built by its inline script; allow JavaScript to see it."
    )
    return _PAGE.format(
        csp=csp,
        title=html.escape(title),
        noscript=html.escape(noscript),
        css=css,
        data_id=DATA_ELEMENT_ID,
        data=embedded_json(report),
        js=js,
    )


def write_html(report: RunReport, path: Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(render_html(report).encode("utf-8"))
