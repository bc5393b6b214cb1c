// Goal: bytes from a misbehaving server never crash the client or make it allocate without bound:
// an oversized length prefix, a reply whose xid matches no request, and a garbled handshake each
// close that connection (in-flight requests fail with ConnectionLoss) and the client carries on
// reconnecting. Method: a raw TCP server in the test speaks just enough of the protocol — a valid
// ConnectResponse — and then sends the bad bytes; the client is the real one, over real TCP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { JuteWriter } from "../../../src/zookeeper/jute/runtime.js";
import { encodeConnectResponse } from "../../../src/zookeeper/protocol/connect.js";
import { lengthPrefixed } from "../../../src/zookeeper/protocol/frame.js";
import { ConnectionLossError, ZooKeeperClient, ZooKeeperError } from "../../../src/zookeeper/client/index.js";
import { ErrorCode } from "../../../src/zookeeper/protocol/errors.js";
import { eventually } from "./helpers.js";

type Misbehaviour = (socket: Socket) => void;

async function badServer(t: { after(fn: () => Promise<void>): void }, misbehave: Misbehaviour): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("data", () => {
      const w = new JuteWriter();
      encodeConnectResponse(w, { protocolVersion: 0, timeOut: 4000, sessionId: 0x1234n, passwd: new Uint8Array(16), readOnly: false });
      socket.write(lengthPrefixed(w.toBytes()));
      socket.once("data", () => misbehave(socket));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, connections: () => connections };
}

async function expectConnectionDropped(
  t: { after(fn: () => Promise<void>): void },
  misbehave: Misbehaviour,
  requestFails: (error: unknown) => boolean = (e) => e instanceof ConnectionLossError,
): Promise<void> {
  const server = await badServer(t, misbehave);
  const zk = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${server.port}`, sessionTimeoutMs: 4000, expireLocally: false });
  t.after(() => zk.close());
  await assert.rejects(zk.getData("/x"), requestFails);
  await eventually("the client reconnected", 5000, () => server.connections() >= 2);
}

test("an oversized length prefix from the server drops the connection, nothing is allocated", async (t) => {
  await expectConnectionDropped(t, (socket) => {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0x7fffffff, 0);
    socket.write(prefix);
  });
});

test("a reply with an unexpected xid drops the connection", async (t) => {
  await expectConnectionDropped(t, (socket) => {
    const w = new JuteWriter();
    w.writeInt(999);
    w.writeLong(5n);
    w.writeInt(0);
    socket.write(lengthPrefixed(w.toBytes()));
  });
});

test("a truncated reply body fails its request with MarshallingError and drops the connection", async (t) => {
  await expectConnectionDropped(
    t,
    (socket) => {
      const w = new JuteWriter();
      w.writeInt(1);
      w.writeLong(5n);
      w.writeInt(0);
      w.writeInt(100);
      socket.write(lengthPrefixed(w.toBytes()));
    },
    (e) => e instanceof ZooKeeperError && e.code === ErrorCode.marshallingError,
  );
});
