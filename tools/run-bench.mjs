#!/usr/bin/env node
// Runs one benchmark: `npm run bench -- <name> [args...]` executes dist/bench/<name>.js (or
// dist/bench/<name>/main.js). Each benchmark prints exactly one JSON line of figures on stdout;
// progress and notes go to stderr.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const [name, ...args] = process.argv.slice(2);
const benchRoot = join(root, "dist", "bench");
const candidates = name ? [join(benchRoot, `${name}.js`), join(benchRoot, name, "main.js")] : [];
const script = candidates.find((path) => existsSync(path));
if (!script) {
  const names = existsSync(benchRoot)
    ? readdirSync(benchRoot).filter((n) => n.endsWith(".js") || !n.includes(".")).map((n) => n.replace(/\.js$/, ""))
    : [];
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${names.join(", ")}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, [script, ...args], { stdio: "inherit", cwd: root });
process.exit(result.status ?? 1);
