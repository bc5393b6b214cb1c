// Goal: hostile or broken ZooKeeper input gets the right error or a closed connection, never a
// crash, and the node keeps serving everyone else. Method: a real node (startTestCluster) and raw
// TCP: malformed frames and bodies, an oversized length prefix (closed before the server could
// allocate it: the body is never sent), invalid paths, unknown op codes, a wrong session
// password, garbage instead of a ConnectRequest. After each case a healthy client on its own
// connection still creates and reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { once } from "node:events";
import { startTestCluster } from "../../src/synod.js";
import { JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { OpCode } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { lengthPrefixed } from "../../src/zookeeper/protocol/frame.js";
import { OPEN_ACL, RawZk } from "./raw-zk.js";

async function closedWithin(socket: ReturnType<typeof netConnect>, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed) return true;
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([once(socket, "close").then(() => true), timer]);
}

test("bad input: errors or closed connections, and the node keeps serving", async (t) => {
  const cluster = await startTestCluster({ node: { zookeeperPacketBytesMax: 4096 } });
  t.after(() => cluster.close());
  const port = cluster.nodes[0].zookeeperPort;
  const healthy = await RawZk.connect(port);
  assert.ok(healthy);
  let counter = 0;
  const stillServing = async (): Promise<void> => {
    const path = `/alive-${counter++}`;
    assert.equal((await healthy.call(OpCode.create, { path, data: Buffer.from("x"), acl: OPEN_ACL, flags: 0 })).err, 0);
    assert.equal((await healthy.call(OpCode.getData, { path, watch: false })).err, 0);
  };

  await t.test("an oversized frame closes the connection before its body arrives", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(4097);
    c.sendRaw(prefix);
    await c.waitClosed(5000);
    // A ConnectRequest claiming 2 GiB is refused the same way.
    const s = netConnect(port, "127.0.0.1");
    await once(s, "connect");
    s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    assert.ok(await closedWithin(s, 5000), "a 2 GiB length prefix closes the connection");
    // A negative length too.
    const n = netConnect(port, "127.0.0.1");
    await once(n, "connect");
    n.write(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    assert.ok(await closedWithin(n, 5000));
    await stillServing();
  });

  await t.test("a packet at the limit is accepted; one byte over is not", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    // Find the data size that makes the setData frame exactly 4096 bytes.
    const header = 8;
    const overhead = header + 4 + "/big".length + 4 + 4;
    await c.call(OpCode.create, { path: "/big", data: null, acl: OPEN_ACL, flags: 0 });
    const fits = await c.call(OpCode.setData, { path: "/big", data: Buffer.alloc(4096 - overhead), version: -1 });
    assert.equal(fits.err, 0);
    c.send(OpCode.setData, { path: "/big", data: Buffer.alloc(4096 - overhead + 1), version: -1 });
    await c.waitClosed(5000);
    await stillServing();
  });

  await t.test("malformed frames: a short header closes; a malformed body gets MarshallingError and closes", async () => {
    const short = await RawZk.connect(port);
    assert.ok(short);
    short.sendRaw(lengthPrefixed(Buffer.from([0, 0, 0, 1])));
    await short.waitClosed(5000);

    const body = await RawZk.connect(port);
    assert.ok(body);
    // create with a path length of 1000 but 3 bytes of path.
    const frame = Buffer.alloc(8 + 4 + 3);
    frame.writeInt32BE(7, 0);
    frame.writeInt32BE(OpCode.create, 4);
    frame.writeInt32BE(1000, 8);
    frame.write("/ab", 12);
    body.sendRaw(lengthPrefixed(frame));
    const reply = await body.reply(7);
    assert.equal(reply?.header.err, ErrorCode.marshallingError);
    await body.waitClosed(5000);

    // Garbage instead of a ConnectRequest.
    const s = netConnect(port, "127.0.0.1");
    await once(s, "connect");
    s.write(lengthPrefixed(Buffer.from("this is not a connect request")));
    assert.ok(await closedWithin(s, 5000));
    await stillServing();
  });

  await t.test("unknown op codes get Unimplemented and the connection goes on", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    for (const op of [10, 20, 99, 200, -10, 0x7fffffff]) {
      const frame = Buffer.alloc(8);
      frame.writeInt32BE(500 + (op & 0xff), 0);
      frame.writeInt32BE(op, 4);
      c.sendRaw(lengthPrefixed(frame));
      const reply = await c.reply(500 + (op & 0xff));
      assert.equal(reply?.header.err, ErrorCode.unimplemented, `op ${op}`);
    }
    assert.equal((await c.call(OpCode.exists, { path: "/", watch: false })).err, 0);
    c.drop();
    await stillServing();
  });

  await t.test("invalid paths: BadArguments for writes, no crash for reads", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    // Parents exist, so create reaches the path check (ZooKeeper looks the parent up first: with
    // a missing parent the answer is NoNode, checked below).
    for (const parent of ["/trailing", "/empty", "/dot", "/dotdot"]) await c.call(OpCode.create, { path: parent, data: null, acl: OPEN_ACL, flags: 0 });
    assert.equal((await c.call(OpCode.create, { path: "/nothere/", data: null, acl: OPEN_ACL, flags: 0 })).err, ErrorCode.noNode);
    const bad = ["relative", "/trailing/", "/bad\u0001char", "/dot/.", "/dotdot/..", "", "/\ud800"];
    for (const path of bad) {
      assert.equal((await c.call(OpCode.create, { path, data: null, acl: OPEN_ACL, flags: 0 })).err, ErrorCode.badArguments, `create ${JSON.stringify(path)}`);
      assert.equal((await c.call(OpCode.setData, { path, data: null, version: -1 })).err, ErrorCode.badArguments, `setData ${JSON.stringify(path)}`);
      const read = await c.call(OpCode.getData, { path, watch: true });
      assert.ok(read.err === ErrorCode.noNode || read.err === ErrorCode.badArguments, `getData ${JSON.stringify(path)}: ${read.err}`);
    }
    for (const path of ["/empty//segment", "/dot/./x", "/dotdot/../x"]) {
      assert.equal((await c.call(OpCode.setData, { path, data: null, version: -1 })).err, ErrorCode.badArguments, `setData ${JSON.stringify(path)}`);
      assert.equal((await c.call(OpCode.create, { path, data: null, acl: OPEN_ACL, flags: 0 })).err, ErrorCode.noNode, `create ${JSON.stringify(path)} (no such parent)`);
    }
    assert.deepEqual((await c.call(OpCode.getChildren, { path: "/trailing", watch: false })).body, { children: [] }, "nothing was created");
    // A null path (length -1) in a write.
    assert.equal((await c.call(OpCode.delete, { path: null, version: -1 })).err, ErrorCode.badArguments);
    c.drop();
    await stillServing();
  });

  await t.test("a wrong session password: timeOut 0 and closed; the session is unharmed", async () => {
    const owner = await RawZk.connect(port);
    assert.ok(owner);
    const guess = await RawZk.connect(port, { sessionId: owner.sessionId, passwd: new Uint8Array(16) });
    assert.ok(guess);
    assert.equal(guess.connectResponse.timeOut, 0);
    await guess.waitClosed(5000);
    const shortPassword = await RawZk.connect(port, { sessionId: owner.sessionId, passwd: new Uint8Array(3) });
    assert.equal(shortPassword?.connectResponse.timeOut, 0);
    const unknown = await RawZk.connect(port, { sessionId: 12345n, passwd: new Uint8Array(16) });
    assert.equal(unknown?.connectResponse.timeOut, 0);
    assert.equal((await owner.call(OpCode.exists, { path: "/", watch: false })).err, 0);
    owner.drop();
    await stillServing();
  });

  await t.test("a multi with a bad op type inside is a MarshallingError", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    const w = new JuteWriter();
    w.writeInt(9);
    w.writeInt(OpCode.multi);
    // MultiHeader{type=getData (not allowed in a multi), done=false, err=-1}
    w.writeInt(OpCode.getData);
    w.writeBool(false);
    w.writeInt(-1);
    w.writeString("/");
    w.writeBool(false);
    w.writeInt(-1);
    w.writeBool(true);
    w.writeInt(-1);
    c.sendRaw(lengthPrefixed(w.view()));
    assert.equal((await c.reply(9))?.header.err, ErrorCode.marshallingError);
    await c.waitClosed(5000);
    await stillServing();
  });

  healthy.drop();
});
