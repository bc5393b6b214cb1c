// Goal: against a real three-server ensemble — Apache ZooKeeper 3.8 (QuorumPeerMain ×3) and a
// three-node synod cluster (startTestCluster) — the client moves its session to another server
// when the one it is on stops: same session id, its ephemeral node intact, its watches replayed
// there, and it keeps working while a quorum remains. On synod every node serves clients, so the
// stopped server is a follower or the coordination leader (then also a leader failover under a
// live session).
// Method: real servers on loopback; the test stops whichever server the client is connected to.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../../src/zookeeper/client/index.js";
import { zooKeeperEnsembles, type ZooKeeperEnsemble } from "../../helpers/zookeeper-server.js";
import { EventLog, client, eventually } from "./helpers.js";

for (const target of zooKeeperEnsembles()) {
  describe(`ZooKeeper client against a three-server ${target.kind} ensemble`, () => {
    let ensemble: ZooKeeperEnsemble;
    before(async () => {
      ensemble = await target.start(3);
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
      assert.ok(stopped, `connected to ${first}, one of ${ensemble.connectString}`);
      let at = performance.now();
      await stopped.stop();
      t.diagnostic(`stopped ${first} in ${Math.round(performance.now() - at)} ms`);
      at = performance.now();
      await eventually("reconnected to another server", 20_000, () => zk.state === "connected" && zk.connectedServer !== first);
      assert.equal(zk.sessionId, sessionId);
      t.diagnostic(`moved to ${zk.connectedServer} in ${Math.round(performance.now() - at)} ms`);
      // The observer may be on a node whose leader was the server just stopped: a write in flight
      // across that leader change ends in ConnectionLoss (outcome unknown), as on ZooKeeper, and a
      // client retries it. (An unconditional setData of the same value is safe to repeat.)
      for (let attempt = 1; ; attempt++) {
        try {
          await observer.setData("/data", "1", { timeoutMs: 20_000 });
          break;
        } catch (error) {
          if ((error as { code?: number }).code !== -4 || attempt === 5) throw error;
          t.diagnostic(`observer's setData: ConnectionLoss, retry ${attempt}`);
        }
      }
      await log.next((e) => e.type === "nodeDataChanged" && e.path === "/data");
      assert.equal((await zk.exists("/eph"))?.ephemeralOwner, sessionId);
      const created = await zk.create("/after", "x");
      assert.equal(created.path, "/after");
      assert.ok(zk.lastZxid >= created.stat.czxid);
    });
  });
}
