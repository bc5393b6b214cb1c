// Goal: the client's session survives what a session must survive — a dropped connection, a
// server that goes away, a move to another server — and reports what it must report: expiry (told
// by the server, or concluded locally after a partition outlasted the timeout), per-request
// timeouts, a full queue; and close() leaves no socket or timer behind. Method: real Apache
// ZooKeeper (and synod when it serves ZooKeeper) over real TCP; faults come from a TCP relay in
// front of the server (cut = reset, freeze = partition) and from stopping the server itself.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionLossError,
  QueueFullError,
  RequestTimeoutError,
  SessionExpiredError,
  ZooKeeperClient,
  type SessionState,
} from "../../../src/zookeeper/client/index.js";
import { TcpProxy } from "../../helpers/tcp-proxy.js";
import { zooKeeperTargets, type ZooKeeperTarget } from "../../helpers/zookeeper-server.js";
import { EventLog, client, eventually, freshChroot } from "./helpers.js";

function chrootOf(connectString: string): string {
  return connectString.slice(connectString.indexOf("/"));
}

function recordStates(zk: ZooKeeperClient): SessionState[] {
  const states: SessionState[] = [];
  zk.onStateChange((change) => states.push(change.state));
  return states;
}

async function proxyFor(t: { after(fn: () => Promise<void>): void }, server: ZooKeeperTarget): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(server.host, server.port);
  t.after(() => proxy.close());
  return proxy;
}

for (const target of zooKeeperTargets()) {
  describe(`ZooKeeper client sessions against ${target.kind}`, () => {
    let server: ZooKeeperTarget;
    before(async () => {
      server = await target.start();
    });
    after(() => server?.close());

    test("a dropped connection: same session, ephemerals kept, in-flight fails, queued runs, watches replayed", async (t) => {
      const rooted = await freshChroot(server, "reconnect");
      const proxy = await proxyFor(t, server);
      const zk = await client(t, `${proxy.connectString}${chrootOf(rooted)}`, { sessionTimeoutMs: 6000 });
      const writer = await client(t, rooted);
      const states = recordStates(zk);
      const sessionId = zk.sessionId;
      await zk.create("/eph", "", { mode: "ephemeral" });
      await zk.create("/data", "0");
      const log = new EventLog();
      await zk.getData("/data", { watch: log.watcher });
      const existLog = new EventLog();
      assert.equal(await zk.exists("/later", { watch: existLog.watcher }), null);

      // Partition, then reset: the client's reconnect attempt is held until the partition heals.
      proxy.freeze();
      const inflight = zk.getData("/data");
      proxy.cut();
      await assert.rejects(inflight, ConnectionLossError);
      await eventually("the client noticed", 5000, () => zk.state === "disconnected");
      const queued = zk.getData("/data");
      // Changes the client cannot see while disconnected; SetWatches(relativeZxid) must report them.
      await writer.setData("/data", "1");
      await writer.create("/later");
      proxy.thaw();
      assert.equal((await queued).data.toString(), "1");
      assert.equal(zk.sessionId, sessionId, "the same session");
      assert.deepEqual(states, ["disconnected", "connected"]);
      await log.next((e) => e.type === "nodeDataChanged" && e.path === "/data");
      await existLog.next((e) => e.type === "nodeCreated" && e.path === "/later");
      assert.ok(log.events.some((e) => e.type === "none" && e.state === "disconnected"));
      assert.ok(await writer.exists("/eph"), "the ephemeral survived the reconnect");
    });

    test("moves to another server address with the same session when its server goes away", async (t) => {
      const rooted = await freshChroot(server, "move");
      const first = await TcpProxy.start(server.host, server.port);
      t.after(() => first.close());
      const second = await proxyFor(t, server);
      const zk = await client(t, `${first.connectString},${second.connectString}${chrootOf(rooted)}`, { preserveServerOrder: true, sessionTimeoutMs: 6000 });
      assert.equal(zk.connectedServer, first.connectString);
      const sessionId = zk.sessionId;
      await zk.create("/eph", "", { mode: "ephemeral" });
      await first.close();
      await eventually("reconnected through the second address", 10_000, () => zk.connectedServer === second.connectString);
      assert.equal(zk.sessionId, sessionId);
      assert.ok(await zk.exists("/eph"));
      assert.equal((await zk.getData("/eph")).stat.ephemeralOwner, sessionId);
    });

    test("the server stops and starts again: the client rides it out with its session", async (t) => {
      const rooted = await freshChroot(server, "restart");
      const zk = await client(t, rooted, { sessionTimeoutMs: 10_000 });
      const states = recordStates(zk);
      const sessionId = zk.sessionId;
      await zk.create("/eph", "", { mode: "ephemeral" });
      await server.stop();
      await eventually("disconnected", 10_000, () => zk.state === "disconnected");
      await server.start();
      await zk.waitConnected(15_000);
      assert.equal(zk.sessionId, sessionId);
      assert.ok(await zk.exists("/eph"));
      assert.deepEqual(states, ["disconnected", "connected"]);
    });

    test("a partition longer than the timeout: the client concludes expiry itself, the server drops its ephemerals", async (t) => {
      const rooted = await freshChroot(server, "expire-local");
      const proxy = await proxyFor(t, server);
      const zk = await client(t, `${proxy.connectString}${chrootOf(rooted)}`, { sessionTimeoutMs: 2000 });
      const observer = await client(t, rooted);
      const states = recordStates(zk);
      await zk.create("/eph", "", { mode: "ephemeral" });
      const log = new EventLog();
      await zk.exists("/eph", { watch: log.watcher });
      const frozenAt = performance.now();
      proxy.freeze();
      const pending = zk.getData("/eph", { timeoutMs: 0 });
      await assert.rejects(pending, ConnectionLossError);
      const reason = await new Promise<unknown>((resolve) => zk.sessionSignal.addEventListener("abort", () => resolve(zk.sessionSignal.reason)));
      const expiredAfterMs = performance.now() - frozenAt;
      assert.ok(reason instanceof SessionExpiredError && reason.local, "expired, concluded locally");
      assert.ok(expiredAfterMs >= 1900, `not before the session timeout (${expiredAfterMs} ms)`);
      assert.deepEqual(states, ["disconnected", "expired"]);
      assert.deepEqual(log.events.at(-1), { type: "none", state: "expired", path: "" });
      await assert.rejects(zk.getData("/"), SessionExpiredError);
      await eventually("the server expired the session", 10_000, async () => (await observer.exists("/eph")) === null);
    });

    test("the server says the session expired when the client comes back too late", async (t) => {
      const rooted = await freshChroot(server, "expire-server");
      const proxy = await proxyFor(t, server);
      const zk = await client(t, `${proxy.connectString}${chrootOf(rooted)}`, { sessionTimeoutMs: 2000, expireLocally: false });
      const observer = await client(t, rooted);
      await zk.create("/eph", "", { mode: "ephemeral" });
      proxy.freeze();
      await eventually("the server expired the session", 10_000, async () => (await observer.exists("/eph")) === null);
      assert.equal(zk.state, "disconnected", "without local expiry the client still hopes");
      const expired = new Promise<unknown>((resolve) => zk.sessionSignal.addEventListener("abort", () => resolve(zk.sessionSignal.reason)));
      proxy.thaw();
      const reason = await expired;
      assert.ok(reason instanceof SessionExpiredError && !reason.local, "expired, as the server said");
      assert.equal(zk.state, "expired");
    });

    test("a resumed session with the wrong password is expired", async (t) => {
      const zk = await client(t, server.connectString);
      const impostor = new ZooKeeperClient({ connectString: server.connectString, session: { id: zk.sessionId, password: new Uint8Array(16) }, sessionTimeoutMs: 5000 });
      impostor.start();
      await assert.rejects(impostor.waitConnected(10_000), SessionExpiredError);
      await impostor.close();
      const twin = new ZooKeeperClient({ connectString: server.connectString, session: { id: zk.sessionId, password: zk.sessionPassword }, sessionTimeoutMs: 5000 });
      twin.start();
      await twin.waitConnected(10_000);
      assert.equal(twin.sessionId, zk.sessionId, "the right password resumes the session");
      await twin.close();
    });

    test("per-request timeouts and the bounded queue", async (t) => {
      const proxy = await proxyFor(t, server);
      const zk = await client(t, proxy.connectString, { sessionTimeoutMs: 10_000, pendingRequestsMax: 4 });
      proxy.freeze();
      const started = performance.now();
      await assert.rejects(zk.getData("/", { timeoutMs: 300 }), (e: unknown) => e instanceof RequestTimeoutError && /outcome is unknown/.test((e as Error).message));
      assert.ok(performance.now() - started >= 290);
      const held = [zk.exists("/a", { timeoutMs: 2000 }), zk.exists("/b", { timeoutMs: 2000 }), zk.exists("/c", { timeoutMs: 2000 })];
      // The timed-out request still holds its pipeline slot until its reply or the disconnect.
      await assert.rejects(zk.exists("/d"), QueueFullError);
      proxy.thaw();
      assert.deepEqual((await Promise.all(held)).map((stat) => stat), [null, null, null]);
    });

    test("close() releases every socket and timer", async () => {
      const before = process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "Timeout").length;
      const clients = await Promise.all(Array.from({ length: 5 }, () => ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 5000 })));
      await Promise.all(clients.map((zk) => zk.exists("/")));
      const during = process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "Timeout").length;
      assert.ok(during >= before + 10, "each client holds a socket and a liveness timer");
      await Promise.all(clients.map((zk) => zk.close()));
      await eventually("resources released", 2000, () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "Timeout").length <= before);
    });
  });
}
