// Child processes for tests: spawn `synod` — the bundled command npm installs (dist/bin/synod.mjs,
// built by `npm run build`) — and read its JSON log lines.
import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const cliPath = join(repoRoot, "dist", "bin", "synod.mjs");

/** Throws when the bundle is missing or older than the last `tsc` emit it is built from. */
function checkBundleFresh(): void {
  const compiled = join(repoRoot, "dist", ".tsbuildinfo");
  let bundled: number;
  try {
    bundled = statSync(cliPath).mtimeMs;
  } catch {
    throw new Error(`${cliPath} is missing: run \`npm run build\` (tsc, then tools/bundle.mjs)`);
  }
  if (bundled < statSync(compiled).mtimeMs) throw new Error(`${cliPath} is older than ${compiled}: run \`npm run build\``);
}

export interface LoggedProcess {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line matching the predicate; rejects on exit or timeout. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnLogged(args: string[], options: { env?: NodeJS.ProcessEnv; script?: string } = {}): LoggedProcess {
  if (options.script === undefined) checkBundleFresh();
  const child = spawn(process.execPath, [options.script ?? cliPath, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 10_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr: ${stderr}`)), timeoutMs);
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`process exited (code ${code}, signal ${signal}) before the expected log line; stderr: ${stderr}`));
        });
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
