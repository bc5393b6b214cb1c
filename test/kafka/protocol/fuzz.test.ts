// Goal: no request frame, however malformed, makes the decoder do anything but decode or throw a
// typed KafkaDecodeError; no frame makes it allocate more than its bytes pay for or run long.
// Method: 100,000 mutated and random frames over every API key and version (test/helpers/
// kafka-fuzz.ts), run in a child process with a 192 MiB heap cap (a runaway allocation kills it)
// and a time limit (a hang fails it). The seed is printed; `npm run fuzz -- --cases N --seed S`
// runs more. Planted bugs (an untyped throw, an allocation out of proportion) prove the checker bites.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../helpers/process.js";
import { runFuzz } from "../../helpers/kafka-fuzz.js";
import { decodeRequest } from "../../../src/kafka/protocol/request.js";
import { APIS } from "../../../src/kafka/protocol/generated/registry.js";

const seed = Number(process.env.SEED ?? 20260401);
const cases = Number(process.env.KAFKA_FUZZ_CASES ?? 100_000);

test(`fuzz: ${cases} mutated and random request frames over every API key give only typed errors (seed ${seed})`, async () => {
  console.log(`kafka request fuzz: seed ${seed}, ${cases} cases (SEED=<n> to vary)`);
  const child = spawn(process.execPath, ["--max-old-space-size=192", join(repoRoot, "dist", "tools", "kafka-fuzz.js"), "--cases", String(cases), "--seed", String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  assert.ok(stdout.trim(), `the fuzzer printed nothing (exit ${code}); stderr: ${stderr.slice(-2000)}`);
  const report = JSON.parse(stdout.trim().split("\n").pop()!) as ReturnType<typeof runFuzz> & { seconds: number };
  console.log(`fuzz report: ${JSON.stringify({ ...report, failures: report.failures.length })}`);
  assert.deepEqual(report.failures, []);
  assert.equal(code, 0);
  assert.equal(report.cases, cases);
  assert.equal(report.apiKeysCovered, APIS.length, "every API key was fuzzed");
  assert.ok(report.decoded > 0 && Object.keys(report.typedErrors).length >= 4, "both decoded frames and several kinds of typed error");
  assert.ok(report.slowestCaseMs < 1000, `a case took ${report.slowestCaseMs} ms`);
});

test("fuzz catches planted bugs: an untyped exception, and a result out of proportion to its frame", () => {
  const throwsUntyped = runFuzz({
    cases: 2000,
    seed,
    corpusPerVersion: 1,
    decode: (frame) => {
      const request = decodeRequest(frame);
      if (request.apiKey === 3) throw new TypeError("planted: cannot read properties of undefined");
      return request;
    },
  });
  assert.ok(throwsUntyped.failures.some((f) => f.error.startsWith("TypeError")));
  const allocates = runFuzz({ cases: 500, seed, corpusPerVersion: 1, decode: (frame) => ({ planted: new Array(frame.length * 3).fill(0) }) });
  assert.ok(allocates.failures.some((f) => f.error.includes("footprint")));
});
