// Goal: the leader's session expiry bookkeeping does what ZooKeeper's ExpiryQueue does — a session
// with timeout T expires within [T, T + bucket] after its last touch, each expiry is reported
// once, touches push the deadline out but cannot revive an expiring session, and the cost of a
// check does not depend on how many sessions are alive. Method: drive SessionTracker with explicit
// times, plus a fast-check property against a naive model (fixed seed, printed).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SessionTracker } from "../../src/zookeeper/session-tracker.js";
import { fourLetterWordReply, parseWhitelist } from "../../src/zookeeper/four-letter-words.js";

test("a session expires within [timeout, timeout + bucket] after its last touch, once", () => {
  const tracker = new SessionTracker(100, 0);
  tracker.track(1n, 1000, 0);
  assert.deepEqual(tracker.expired(999), []);
  assert.deepEqual(tracker.expired(1100), [1n]);
  assert.deepEqual(tracker.expired(5000), [], "reported once");
  assert.equal(tracker.touch(1n, 5000), false, "an expiring session is not revived");
  tracker.untrack(1n);
  assert.equal(tracker.size, 0);
});

test("touches push the deadline out; untracked sessions never expire", () => {
  const tracker = new SessionTracker(250, 0);
  tracker.track(1n, 1000, 0);
  tracker.track(2n, 1000, 0);
  tracker.untrack(2n);
  for (let now = 200; now <= 3000; now += 200) {
    assert.equal(tracker.touch(1n, now), true);
    assert.deepEqual(tracker.expired(now), []);
  }
  assert.deepEqual(tracker.expired(3000 + 1000 + 250), [1n]);
});

test("property: expiry time matches a model of last touch + timeout rounded up to the bucket", () => {
  const seed = 20261124;
  console.log(`session tracker property: seed ${seed}`);
  fc.assert(
    fc.property(
      fc.array(fc.record({ session: fc.integer({ min: 1, max: 5 }), advanceMs: fc.integer({ min: 0, max: 700 }), touch: fc.boolean() }), { maxLength: 60 }),
      (steps) => {
        const bucketMs = 100;
        const timeoutMs = 1000;
        const tracker = new SessionTracker(bucketMs, 0);
        const lastTouch = new Map<number, number>();
        const expiredAt = new Map<number, number>();
        let now = 0;
        const checks: number[] = [];
        for (const step of steps) {
          now += step.advanceMs;
          checks.push(now);
          for (const id of tracker.expired(now)) expiredAt.set(Number(id), now);
          if (expiredAt.has(step.session)) continue;
          if (!lastTouch.has(step.session)) {
            tracker.track(BigInt(step.session), timeoutMs, now);
            lastTouch.set(step.session, now);
          } else if (step.touch) {
            assert.equal(tracker.touch(BigInt(step.session), now), true);
            lastTouch.set(step.session, now);
          }
        }
        now += 10_000;
        checks.push(now);
        for (const id of tracker.expired(now)) expiredAt.set(Number(id), now);
        for (const [session, touchedAt] of lastTouch) {
          const at = expiredAt.get(session);
          assert.ok(at !== undefined, `session ${session} never expired`);
          // Reported at the first check at or after its bucket: last touch + timeout, rounded up.
          const bucketEnd = (Math.floor((touchedAt + timeoutMs) / bucketMs) + 1) * bucketMs;
          const expected = checks.find((t) => t >= bucketEnd);
          assert.equal(at, expected, `session ${session} touched at ${touchedAt}`);
        }
      },
    ),
    { seed, numRuns: 300 },
  );
});

test("four-letter whitelist: default srvr, lists, and *", () => {
  const view = () => {
    throw new Error("not needed");
  };
  assert.equal(fourLetterWordReply("ruok", parseWhitelist("srvr"), view), "ruok is not executed because it is not in the whitelist.\n");
  assert.equal(fourLetterWordReply("ruok", parseWhitelist("srvr, ruok"), view), "imok");
  assert.equal(fourLetterWordReply("ruok", parseWhitelist("*"), view), "imok");
  assert.equal(fourLetterWordReply("crst", parseWhitelist("*"), view), "crst is not executed because it is not in the whitelist.\n", "words we do not implement are refused");
});
