#!/usr/bin/env node
// Runs the compiled test suite (dist/test/**/*.test.js) on node's built-in runner and prints its
// summary. Usage: node tools/run-tests.mjs [path-substring ...] — with arguments, only test files
// whose path contains one of them run (e.g. `npm run test:unit -- storage`).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { availableParallelism } from "node:os";

const root = new URL("..", import.meta.url).pathname;
const testRoot = join(root, "dist", "test");

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(testRoot, []).filter(
  (file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}
const concurrency = Number(process.env.SYNOD_TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const result = spawnSync(
  process.execPath,
  [
    "--test",
    `--test-concurrency=${concurrency}`,
    "--test-reporter=spec",
    // A file whose tests are done exits even if a third-party client left a timer or socket behind.
    "--test-force-exit",
    // A hung test fails after 5 minutes (the longest test takes about a minute alone).
    `--test-timeout=${Number(process.env.SYNOD_TEST_TIMEOUT_MS ?? 300_000)}`,
    ...files,
  ],
  { stdio: "inherit", cwd: root },
);
process.exit(result.status ?? 1);
