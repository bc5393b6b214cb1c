// Goal: a command retried with the same (clientId, sequence) is applied once and every retry gets
// the original result, even across a snapshot and restore, and the session table stays within its
// bounds, expiring by log position only. Method: a counter state machine whose results reveal how
// many times it ran; direct calls with hand-built batches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExactlyOnceStateMachine } from "../../src/paxos/exactly-once.js";
import { encodeBatch, type Command } from "../../src/paxos/command.js";
import { EntryKind } from "../../src/paxos/types.js";
import type { StateMachine } from "../../src/util/state-machine.js";

class Counter implements StateMachine<Uint8Array> {
  count = 0;
  apply(): Uint8Array {
    this.count++;
    return new Uint8Array([this.count]);
  }
  snapshot(): Uint8Array {
    return new Uint8Array([this.count]);
  }
  restore(bytes: Uint8Array): void {
    this.count = bytes[0];
  }
}

const entry = (slot: number, commands: Command[]) => ({ slot, kind: EntryKind.commands, data: encodeBatch(commands) });
const cmd = (clientId: number, sequence: number): Command => ({ data: new Uint8Array([1]), clientId, sequence });

test("exactly-once: a retry is applied once and answered with the original result", () => {
  const counter = new Counter();
  const sm = new ExactlyOnceStateMachine(counter);
  const first = sm.applyEntry(entry(1, [cmd(7, 1), cmd(8, 1)]));
  assert.deepEqual(first.map((a) => a.outcome.kind), ["applied", "applied"]);
  const retry = sm.applyEntry(entry(2, [cmd(7, 1), cmd(7, 2)]));
  assert.equal(retry[0].outcome.kind, "duplicate");
  assert.deepEqual(retry[0].outcome.kind === "duplicate" && [...retry[0].outcome.result], [1]);
  assert.equal(retry[1].outcome.kind, "applied");
  assert.equal(counter.count, 3);
  assert.deepEqual(sm.applyEntry({ slot: 3, kind: EntryKind.noop, data: new Uint8Array(0) }), []);
  const sessionless = sm.applyEntry(entry(4, [{ data: new Uint8Array([1]) }, { data: new Uint8Array([1]) }]));
  assert.deepEqual(sessionless.map((a) => a.outcome.kind), ["applied", "applied"], "commands without a session are never deduplicated");
});

test("exactly-once: the session table survives snapshot and restore", () => {
  const counter = new Counter();
  const sm = new ExactlyOnceStateMachine(counter);
  sm.applyEntry(entry(1, [cmd(1, 5)]));
  const image = sm.snapshot();
  const restoredCounter = new Counter();
  const restored = new ExactlyOnceStateMachine(restoredCounter);
  restored.restore(image);
  const again = restored.applyEntry(entry(2, [cmd(1, 5)]));
  assert.equal(again[0].outcome.kind, "duplicate");
  assert.equal(restoredCounter.count, 1);
  sm.applyEntry(entry(2, [cmd(1, 5)]));
  assert.deepEqual(restored.snapshot(), sm.snapshot(), "restored and original replicas hold byte-equal images");
});

test("exactly-once: windows, client count and idleness are bounded deterministically", () => {
  const sm = new ExactlyOnceStateMachine(new Counter(), { sequencesPerClientMax: 2, clientsMax: 2, clientIdleSlotsMax: 10 });
  sm.applyEntry(entry(1, [cmd(1, 1), cmd(1, 2), cmd(1, 3)]));
  const old = sm.applyEntry(entry(2, [cmd(1, 1)]));
  assert.equal(old[0].outcome.kind, "expired", "a retry older than the window is refused, not re-applied");
  sm.applyEntry(entry(3, [cmd(2, 1), cmd(3, 1)]));
  assert.equal(sm.sessionCount, 2, "the least recently active session was evicted");
  sm.applyEntry(entry(20, [cmd(4, 1)]));
  assert.equal(sm.sessionCount, 1, "idle sessions expire by slot distance");
  const fresh = sm.applyEntry(entry(21, [cmd(2, 0)]));
  assert.equal(fresh[0].outcome.kind, "applied", "an evicted client starts a new session at its next sequence");
  const retried = sm.applyEntry(entry(22, [cmd(2, 0)]));
  assert.equal(retried[0].outcome.kind, "duplicate", "the command that re-created the session is deduplicated");
});
