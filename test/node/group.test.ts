// A replicated group on real storage: a single-voter group elects itself, applies proposals in
// order, and after a restart re-applies from its durable log and snapshot to the same state.
// Three groups wired through an in-memory hop stand in for the network here only; the real
// transport has its own tests and the cluster tests use it end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReplicatedGroup } from "../../src/node/group.js";
import { systemClock } from "../../src/node/system-clock.js";
import { SeededRandom } from "../../src/util/random.js";
import { silentLogger } from "../../src/util/logger.js";
import type { StateMachine } from "../../src/util/state-machine.js";
import { tempDir } from "../helpers/tmp.js";

class ListMachine implements StateMachine<number> {
  items: string[] = [];
  apply(command: Uint8Array): number {
    this.items.push(new TextDecoder().decode(command));
    return this.items.length - 1;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(bytes: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(bytes)) as string[];
  }
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

function open(dir: string, sm: ListMachine, snapshotEveryBytes?: number) {
  return ReplicatedGroup.open({
    groupId: "g",
    nodeId: 1,
    dir,
    initialVoters: [1],
    stateMachine: sm,
    clock: systemClock,
    random: new SeededRandom(1),
    logger: silentLogger(),
    fsync: "always",
    send: () => undefined,
    snapshotEveryBytes,
    compactBehindSnapshots: true,
    trailingEntries: 5,
  });
}

test("a single-voter group leads, applies proposals in order, and recovers them after restart", async (t) => {
  const dir = tempDir(t);
  const sm = new ListMachine();
  const group = await open(dir, sm, 200);
  // The runtime ticks every group on one interval; here the test does it.
  const ticker = setInterval(() => group.tick(), 10);
  t.after(() => clearInterval(ticker));
  group.campaign();
  await until(() => group.isLeaderReady);
  const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => group.propose(new TextEncoder().encode(`v${i}`))));
  assert.deepEqual(outcomes.map((o) => (o.ok ? o.result : -1)), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(sm.items, Array.from({ length: 100 }, (_, i) => `v${i}`));
  assert.equal(await group.readBarrier(), true);
  await group.snapshotNow();
  for (let i = 100; i < 110; i++) await group.propose(new TextEncoder().encode(`v${i}`));
  await group.close();

  const restored = new ListMachine();
  const again = await open(dir, restored);
  const ticker2 = setInterval(() => again.tick(), 10);
  t.after(() => clearInterval(ticker2));
  t.after(() => again.close());
  again.campaign();
  await until(() => again.isLeaderReady);
  assert.deepEqual(restored.items, Array.from({ length: 110 }, (_, i) => `v${i}`));
  const next = await again.propose(new TextEncoder().encode("after"));
  assert.ok(next.ok);
  assert.equal(restored.items.at(-1), "after");
});
