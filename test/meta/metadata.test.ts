// The metadata state machine: topics, configs, producer ids, groups and offsets. Method: a
// scenario of commands with expected results, then a determinism/snapshot property.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MetadataState, encodeMetaCommand, type MetaCommand } from "../../src/meta/metadata.js";

function run(sm: MetadataState, commands: MetaCommand[]) {
  return commands.map((c, i) => sm.apply(encodeMetaCommand(c), { slot: i + 1, index: 0 }));
}

const topic = (name: string, partitions = 2) => ({ name, id: "0".repeat(31) + "1", partitions: Array.from({ length: partitions }, () => [1]), configs: {}, createdMs: 5 });

test("topics: create, duplicate, add partitions, alter configs, delete (offsets go with it)", () => {
  const sm = new MetadataState();
  const results = run(sm, [
    { op: "createTopic", topic: topic("a") },
    { op: "createTopic", topic: topic("a") },
    { op: "createPartitions", name: "a", added: [[1]] },
    { op: "createPartitions", name: "nope", added: [[1]] },
    { op: "alterConfigs", name: "a", set: { "retention.ms": "1000", "segment.bytes": "100" }, remove: [], replace: false },
    { op: "alterConfigs", name: "a", set: {}, remove: ["segment.bytes"], replace: false },
    { op: "commitOffsets", groupId: "g", offsets: [{ topic: "a", partition: 0, offset: 5, leaderEpoch: -1, metadata: null, commitMs: 1 }] },
  ]);
  assert.deepEqual(results.map((r) => r.ok), [true, false, true, false, true, true, true]);
  assert.equal(sm.topics.get("a")!.partitions.length, 3);
  assert.deepEqual(sm.topics.get("a")!.configs, { "retention.ms": "1000" });
  assert.equal(sm.committedOffset("g", "a", 0)?.offset, 5);
  run(sm, [{ op: "deleteTopic", name: "a" }]);
  assert.equal(sm.topics.has("a"), false);
  assert.equal(sm.committedOffset("g", "a", 0), undefined);
});

test("producer ids are allocated in disjoint increasing blocks", () => {
  const sm = new MetadataState();
  const [a, b] = run(sm, [
    { op: "allocateProducerIds", count: 10 },
    { op: "allocateProducerIds", count: 1 },
  ]);
  assert.ok(a.ok && b.ok);
  assert.equal(b.producerIdStart, a.producerIdStart! + 10);
  assert.equal(run(sm, [{ op: "allocateProducerIds", count: 0 }])[0].ok, false);
});

test("groups: a group with members cannot be deleted; garbage commands are refused, not thrown", () => {
  const sm = new MetadataState();
  const member = { memberId: "m1", groupInstanceId: null, clientId: "c", clientHost: "/127.0.0.1", rebalanceTimeoutMs: 1, sessionTimeoutMs: 1, metadata: "", assignment: "" };
  run(sm, [{ op: "putGroup", group: { groupId: "g", protocolType: "consumer", generation: 1, protocolName: "range", leaderId: "m1", members: [member], updatedMs: 1 } }]);
  assert.deepEqual(run(sm, [{ op: "deleteGroups", groupIds: ["g"] }])[0], { ok: false, error: "groupNotEmpty", detail: "g" });
  assert.deepEqual(sm.apply(new TextEncoder().encode("{nope"), { slot: 9, index: 0 }), { ok: false, error: "invalidCommand" });
  assert.equal(sm.apply(encodeMetaCommand({ op: "createPartitions", name: "x" } as unknown as MetaCommand), { slot: 10, index: 0 }).ok, false);
});

test("property: same commands give the same snapshot bytes; restore is transparent", () => {
  const seed = 7;
  console.log(`fast-check seed ${seed}`);
  const command = fc.oneof(
    fc.record({ op: fc.constant("createTopic" as const), topic: fc.record({ name: fc.constantFrom("a", "b", "c"), id: fc.constant("00"), partitions: fc.constant([[1]] as number[][]), configs: fc.constant({}), createdMs: fc.nat() }) }),
    fc.record({ op: fc.constant("deleteTopic" as const), name: fc.constantFrom("a", "b", "c") }),
    fc.record({ op: fc.constant("allocateProducerIds" as const), count: fc.integer({ min: 1, max: 5 }) }),
    fc.record({
      op: fc.constant("commitOffsets" as const),
      groupId: fc.constantFrom("g1", "g2"),
      offsets: fc.array(fc.record({ topic: fc.constantFrom("a", "b"), partition: fc.nat(3), offset: fc.nat(), leaderEpoch: fc.constant(-1), metadata: fc.constant(null), commitMs: fc.nat() }), { maxLength: 3 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
      const a = new MetadataState();
      const b = new MetadataState();
      run(a, commands);
      run(b, commands);
      assert.deepEqual(a.snapshot(), b.snapshot());
      const c = new MetadataState();
      c.restore(a.snapshot());
      assert.deepEqual(c.snapshot(), a.snapshot());
    }),
    { seed, numRuns: 200 },
  );
});
