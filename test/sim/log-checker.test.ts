// The Kafka log checker must count each anomaly class and nothing else. Method: a clean history
// passes; then one planted fault per class is caught as exactly that class (a checker that
// cannot fail is a defect).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLogHistory, formatLogCheck, type LogHistory } from "../../src/sim/log-checker.js";

function clean(): LogHistory {
  const sends = Array.from({ length: 10 }, (_, i) => ({ producer: "p1", partition: 0, value: `v${i}`, acknowledged: true, offset: i }));
  const finalLog = new Map([[0, sends.map((s) => ({ offset: s.offset!, value: s.value }))]]);
  const polls = new Map([["g", sends.map((s) => ({ consumer: "c1", partition: 0, offset: s.offset!, value: s.value }))]]);
  return { sends, finalLog, polls, committed: new Map([["g", new Map([[0, 10]])]]) };
}

function onlyAnomaly(history: LogHistory, kind: string, count = 1): void {
  const result = checkLogHistory(history);
  const nonzero = Object.entries(result.counts).filter(([, n]) => n > 0);
  assert.deepEqual(nonzero, [[kind, count]], formatLogCheck(result));
  assert.equal(result.ok, false);
}

test("a clean history passes", () => {
  const result = checkLogHistory(clean());
  assert.ok(result.ok, formatLogCheck(result));
  assert.equal(result.acknowledged, 10);
});

test("planted anomalies are each caught as their own class", () => {
  {
    const h = clean(); // lost: an acknowledged send is missing; the log is re-numbered densely
    h.sends.push({ producer: "p1", partition: 0, value: "v10", acknowledged: true, offset: 10 });
    onlyAnomaly(h, "lost");
  }
  {
    const h = clean(); // an unacknowledged send may be missing: not an anomaly
    h.sends.push({ producer: "p1", partition: 0, value: "maybe", acknowledged: false });
    assert.ok(checkLogHistory(h).ok);
  }
  {
    const h = clean(); // duplicated: the same value twice
    h.finalLog.get(0)!.push({ offset: 10, value: "v3" });
    onlyAnomaly(h, "duplicated");
  }
  {
    const h = clean(); // inconsistent offset: acknowledged at 4, stored at 5 (swapped with another)
    h.sends[4].offset = 7;
    onlyAnomaly(h, "inconsistentOffset");
  }
  {
    const h = clean(); // reordered: the log swaps v2 and v3 (offsets reported unknown)
    for (const s of h.sends) delete s.offset;
    const log = h.finalLog.get(0)!;
    [log[2].value, log[3].value] = [log[3].value, log[2].value];
    h.polls = new Map();
    onlyAnomaly(h, "reordered");
  }
  {
    const h = clean(); // gap: offsets not dense
    const log = h.finalLog.get(0)!;
    for (const r of log.slice(5)) r.offset += 1;
    for (const s of h.sends.slice(5)) s.offset! += 1;
    h.polls = new Map();
    onlyAnomaly(h, "gap");
  }
  {
    const h = clean(); // unknown value in the log
    h.finalLog.get(0)!.push({ offset: 10, value: "invented" });
    onlyAnomaly(h, "unknownValue");
  }
  {
    const h = clean(); // skipped: the group never consumed offset 4
    h.polls!.set("g", h.polls!.get("g")!.filter((p) => p.offset !== 4));
    onlyAnomaly(h, "skipped");
  }
  {
    const h = clean(); // non-monotonic poll within one generation (no commits: not a reconsumption)
    h.committed = undefined;
    const polls = h.polls!.get("g")!;
    polls.splice(6, 0, { ...polls[2] });
    onlyAnomaly(h, "nonMonotonicPoll");
  }
  {
    const h = clean(); // reconsumed below the committed offset after a rebalance (new generation)
    const polls = h.polls!.get("g")!;
    polls.push({ consumer: "c2", partition: 0, offset: 3, value: "v3", generation: 1 });
    onlyAnomaly(h, "reconsumed");
    assert.ok(checkLogHistory(h, { allowReconsumed: true }).ok);
  }
});
