// The partition state machine decides offsets and idempotent-producer outcomes. Method: table
// tests of Kafka's sequence rules, then fast-check properties that the state machine is
// deterministic (same commands → same snapshot bytes), that snapshot/restore is transparent, and
// that the leader's speculative `admit` predicts `apply` exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PartitionState, type PartitionResult } from "../../src/log/partition.js";
import { decodePartitionCommand, encodeExpireProducers, encodeProduce, encodeSetLogStart } from "../../src/log/partition-command.js";
import { makeBatch } from "./batch-fixture.js";

let slot = 0;
function produce(sm: PartitionState, batches: Uint8Array[], appendTimeMs = 1000): PartitionResult {
  slot++;
  return sm.apply(encodeProduce(appendTimeMs, false, batches), { slot, index: 0 });
}

test("plain produces get dense offsets; a batch at the wrong offset is rejected and its slot skipped", () => {
  const sm = new PartitionState();
  assert.deepEqual(produce(sm, [makeBatch({ baseOffset: 0, recordCount: 3 })]), { kind: "appended", baseOffset: 0, lastOffset: 2, logAppendTimeMs: -1 });
  assert.deepEqual(produce(sm, [makeBatch({ baseOffset: 3, recordCount: 2 }), makeBatch({ baseOffset: 5, recordCount: 1 })]), {
    kind: "appended",
    baseOffset: 3,
    lastOffset: 5,
    logAppendTimeMs: -1,
  });
  const rejectedSlot = slot + 1;
  assert.deepEqual(produce(sm, [makeBatch({ baseOffset: 4, recordCount: 1 })]), { kind: "rejected", reason: "offsetMismatch" });
  assert.equal(sm.nextOffset, 6);
  assert.ok(sm.isSkipped(rejectedSlot));
  assert.ok(!sm.isSkipped(rejectedSlot - 1));
});

test("malformed batches are rejected as corrupt, never thrown", () => {
  const sm = new PartitionState();
  const batch = makeBatch();
  batch[16] = 1; // magic 1
  assert.deepEqual(produce(sm, [batch]), { kind: "rejected", reason: "corruptBatch" });
  assert.deepEqual(produce(sm, [makeBatch().subarray(0, 40)]), { kind: "rejected", reason: "corruptBatch" });
  assert.deepEqual(sm.apply(new Uint8Array([99]), { slot: 1, index: 0 }), { kind: "invalidCommand" });
});

test("idempotent producer: duplicates answer the original offsets, gaps and stale epochs are refused", () => {
  const sm = new PartitionState();
  const p = { producerId: 7, producerEpoch: 0 };
  assert.equal(produce(sm, [makeBatch({ ...p, baseOffset: 0, baseSequence: 0, recordCount: 2 })]).kind, "appended");
  assert.equal(produce(sm, [makeBatch({ ...p, baseOffset: 2, baseSequence: 2, recordCount: 2 })]).kind, "appended");
  // A retry of the first batch (the leader would have assigned it a new offset) is a duplicate.
  assert.deepEqual(produce(sm, [makeBatch({ ...p, baseOffset: 4, baseSequence: 0, recordCount: 2 })]), { kind: "duplicate", baseOffset: 0, lastOffset: 1 });
  assert.deepEqual(produce(sm, [makeBatch({ ...p, baseOffset: 4, baseSequence: 5, recordCount: 1 })]), { kind: "rejected", reason: "outOfOrderSequence" });
  assert.deepEqual(produce(sm, [makeBatch({ producerId: 8, producerEpoch: 0, baseOffset: 4, baseSequence: 3 })]), { kind: "rejected", reason: "unknownProducerId" });
  // An epoch bump restarts sequences at 0; the old epoch is then fenced.
  assert.equal(produce(sm, [makeBatch({ producerId: 7, producerEpoch: 1, baseOffset: 4, baseSequence: 0 })]).kind, "appended");
  assert.deepEqual(produce(sm, [makeBatch({ ...p, baseOffset: 5, baseSequence: 4 })]), { kind: "rejected", reason: "invalidProducerEpoch" });
  assert.deepEqual(produce(sm, [makeBatch({ producerId: 7, producerEpoch: 2, baseOffset: 5, baseSequence: 3 })]), { kind: "rejected", reason: "outOfOrderSequence" });
  assert.equal(sm.nextOffset, 5);
});

test("only the last five batches are remembered for duplicate detection", () => {
  const sm = new PartitionState();
  for (let i = 0; i < 6; i++) {
    assert.equal(produce(sm, [makeBatch({ producerId: 1, producerEpoch: 0, baseOffset: i, baseSequence: i })]).kind, "appended");
  }
  assert.deepEqual(produce(sm, [makeBatch({ producerId: 1, producerEpoch: 0, baseOffset: 6, baseSequence: 1 })]), { kind: "duplicate", baseOffset: 1, lastOffset: 1 });
  assert.deepEqual(produce(sm, [makeBatch({ producerId: 1, producerEpoch: 0, baseOffset: 6, baseSequence: 0 })]), { kind: "rejected", reason: "outOfOrderSequence" });
});

test("sequence numbers wrap from int32 max to 0", () => {
  const sm = new PartitionState();
  const p = { producerId: 3, producerEpoch: 0 };
  assert.equal(produce(sm, [makeBatch({ ...p, baseOffset: 0, baseSequence: 0 })]).kind, "appended");
  // Forge the state forward to just below the wrap, as if 2^31 - 2 records had been produced.
  sm.producers.get(3)!.batches.at(-1)!.lastSequence = 0x7ffffffe;
  assert.equal(produce(sm, [makeBatch({ ...p, baseOffset: 1, baseSequence: 0x7fffffff, recordCount: 2 })]).kind, "appended");
  assert.equal(sm.producers.get(3)!.batches.at(-1)!.lastSequence, 0);
  assert.equal(produce(sm, [makeBatch({ ...p, baseOffset: 3, baseSequence: 1 })]).kind, "appended");
});

test("log start moves forward only, never past the end; idle producers expire", () => {
  const sm = new PartitionState();
  produce(sm, [makeBatch({ baseOffset: 0, recordCount: 10 })]);
  assert.deepEqual(sm.apply(encodeSetLogStart(4, 1), { slot: 100, index: 0 }), { kind: "logStartMoved", logStartOffset: 4 });
  assert.deepEqual(sm.apply(encodeSetLogStart(2, 1), { slot: 101, index: 0 }), { kind: "logStartMoved", logStartOffset: 4 });
  assert.deepEqual(sm.apply(encodeSetLogStart(50, 1), { slot: 102, index: 0 }), { kind: "logStartMoved", logStartOffset: 10 });
  produce(sm, [makeBatch({ producerId: 1, producerEpoch: 0, baseSequence: 0, baseOffset: 10 })], 1_000);
  produce(sm, [makeBatch({ producerId: 2, producerEpoch: 0, baseSequence: 0, baseOffset: 11 })], 5_000);
  assert.deepEqual(sm.apply(encodeExpireProducers(6_000, 3_000), { slot: 103, index: 0 }), { kind: "producersExpired", count: 1 });
  assert.deepEqual([...sm.producers.keys()], [2]);
});

// Random produce workloads: a few producers (some idempotent), retries, wrong offsets, epoch bumps.
const commandArbitrary = fc.record({
  producer: fc.integer({ min: -1, max: 3 }),
  epochBump: fc.boolean(),
  records: fc.integer({ min: 1, max: 5 }),
  sequenceSkew: fc.constantFrom(0, 0, 0, 0, -1, 1, -3),
  offsetSkew: fc.constantFrom(0, 0, 0, 0, 0, 1, -1),
  batches: fc.integer({ min: 1, max: 2 }),
  kind: fc.constantFrom("produce", "produce", "produce", "produce", "logStart", "expire"),
});

type CommandSpec = typeof commandArbitrary extends fc.Arbitrary<infer T> ? T : never;

function commandsFrom(specs: CommandSpec[], sm: PartitionState): Uint8Array[] {
  // Derives realistic commands by tracking a producer-side view of sequences/epochs.
  const seq = new Map<number, { epoch: number; next: number }>();
  const out: Uint8Array[] = [];
  let offset = 0;
  let time = 1000;
  for (const spec of specs) {
    time += 100;
    if (spec.kind === "logStart") {
      out.push(encodeSetLogStart(Math.floor(offset / 2), 0));
      continue;
    }
    if (spec.kind === "expire") {
      out.push(encodeExpireProducers(time, 2_000));
      continue;
    }
    const batches: Uint8Array[] = [];
    for (let b = 0; b < spec.batches; b++) {
      const p = seq.get(spec.producer) ?? { epoch: 0, next: 0 };
      if (spec.epochBump && b === 0) {
        p.epoch++;
        p.next = 0;
      }
      const batch =
        spec.producer < 0
          ? makeBatch({ baseOffset: offset + spec.offsetSkew, recordCount: spec.records })
          : makeBatch({
              baseOffset: offset + spec.offsetSkew,
              recordCount: spec.records,
              producerId: spec.producer,
              producerEpoch: p.epoch,
              baseSequence: Math.max(0, p.next + spec.sequenceSkew),
            });
      batches.push(batch);
      if (spec.producer >= 0) {
        p.next += spec.records;
        seq.set(spec.producer, p);
      }
      offset += spec.records;
    }
    out.push(encodeProduce(time, false, batches));
    // Keep the workload's offsets loosely in step with what the state machine accepted.
    offset = Math.max(sm.nextOffset, offset - spec.records * spec.batches);
  }
  return out;
}

test("property: the partition state machine is deterministic and snapshots are transparent", () => {
  const seed = 20261124;
  console.log(`fast-check seed ${seed}`);
  fc.assert(
    fc.property(fc.array(commandArbitrary, { minLength: 1, maxLength: 60 }), fc.nat(), (specs, cut) => {
      const a = new PartitionState();
      const commands = commandsFrom(specs, new PartitionState());
      const results = commands.map((c, i) => a.apply(c, { slot: i + 1, index: 0 }));
      const b = new PartitionState();
      commands.forEach((c, i) => b.apply(c, { slot: i + 1, index: 0 }));
      assert.deepEqual(a.snapshot(), b.snapshot());
      // Snapshot at a cut point, restore into a fresh machine, continue: same results, same bytes.
      const at = cut % (commands.length + 1);
      const c = new PartitionState();
      commands.slice(0, at).forEach((cmd, i) => c.apply(cmd, { slot: i + 1, index: 0 }));
      const d = new PartitionState();
      d.restore(c.snapshot());
      const tail = commands.slice(at).map((cmd, i) => d.apply(cmd, { slot: at + i + 1, index: 0 }));
      assert.deepEqual(tail, results.slice(at));
      assert.deepEqual(d.snapshot(), a.snapshot());
    }),
    { seed, numRuns: 300 },
  );
});

test("property: the leader's admit on a clone predicts apply exactly", () => {
  const seed = 424242;
  console.log(`fast-check seed ${seed}`);
  fc.assert(
    fc.property(fc.array(commandArbitrary.filter((s) => s.kind === "produce"), { minLength: 1, maxLength: 40 }), (specs) => {
      const applied = new PartitionState();
      const leader = applied.clone();
      let slotNumber = 0;
      for (const command of commandsFrom(specs, applied)) {
        const decoded = decodePartitionCommand(command);
        assert.ok(decoded && decoded.type === 1);
        const verdict = leader.admit(decoded.batches, decoded.appendTimeMs);
        // The leader proposes only what it admitted; everything else it answers itself.
        if (verdict.kind !== "append") continue;
        const result = applied.apply(command, { slot: ++slotNumber, index: 0 });
        assert.equal(result.kind, "appended");
        assert.equal(leader.nextOffset, applied.nextOffset);
      }
      assert.deepEqual(leader.snapshot(), applied.snapshot());
    }),
    { seed, numRuns: 300 },
  );
});
