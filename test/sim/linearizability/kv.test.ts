// Goal: the KV model is checked key by key (P-compositionality) and catches per-key violations
// while accepting histories whose keys are each linearizable. Method: hand-written histories over
// two or three keys; the per-partition verdicts must point at the offending key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizability, formatReport, kvModel, type KvInput, type KvOutput, type Operation } from "../../../src/sim/linearizability/mod.js";
import { done, unknown } from "./helpers.js";

type KvOp = Operation<KvInput, KvOutput>;
const get = (key: string) => ({ kind: "get", key }) as const;
const put = (key: string, value: number) => ({ kind: "put", key, value }) as const;
const cas = (key: string, expected: number | null, value: number) => ({ kind: "cas", key, expected, value }) as const;

test("kv: one partition per key, in first-appearance order, each with its own verdict", () => {
  const history: KvOp[] = [
    done(1, 0, 10, put("a", 1), "ok"),
    done(2, 0, 10, put("b", 1), "ok"),
    done(1, 20, 30, get("a"), 1),
    done(2, 20, 30, get("b"), null), // stale: b was written before
    done(3, 40, 50, get("c"), null),
  ];
  const result = checkLinearizability(kvModel(), history);
  assert.equal(result.verdict, "illegal");
  assert.deepEqual(result.partitions.map((p) => p.verdict), ["ok", "illegal", "ok"]);
  assert.deepEqual(result.partitions.map((p) => p.operations.length), [2, 2, 1]);
  assert.match(formatReport(kvModel(), result), /cannot linearize: \[client 2 @ 20\.\.30\] get\(b\) → nil/);
});

test("kv: each key is checked against its own state, from the same start", () => {
  // Both keys go null → 1 while two clients read them in opposite orders: fine per key.
  const history: KvOp[] = [
    done(1, 0, 100, put("a", 1), "ok"),
    done(2, 0, 100, put("b", 1), "ok"),
    done(3, 10, 20, get("a"), null),
    done(3, 30, 40, get("b"), 1),
    done(4, 10, 20, get("b"), null),
    done(4, 30, 40, get("a"), 1),
  ];
  assert.equal(checkLinearizability(kvModel(), history).verdict, "ok");
  // New then old on one key is still caught.
  history.push(done(4, 50, 60, get("b"), null));
  const result = checkLinearizability(kvModel(), history);
  assert.deepEqual(result.partitions.map((p) => p.verdict), ["ok", "illegal"]);
});

test("kv: lost update via cas, and cas creating an absent key", () => {
  const racing: KvOp[] = [done(1, 0, 10, cas("k", null, 1), true), done(2, 5, 15, cas("k", null, 2), true)];
  assert.equal(checkLinearizability(kvModel(), racing).verdict, "illegal");
  const fair: KvOp[] = [done(1, 0, 10, cas("k", null, 1), true), done(2, 5, 15, cas("k", null, 2), false), done(3, 20, 30, get("k"), 1)];
  assert.equal(checkLinearizability(kvModel(), fair).verdict, "ok");
});

test("kv: unknown puts may surface later, but a value that was never written may not", () => {
  const history: KvOp[] = [
    unknown(1, 0, put("k", 1)),
    done(2, 10, 20, get("k"), null),
    done(2, 30, 40, get("k"), 1),
    done(3, 50, 60, get("k"), 1),
  ];
  assert.equal(checkLinearizability(kvModel(), history).verdict, "ok");
  assert.equal(checkLinearizability(kvModel(), [...history, done(3, 70, 80, get("k"), 9)]).verdict, "illegal");
});
