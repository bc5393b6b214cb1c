// Goal: the checker accepts the classic linearizable register histories and rejects the classic
// violations (stale read, new-then-old read, read-your-write, a write seen before it was invoked,
// lost update). Method: small hand-written histories whose verdict is known by reasoning, each
// checked with the read/write or the CAS register model; a diagnostic must name the culprit.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  casRegisterModel,
  checkLinearizability,
  formatReport,
  HistoryRecorder,
  registerModel,
  type CasRegisterInput,
  type CasRegisterOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
} from "../../../src/sim/linearizability/mod.js";
import { done, unknown } from "./helpers.js";

type RegisterOp = Operation<RegisterInput, RegisterOutput>;
type CasOp = Operation<CasRegisterInput, CasRegisterOutput>;
const read = { kind: "read" } as const;
const write = (value: number) => ({ kind: "write", value }) as const;
const cas = (expected: number | null, value: number) => ({ kind: "cas", expected, value }) as const;

function verdict(history: RegisterOp[]): string {
  return checkLinearizability(registerModel(), history).verdict;
}
function casVerdict(history: CasOp[]): string {
  return checkLinearizability(casRegisterModel({ initial: 0 }), history).verdict;
}

test("register: sequential write then read of the written value is linearizable", () => {
  assert.equal(verdict([done(1, 0, 10, write(1), "ok"), done(2, 20, 30, read, 1)]), "ok");
  assert.equal(verdict([done(1, 0, 10, read, null)]), "ok");
  assert.equal(verdict([]), "ok");
});

test("register: a stale read after a later write completed is rejected", () => {
  const history = [done(1, 0, 10, write(1), "ok"), done(1, 20, 30, write(2), "ok"), done(2, 40, 50, read, 1)];
  assert.equal(verdict(history), "illegal");
});

test("register: concurrent writes may take effect in either order", () => {
  const writes = [done(1, 0, 10, write(1), "ok"), done(2, 0, 10, write(2), "ok")];
  assert.equal(verdict([...writes, done(3, 20, 30, read, 1)]), "ok");
  assert.equal(verdict([...writes, done(3, 20, 30, read, 2)]), "ok");
  assert.equal(verdict([...writes, done(3, 20, 30, read, null)]), "illegal");
  // Two later reads must agree on which write was last.
  assert.equal(verdict([...writes, done(3, 20, 30, read, 2), done(3, 40, 50, read, 1)]), "illegal");
});

test("register: a read concurrent with a write may see either value, but never new then old", () => {
  const slowWrite = done(1, 0, 100, write(1), "ok");
  assert.equal(verdict([slowWrite, done(2, 10, 20, read, null), done(2, 30, 40, read, 1)]), "ok");
  assert.equal(verdict([slowWrite, done(2, 10, 20, read, 1), done(3, 30, 40, read, null)]), "illegal");
});

test("register: a write cannot take effect before it was invoked", () => {
  assert.equal(verdict([done(2, 0, 10, read, 1), done(1, 20, 30, write(1), "ok")]), "illegal");
  // Touching intervals count as concurrent (conservative), so this one is accepted.
  assert.equal(verdict([done(2, 0, 10, read, 1), done(1, 10, 30, write(1), "ok")]), "ok");
});

test("register: read-your-write violation (a client misses its own completed write)", () => {
  assert.equal(verdict([done(1, 0, 10, write(1), "ok"), done(1, 20, 30, read, null)]), "illegal");
});

test("register: an unknown-outcome write may have taken effect, or not, but only once and not early", () => {
  const lost = unknown<RegisterInput, RegisterOutput>(1, 0, write(1));
  assert.equal(verdict([lost, done(2, 20, 30, read, 1)]), "ok", "took effect");
  assert.equal(verdict([lost, done(2, 20, 30, read, null)]), "ok", "did not (yet) take effect");
  assert.equal(verdict([lost, done(2, 20, 30, read, null), done(2, 40, 50, read, 1)]), "ok", "took effect late");
  assert.equal(verdict([lost, done(2, 20, 30, read, 1), done(2, 40, 50, read, null)]), "illegal", "undone");
  const late = unknown<RegisterInput, RegisterOutput>(1, 20, write(1));
  assert.equal(verdict([done(2, 0, 10, read, 1), late]), "illegal", "seen before its invoke");
});

test("register: a failed operation is dropped by the recorder and must not explain a read", () => {
  const recorder = new HistoryRecorder<RegisterInput, RegisterOutput>();
  const failed = recorder.invoke(1, write(1), 0);
  recorder.fail(failed, 10);
  const seen = recorder.invoke(2, read, 20);
  recorder.ok(seen, 1, 30);
  assert.equal(recorder.operations().length, 1);
  assert.equal(checkLinearizability(registerModel(), recorder.operations()).verdict, "illegal");

  const ok = new HistoryRecorder<RegisterInput, RegisterOutput>();
  ok.fail(ok.invoke(1, write(1), 0), 10);
  ok.ok(ok.invoke(2, read, 20), null, 30);
  assert.equal(checkLinearizability(registerModel(), ok.operations()).verdict, "ok");
});

test("register: the report names the longest prefix, the state after it and the stuck operation", () => {
  const history = [
    done(1, 0, 10, write(1), "ok"),
    done(1, 20, 30, write(2), "ok"),
    done(2, 40, 50, read, 1),
    done(3, 45, 60, write(3), "ok"),
  ];
  const model = registerModel();
  const result = checkLinearizability(model, history);
  assert.equal(result.verdict, "illegal");
  const diagnostic = result.partitions[0].illegal!;
  // write(3) is concurrent with the read, so the search gets further by placing it first.
  assert.deepEqual(diagnostic.longestPrefix, [0, 1, 3]);
  assert.equal(diagnostic.stateAfterPrefix, 3);
  assert.equal(diagnostic.stuck, 2);
  const text = formatReport(model, result);
  assert.match(text, /ILLEGAL/);
  assert.match(text, /longest linearizable prefix found: 3 of 4/);
  assert.match(text, /3\. \[client 3 @ 45\.\.60\] write\(3\) → ok/);
  assert.match(text, /state after the prefix: 3/);
  assert.match(text, /cannot linearize: \[client 2 @ 40\.\.50\] read\(\) → 1/);
  assert.match(text, /illegal next: +\[client 2 @ 40\.\.50\] read\(\) → 1/);
});

test("register: an ok verdict comes with a witness order that respects real time", () => {
  const history = [done(2, 5, 40, read, 1), done(1, 0, 10, write(1), "ok"), done(3, 20, 30, write(2), "ok")];
  const result = checkLinearizability(registerModel(), history);
  assert.equal(result.verdict, "ok");
  assert.deepEqual(result.partitions[0].linearization, [1, 0, 2]);
});

test("cas register: lost update (two CAS from the same value both succeed) is rejected", () => {
  const a = done(1, 0, 10, cas(0, 1), true);
  const b = done(2, 0, 10, cas(0, 2), true);
  assert.equal(casVerdict([a, b]), "illegal");
  assert.equal(casVerdict([a, done(2, 0, 10, cas(0, 2), false)]), "ok");
  assert.equal(casVerdict([a, done(2, 0, 10, cas(0, 2), false), done(3, 20, 30, read, 2)]), "illegal");
});

test("cas register: a CAS must fail exactly when the value differs", () => {
  assert.equal(casVerdict([done(1, 0, 10, cas(0, 1), false)]), "illegal");
  assert.equal(casVerdict([done(1, 0, 10, write(5), "ok"), done(1, 20, 30, cas(5, 6), false)]), "illegal");
  assert.equal(casVerdict([done(1, 0, 10, write(5), "ok"), done(1, 20, 30, cas(0, 6), false), done(1, 40, 50, read, 5)]), "ok");
});

test("cas register: an unknown CAS swaps only if the value matched when it took effect", () => {
  const maybe = unknown<CasRegisterInput, CasRegisterOutput>(1, 0, cas(0, 1));
  assert.equal(casVerdict([maybe, done(2, 20, 30, read, 1)]), "ok");
  assert.equal(casVerdict([maybe, done(2, 20, 30, read, 0)]), "ok");
  // Once the value is 7 the unknown CAS can no longer produce 1.
  assert.equal(casVerdict([done(2, 0, 5, write(7), "ok"), unknown(1, 10, cas(0, 1)), done(2, 20, 30, read, 1)]), "illegal");
});
