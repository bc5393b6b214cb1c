// Goal: against a real three-server ZooKeeper ensemble, the client moves its session to another
// server when the one it is on stops — same session id, its ephemeral node intact, its watches
// replayed there — and keeps working while the ensemble still has a quorum. Method: three Apache
// ZooKeeper 3.8 servers (QuorumPeerMain) on loopback; the test stops whichever server the client
// is connected to. (synod joins this test once startTestCluster runs more than one node.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../../src/zookeeper/client/index.js";
import { startApacheEnsemble, type ZooKeeperEnsemble } from "../../helpers/zookeeper-server.js";
import { EventLog, client, eventually } from "./helpers.js";

let ensemble: ZooKeeperEnsemble;
before(async () => {
  ensemble = await startApacheEnsemble(3);
});
after(() => ensemble?.close());

test("the server the session is on stops: the session continues on another with its ephemerals and watches", async (t) => {
  const zk = await client(t, ensemble.connectString, { sessionTimeoutMs: 8000 });
  const observer = await ZooKeeperClient.connect({ connectString: ensemble.connectString, sessionTimeoutMs: 8000 });
  t.after(() => observer.close());
  const sessionId = zk.sessionId;
  await zk.create("/eph", "", { mode: "ephemeral" });
  await zk.create("/data", "0");
  const log = new EventLog();
  await zk.getData("/data", { watch: log.watcher });
  const first = zk.connectedServer!;
  const stopped = ensemble.servers.find((server) => server.connectString === first)!;
  let at = performance.now();
  await stopped.stop();
  t.diagnostic(`stopped ${first} in ${Math.round(performance.now() - at)} ms`);
  at = performance.now();
  await eventually("reconnected to another server", 15_000, () => zk.state === "connected" && zk.connectedServer !== first);
  assert.equal(zk.sessionId, sessionId);
  t.diagnostic(`moved to ${zk.connectedServer} in ${Math.round(performance.now() - at)} ms`);
  at = performance.now();
  await observer.sync("/data");
  await observer.setData("/data", "1");
  await log.next((e) => e.type === "nodeDataChanged" && e.path === "/data");
  assert.equal((await zk.exists("/eph"))?.ephemeralOwner, sessionId);
  const created = await zk.create("/after", "x");
  assert.equal(created.path, "/after");
  assert.ok(zk.lastZxid >= created.stat.czxid);
  t.diagnostic(`served again in ${Math.round(performance.now() - at)} ms`);
});
