// Builds the agent-backtest HTML report from the run result embedded in the page.
// Every value from the result goes into the page through textContent or
// setAttribute, never as markup: case outputs and judge reasons are untrusted.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("backtest-data").textContent);
  // The namespace comes from an inline <svg> the HTML parser placed in it, so the
  // page holds no URL at all, not even the SVG namespace's.
  const SVG_NS = document.getElementById("svg-proto").namespaceURI;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    return fill(node, attrs, children);
  }

  function svg(tag, attrs) {
    return fill(document.createElementNS(SVG_NS, tag), attrs, []);
  }

  function fill(node, attrs, children) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function pct(value, digits) {
    return value === null || value === undefined ? "-" : (value * 100).toFixed(digits || 0) + "%";
  }

  function duration(ns) {
    const ms = ns / 1e6;
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms.toFixed(ms < 10 ? 1 : 0) + " ms";
  }

  function text(value) {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function headline(gate) {
    if (!gate) return ["not-evaluated", "Gate not evaluated"];
    if (gate.override) return ["overridden", "Gate OVERRIDDEN (passed by override)"];
    return gate.passed ? ["passed", "Gate PASSED"] : ["failed", "Gate FAILED"];
  }

  function list(items, className) {
    return el("ul", { class: className }, ...items.map((item) => el("li", {}, item)));
  }

  function renderHeader(root) {
    const counts = {};
    for (const c of data.cases) counts[c.outcome] = (counts[c.outcome] || 0) + 1;
    const parts = ["passed", "failed", "error"].filter((o) => counts[o]).map((o) => counts[o] + " " + o);
    root.append(
      el("h1", {}, "agent-backtest report"),
      el(
        "p",
        { class: "meta", id: "run-meta" },
        data.cases.length + " cases" + (parts.length ? ": " + parts.join(", ") : "") +
          " · created " + data.created_at +
          (data.agent ? " · agent " + data.agent : "") +
          " · llm " + data.llm_mode +
          (data.shard ? " · shard " + data.shard : "")
      )
    );
  }

  function renderGate(root) {
    const gate = data.gate;
    const [state, title] = headline(gate);
    const box = el("section", { class: "gate " + state, id: "gate", "data-state": state });
    box.append(el("div", { class: "gate-verdict" }, title));
    if (gate) {
      if (gate.coverage !== undefined) {
        box.append(
          el(
            "p",
            { class: "gate-coverage" },
            "Production-weighted coverage " + pct(gate.coverage, 1) +
              (gate.min_coverage !== undefined ? " (minimum " + pct(gate.min_coverage, 1) + ")" : "")
          )
        );
      }
      if (gate.override) box.append(el("p", { class: "gate-override" }, "Override: " + gate.override));
      if (gate.reasons.length) box.append(el("h3", {}, "Why the gate failed"), list(gate.reasons, "gate-reasons"));
      if (gate.warnings.length) box.append(el("h3", {}, "Warnings"), list(gate.warnings, "gate-warnings"));
      if (gate.flaky.length) box.append(el("p", { class: "gate-flaky" }, "Flaky: " + gate.flaky.join(", ")));
      if (gate.quarantined.length) {
        box.append(el("p", { class: "gate-quarantined" }, "Quarantined: " + gate.quarantined.join(", ")));
      }
    }
    root.append(box);
  }

  function chartRow(row) {
    const share = row.production_share || 0;
    const bars = svg("svg", { viewBox: "0 0 300 40", preserveAspectRatio: "none", role: "img" });
    bars.append(
      svg("rect", { class: "bar-track", x: 0, y: 2, width: 300, height: 16 }),
      svg("rect", { class: "bar-share", x: 0, y: 2, width: (share * 300).toFixed(1), height: 16 }),
      svg("rect", { class: "bar-track", x: 0, y: 22, width: 300, height: 16 })
    );
    if (row.pass_rate !== undefined) {
      // Coloured by the gate's status for the mode, so the chart never disagrees with it.
      bars.append(
        svg("rect", {
          class: "bar-pass" + (row.status === "passed" ? "" : " below"),
          x: 0, y: 22, width: (row.pass_rate * 300).toFixed(1), height: 16,
        })
      );
      if (row.interval) {
        const [low, high] = row.interval;
        bars.append(svg("line", { class: "whisker", x1: low * 300, x2: high * 300, y1: 30, y2: 30 }));
      }
    }
    const label = "production " + pct(row.production_share, 1) + " · pass " + pct(row.pass_rate);
    bars.setAttribute("aria-label", row.mode + ": " + label);
    return el(
      "div",
      { class: "chart-row", "data-mode": row.mode },
      el("code", {}, row.mode),
      bars,
      el("span", { class: "status-" + row.status }, row.status + " · " + label)
    );
  }

  function renderCoverage(root) {
    const section = el("section", { id: "coverage" }, el("h2", {}, "Coverage of production failure modes"));
    const gate = data.gate;
    if (!gate || !gate.modes.length) {
      section.append(el("p", { class: "empty" }, "No gate decision in this result: no per-mode coverage."));
      root.append(section);
      return;
    }
    section.append(
      el(
        "p",
        { class: "legend" },
        el("span", { class: "key-share" }, "■ share of production failures"),
        el("span", { class: "key-pass" }, "■ candidate pass rate (line: 95% interval)")
      )
    );
    section.append(el("div", { class: "chart" }, ...gate.modes.map(chartRow)));
    const head = ["Failure mode", "Production share", "Cases", "Pass rate", "95% interval", "Δ vs baseline", "Status"];
    const rows = gate.modes.map((row) =>
      el(
        "tr",
        { class: "mode-row", "data-mode": row.mode },
        el("td", {}, el("code", {}, row.mode)),
        el("td", { class: "num" }, pct(row.production_share, 1)),
        el("td", { class: "num" }, String(row.cases)),
        el("td", { class: "num" }, row.pass_rate === undefined ? "-" : pct(row.pass_rate) + " (" + row.passed_runs + "/" + row.runs + ")"),
        el("td", {}, row.interval ? "[" + pct(row.interval[0]) + ", " + pct(row.interval[1]) + "]" : "-"),
        el("td", {}, row.delta === undefined ? "-" : (row.delta >= 0 ? "+" : "") + (row.delta * 100).toFixed(0) + "pp" + (row.p_value === undefined ? "" : " (p=" + row.p_value.toFixed(2) + ")")),
        el("td", { class: "status-" + row.status }, row.status + (row.note ? " (" + row.note + ")" : ""))
      )
    );
    section.append(el("table", { class: "modes" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)));
    root.append(section);
  }

  function spanTree(trace, anchor, evidence) {
    const byId = new Map(trace.spans.map((span) => [span.span_id, span]));
    const children = new Map();
    const roots = [];
    for (const span of trace.spans) {
      if (span.parent_id && byId.has(span.parent_id)) {
        if (!children.has(span.parent_id)) children.set(span.parent_id, []);
        children.get(span.parent_id).push(span);
      } else {
        roots.push(span);
      }
    }
    const byStart = (a, b) => a.start_ns - b.start_ns;
    function node(span) {
      const kids = (children.get(span.span_id) || []).sort(byStart);
      const status = (span.status && span.status.code) || "unset";
      const line = el(
        "span",
        { class: "span-line" },
        el("span", { class: "span-kind" }, span.kind),
        el("span", { class: "span-name" }, span.name),
        el("span", { class: "span-duration" }, duration(span.end_ns - span.start_ns)),
        status === "unset" ? null : el("span", { class: "span-status span-status-" + status }, " " + status + (span.status.message ? ": " + span.status.message : ""))
      );
      const item = el("li", {
        class: "span" + (kids.length ? "" : " leaf") + (evidence.has(span.span_id) ? " evidence" : ""),
        id: anchor(span.span_id),
        "data-span-id": span.span_id,
        "data-kind": span.kind,
      });
      if (kids.length) {
        item.append(el("details", { open: "" }, el("summary", {}, line), el("ul", { class: "span-children" }, ...kids.map(node))));
      } else {
        item.append(line);
      }
      return item;
    }
    return el("ul", { class: "span-tree" }, ...roots.sort(byStart).map(node));
  }

  function verdictTable(run, anchor) {
    const rows = run.verdicts.map((v) =>
      el(
        "tr",
        { class: "verdict", "data-classifier": v.classifier, "data-outcome": v.outcome },
        el("td", { class: "outcome-" + v.outcome }, v.outcome.toUpperCase()),
        el("td", {}, el("code", {}, v.classifier + "@" + v.version)),
        el("td", {}, v.label || ""),
        el("td", { class: "reason" }, v.reason),
        el("td", { class: "evidence" }, ...(v.evidence || []).map((id) => el("a", { href: "#" + anchor(id), "data-span": id }, id)))
      )
    );
    const head = ["Outcome", "Classifier", "Label", "Reason", "Evidence spans"];
    return el("table", { class: "verdicts" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
  }

  function divergence(report) {
    const box = el("div", { class: "divergence", "data-alignment": report.alignment });
    box.append(el("p", {}, "Tool calls: " + report.calls.length + ", alignment with production: " + report.alignment));
    const rows = report.calls.map((call) =>
      el(
        "tr",
        { class: "divergence-call tier-" + call.tier },
        el("td", { class: "num" }, String(call.index + 1)),
        el("td", {}, el("code", {}, call.call)),
        el("td", {}, call.recording_seq === undefined || call.recording_seq === null ? "NO RECORDING" : "recording #" + call.recording_seq),
        el("td", {}, call.tier),
        el("td", {}, (call.level ? call.level + "-level: " : "") + call.reason)
      )
    );
    const head = ["#", "Call", "Answered by", "Tier", "Why"];
    box.append(el("table", { class: "divergence-calls" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)));
    const repeated = Object.entries(report.repeated_calls || {});
    if (repeated.length) box.append(el("p", { class: "repeated" }, "Repeated: " + repeated.map(([call, n]) => call + " ×" + n).join(", ")));
    if ((report.unused_recordings || []).length) box.append(el("p", { class: "unused" }, "Unused recordings: " + report.unused_recordings.join(", ")));
    return box;
  }

  function renderRun(caseIndex, run, runIndex, runs) {
    const ids = new Map();
    const anchor = (spanId) => {
      if (!ids.has(spanId)) ids.set(spanId, "span-" + caseIndex + "-" + runIndex + "-" + ids.size);
      return ids.get(spanId);
    };
    const section = el("section", { class: "run run-" + run.outcome, "data-attempt": run.attempt || 0 });
    section.append(el("h3", {}, (runs > 1 ? "Run " + ((run.attempt || 0) + 1) + " of " + runs + ": " : "Run: ") + run.outcome + " · " + run.duration_s.toFixed(2) + " s"));
    if (run.error) section.append(el("p", { class: "run-error outcome-error" }, "Error: " + run.error));
    if (run.problems.length) section.append(list(run.problems, "problems"));
    if (run.verdicts.length) section.append(verdictTable(run, anchor));
    if (run.budgets.length) {
      section.append(list(run.budgets.map((b) => (b.passed ? "ok " : "OVER ") + b.name + ": " + b.reason), "budgets"));
    }
    if (run.divergence) section.append(el("h3", {}, "Divergence from the recorded production path"), divergence(run.divergence));
    if (run.output !== undefined && run.output !== null) section.append(el("h3", {}, "Output"), el("pre", { class: "output" }, text(run.output)));
    if (run.trace) {
      const evidence = new Set(run.verdicts.filter((v) => v.outcome !== "pass").flatMap((v) => v.evidence || []));
      section.append(el("h3", {}, "Candidate span tree (" + run.trace.spans.length + " spans)"), spanTree(run.trace, anchor, evidence));
    }
    return section;
  }

  // A large run holds thousands of runs and span trees; building them all up front
  // took Chromium minutes. A case's body is built the first time it is opened, and
  // only the first OPEN_FIRST failed or errored cases start open.
  const OPEN_FIRST = 25;

  function fillCase(details) {
    if (details.dataset.built) return;
    details.dataset.built = "true";
    const index = Number(details.dataset.index);
    const c = data.cases[index];
    if (c.drift.length) details.append(list(c.drift.map((d) => "classifier drift: " + d), "drift"));
    c.runs.forEach((run, runIndex) => details.append(renderRun(index, run, runIndex, c.runs.length)));
  }

  function renderCases(root) {
    const section = el("section", { id: "cases" }, el("h2", {}, "Cases (" + data.cases.length + ")"));
    const order = { failed: 0, error: 1, passed: 2 };
    const cases = data.cases.map((c, i) => [c, i]).sort((a, b) => order[a[0].outcome] - order[b[0].outcome] || a[1] - b[1]);
    let opened = 0;
    for (const [c, index] of cases) {
      const details = el("details", {
        class: "case case-" + c.outcome,
        id: "case-" + c.case_id,
        "data-case-id": c.case_id,
        "data-outcome": c.outcome,
        "data-index": index,
      });
      details.append(
        el(
          "summary",
          {},
          el("span", { class: "outcome-" + c.outcome }, c.outcome.toUpperCase()),
          " ",
          el("code", { class: "case-id" }, c.case_id),
          " (" + c.evalset + ") · " + (c.failure_modes.join(", ") || "no failure mode") +
            (c.runs.length > 1 ? " · pass rate " + pct(c.pass_rate) + " over " + c.runs.length + " runs" : "")
        )
      );
      details.addEventListener("toggle", () => {
        if (details.open) fillCase(details);
      });
      if (c.outcome !== "passed" && opened < OPEN_FIRST) {
        opened += 1;
        fillCase(details);
        details.setAttribute("open", "");
      }
      section.append(details);
    }
    if (opened < cases.filter(([c]) => c.outcome !== "passed").length) {
      section.insertBefore(
        el("p", { class: "meta", id: "cases-note" }, "The first " + OPEN_FIRST + " failed or errored cases are open; open any other case to see its runs."),
        section.children[1] || null
      );
    }
    root.append(section);
  }

  // report.html#case-<id> opens that case (a link from a CI annotation or a chat).
  function openLinkedCase() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (!target || target.tagName !== "DETAILS" || !target.classList.contains("case")) return;
    fillCase(target);
    target.open = true;
    target.scrollIntoView();
  }

  function renderVersions(root) {
    const section = el("section", { id: "versions" }, el("h2", {}, "Evalsets and classifiers"));
    section.append(list(data.evalsets.map((e) => e.name + " (" + e.path + "): " + e.cases + " cases, lock " + (e.lock_hash || "none")), "evalsets"));
    const versions = Object.entries(data.classifier_versions || {});
    if (versions.length) section.append(list(versions.map(([id, v]) => id + "@" + v), "classifiers"));
    root.append(section);
  }

  // Following an evidence link opens the collapsed branches that hide the span.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-span]");
    if (!link) return;
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    for (let node = target.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    for (const old of document.querySelectorAll("li.span.focus")) old.classList.remove("focus");
    target.classList.add("focus");
  });

  const root = document.getElementById("report");
  renderHeader(root);
  renderGate(root);
  renderCoverage(root);
  renderCases(root);
  renderVersions(root);
  openLinkedCase();
  window.addEventListener("hashchange", openLinkedCase);
  root.setAttribute("data-rendered", "true");
})();
