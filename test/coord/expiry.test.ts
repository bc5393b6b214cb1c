// Goal: containers and TTL nodes expire as ZooKeeper's ContainerManager decides, and the "expire"
// command re-checks the condition at apply time so a node that changed after the leader looked
// survives. Method: drive the wall clock in commands, ask expiredNodes() as the leader would, and
// apply expire commands, including stale ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WatchEventType } from "../../src/coord/types.js";
import { Harness, nextZxid } from "./harness.js";

const expire = (h: Harness, paths: string[], containerNeverUsedMsMax = 0) => h.apply({ kind: "expire", paths, containerNeverUsedMsMax });

test("a container expires once it had children and has none; a never-used one only with the option", () => {
  const h = new Harness();
  h.create("/used", { type: 19, flags: 4 });
  h.create("/fresh", { type: 19, flags: 4 });
  h.create("/used/x");
  assert.deepEqual(h.sm.expiredNodes(h.nowMs, { containerMaxPerBatch: 100 }), [], "a container with a child stays");
  h.delete("/used/x");
  assert.deepEqual(h.sm.expiredNodes(h.nowMs, { containerMaxPerBatch: 100 }), ["/used"]);
  assert.deepEqual(h.sm.expiredNodes(h.nowMs + 61_000, { containerMaxPerBatch: 100, containerNeverUsedMsMax: 60_000 }), ["/fresh", "/used"]);
  const zxid = nextZxid(h);
  const result = expire(h, ["/used"]);
  assert.deepEqual(result.expired, ["/used"]);
  assert.deepEqual(
    result.events.map((e) => [e.type, e.path, e.zxid]),
    [
      [WatchEventType.nodeDeleted, "/used", zxid],
      [WatchEventType.nodeChildrenChanged, "/", zxid],
    ],
  );
  assert.equal(h.sm.peekStat("/used"), undefined);
  assert.ok(h.sm.peekStat("/fresh"), "only what the command named is deleted");
});

test("the expire command re-checks: a container that got a child meanwhile survives", () => {
  const h = new Harness();
  h.create("/c", { type: 19, flags: 4 });
  h.create("/c/x");
  h.delete("/c/x");
  const proposed = h.sm.expiredNodes(h.nowMs, { containerMaxPerBatch: 10 });
  assert.deepEqual(proposed, ["/c"]);
  h.create("/c/y"); // applied between the leader's query and its expire command
  assert.deepEqual(expire(h, proposed).expired, []);
  assert.ok(h.sm.peekStat("/c"));
  // Paths that are gone, persistent, or special are ignored, not errors.
  const other = expire(h, ["/nope", "/zookeeper", "/c/y", "/"]);
  assert.deepEqual([other.err, other.expired], [0, []]);
});

test("a TTL node expires when childless and idle longer than its TTL; setData restarts the clock", () => {
  const h = new Harness({ extendedTypesEnabled: true });
  const t0 = h.nowMs;
  h.create("/t", { type: 21, flags: 5, ttl: 1000n });
  h.create("/t-seq", { type: 21, flags: 6, ttl: 5000n });
  assert.deepEqual(h.sm.expiredNodes(t0 + 1000, { containerMaxPerBatch: 10 }), [], "idle must exceed the TTL");
  assert.deepEqual(h.sm.expiredNodes(t0 + 1001, { containerMaxPerBatch: 10 }), ["/t"]);
  h.nowMs = t0 + 900;
  h.setData("/t", "touch");
  assert.deepEqual(h.sm.expiredNodes(t0 + 1001, { containerMaxPerBatch: 10 }), []);
  h.create("/t/child");
  assert.deepEqual(h.sm.expiredNodes(t0 + 100_000, { containerMaxPerBatch: 10 }), ["/t-seq0000000001"], "a TTL node with children stays");
  h.nowMs = t0 + 3000;
  assert.deepEqual(expire(h, ["/t-seq0000000001"]).expired, [], "re-checked against the command's own time");
  h.nowMs = t0 + 6000;
  assert.deepEqual(expire(h, ["/t-seq0000000001"]).expired, ["/t-seq0000000001"]);
});

test("TTL and container nodes show ephemeralOwner 0 to clients, as ZooKeeper's copyStat does", () => {
  const h = new Harness({ extendedTypesEnabled: true });
  h.create("/t", { type: 21, flags: 5, ttl: 1000n });
  h.create("/c", { type: 19, flags: 4 });
  assert.equal(h.sm.peekStat("/t")!.ephemeralOwner, 0n);
  assert.equal(h.sm.peekStat("/c")!.ephemeralOwner, 0n);
});

test("expiredNodes is sorted and capped by containerMaxPerBatch (containers and TTL nodes together)", () => {
  const h = new Harness({ extendedTypesEnabled: true });
  for (const name of ["d", "b", "a", "c"]) {
    h.create(`/${name}`, { type: 19, flags: 4 });
    h.create(`/${name}/x`);
    h.delete(`/${name}/x`);
  }
  h.create("/aa", { type: 21, flags: 5, ttl: 1n });
  assert.deepEqual(h.sm.expiredNodes(h.nowMs + 10, { containerMaxPerBatch: 3 }), ["/a", "/aa", "/b"]);
  assert.deepEqual(h.sm.expiredNodes(h.nowMs + 10, { containerMaxPerBatch: 0 }), []);
});
