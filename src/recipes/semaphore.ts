// Semaphore: at most `permits` holders at once (Curator's InterProcessSemaphoreV2, kazoo's
// Semaphore). Holders are ephemeral sequential nodes under `${path}/leases`. Taking a permit is
// serialized by a Lock on `${path}/locks`: the one contender holding that lock creates its lease
// node and, if the permits are all taken, waits on the children of `leases` until one frees. Only
// that contender watches the leases; the others wait in the lock's queue, each on its own
// predecessor, so a freed permit wakes one client (no herd). Watching only "my n-th predecessor"
// would not do: a waiter ahead that gives up changes everyone's position without waking them.
//
// A holder that dies frees its permit when its session expires; the holder learns of a loss
// through Lease.signal (see lease.ts). Every participant must use the same `permits`.
import type { Data, ZooKeeperClient } from "../zookeeper/client/index.js";
import { Wakeup, assertRecipePath, createProtectedSequential, deadlineOf, deleteIfExists, ensurePath, retrying, hasProtectedPrefix } from "./common.js";
import { LeaseLostError } from "./errors.js";
import { Lease, type LossPolicy } from "./lease.js";
import { Lock, type AcquireOptions } from "./lock.js";

const LEASE_PREFIX = "lease-";

export class Semaphore {
  private readonly lock: Lock;
  private readonly leasesPath: string;

  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly permits: number,
    private readonly options: { lossPolicy?: LossPolicy; data?: Data } = {},
  ) {
    assertRecipePath(path);
    if (!Number.isSafeInteger(permits) || permits < 1) throw new TypeError(`permits must be a positive integer, not ${permits}`);
    // The inner lock is held only while taking a permit; losing it to a disconnect is harmless.
    this.lock = new Lock(zk, `${path}/locks`, { lossPolicy: "expired" });
    this.leasesPath = `${path}/leases`;
  }

  /** Takes one permit; resolves with its Lease (release() gives it back). */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const deadlineMs = deadlineOf(options.timeoutMs);
    const turn = await this.lock.acquire(options);
    try {
      await ensurePath(this.zk, this.leasesPath);
      const node = await createProtectedSequential(this.zk, this.leasesPath, LEASE_PREFIX, { mode: "ephemeralSequential", data: this.options.data });
      try {
        await this.waitForPermit(node.name, deadlineMs, options.signal);
      } catch (error) {
        await deleteIfExists(this.zk, node.path).catch(() => undefined);
        throw error;
      }
      return new Lease(this.zk, node.path, node.stat, this.options.lossPolicy ?? "suspended");
    } finally {
      await turn.release().catch(() => undefined);
    }
  }

  private async waitForPermit(ownName: string, deadlineMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wake = new Wakeup();
      const { children } = await retrying(() => this.zk.getChildren(this.leasesPath, { watch: wake.watcher }));
      const leases = children.filter((name) => hasProtectedPrefix(name, LEASE_PREFIX));
      if (!leases.includes(ownName)) throw new LeaseLostError("nodeDeleted", `${this.leasesPath}/${ownName}`);
      if (leases.length <= this.permits) return;
      await wake.wait({ deadlineMs, signal, what: `semaphore ${this.path}` });
    }
  }

  /** Permits currently held (a snapshot). */
  async holders(): Promise<number> {
    await ensurePath(this.zk, this.leasesPath);
    const { children } = await retrying(() => this.zk.getChildren(this.leasesPath));
    return children.filter((name) => hasProtectedPrefix(name, LEASE_PREFIX)).length;
  }
}
