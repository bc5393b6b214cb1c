// The node-to-node transport over real TCP on loopback: messages of many groups arrive in order
// per peer, a node of another cluster is refused, a restarted peer is reconnected, a full queue
// drops instead of growing, and garbage or oversized frames close the connection without harm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { Transport, type PeerAddress } from "../../src/transport/transport.js";
import { FrameReader, FrameError, encodeFrame } from "../../src/transport/frame.js";
import { silentLogger } from "../../src/util/logger.js";

async function pair(options: { clusterB?: string; sendQueueBytesMax?: number } = {}) {
  const a = new Transport({ nodeId: 1, clusterId: "c1", host: "127.0.0.1", port: 0, peers: new Map(), logger: silentLogger(), sendQueueBytesMax: options.sendQueueBytesMax });
  const b = new Transport({ nodeId: 2, clusterId: options.clusterB ?? "c1", host: "127.0.0.1", port: 0, peers: new Map(), logger: silentLogger() });
  await a.start();
  await b.start();
  return { a, b };
}

function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error("timed out"));
      setTimeout(poll, 5);
    };
    poll();
  });
}

test("messages of many groups arrive in order, batched per peer", async (t) => {
  const { a, b } = await pair();
  t.after(() => Promise.all([a.close(), b.close()]));
  const received: Array<[number, string, string]> = [];
  b.onMessage = (from, group, message) => received.push([from, group, message.toString()]);
  a.setPeers(new Map<number, PeerAddress>([[2, { host: "127.0.0.1", port: b.port }]]));
  await waitFor(() => a.isConnected(2));
  for (let i = 0; i < 1000; i++) assert.ok(a.send(2, `p:${i % 7}`, Buffer.from(`m${i}`)));
  await waitFor(() => received.length === 1000);
  assert.deepEqual(received[0], [1, "p:0", "m0"]);
  assert.deepEqual(received.map((r) => r[2]), Array.from({ length: 1000 }, (_, i) => `m${i}`));
  const stats = a.stats().get(2)!;
  assert.equal(stats.messagesOut, 1000);
  assert.ok(stats.bytesOut < 1000 * 30, "batched: far fewer frame headers than messages");
});

test("a node from another cluster is refused", async (t) => {
  const { a, b } = await pair({ clusterB: "other" });
  t.after(() => Promise.all([a.close(), b.close()]));
  let delivered = 0;
  b.onMessage = () => delivered++;
  a.setPeers(new Map([[2, { host: "127.0.0.1", port: b.port }]]));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(a.isConnected(2), false);
  assert.equal(a.send(2, "g", Buffer.from("x")), true, "queued while not connected...");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(delivered, 0, "...but never delivered");
});

test("a restarted peer is reconnected with backoff", async (t) => {
  const { a, b } = await pair();
  a.setPeers(new Map([[2, { host: "127.0.0.1", port: b.port }]]));
  await waitFor(() => a.isConnected(2));
  const port = b.port;
  await b.close();
  await waitFor(() => !a.isConnected(2));
  const b2 = new Transport({ nodeId: 2, clusterId: "c1", host: "127.0.0.1", port, peers: new Map(), logger: silentLogger() });
  await b2.start();
  t.after(() => Promise.all([a.close(), b2.close()]));
  const received: string[] = [];
  b2.onMessage = (_from, _group, m) => received.push(m.toString());
  await waitFor(() => a.isConnected(2));
  a.send(2, "g", Buffer.from("after restart"));
  await waitFor(() => received.length === 1);
  assert.deepEqual(received, ["after restart"]);
});

test("a full send queue drops instead of growing", async (t) => {
  const { a, b } = await pair({ sendQueueBytesMax: 10_000 });
  t.after(() => Promise.all([a.close(), b.close()]));
  a.setPeers(new Map([[2, { host: "127.0.0.1", port: 1 }]])); // nobody listens there
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (a.send(2, "g", Buffer.alloc(1000))) accepted++;
  assert.ok(accepted < 10, `accepted ${accepted}`);
  assert.ok(a.stats().get(2)!.dropped >= 90);
});

test("garbage and oversized frames close the connection; the node keeps serving others", async (t) => {
  const { a, b } = await pair();
  t.after(() => Promise.all([a.close(), b.close()]));
  const received: string[] = [];
  b.onMessage = (_f, _g, m) => received.push(m.toString());
  for (const garbage of [Buffer.from("GET / HTTP/1.1\r\n\r\n"), Buffer.from([0xff, 0xff, 0xff, 0xff, 1])]) {
    const socket = createConnection({ host: "127.0.0.1", port: b.port });
    await new Promise((r) => socket.once("connect", r));
    socket.write(garbage);
    await new Promise((r) => socket.once("close", r));
  }
  a.setPeers(new Map([[2, { host: "127.0.0.1", port: b.port }]]));
  await waitFor(() => a.isConnected(2));
  a.send(2, "g", Buffer.from("still fine"));
  await waitFor(() => received.length === 1);
});

test("frame reader: split chunks reassemble; limits are enforced before allocating", () => {
  const reader = new FrameReader(100);
  const bytes = Buffer.concat(encodeFrame(3, Buffer.from("hello world")));
  const frames = [];
  for (const byte of bytes) frames.push(...reader.push(Buffer.from([byte])));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].payload.toString(), "hello world");
  assert.throws(() => new FrameReader(100).push(Buffer.from([0, 0, 1, 0, 3])), FrameError);
  assert.throws(() => new FrameReader(100).push(Buffer.from([0, 0, 0, 0])), FrameError);
});

test("a partition (iptables drops on 127.0.0.x) stalls delivery; after healing the peer reconnects and delivery resumes", async (t) => {
  const { NetFault } = await import("../helpers/netfault.js");
  const fault = new NetFault(`transport-${process.pid}`);
  t.after(() => fault.cleanup());
  const a = new Transport({ nodeId: 1, clusterId: "c1", host: "127.0.0.2", port: 0, peers: new Map(), logger: silentLogger(), peerSilenceMsMax: 600, handshakeTimeoutMs: 500 });
  const b = new Transport({ nodeId: 2, clusterId: "c1", host: "127.0.0.3", port: 0, peers: new Map(), logger: silentLogger() });
  await a.start();
  await b.start();
  t.after(() => Promise.all([a.close(), b.close()]));
  const received: string[] = [];
  b.onMessage = (_f, _g, m) => received.push(m.toString());
  a.setPeers(new Map([[2, { host: "127.0.0.3", port: b.port }]]));
  await waitFor(() => a.isConnected(2));
  fault.partition(["127.0.0.2"], ["127.0.0.3"]);
  const sendTicker = setInterval(() => a.send(2, "g", Buffer.from("during")), 50);
  await waitFor(() => !a.isConnected(2), 5000);
  clearInterval(sendTicker);
  assert.equal(received.filter((m) => m === "during").length, 0, "nothing crosses the partition");
  fault.heal();
  const healedAt = Date.now();
  await waitFor(() => a.isConnected(2), 10_000);
  a.send(2, "g", Buffer.from("healed"));
  await waitFor(() => received.includes("healed"));
  console.log(`reconnected ${Date.now() - healedAt} ms after healing`);
});
