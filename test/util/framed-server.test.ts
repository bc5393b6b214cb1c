// The framed server under real TCP: responses leave in request order even when handlers finish
// out of order; null responses send nothing; outstanding work is bounded (reading pauses); a frame
// over the limit closes only that connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { startFramedServer, type ReplySlot } from "../../src/util/framed-server.js";
import { LengthPrefixedReader } from "../../src/util/frame-reader.js";
import { silentLogger } from "../../src/util/logger.js";

function frame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.byteLength);
  return Buffer.concat([prefix, payload]);
}

async function connect(port: number): Promise<{ socket: Socket; frames: Buffer[]; closed: Promise<void> }> {
  const socket = createConnection({ host: "127.0.0.1", port });
  await new Promise((r) => socket.once("connect", r));
  const reader = new LengthPrefixedReader(1 << 20);
  const frames: Buffer[] = [];
  socket.on("data", (c: Buffer) => frames.push(...reader.push(c)));
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  socket.on("error", () => undefined);
  return { socket, frames, closed };
}

const until = async (predicate: () => boolean, timeoutMs = 5000): Promise<void> => {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("responses go out in request order; null sends nothing", async (t) => {
  const server = await startFramedServer({
    name: "echo",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    frameBytesMax: 1024,
    accept: () => ({
      onFrame(request: Buffer, slot: ReplySlot) {
        const n = request.readUInt32BE(0);
        // Later requests finish first; every third request expects no response.
        setTimeout(() => slot.resolve(n % 3 === 0 ? null : Buffer.from(String(n))), 50 - (n % 50));
      },
    }),
  });
  t.after(() => server.close());
  const client = await connect(server.port);
  for (let n = 1; n <= 200; n++) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    client.socket.write(frame(b));
  }
  const expected = Array.from({ length: 200 }, (_, i) => i + 1).filter((n) => n % 3 !== 0).map(String);
  await until(() => client.frames.length === expected.length);
  assert.deepEqual(client.frames.map((f) => f.toString()), expected);
  client.socket.destroy();
});

test("outstanding requests are bounded: reading pauses, then resumes", async (t) => {
  const held: ReplySlot[] = [];
  const server = await startFramedServer({
    name: "hold",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    frameBytesMax: 1024,
    inflightRequestsMax: 10,
    accept: () => ({ onFrame: (_f, slot) => held.push(slot) }),
  });
  t.after(() => server.close());
  const client = await connect(server.port);
  const big = Buffer.concat(Array.from({ length: 5000 }, () => frame(Buffer.from("x"))));
  client.socket.write(big);
  await new Promise((r) => setTimeout(r, 200));
  // One TCP read may carry many frames; the bound applies between reads.
  assert.equal(held.length, 10, "dispatch stops at inflightRequestsMax while none completed");
  const seen = held.length;
  for (const slot of held.splice(0)) slot.resolve(Buffer.from("ok"));
  await until(() => held.length > 0);
  assert.ok(seen + held.length > seen, "reading resumed once the backlog cleared");
  client.socket.destroy();
});

test("a frame over the limit closes that connection only", async (t) => {
  const server = await startFramedServer({
    name: "limit",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    frameBytesMax: 16,
    accept: () => ({ onFrame: (f, slot) => slot.resolve(f) }),
  });
  t.after(() => server.close());
  const bad = await connect(server.port);
  const good = await connect(server.port);
  const header = Buffer.alloc(4);
  header.writeInt32BE(1_000_000_000);
  bad.socket.write(header);
  await bad.closed;
  const negative = await connect(server.port);
  negative.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
  await negative.closed;
  good.socket.write(frame(Buffer.from("still here")));
  await until(() => good.frames.length === 1);
  assert.equal(good.frames[0].toString(), "still here");
  good.socket.destroy();
});
