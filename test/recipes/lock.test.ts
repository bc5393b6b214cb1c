// Goal: Lock and ReadWriteLock give mutual exclusion (readers together, writers alone) under
// contention and when a holder's session is lost; waiters are woken one at a time; fencing
// tokens grow with each holder and stop a holder that lost its lock from writing; an acquire that
// times out leaves nothing behind; a lost create reply is found again by its GUID.
// Method: 8 real clients against each target server race for the lock in loops, doing a
// read-modify-write of a znode WITHOUT versions (only mutual exclusion keeps the count right)
// and checking an in-memory occupancy invariant on every entry. Session loss: the holder's
// connection runs through a TCP relay that the test freezes (a partition) until the session
// expires; the holder must observe the loss (Lease.signal) before anyone else gets in.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lock, ReadWriteLock, RecipeTimeoutError, LeaseLostError } from "../../src/recipes/index.js";
import { contend } from "../../src/recipes/lock.js";
import { hasProtectedPrefix } from "../../src/recipes/common.js";
import type { ZooKeeperClient } from "../../src/zookeeper/client/index.js";
import { zooKeeperTargets, type ZooKeeperTarget } from "../helpers/zookeeper-server.js";
import { eventually } from "../zookeeper/client/helpers.js";
import { FencedResource, Occupancy, VICTIM_SESSION_TIMEOUT_MS, sleep, world } from "./harness.js";

async function unprotectedIncrement(zk: ZooKeeperClient, path: string): Promise<void> {
  const { data } = await zk.getData(path);
  await sleep(1);
  await zk.setData(path, String(Number(data.toString()) + 1));
}

for (const target of zooKeeperTargets()) {
  describe(`Lock and ReadWriteLock against ${target.kind}`, () => {
    let server: ZooKeeperTarget;
    before(async () => {
      server = await target.start();
    });
    after(() => server?.close());

    test("8 clients × 12 acquisitions: one holder at a time, increasing fencing tokens, exact count", async (t) => {
      const { clients } = await world(t, server, "lock-contention", 8);
      await clients[0].create("/count", "0");
      const occupancy = new Occupancy(1);
      const tokens: bigint[] = [];
      await Promise.all(
        clients.map(async (zk, i) => {
          const lock = new Lock(zk, "/locks/shared");
          for (let k = 0; k < 12; k++) {
            const lease = await lock.acquire({ timeoutMs: 30_000 });
            occupancy.enter(`c${i}`);
            tokens.push(lease.fencingToken);
            await unprotectedIncrement(zk, "/count");
            occupancy.leave(`c${i}`);
            await lease.release();
          }
        }),
      );
      assert.equal((await clients[0].getData("/count")).data.toString(), "96");
      for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], "fencing tokens increase in acquisition order");
      assert.deepEqual(await new Lock(clients[0], "/locks/shared").contenders(), [], "no node left behind");
    });

    test("the checker catches a planted bug: a lock whose turn rule lets everyone in", async (t) => {
      const { clients } = await world(t, server, "lock-planted", 4);
      const occupancy = new Occupancy(1);
      const broken = (zk: ZooKeeperClient) =>
        contend(zk, "/broken", "lock-", () => null, { lossPolicy: "expired", isContender: (n) => hasProtectedPrefix(n, "lock-"), what: "broken lock" });
      const results = await Promise.allSettled(
        clients.map(async (zk, i) => {
          const lease = await broken(zk);
          occupancy.enter(`c${i}`);
          await sleep(50);
          occupancy.leave(`c${i}`);
          await lease.release();
        }),
      );
      assert.ok(
        results.some((r) => r.status === "rejected" && /entered while/.test(String(r.reason))),
        "the occupancy invariant fails when mutual exclusion is broken",
      );
    });

    test("a holder whose session expires learns it first; the others then proceed; its stale token is fenced", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "lock-expiry", 4);
      const occupancy = new Occupancy(1);
      const resource = new FencedResource();
      const victimLease = await new Lock(victim, "/locks/r").acquire();
      occupancy.enter("victim");
      assert.ok(resource.write(victimLease.fencingToken));
      let lostAt = 0;
      victimLease.signal.addEventListener("abort", () => {
        lostAt = performance.now();
        occupancy.leave("victim");
      });
      const acquiredAt: number[] = [];
      const others = clients.map(async (zk, i) => {
        const lock = new Lock(zk, "/locks/r");
        for (let k = 0; k < 3; k++) {
          const lease = await lock.acquire({ timeoutMs: 20_000 });
          acquiredAt.push(performance.now());
          occupancy.enter(`c${i}`);
          assert.ok(resource.write(lease.fencingToken));
          await sleep(5);
          occupancy.leave(`c${i}`);
          await lease.release();
        }
      });
      await sleep(300);
      assert.equal(acquiredAt.length, 0, "nobody gets the lock while the holder is alive");
      proxy.freeze();
      await Promise.all(others);
      const reason = victimLease.signal.reason as LeaseLostError;
      assert.ok(reason instanceof LeaseLostError && reason.reason === "suspended", `lost by suspension (${String(reason)})`);
      assert.ok(lostAt > 0 && lostAt < Math.min(...acquiredAt), "the holder knew before anyone else acquired");
      assert.equal(occupancy.entries, 13);
      // The old holder wakes up late and tries to use the resource with its token: refused.
      assert.equal(resource.write(victimLease.fencingToken), false);
      proxy.thaw();
      await eventually("the victim's session is gone", 3 * VICTIM_SESSION_TIMEOUT_MS, () => victim.state === "expired");
      await victimLease.release();
    });

    test("an acquire that times out deletes its node; an aborted one too", async (t) => {
      const { clients } = await world(t, server, "lock-timeout", 2);
      const lock0 = new Lock(clients[0], "/l");
      const lock1 = new Lock(clients[1], "/l");
      const held = await lock0.acquire();
      await assert.rejects(lock1.acquire({ timeoutMs: 200 }), RecipeTimeoutError);
      const controller = new AbortController();
      const aborted = lock1.acquire({ signal: controller.signal });
      await sleep(50);
      controller.abort(new Error("caller gave up"));
      await assert.rejects(aborted, /caller gave up/);
      assert.equal((await lock0.contenders()).length, 1, "only the holder's node remains");
      await held.release();
      assert.ok(held.signal.aborted && (held.signal.reason as LeaseLostError).reason === "released");
    });

    test("loss reasons: an operator deletes the lock node; a short disconnect under each loss policy", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "lock-reasons", 1);
      const deleted = await new Lock(clients[0], "/r1").acquire();
      await clients[0].delete(deleted.path);
      await eventually("the holder saw its node go", 5000, () => deleted.lost);
      assert.equal((deleted.signal.reason as LeaseLostError).reason, "nodeDeleted");
      await deleted.release();

      const strict = await new Lock(victim, "/r2").acquire();
      const lenient = await new Lock(victim, "/r3", { lossPolicy: "expired" }).acquire();
      proxy.cut();
      await eventually("reconnected", 5000, () => victim.state === "connected" && strict.lost);
      assert.equal((strict.signal.reason as LeaseLostError).reason, "suspended", "the default policy gives up at the first disconnect");
      assert.equal(lenient.lost, false, "the expired policy keeps the lease across a short disconnect");
      assert.ok(await clients[0].exists(strict.path), "a suspended lease's node is still there until released");
      await strict.release();
      assert.equal(await clients[0].exists(strict.path), null);
      await lenient.release();
    });

    test("waiters are woken one at a time (no herd): each waits on its predecessor only", async (t) => {
      const { clients } = await world(t, server, "lock-herd", 6);
      const holder = await new Lock(clients[0], "/h").acquire();
      const waiting = clients.slice(1).map((zk) => new Lock(zk, "/h").acquire({ timeoutMs: 20_000 }));
      await eventually("all contenders queued", 5000, async () => (await new Lock(clients[0], "/h").contenders()).length === 6);
      // Each waiter holds exactly one one-shot watch (on its predecessor), none on the children.
      await eventually("every waiter watches", 5000, () => clients.slice(1).every((zk) => zk.watches.size === 1));
      for (const zk of clients.slice(1)) assert.deepEqual(zk.watches.paths("child"), []);
      const watched = clients.slice(1).map((zk) => zk.watches.paths("data")[0]);
      assert.equal(new Set(watched).size, 5, "each waiter watches a different node");
      await holder.release();
      const order: number[] = [];
      await Promise.all(
        waiting.map(async (p, i) => {
          const lease = await p;
          order.push(i);
          await sleep(10);
          await lease.release();
        }),
      );
      assert.equal(order.length, 5);
    });

    test("read/write lock: readers share, writers are alone, under contention and a writer's session loss", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "rwlock", 8);
      const occupancy = new Occupancy(1);
      const victimWrite = await new ReadWriteLock(victim, "/rw").acquireWrite();
      occupancy.enter("victim", "write");
      victimWrite.signal.addEventListener("abort", () => occupancy.leave("victim"));
      const workers = clients.map(async (zk, i) => {
        const rw = new ReadWriteLock(zk, "/rw");
        for (let k = 0; k < 6; k++) {
          const writer = (i + k) % 4 === 0;
          const lease = writer ? await rw.acquireWrite({ timeoutMs: 30_000 }) : await rw.acquireRead({ timeoutMs: 30_000 });
          occupancy.enter(`c${i}`, writer ? "write" : "read");
          await sleep(writer ? 2 : 15);
          occupancy.leave(`c${i}`);
          await lease.release();
        }
      });
      await sleep(200);
      assert.equal(occupancy.entries, 1, "everyone waits behind the writer");
      proxy.freeze();
      await Promise.all(workers);
      assert.equal(occupancy.entries, 1 + 48);
      assert.ok(occupancy.maxConcurrent > 1, `readers overlapped (max ${occupancy.maxConcurrent})`);
      proxy.thaw();
    });

    test("a lost create reply: the GUID finds our node, no orphan blocks the lock", async (t) => {
      const { clients, victim, proxy } = await world(t, server, "lock-loss", 1);
      // Cut the victim's connection repeatedly while it acquires and releases.
      let disconnects = 0;
      victim.onStateChange((change) => change.state === "disconnected" && disconnects++);
      const cutter = setInterval(() => proxy.cut(), 150);
      try {
        const lock = new Lock(victim, "/g", { lossPolicy: "expired" });
        // At least 15 rounds, and on (bounded) until the connection has been cut three times.
        for (let k = 0; k < 15 || (disconnects < 3 && k < 2000); k++) {
          const lease = await lock.acquire({ timeoutMs: 20_000 });
          await lease.release();
        }
      } finally {
        clearInterval(cutter);
      }
      assert.ok(disconnects >= 3, `the connection did break (${disconnects} times)`);
      await eventually("no contender left", 5000, async () => (await new Lock(clients[0], "/g").contenders()).length === 0);
      const lease = await new Lock(clients[0], "/g").acquire({ timeoutMs: 5000 });
      await lease.release();
    });
  });
}
