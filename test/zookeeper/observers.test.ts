// Goal: in a cluster larger than the coordination group's voters, the other nodes serve ZooKeeper
// clients too (ZooKeeper's observers): the coordination leader adds each of them to the group as a
// learner, so it holds the tree, reads locally, forwards writes, reports its sessions' pings, and
// takes part in session moves (SessionMoved for the connection a session left). Its four-letter
// words say "observer". Method: startTestCluster({ nodes: 4 }) in-process (real TCP, real
// storage); node 4 is not a voter of the metadata or coordination group; RawZk clients at the
// wire level connect to one node each.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestCluster, type SynodNode, type TestCluster } from "../../src/synod.js";
import { OpCode } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { fourLetterWord } from "../helpers/zookeeper-server.js";
import { waitFor } from "../helpers/wait.js";
import { OPEN_ACL, RawZk } from "./raw-zk.js";
import { buf } from "./nzc.js";


const coordOf = (node: SynodNode) => node.runtime.group("coord");

describe("ZooKeeper clients on a node that is not a voter of the coordination group", () => {
  let cluster: TestCluster;
  let observer: SynodNode;
  let voter: SynodNode;

  before(async () => {
    cluster = await startTestCluster({ nodes: 4, node: { zookeeperSessionTimeoutMsMin: 1000, zookeeper4lwWhitelist: "*" } });
    observer = cluster.nodes.find((n) => n.config.nodeId === 4)!;
    voter = cluster.nodes.find((n) => n.config.nodeId === 1)!;
    await waitFor("node 4 serving ZooKeeper clients", 30_000, async () => /Mode: observer/.test(await fourLetterWord("127.0.0.1", observer.zookeeperPort, "srvr").catch(() => "")));
  });
  after(() => cluster?.close());

  test("node 4 is a learner of the coordination group and serves reads, writes, ephemerals and session moves", async (t) => {
    const membership = coordOf(observer)!.status().membership;
    assert.deepEqual([...membership.voters], [1, 2, 3]);
    assert.deepEqual([...membership.learners], [4], "the leader added node 4 as a learner");
    assert.match(await fourLetterWord("127.0.0.1", observer.zookeeperPort, "ruok"), /imok/);

    const onObserver = await RawZk.connect(observer.zookeeperPort, { timeoutMs: 10_000 });
    assert.ok(onObserver, "node 4 answers a handshake");
    t.after(() => onObserver.drop());
    assert.equal((await onObserver.call(OpCode.create, { path: "/obs", data: buf("4"), acl: OPEN_ACL, flags: 0 })).err, 0, "a write through node 4");
    assert.equal((await onObserver.call(OpCode.create, { path: "/obs-eph", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    const own = await onObserver.call(OpCode.getData, { path: "/obs", watch: false });
    assert.equal(Buffer.from((own.body as { data: Uint8Array }).data).toString(), "4", "node 4 reads its own write at once");

    const onVoter = await RawZk.connect(voter.zookeeperPort, { timeoutMs: 10_000 });
    assert.ok(onVoter);
    t.after(() => onVoter.drop());
    assert.equal((await onVoter.call(OpCode.setData, { path: "/obs", data: buf("1"), version: -1 })).err, 0);
    assert.equal((await onObserver.call(OpCode.sync, { path: "/obs" })).err, 0);
    const synced = await onObserver.call(OpCode.getData, { path: "/obs", watch: false });
    assert.equal(Buffer.from((synced.body as { data: Uint8Array }).data).toString(), "1", "after sync, node 4 sees node 1's write");

    // The session moves from node 4 to node 1: node 4's connection is stale from then on.
    const moved = await RawZk.connect(voter.zookeeperPort, { sessionId: onObserver.sessionId, passwd: onObserver.passwd, lastZxidSeen: 0n, timeoutMs: 10_000 });
    assert.ok(moved);
    t.after(() => moved.drop());
    assert.equal((await onObserver.call(OpCode.setData, { path: "/obs", data: buf("stale"), version: -1 })).err, ErrorCode.sessionMoved);
    assert.equal((await moved.call(OpCode.exists, { path: "/obs-eph", watch: false })).err, 0, "the ephemeral moved with its session");
    await moved.call(OpCode.closeSession, null);
    await waitFor("the ephemeral gone on node 4", 10_000, async () => (await onVoter.call(OpCode.exists, { path: "/obs-eph", watch: false })).err === ErrorCode.noNode);
  });
});
