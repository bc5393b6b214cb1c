// Topic names, config validation and replica placement follow Kafka's rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TOPIC_CONFIGS, placeReplicas, validateTopicConfig, validateTopicName } from "../../src/kafka/topic-config.js";

test("topic names: Kafka's legal characters and length", () => {
  assert.equal(validateTopicName("orders.v1_EU-2"), undefined);
  for (const bad of ["", ".", "..", "a b", "ü", "x".repeat(250), "a/b"]) assert.ok(validateTopicName(bad), bad);
  assert.equal(validateTopicName("x".repeat(249)), undefined);
});

test("configs: every default validates; bad values and unknown keys are refused", () => {
  for (const c of TOPIC_CONFIGS) assert.equal(validateTopicConfig(c.name, c.defaultValue), undefined, c.name);
  assert.match(validateTopicConfig("retention.ms", "soon")!, /invalid value/);
  assert.match(validateTopicConfig("cleanup.policy", "compact")!, /must be one of delete/);
  assert.match(validateTopicConfig("nope", "1")!, /unknown topic config/);
  assert.equal(validateTopicConfig("retention.ms", "-1"), undefined);
});

test("property: placement gives distinct replicas and spreads leaders evenly", () => {
  const seed = 99;
  console.log(`fast-check seed ${seed}`);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 }), fc.nat(100), (nodes, partitions, start) => {
      const ids = Array.from({ length: nodes }, (_, i) => i + 1);
      const rf = Math.min(3, nodes);
      const placement = placeReplicas(ids, partitions, rf, start);
      assert.equal(placement.length, partitions);
      const leaders = new Map<number, number>();
      for (const replicas of placement) {
        assert.equal(new Set(replicas).size, rf);
        for (const r of replicas) assert.ok(ids.includes(r));
        leaders.set(replicas[0], (leaders.get(replicas[0]) ?? 0) + 1);
      }
      const counts = ids.map((id) => leaders.get(id) ?? 0);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `leaders uneven: ${counts}`);
    }),
    { seed, numRuns: 300 },
  );
});
