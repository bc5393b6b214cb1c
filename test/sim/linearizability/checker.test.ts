// Goal: the checker's contract beyond single verdicts: budgets end in "unknown" (never a false
// "ok"), an illegal partition wins over an unknown one, malformed histories get a typed error,
// and a history recorded through HistoryRecorder checks like the hand-built one. Method: a
// pathological history (many concurrent writes, then a read of a value nobody wrote, which makes
// the search visit every subset of the writes) run under each budget, with an injected clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BUDGET_STEPS_DEFAULT,
  checkLinearizability,
  formatReport,
  HistoryError,
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
} from "../../../src/sim/linearizability/mod.js";
import { done } from "./helpers.js";

/** `writers` concurrent writes of distinct values, then a read of a value none of them wrote. */
function pathological(writers: number, key = "k"): Operation<KvInput, KvOutput>[] {
  const history: Operation<KvInput, KvOutput>[] = [];
  for (let i = 0; i < writers; i++) history.push(done(i, 0, 1000, { kind: "put", key, value: i }, "ok"));
  // Concurrent reads that each pin a different write as "latest at some point" defeat pruning.
  for (let i = 0; i < writers; i++) history.push(done(100 + i, 0, 1000, { kind: "get", key }, i));
  history.push(done(999, 2000, 2010, { kind: "get", key }, -1));
  return history;
}

test("budget: a pathological history returns unknown (budgetSteps), never ok", () => {
  const result = checkLinearizability(kvModel(), pathological(24), { budgetSteps: 50_000 });
  assert.equal(result.verdict, "unknown");
  assert.equal(result.unknownReason, "budgetSteps");
  assert.equal(result.steps, 50_000);
  assert.match(formatReport(kvModel(), result), /budget exhausted \(budgetSteps\).*NOT an ok/);
  assert.equal(BUDGET_STEPS_DEFAULT, 10_000_000, "the documented default");
});

test("budget: the wall-clock budget is read from the injected clock", () => {
  let nowMs = 0;
  const clock = { monotonicMs: () => (nowMs += 1) };
  const result = checkLinearizability(kvModel(), pathological(24), { budgetMs: 5, clock });
  assert.equal(result.verdict, "unknown");
  assert.equal(result.unknownReason, "budgetMs");
});

test("budget: the cache memory limit ends in unknown too", () => {
  const result = checkLinearizability(kvModel(), pathological(24), { cacheBytesMax: 64 * 1024 });
  assert.equal(result.verdict, "unknown");
  assert.equal(result.unknownReason, "cacheBytes");
});

test("budget: an illegal partition is reported even when another runs out of budget", () => {
  const history = [
    ...pathological(24, "hard"),
    done(1, 0, 10, { kind: "put", key: "easy", value: 1 }, "ok"),
    done(1, 20, 30, { kind: "get", key: "easy" }, null),
  ] satisfies Operation<KvInput, KvOutput>[];
  const result = checkLinearizability(kvModel(), history, { budgetSteps: 10_000 });
  assert.equal(result.verdict, "illegal");
  assert.deepEqual(result.partitions.map((p) => p.verdict), ["unknown", "illegal"]);
});

test("malformed histories get a HistoryError", () => {
  const bad = (operation: Operation<RegisterInput, RegisterOutput>) => () => checkLinearizability(registerModel(), [operation]);
  assert.throws(bad({ clientId: 1, input: { kind: "read" }, call: 10, output: 1, return: 5 }), HistoryError);
  assert.throws(bad({ clientId: 1, input: { kind: "read" }, call: NaN, output: 1, return: 5 }), HistoryError);
  assert.throws(bad({ clientId: 1, input: { kind: "read" }, call: 0, output: 1, return: Infinity }), HistoryError);
  assert.throws(bad({ clientId: 1, input: { kind: "read" }, call: 0, output: undefined, return: 5 }), HistoryError);
  const lossy = { ...registerModel(), partition: (ops: readonly Operation<RegisterInput, RegisterOutput>[]) => [ops.slice(1)] };
  const two = [done(1, 0, 1, { kind: "read" }, null), done(1, 2, 3, { kind: "read" }, null)] as Operation<RegisterInput, RegisterOutput>[];
  assert.throws(() => checkLinearizability(lossy, two), HistoryError);
});
