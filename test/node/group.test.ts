// A replicated group on real storage: a single-voter group elects itself, applies proposals in
// order, and after a restart re-applies from its durable log and snapshot to the same state.
// Three groups wired through an in-memory hop stand in for the network here only; the real
// transport has its own tests and the cluster tests use it end to end.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { ReplicatedGroup } from "../../src/node/group.js";
import { systemClock } from "../../src/node/system-clock.js";
import { SeededRandom } from "../../src/util/random.js";
import { silentLogger } from "../../src/util/logger.js";
import type { SnapshotChunks, StateMachine } from "../../src/util/state-machine.js";
import { tempDir } from "../helpers/tmp.js";
import { readdirSync } from "node:fs";
import { join } from "node:path";

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

/**
 * A ListMachine whose image streams slowly (one item per chunk, a millisecond of work each), so
 * a capture spans many turns of the event loop while proposals keep being applied. The image is
 * the list as it was when the stream began (its append-only prefix).
 */
class StreamingListMachine extends ListMachine {
  streamsStarted = 0;
  snapshotStream(): SnapshotChunks {
    this.streamsStarted++;
    const items = this.items;
    const length = items.length;
    let i = -1;
    let closed = false;
    return {
      next: (): IteratorResult<Uint8Array> => {
        if (closed || i >= length) return { done: true, value: undefined };
        const busyUntil = performance.now() + 1;
        while (performance.now() < busyUntil);
        const text = i < 0 ? (length === 0 ? "[]" : "[") : `${JSON.stringify(items[i])}${i === length - 1 ? "]" : ","}`;
        i = i < 0 && length === 0 ? length : i + 1;
        return { done: false, value: new TextEncoder().encode(text) };
      },
      close: () => {
        closed = true;
      },
    };
  }
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

function open(dir: string, sm: StateMachine<number>, snapshotEveryBytes?: number) {
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

/** Opens the group in `dir` over `sm`, ticking, and waits until it leads (closed after the test). */
async function openAsLeader(t: TestContext, dir: string, sm: StateMachine<number>): Promise<ReplicatedGroup<number>> {
  const group = await open(dir, sm);
  const ticker = setInterval(() => group.tick(), 10);
  t.after(() => clearInterval(ticker));
  t.after(() => group.close());
  group.campaign();
  await until(() => group.isLeaderReady);
  return group;
}

/** Reopens the group in `dir` with a fresh ListMachine, ticking, and waits until it leads. */
async function reopenAsLeader(t: TestContext, dir: string): Promise<{ restored: ListMachine; again: ReplicatedGroup<number> }> {
  const restored = new ListMachine();
  return { restored, again: await openAsLeader(t, dir, restored) };
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

  const { restored, again } = await reopenAsLeader(t, dir);
  assert.deepEqual(restored.items, Array.from({ length: 110 }, (_, i) => `v${i}`));
  const next = await again.propose(new TextEncoder().encode("after"));
  assert.ok(next.ok);
  assert.equal(restored.items.at(-1), "after");
});

test("a close while a snapshot streams abandons it: no snapshot or unfinished file is left, and a restart replays the log", async (t) => {
  const dir = tempDir(t);
  const sm = new StreamingListMachine();
  const group = await openAsLeader(t, dir, sm);
  for (let i = 0; i < 300; i++) await group.propose(new TextEncoder().encode(`v${i}`));
  // The capture streams 300 items at a millisecond each; the close lands in the middle of it.
  const snapshot = group.snapshotNow();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(sm.streamsStarted, 1);
  await group.close();
  await snapshot;
  assert.deepEqual(readdirSync(join(dir, "snapshots")), [], "neither a snapshot nor its temp file remains");
  const { restored } = await reopenAsLeader(t, dir);
  assert.deepEqual(restored.items, Array.from({ length: 300 }, (_, i) => `v${i}`));
});

test("a streamed snapshot is the state where it began, while proposals go on being applied; restart restores it and replays the rest", async (t) => {
  const dir = tempDir(t);
  const sm = new StreamingListMachine();
  const group = await openAsLeader(t, dir, sm);
  const encode = (i: number): Uint8Array => new TextEncoder().encode(`v${i}`);
  for (let i = 0; i < 200; i++) await group.propose(encode(i));
  // The capture streams 200 items at a millisecond each; proposals keep landing meanwhile.
  const snapshot = group.snapshotNow();
  const during: Array<Promise<unknown>> = [];
  for (let i = 200; i < 260; i++) {
    during.push(group.propose(encode(i)));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await snapshot;
  await Promise.all(during);
  assert.equal(sm.streamsStarted, 1);
  assert.ok(sm.items.length === 260);
  await group.close();

  // Had the image been taken later than its slot, the replay after it would apply items twice.
  const { restored } = await reopenAsLeader(t, dir);
  assert.deepEqual(restored.items, Array.from({ length: 260 }, (_, i) => `v${i}`));
});
