// Goal: the replicated session secret behaves as the ZooKeeper front-end relies on — the first
// setSecret applied wins on every replica (a second leader racing to set one changes nothing),
// it survives snapshots (and format-1 images without one still restore), and peekCommand reads a
// command's kind and session without a full decode. Method: apply encoded commands to real state
// machines at increasing positions and compare.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand, peekCommand } from "../../src/coord/commands.js";
import { CoordStateMachine } from "../../src/coord/state-machine.js";

const at = (slot: number) => ({ slot, index: 0 });

test("the first setSecret wins and survives a snapshot", () => {
  const sm = new CoordStateMachine();
  assert.equal(sm.sessionSecret, null);
  const first = new Uint8Array(32).fill(1);
  const second = new Uint8Array(32).fill(2);
  sm.apply(encodeCommand({ wallTimeMs: 1, sessionId: 0n, identities: [], body: { kind: "setSecret", secret: first } }), at(1));
  const result = sm.apply(encodeCommand({ wallTimeMs: 2, sessionId: 0n, identities: [], body: { kind: "setSecret", secret: second } }), at(2));
  assert.equal(result.err, 0);
  assert.deepEqual(sm.sessionSecret, first);
  const copy = new CoordStateMachine();
  copy.restore(sm.snapshot());
  assert.deepEqual(copy.sessionSecret, first);
  assert.deepEqual(copy.snapshot(), sm.snapshot());
});

test("a format-1 snapshot (before secrets) restores with no secret", () => {
  const sm = new CoordStateMachine();
  const image = sm.snapshot();
  // Format 2 inserted an i32 -1 (no secret) after the extendedTypesEnabled byte at offset 13.
  const old = new Uint8Array(image.length - 4);
  old.set(image.subarray(0, 14));
  old.set(image.subarray(18), 14);
  old[4] = 1;
  const restored = new CoordStateMachine();
  restored.restore(old);
  assert.equal(restored.sessionSecret, null);
  assert.equal(restored.nodeCount, sm.nodeCount);
});

test("peekCommand reads kind, session id and owner", () => {
  const bytes = encodeCommand({ wallTimeMs: 123, sessionId: -5n, owner: 3, identities: [{ scheme: "ip", id: "127.0.0.1" }], body: { kind: "closeSession" } });
  assert.deepEqual(peekCommand(bytes), { kind: "closeSession", sessionId: -5n, owner: 3 });
  assert.equal(peekCommand(bytes.subarray(0, 5)), undefined);
});
