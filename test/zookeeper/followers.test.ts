// Goal: every node of a three-node synod cluster serves ZooKeeper clients, followers included, with
// ZooKeeper's guarantees: writes made through a follower (forwarded to the coordination leader)
// are answered once applied on that follower, in the connection's order (the event before the
// reply that shows the change; pipelined writes never overtake the reads between them); watches
// fire on the follower's own apply; sync()
// makes the next read on a follower see a write acknowledged by the leader; a session kept alive
// only by pings to a follower does not expire (the follower reports its touches to the leader),
// while a vanished client's session expires and its ephemeral disappears on every node; a session
// that moves to a node that has not yet applied its last write waits for it (lastZxidSeen) rather
// than reading the past; a session that moves to another node leaves its old connection stale
// (SessionMoved on its writes and reads). Method: startTestCluster({ nodes: 3 }) in-process (real TCP between the
// nodes, real storage); clients are node-zookeeper-client, synod's TypeScript client and RawZk
// (wire level), each connected to ONE node's ZooKeeper port. Which node leads is read from the
// runtime; the lag in the session-move test is made by holding the follower's coordination
// messages in its transport for a moment.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestCluster, type SynodNode, type TestCluster } from "../../src/synod.js";
import { ZooKeeperClient } from "../../src/zookeeper/client/index.js";
import { EventType, OpCode } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { fourLetterWord } from "../helpers/zookeeper-server.js";
import { delay, waitFor } from "../helpers/wait.js";
import { OPEN_ACL, RawZk } from "./raw-zk.js";
import { zookeeper, buf, call, type Watcher, type Stat, type ZkClient } from "./nzc.js";

const { ACL, CreateMode } = zookeeper;

function getData(client: ZkClient, path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
  return new Promise((resolve, reject) => client.getData(path, watcher, (error, data, stat) => (error ? reject(error) : resolve({ data, stat }))));
}


/** node-zookeeper-client connected to exactly one server; closed when the test ends. */
async function nzc(t: { after(fn: () => void): void }, connectString: string, sessionTimeoutMs = 10_000): Promise<ZkClient> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: sessionTimeoutMs, retries: 0 });
  const connected = new Promise<void>((resolve) => client.once("connected", resolve));
  client.connect();
  t.after(() => client.close());
  await Promise.race([connected, delay(20_000).then(() => Promise.reject(new Error(`no session on ${connectString} within 20 s`)))]);
  return client;
}

const coordOf = (node: SynodNode) => node.runtime.group("coord");

const hex = (id: bigint): string => BigInt.asUintN(64, id).toString(16).padStart(16, "0");

describe("ZooKeeper clients on every node of a three-node cluster", () => {
  let cluster: TestCluster;
  let leader: SynodNode;
  let followers: SynodNode[];

  before(async () => {
    cluster = await startTestCluster({ nodes: 3, node: { zookeeperSessionTimeoutMsMin: 1000, zookeeper4lwWhitelist: "*" } });
    await waitFor("a coordination leader", 30_000, () => cluster.nodes.some((n) => coordOf(n)?.isLeaderReady === true));
    leader = cluster.nodes.find((n) => coordOf(n)?.isLeaderReady === true)!;
    followers = cluster.nodes.filter((n) => n !== leader);
  });
  after(() => cluster?.close());

  test("a follower serves node-zookeeper-client: create, setData, getData, ephemeral, sequential, multi, watches; 4lw modes are truthful", async (t) => {
    const follower = followers[0];
    const onFollower = await nzc(t, follower.zookeeperConnectString);
    const onLeader = await nzc(t, leader.zookeeperConnectString);
    assert.equal(coordOf(follower)?.role, "follower", "the client's node is a follower");

    assert.equal(await call<string>((cb) => onFollower.create("/f", buf("a"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), "/f");
    assert.equal((await getData(onFollower, "/f")).data.toString(), "a", "the follower reads its own write at once");
    const stat = await call<Stat>((cb) => onFollower.setData("/f", buf("b"), 0, cb));
    assert.equal(stat.version, 1);
    assert.equal((await getData(onFollower, "/f")).data.toString(), "b");
    assert.equal((await getData(onLeader, "/f")).data.toString(), "b", "the leader has it too");

    await call<string>((cb) => onFollower.create("/f/eph", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, cb));
    const eph = await call<Stat | null>((cb) => onFollower.exists("/f/eph", undefined, cb));
    assert.deepEqual(eph?.ephemeralOwner, onFollower.getSessionId(), "owned by the follower's session");

    const first = await call<string>((cb) => onFollower.create("/f/seq-", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, cb));
    const second = await call<string>((cb) => onFollower.create("/f/seq-", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL, cb));
    assert.match(first, /^\/f\/seq-\d{10}$/);
    assert.match(second, /^\/f\/seq-\d{10}$/);
    assert.ok(second > first, `${second} after ${first}`);

    const results = await call<Array<{ type: number; err?: number; path?: string }>>((cb) =>
      onFollower.transaction().create("/f/m1", buf("m")).setData("/f", buf("c"), 1).check("/f", 2).commit(cb),
    );
    assert.equal(results.length, 3);
    assert.equal((await getData(onFollower, "/f/m1")).data.toString(), "m");
    await assert.rejects(call((cb) => onFollower.transaction().create("/f/m2").check("/f", 99).commit(cb)), "a failing multi fails as a whole");
    assert.equal(await call<Stat | null>((cb) => onFollower.exists("/f/m2", undefined, cb)), null, "nothing of the failed multi applied");

    // Watches set on the follower fire from the follower's own apply of the leader's writes.
    const events: string[] = [];
    await getData(onFollower, "/f", (e) => events.push(`${e.name} ${e.path}`));
    await call<string[]>((cb) => onFollower.getChildren("/f", (e) => events.push(`${e.name} ${e.path}`), cb));
    await call<Stat>((cb) => onLeader.setData("/f", buf("from-leader"), -1, cb));
    await waitFor("the data watch", 10_000, () => events.includes("NODE_DATA_CHANGED /f"));
    await call<string>((cb) => onLeader.create("/f/from-leader", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
    await waitFor("the child watch", 10_000, () => events.includes("NODE_CHILDREN_CHANGED /f"));
    assert.deepEqual(events, ["NODE_DATA_CHANGED /f", "NODE_CHILDREN_CHANGED /f"], "each one-shot watch fired once");
    assert.equal((await getData(onFollower, "/f")).data.toString(), "from-leader", "the read after the event shows the change");

    assert.match(await fourLetterWord("127.0.0.1", follower.zookeeperPort, "srvr"), /Mode: follower/);
    assert.match(await fourLetterWord("127.0.0.1", leader.zookeeperPort, "srvr"), /Mode: leader/);
  });

  test("on a follower, per connection: the event before the reply that shows the change, pipelined writes never overtake reads, and a 900 KiB value travels through", async (t) => {
    const c = await RawZk.connect(followers[1].zookeeperPort);
    assert.ok(c);
    t.after(() => c.drop());
    assert.equal((await c.call(OpCode.create, { path: "/order", data: buf("0"), acl: OPEN_ACL, flags: 0 })).err, 0);
    await c.call(OpCode.getData, { path: "/order", watch: true });
    await c.call(OpCode.getChildren, { path: "/order", watch: true });
    const before = c.frames.length;
    const setXid = c.send(OpCode.setData, { path: "/order", data: buf("1"), version: -1 });
    const createXid = c.send(OpCode.create, { path: "/order/kid", data: null, acl: OPEN_ACL, flags: 0 });
    const readXid = c.send(OpCode.getData, { path: "/order", watch: false });
    const childrenXid = c.send(OpCode.getChildren, { path: "/order", watch: false });
    await c.reply(childrenXid);
    const seen = c.frames.slice(before).map((f) => (f.kind === "notification" ? `event ${f.event.type} ${f.event.path}` : `reply ${f.header.xid}`));
    assert.deepEqual(seen, [`event ${EventType.nodeDataChanged} /order`, `reply ${setXid}`, `event ${EventType.nodeChildrenChanged} /order`, `reply ${createXid}`, `reply ${readXid}`, `reply ${childrenXid}`]);

    // write, read, write, read…: each read sees exactly the writes before it.
    const xids: number[] = [];
    for (let round = 1; round <= 20; round++) {
      xids.push(c.send(OpCode.setData, { path: "/order", data: buf(`r${round}`), version: -1 }));
      xids.push(c.send(OpCode.getData, { path: "/order", watch: false }));
    }
    for (let i = 0; i < xids.length; i += 2) {
      const written = await c.reply(xids[i]);
      const read = await c.reply(xids[i + 1]);
      assert.equal(written?.header.err, 0);
      assert.equal(Buffer.from((read?.body as { data: Uint8Array }).data).toString(), `r${i / 2 + 1}`, `read after write ${i / 2 + 1}`);
      assert.ok(read!.header.zxid >= written!.header.zxid);
    }
    const zxids = c.frames.flatMap((f) => (f.kind === "reply" ? [f.header.zxid] : []));
    for (let i = 1; i < zxids.length; i++) assert.ok(zxids[i] >= zxids[i - 1], "reply zxids never go back");

    const big = Buffer.alloc(900 * 1024, 7);
    assert.equal((await c.call(OpCode.create, { path: "/big", data: big, acl: OPEN_ACL, flags: 0 })).err, 0);
    const read = await c.call(OpCode.getData, { path: "/big", watch: false });
    assert.ok(Buffer.from((read.body as { data: Uint8Array }).data).equals(big));
  });

  test("sync() on a follower, then a read, sees a write the leader acknowledged to another session", async (t) => {
    const follower = followers[1];
    const onLeader = await nzc(t, leader.zookeeperConnectString);
    const onFollower = await ZooKeeperClient.connect({ connectString: follower.zookeeperConnectString, sessionTimeoutMs: 10_000, initialConnectTimeoutMs: 20_000 });
    t.after(() => onFollower.close());
    await call<string>((cb) => onLeader.create("/s", buf("0"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
    let staleWithoutSync = 0;
    const rounds = 30;
    for (let i = 1; i <= rounds; i++) {
      await call<Stat>((cb) => onLeader.setData("/s", buf(`with-sync-${i}`), -1, cb));
      await onFollower.sync("/s");
      assert.equal((await onFollower.getData("/s")).data.toString(), `with-sync-${i}`, `round ${i}: sync then read sees the acknowledged write`);
      // The same without sync may read the past (the follower learns the commit a moment later):
      // counted, to show the sync above is what makes the read current.
      await call<Stat>((cb) => onLeader.setData("/s", buf(`no-sync-${i}`), -1, cb));
      if ((await onFollower.getData("/s")).data.toString() !== `no-sync-${i}`) staleWithoutSync++;
    }
    t.diagnostic(`reads without sync that missed the leader's acknowledged write: ${staleWithoutSync} of ${rounds}`);
  });

  test("a session kept alive only by pings to a follower does not expire; a vanished client's session expires and its ephemeral disappears on every node", async (t) => {
    const follower = followers[0];
    const expired: string[] = [];
    const idle = await nzc(t, follower.zookeeperConnectString, 1500);
    idle.once("expired", () => expired.push("expired"));
    const timeoutMs = idle.getSessionTimeout();
    assert.ok(timeoutMs >= 1000 && timeoutMs <= 1500, `negotiated ${timeoutMs} ms`);
    await call<string>((cb) => idle.create("/idle-eph", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, cb));

    const vanishing = await RawZk.connect(followers[1].zookeeperPort, { timeoutMs: 1000 });
    assert.ok(vanishing, "a session on the other follower");
    assert.equal((await vanishing.call(OpCode.create, { path: "/vanish-eph", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    vanishing.drop();
    const droppedAt = Date.now();

    // Observers on every node (long timeouts: they do not ping).
    const observers = await Promise.all(cluster.nodes.map((n) => RawZk.connect(n.zookeeperPort, { timeoutMs: 60_000 })));
    t.after(() => observers.forEach((o) => o?.drop()));
    for (const [i, observer] of observers.entries()) {
      assert.ok(observer, `observer on node ${i + 1}`);
      await waitFor(`/vanish-eph gone on node ${i + 1}`, 10_000, async () => (await observer.call(OpCode.exists, { path: "/vanish-eph", watch: false })).err !== 0);
    }
    t.diagnostic(`the vanished session's ephemeral was gone on every node ${Date.now() - droppedAt} ms after the drop (timeout 1000 ms)`);

    await delay(Math.max(0, 3.5 * timeoutMs - (Date.now() - droppedAt)));
    assert.deepEqual(expired, [], "the pinging session did not expire");
    for (const [i, observer] of observers.entries()) {
      const exists = await observer!.call(OpCode.exists, { path: "/idle-eph", watch: false });
      assert.equal(exists.err, 0, `/idle-eph still there on node ${i + 1} after ${3.5 * timeoutMs} ms of pings only`);
    }
    assert.equal((await getData(idle, "/idle-eph")).stat.version, 0, "the session still works");
  });

  test("read-your-writes across nodes: sessions write on one follower and move to another that lags; the reads there wait for their writes", async (t) => {
    const [a, b] = followers;
    const known = await RawZk.connect(a.zookeeperPort, { timeoutMs: 10_000 });
    assert.ok(known, "a session node b will have applied");
    assert.equal((await known.call(OpCode.create, { path: "/ryw", data: buf("1"), acl: OPEN_ACL, flags: 0 })).err, 0);
    assert.equal((await known.call(OpCode.create, { path: "/ryw-eph", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    await waitFor("node b applied the session's writes", 10_000, () => coordOf(b)!.appliedSlot >= coordOf(a)!.appliedSlot);

    // Node b stops receiving coordination messages for a moment (well under an election timeout): it falls behind.
    const transport = b.runtime.options.transport!;
    const deliver = transport.onMessage;
    const held: Array<Parameters<typeof deliver>> = [];
    transport.onMessage = (from, groupId, message) => {
      if (groupId === "coord") held.push([from, groupId, message]);
      else deliver(from, groupId, message);
    };
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      transport.onMessage = deliver;
      for (const [from, groupId, message] of held.splice(0)) deliver(from, groupId, message);
    };
    t.after(release);

    const write = await known.call(OpCode.setData, { path: "/ryw", data: buf("2"), version: -1 });
    assert.equal(write.err, 0);
    // A session node b has not even seen created, with a write of its own.
    const unknown = await RawZk.connect(a.zookeeperPort, { timeoutMs: 10_000 });
    assert.ok(unknown);
    const unknownWrite = await unknown.call(OpCode.create, { path: "/ryw-new", data: buf("n"), acl: OPEN_ACL, flags: 0 });
    assert.equal(unknownWrite.err, 0);
    assert.ok(BigInt(coordOf(b)!.appliedSlot) < write.zxid >> 20n, "node b has not applied the writes");
    known.drop();
    unknown.drop();

    // The known session moves to b with lastZxidSeen = its write: b takes it at once, but its read
    // waits until b has applied the write. The unknown session's handshake itself waits.
    const moved = await RawZk.connect(b.zookeeperPort, { sessionId: known.sessionId, passwd: known.passwd, lastZxidSeen: write.zxid, timeoutMs: 10_000 });
    assert.ok(moved, "b answered the known session's handshake");
    t.after(() => moved.drop());
    assert.equal(moved.sessionId, known.sessionId, `same session 0x${hex(known.sessionId)}`);
    assert.equal(moved.connectResponse.timeOut, 10_000);
    const readXid = moved.send(OpCode.getData, { path: "/ryw", watch: false });
    let unknownAnswered = false;
    const movingUnknown = RawZk.connect(b.zookeeperPort, { sessionId: unknown.sessionId, passwd: unknown.passwd, lastZxidSeen: unknownWrite.zxid, timeoutMs: 10_000 }).then((c) => {
      unknownAnswered = true;
      return c;
    });
    await delay(200);
    assert.equal(moved.frames.length, 0, "no read reply while b is behind the session");
    assert.equal(unknownAnswered, false, "no ConnectResponse for a session b has not applied yet");
    assert.ok(held.length > 0, "b really was held back");
    release();

    const read = await moved.reply(readXid);
    assert.ok(read);
    assert.equal(read.header.err, 0);
    assert.equal(Buffer.from((read.body as { data: Uint8Array }).data).toString(), "2", "the session reads its own write on b");
    assert.ok(read.header.zxid >= write.zxid, "and the reply's zxid does not go back");
    const eph = await moved.call(OpCode.exists, { path: "/ryw-eph", watch: false });
    assert.equal((eph.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, known.sessionId, "its ephemeral moved with it");

    const movedUnknown = await movingUnknown;
    assert.ok(movedUnknown, "b answered once it caught up");
    t.after(() => movedUnknown.drop());
    assert.equal(movedUnknown.sessionId, unknown.sessionId);
    const readNew = await movedUnknown.call(OpCode.getData, { path: "/ryw-new", watch: false });
    assert.equal(readNew.err, 0, "the moved session sees its create on b");

    // A client claiming a zxid no node has, with no session: a follower waits briefly, then closes without a reply.
    const ahead = await RawZk.connect(b.zookeeperPort, { lastZxidSeen: 1n << 60n });
    assert.equal(ahead, undefined, "closed without a ConnectResponse");
  });

  test("SessionMoved across nodes: after a session moves to another node, its old connection's writes and reads fail with SessionMoved; moving back makes the other one stale", async (t) => {
    const [a, b] = followers;
    const first = await RawZk.connect(a.zookeeperPort, { timeoutMs: 10_000 });
    assert.ok(first);
    t.after(() => first.drop());
    assert.equal((await first.call(OpCode.create, { path: "/moved", data: buf("a"), acl: OPEN_ACL, flags: 0 })).err, 0);
    assert.equal((await first.call(OpCode.create, { path: "/moved-eph", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    // The client reconnects its session to node b while the connection to node a is still open.
    const second = await RawZk.connect(b.zookeeperPort, { sessionId: first.sessionId, passwd: first.passwd, lastZxidSeen: 0n, timeoutMs: 10_000 });
    assert.ok(second);
    t.after(() => second.drop());
    assert.equal(second.sessionId, first.sessionId);
    assert.equal((await first.call(OpCode.setData, { path: "/moved", data: buf("stale"), version: -1 })).err, ErrorCode.sessionMoved, "a write through the node the session left");
    await waitFor("node a applied the move", 10_000, () => coordOf(a)!.appliedSlot >= coordOf(cluster.nodes.find((n) => n.runtime.group("coord")?.isLeaderReady)!)!.appliedSlot);
    assert.equal((await first.call(OpCode.exists, { path: "/moved", watch: false })).err, ErrorCode.sessionMoved, "a read there too, once node a applied the move");
    assert.equal((await second.call(OpCode.setData, { path: "/moved", data: buf("b"), version: -1 })).err, 0, "the new connection writes");
    const eph = await second.call(OpCode.exists, { path: "/moved-eph", watch: false });
    assert.equal((eph.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, first.sessionId, "the ephemeral stayed with the session");
    // Back to node a: now node b's connection is the stale one.
    const third = await RawZk.connect(a.zookeeperPort, { sessionId: first.sessionId, passwd: first.passwd, lastZxidSeen: 0n, timeoutMs: 10_000 });
    assert.ok(third);
    t.after(() => third.drop());
    assert.equal((await second.call(OpCode.setData, { path: "/moved", data: buf("stale"), version: -1 })).err, ErrorCode.sessionMoved);
    assert.equal((await third.call(OpCode.setData, { path: "/moved", data: buf("c"), version: -1 })).err, 0);
    const read = await third.call(OpCode.getData, { path: "/moved", watch: false });
    assert.equal(Buffer.from((read.body as { data: Uint8Array }).data).toString(), "c", "no stale write landed");
    await third.call(OpCode.closeSession, null);
  });

  test("a follower cut off from the cluster closes its clients (it cannot keep their sessions alive); the session continues on another node", async (t) => {
    const [a, b] = followers;
    const client = await RawZk.connect(b.zookeeperPort, { timeoutMs: 15_000 });
    assert.ok(client);
    t.after(() => client.drop());
    assert.equal((await client.call(OpCode.create, { path: "/cut-eph", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);

    // Node b hears nothing and says nothing (its TCP connections stay up).
    const transport = b.runtime.options.transport!;
    const deliver = transport.onMessage;
    const send = transport.send;
    transport.onMessage = () => undefined;
    transport.send = () => true;
    let healed = false;
    const heal = (): void => {
      if (healed) return;
      healed = true;
      transport.onMessage = deliver;
      transport.send = send;
    };
    t.after(heal);
    const cutAt = Date.now();
    await client.waitClosed(12_000);
    t.diagnostic(`node b closed its client ${Date.now() - cutAt} ms after it was cut off`);
    assert.equal(await RawZk.connect(b.zookeeperPort), undefined, "and refuses new ones");

    // The client goes to another node within its session timeout: same session, ephemeral intact.
    const moved = await RawZk.connect(a.zookeeperPort, { sessionId: client.sessionId, passwd: client.passwd, timeoutMs: 15_000 });
    assert.ok(moved);
    t.after(() => moved.drop());
    assert.equal(moved.connectResponse.timeOut, 15_000, "the session is alive");
    const eph = await moved.call(OpCode.exists, { path: "/cut-eph", watch: false });
    assert.equal((eph.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, client.sessionId);

    heal();
    let back: RawZk | undefined;
    await waitFor("node b serving again", 15_000, async () => (back = await RawZk.connect(b.zookeeperPort)) !== undefined);
    t.after(() => back?.drop());
    assert.equal((await back!.call(OpCode.exists, { path: "/cut-eph", watch: false })).err, 0, "b has caught up");
  });
});
