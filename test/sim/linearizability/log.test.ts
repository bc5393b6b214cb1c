// Goal: the log model accepts exactly the histories of a linearizable append-only log: offsets
// handed out once each and in order, reads that return every entry from their offset (or, in
// "prefix" mode, a correct prefix of them). Method: hand-written histories with known verdicts,
// plus a long sequential history to show a state is cheap to step, hash and compare.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkLinearizability,
  formatReport,
  logModel,
  type LogEntry,
  type LogInput,
  type LogOutput,
  type Operation,
} from "../../../src/sim/linearizability/mod.js";
import { done, unknown } from "./helpers.js";

type LogOp = Operation<LogInput, LogOutput>;
const append = (value: string) => ({ kind: "append", value }) as const;
const read = (from: number) => ({ kind: "read", from }) as const;
const entries = (from: number, ...values: string[]): LogEntry[] => values.map((value, i) => [from + i, value]);

function verdict(history: LogOp[], reads: "complete" | "prefix" = "complete"): string {
  return checkLinearizability(logModel({ reads }), history).verdict;
}

test("log: concurrent appends get distinct offsets in some order", () => {
  assert.equal(verdict([done(1, 0, 10, append("a"), 1), done(2, 0, 10, append("b"), 0), done(3, 20, 30, read(0), entries(0, "b", "a"))]), "ok");
  assert.equal(verdict([done(1, 0, 10, append("a"), 0), done(2, 0, 10, append("b"), 0)]), "illegal", "duplicate offset");
  assert.equal(verdict([done(1, 0, 10, append("a"), 1)]), "illegal", "gap");
  assert.equal(verdict([done(1, 0, 10, append("a"), 1), done(2, 0, 10, append("b"), 0), done(3, 20, 30, read(0), entries(0, "a", "b"))]), "illegal", "read order contradicts offsets");
});

test("log: a complete read after an acknowledged append must include it", () => {
  const acked = done(1, 0, 10, append("a"), 0);
  assert.equal(verdict([acked, done(2, 20, 30, read(0), [])]), "illegal");
  assert.equal(verdict([acked, done(2, 20, 30, read(1), [])]), "ok");
  assert.equal(verdict([acked, done(2, 20, 30, read(5), [])]), "ok", "reading past the end returns nothing");
  // In prefix mode (a Kafka fetch), an empty or partial read is fine; wrong contents are not.
  assert.equal(verdict([acked, done(2, 20, 30, read(0), [])], "prefix"), "ok");
  assert.equal(verdict([acked, done(2, 20, 30, read(0), entries(0, "x"))], "prefix"), "illegal");
  assert.equal(verdict([acked, done(2, 20, 30, read(0), entries(1, "a"))], "prefix"), "illegal");
});

test("log: unknown appends may appear later; values never appended may not", () => {
  const maybe = unknown<LogInput, LogOutput>(1, 0, append("a"));
  assert.equal(verdict([maybe, done(2, 10, 20, read(0), []), done(2, 30, 40, read(0), entries(0, "a"))]), "ok");
  assert.equal(verdict([maybe, done(2, 10, 20, read(0), [])]), "ok");
  assert.equal(verdict([maybe, done(2, 10, 20, read(0), entries(0, "z"))]), "illegal");
  assert.equal(verdict([maybe, done(2, 10, 20, read(0), entries(0, "a")), done(3, 30, 40, append("b"), 0)]), "illegal");
});

test("log: a long sequential history of appends and reads checks in linear time", () => {
  const history: LogOp[] = [];
  const values: string[] = [];
  for (let i = 0; i < 3000; i++) {
    history.push(done(1, 4 * i, 4 * i + 1, append(`v${i}`), i));
    values.push(`v${i}`);
    const from = Math.max(0, i - 3);
    history.push(done(2, 4 * i + 2, 4 * i + 3, read(from), entries(from, ...values.slice(from))));
  }
  const result = checkLinearizability(logModel(), history);
  assert.equal(result.verdict, "ok");
  assert.equal(result.steps, history.length);
  history[history.length - 1] = done(2, 4 * 2999 + 2, 4 * 2999 + 3, read(2996), entries(2996, "v2996", "v2997", "v2998"));
  const stale = checkLinearizability(logModel(), history);
  assert.equal(stale.verdict, "illegal");
  assert.match(formatReport(logModel(), stale), /length 3000/);
});
