// Goal: the peer channel's touch frames (a follower reporting the ZooKeeper sessions its
// connections touched to the coordination leader) are bounded both ways: a report is split into
// frames of at most TOUCH_KEYS_PER_MESSAGE keys, and a received frame is cut to that many and to
// well-formed keys before the handler sees it. Method: PeerRpc over a fake transport that records
// frames and hands them to a second PeerRpc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerRpc, RPC_GROUP_ID, TOUCH_KEYS_PER_MESSAGE } from "../../src/node/rpc.js";
import type { Transport } from "../../src/transport/transport.js";
import { silentLogger } from "../../src/util/logger.js";

function rpcPair(): { sender: PeerRpc; frames: Buffer[]; heard: Array<{ from: number; groupId: string; keys: string[] }>; receiver: PeerRpc } {
  const frames: Buffer[] = [];
  const heard: Array<{ from: number; groupId: string; keys: string[] }> = [];
  const fake = (record: boolean) =>
    ({
      send: (_to: number, groupId: string, message: Uint8Array) => {
        assert.equal(groupId, RPC_GROUP_ID);
        if (record) frames.push(Buffer.from(message));
        return true;
      },
    }) as unknown as Transport;
  const common = { logger: silentLogger(), onPropose: async () => ({ ok: false as const, error: "no" }), onLeaders: () => undefined, onSnapshot: async () => false };
  const sender = new PeerRpc({ nodeId: 2, transport: fake(true), ...common });
  const receiver = new PeerRpc({ nodeId: 1, transport: fake(false), ...common, onTouch: (from, groupId, keys) => heard.push({ from, groupId, keys }) });
  return { sender, frames, heard, receiver };
}

test("a touch report is split into frames of at most TOUCH_KEYS_PER_MESSAGE keys, all delivered", () => {
  const { sender, frames, heard, receiver } = rpcPair();
  const keys = Array.from({ length: 2 * TOUCH_KEYS_PER_MESSAGE + 7 }, (_, i) => String(BigInt(i) * 0x1_0000_0001n));
  assert.equal(sender.touch(1, "coord", keys), true);
  assert.equal(frames.length, 3);
  for (const frame of frames) receiver.receive(2, frame);
  assert.deepEqual(
    heard.map((h) => h.keys.length),
    [TOUCH_KEYS_PER_MESSAGE, TOUCH_KEYS_PER_MESSAGE, 7],
  );
  assert.deepEqual(heard.flatMap((h) => h.keys), keys);
  assert.ok(heard.every((h) => h.from === 2 && h.groupId === "coord"));
});

test("a received touch frame is cut to TOUCH_KEYS_PER_MESSAGE keys; non-strings and overlong keys are dropped", () => {
  const { heard, receiver } = rpcPair();
  const oversized = { t: "touch", group: "coord", keys: Array.from({ length: 3 * TOUCH_KEYS_PER_MESSAGE }, (_, i) => String(i)) };
  receiver.receive(2, Buffer.from(JSON.stringify(oversized)));
  assert.equal(heard.length, 1);
  assert.equal(heard[0].keys.length, TOUCH_KEYS_PER_MESSAGE);
  receiver.receive(2, Buffer.from(JSON.stringify({ t: "touch", group: "coord", keys: [1, null, "x".repeat(1000), "42"] })));
  assert.deepEqual(heard[1].keys, ["42"]);
  receiver.receive(2, Buffer.from(JSON.stringify({ t: "touch", group: "coord", keys: "not a list" })));
  receiver.receive(2, Buffer.from(JSON.stringify({ t: "touch", group: 7, keys: ["1"] })));
  assert.equal(heard.length, 2, "malformed frames are ignored");
});

test("a proposal forwarded to a peer whose connection is lost fails at once, not at its timeout; others stay pending", async () => {
  const { sender } = rpcPair();
  const started = performance.now();
  const toLost = sender.forward(1, "coord", Buffer.from("a"));
  const toOther = sender.forward(3, "coord", Buffer.from("b"));
  sender.peerLost(1);
  assert.deepEqual(await toLost, { ok: false, error: "unreachable" });
  assert.ok(performance.now() - started < 1000, "failed without waiting for the 10 s timeout");
  let otherSettled = false;
  void toOther.then(() => (otherSettled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(otherSettled, false, "a forward to another peer is untouched");
  sender.close();
  assert.deepEqual(await toOther, { ok: false, error: "closed" });
});
