// Repository policy as a test (STYLE.md §16, TigerBeetle's tidy.zig): the layering of DESIGN.md
// and the determinism rules for the pure core are checked on every `npm test`. Method: read each
// source file under src/, extract its imports and scan for banned calls, compare with the table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, dirname, resolve, sep } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..", "..");
const srcRoot = join(root, "src");

/** Which top-level folders of src/ each folder may import (itself is always allowed). */
export const LAYERS: Record<string, readonly string[]> = {
  util: [],
  paxos: ["util"],
  log: ["util"],
  coord: ["util"],
  meta: ["util"],
  storage: ["util"],
  transport: ["util"],
  sim: ["paxos", "log", "coord", "meta", "util"],
  node: ["paxos", "storage", "transport", "log", "coord", "meta", "util"],
  kafka: ["node", "log", "meta", "storage", "util"],
  zookeeper: ["node", "coord", "util"],
  recipes: ["zookeeper", "util"],
  admin: ["node", "util"],
  streams: ["util", "kafka"],
  cli: ["*"],
  "(root)": ["*"],
};

/** Folders that must be deterministic: no clock, randomness, timers or I/O of their own. */
const DETERMINISTIC = ["paxos", "log", "coord", "meta"];
/** util modules the deterministic folders may use (the rest of util does I/O or logging). */
const PURE_UTIL = new Set(["assert", "random", "clock", "state-machine", "bytes", "varint"]);
const BANNED_IN_DETERMINISTIC: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now()"],
  [/\bnew Date\s*\(/, "new Date()"],
  [/\bMath\.random\s*\(/, "Math.random()"],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, "timers"],
  [/\bperformance\.now\s*\(/, "performance.now()"],
  [/\bprocess\.(hrtime|nextTick)\b/, "process clocks"],
  [/\bqueueMicrotask\s*\(/, "queueMicrotask()"],
];
/** The consensus core is also synchronous (STYLE.md §1). */
const BANNED_IN_PAXOS: Array<[RegExp, string]> = [
  [/\bawait\b/, "await"],
  [/\bPromise\b/, "Promise"],
  [/\basync\s+(function|\(|[a-zA-Z_]+\s*\()/, "async functions"],
];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function folderOf(file: string): string {
  const rel = relative(srcRoot, file).split(sep);
  return rel.length === 1 ? "(root)" : rel[0];
}

function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s+["']([^"']+)["']/g;
  for (const match of text.matchAll(pattern)) specifiers.push(match[1] ?? match[2] ?? match[3]);
  return specifiers;
}

/** Drops comments so that prose mentioning Date.now() does not trip the scan. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const files = sourceFiles(srcRoot);

test("tidy: every import follows the layering of DESIGN.md", () => {
  const violations: string[] = [];
  for (const file of files) {
    const folder = folderOf(file);
    const allowed = LAYERS[folder];
    assert.ok(allowed, `src/${folder} is not in the layering table of test/tidy.test.ts; add it there`);
    const text = readFileSync(file, "utf8");
    for (const specifier of importsOf(text)) {
      const where = `${relative(root, file)} imports ${specifier}`;
      if (!specifier.startsWith(".")) {
        if (DETERMINISTIC.includes(folder)) violations.push(`${where}: deterministic code imports no packages or node: modules`);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      const targetFolder = folderOf(target);
      if (targetFolder === folder || allowed.includes("*") || allowed.includes(targetFolder)) {
        if (DETERMINISTIC.includes(folder) && targetFolder === "util") {
          const module = relative(join(srcRoot, "util"), target).replace(/\.js$/, "");
          if (!PURE_UTIL.has(module)) violations.push(`${where}: util/${module} is not a pure utility`);
        }
        continue;
      }
      violations.push(`${where}: ${folder}/ may import only ${allowed.join(", ") || "nothing of synod"}`);
    }
  }
  assert.deepEqual(violations, []);
});

test("tidy: the deterministic core takes no clock, randomness or timers of its own", () => {
  const violations: string[] = [];
  for (const file of files) {
    const folder = folderOf(file);
    if (!DETERMINISTIC.includes(folder)) continue;
    const text = stripComments(readFileSync(file, "utf8"));
    const banned = folder === "paxos" ? [...BANNED_IN_DETERMINISTIC, ...BANNED_IN_PAXOS] : BANNED_IN_DETERMINISTIC;
    for (const [pattern, what] of banned) {
      if (pattern.test(text)) violations.push(`${relative(root, file)} uses ${what}`);
    }
  }
  assert.deepEqual(violations, []);
});

test("tidy: the import scanner sees the import forms we use (a checker that cannot fail is a defect)", () => {
  assert.deepEqual(importsOf(`import { a } from "./x.js";\nimport type { B } from "../y.js";\nexport { c } from "./z.js";\nimport "./side.js";\nconst m = await import("./dyn.js");`), [
    "./x.js",
    "../y.js",
    "./z.js",
    "./side.js",
    "./dyn.js",
  ]);
  assert.equal(stripComments("// Date.now() in a comment\nconst x = 1;").includes("Date.now"), false);
  assert.ok(BANNED_IN_DETERMINISTIC.some(([p]) => p.test("const t = Date.now();")));
});
