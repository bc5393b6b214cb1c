// Goal: Semaphore(n) never has more than n holders and does reach n; LeaderElection has at most one
// leader at a time and hands leadership on; both keep their invariant when a holder's (leader's)
// session is lost, and the others proceed. Method: 8 real clients against each target server
// loop over acquire/release (campaign/resign), checking an in-memory occupancy invariant on every
// entry; the victim's connection runs through a TCP relay that the test freezes until its
// session expires — it must see Lease.signal abort before another holder takes its place.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { LeaderElection, LeaseLostError, Semaphore } from "../../src/recipes/index.js";
import { zooKeeperTargets, type ZooKeeperTarget } from "../helpers/zookeeper-server.js";
import { eventually } from "../zookeeper/client/helpers.js";
import { FencedResource, Occupancy, VICTIM_SESSION_TIMEOUT_MS, sleep, world } from "./harness.js";

for (const target of zooKeeperTargets()) {
  describe(`Semaphore and LeaderElection against ${target.kind}`, () => {
    let server: ZooKeeperTarget;
    before(async () => {
      server = await target.start();
    });
    after(() => server?.close());

    test("semaphore(3): 8 clients × 8 permits each, never more than 3 holders, and 3 reached", async (t) => {
      const { clients } = await world(t, server, "sem-contention", 8);
      const occupancy = new Occupancy(3);
      await Promise.all(
        clients.map(async (zk, i) => {
          const semaphore = new Semaphore(zk, "/sem", 3);
          for (let k = 0; k < 8; k++) {
            const lease = await semaphore.acquire({ timeoutMs: 30_000 });
            occupancy.enter(`c${i}`);
            await sleep(40);
            occupancy.leave(`c${i}`);
            await lease.release();
          }
        }),
      );
      assert.equal(occupancy.entries, 64);
      assert.equal(occupancy.maxConcurrent, 3);
      assert.equal(await new Semaphore(clients[0], "/sem", 3).holders(), 0);
    });

    test("semaphore(2): a holder's session expires; it learns first, its permit returns, the rest proceed", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "sem-expiry", 4);
      const occupancy = new Occupancy(2);
      const victimLease = await new Semaphore(victim, "/sem", 2).acquire();
      occupancy.enter("victim");
      let lostAt = 0;
      victimLease.signal.addEventListener("abort", () => {
        lostAt = performance.now();
        occupancy.leave("victim");
      });
      // One long-lived holder takes the other permit: everyone else queues behind the victim.
      const steady = await new Semaphore(clients[0], "/sem", 2).acquire();
      occupancy.enter("steady");
      const acquiredAt: number[] = [];
      const others = clients.slice(1).map(async (zk, i) => {
        const semaphore = new Semaphore(zk, "/sem", 2);
        for (let k = 0; k < 3; k++) {
          const lease = await semaphore.acquire({ timeoutMs: 20_000 });
          acquiredAt.push(performance.now());
          occupancy.enter(`c${i}`);
          await sleep(5);
          occupancy.leave(`c${i}`);
          await lease.release();
        }
      });
      await sleep(300);
      assert.equal(acquiredAt.length, 0, "both permits are held");
      proxy.freeze();
      await Promise.all(others);
      assert.ok(lostAt > 0 && lostAt < Math.min(...acquiredAt), "the victim knew before its permit was reused");
      assert.equal(occupancy.entries, 2 + 9);
      occupancy.leave("steady");
      await steady.release();
      proxy.thaw();
    });

    test("election: 6 candidates, one leader at a time, each leads once, tokens grow", async (t) => {
      const { clients } = await world(t, server, "election", 6);
      const occupancy = new Occupancy(1);
      const resource = new FencedResource();
      const led: string[] = [];
      await Promise.all(
        clients.map(async (zk, i) => {
          const election = new LeaderElection(zk, "/election", { id: `node-${i}` });
          const leadership = await election.campaign({ timeoutMs: 30_000 });
          occupancy.enter(leadership.id);
          assert.equal(await election.leader(), `node-${i}`, "leader() names the current leader");
          assert.ok(resource.write(leadership.fencingToken), "a new leader's token is newer than all before");
          led.push(leadership.id);
          await sleep(20);
          occupancy.leave(leadership.id);
          await leadership.release();
        }),
      );
      assert.equal(new Set(led).size, 6);
      assert.equal(await new LeaderElection(clients[0], "/election").leader(), null);
    });

    test("election: the leader's session expires; it gets the leadership-lost signal, a follower takes over", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "election-expiry", 3);
      const occupancy = new Occupancy(1);
      const resource = new FencedResource();
      const leadership = await new LeaderElection(victim, "/e", { id: "victim" }).campaign();
      occupancy.enter("victim");
      assert.ok(resource.write(leadership.fencingToken));
      let lostAt = 0;
      leadership.signal.addEventListener("abort", () => {
        lostAt = performance.now();
        occupancy.leave("victim");
      });
      const followers = clients.map((zk, i) => new LeaderElection(zk, "/e", { id: `f${i}` }));
      const campaigns = followers.map((election) => election.campaign({ timeoutMs: 20_000 }));
      await sleep(300);
      assert.equal(await followers[0].leader(), "victim");
      proxy.freeze();
      const next = await Promise.race(campaigns);
      const tookOverAt = performance.now();
      occupancy.enter(next.id);
      assert.ok(lostAt > 0 && lostAt < tookOverAt, "the old leader learned first");
      assert.ok((leadership.signal.reason as LeaseLostError) instanceof LeaseLostError);
      assert.ok(resource.write(next.fencingToken));
      assert.equal(resource.write(leadership.fencingToken), false, "the deposed leader's writes are fenced");
      assert.equal(await followers[0].leader(), next.id);
      proxy.thaw();
      await eventually("the victim learns its session expired", 3 * VICTIM_SESSION_TIMEOUT_MS, () => victim.state === "expired");
      occupancy.leave(next.id);
      await next.release();
      // Each follower leads in turn once its predecessor resigns.
      await Promise.all(campaigns.map(async (p) => (await p).release()));
    });
  });
}
