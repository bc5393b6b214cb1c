// Lock and ReadWriteLock: ZooKeeper's classic recipes (the "Locks" and "Shared Locks" recipes of the
// ZooKeeper documentation; Curator's InterProcessMutex and InterProcessReadWriteLock; kazoo's Lock,
// ReadLock, WriteLock).
//
// Each contender creates an ephemeral sequential node under the lock's path, named with a GUID
// (createProtectedSequential) so a create whose reply was lost is found again rather than leaked.
// The node with the lowest sequence holds the lock. A waiter watches ONLY the node that must go
// before it can proceed — its immediate predecessor for an exclusive lock, the closest preceding
// writer for a reader — so a release wakes one client, not all of them (no herd effect). A
// waiter re-reads the children on every wake-up: the predecessor may have left without the
// waiter's turn having come (a waiter ahead of it gave up).
//
// Ephemeral nodes make a crashed holder's lock free once its session expires; the holder itself
// learns of it through `Lease.signal` (see lease.ts, including the fencing caveat). Locks are not
// reentrant: a second acquire() by the same holder waits behind the first.
import type { Data, ZooKeeperClient } from "../zookeeper/client/index.js";
import {
  Wakeup,
  assertRecipePath,
  createProtectedSequential,
  deadlineOf,
  deleteIfExists,
  ensurePath,
  hasProtectedPrefix,
  retrying,
  sortBySequence,
} from "./common.js";
import { LeaseLostError } from "./errors.js";
import { Lease, type LossPolicy } from "./lease.js";

export interface AcquireOptions {
  /** Give up after this long (RecipeTimeoutError); default: wait as long as it takes. */
  timeoutMs?: number;
  /** Give up when aborted (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface LockOptions {
  /** When a held lease counts as lost (see lease.ts). Default "suspended". */
  lossPolicy?: LossPolicy;
  /** Stored in the lock node (e.g. the holder's identity, for operators). */
  data?: Data;
}

/**
 * Decides a contender's fate from the sorted contenders: null when it may proceed, else the name
 * of the one node whose deletion it must wait for.
 */
export type TurnRule = (sorted: readonly string[], index: number) => string | null;

/**
 * Creates our node under `dir` and waits for our turn by `rule`. Resolves with the Lease; on
 * timeout, abort or error our node is deleted before rejecting, so it blocks nobody.
 */
export async function contend(
  zk: ZooKeeperClient,
  dir: string,
  prefix: string,
  rule: TurnRule,
  options: AcquireOptions & { lossPolicy: LossPolicy; data?: Data; isContender: (name: string) => boolean; what: string },
): Promise<Lease> {
  await ensurePath(zk, dir);
  const node = await createProtectedSequential(zk, dir, prefix, { mode: "ephemeralSequential", data: options.data });
  try {
    await waitForTurn(zk, dir, node.name, node.guid, rule, { ...options, deadlineMs: deadlineOf(options.timeoutMs) });
  } catch (error) {
    await deleteIfExists(zk, node.path).catch(() => undefined);
    throw error;
  }
  return new Lease(zk, node.path, node.stat, options.lossPolicy);
}

async function waitForTurn(
  zk: ZooKeeperClient,
  dir: string,
  ownName: string,
  guid: string,
  rule: TurnRule,
  options: { deadlineMs: number | undefined; signal?: AbortSignal; isContender: (name: string) => boolean; what: string },
): Promise<void> {
  for (;;) {
    options.signal?.throwIfAborted();
    const { children } = await retrying(() => zk.getChildren(dir));
    const sorted = sortBySequence(children.filter(options.isContender));
    const index = sorted.indexOf(ownName);
    if (index < 0) throw new LeaseLostError("nodeDeleted", `${dir}/${ownName}`);
    // A create retried after a lost reply can, in theory, apply twice: drop our extra nodes.
    for (const extra of sorted) if (extra !== ownName && extra.includes(guid)) await deleteIfExists(zk, `${dir}/${extra}`);
    const waitOn = rule(sorted, index);
    if (waitOn === null) return;
    const wake = new Wakeup();
    const stat = await retrying(() => zk.exists(`${dir}/${waitOn}`, { watch: wake.watcher }));
    if (stat === null) continue;
    await wake.wait({ deadlineMs: options.deadlineMs, signal: options.signal, what: options.what });
  }
}

const LOCK_PREFIX = "lock-";

/** An exclusive lock: `const lease = await lock.acquire(); try { … } finally { await lease.release(); }`. */
export class Lock {
  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly options: LockOptions = {},
  ) {
    assertRecipePath(path);
  }

  acquire(options: AcquireOptions = {}): Promise<Lease> {
    return contend(this.zk, this.path, LOCK_PREFIX, (sorted, index) => (index === 0 ? null : sorted[index - 1]), {
      ...options,
      lossPolicy: this.options.lossPolicy ?? "suspended",
      data: this.options.data,
      isContender: (name) => hasProtectedPrefix(name, LOCK_PREFIX),
      what: `lock ${this.path}`,
    });
  }

  /** The contenders' node names in lock order (the first holds the lock). */
  async contenders(): Promise<string[]> {
    try {
      const { children } = await retrying(() => this.zk.getChildren(this.path));
      return sortBySequence(children.filter((name) => hasProtectedPrefix(name, LOCK_PREFIX)));
    } catch (error) {
      if ((error as { code?: number }).code === -101) return [];
      throw error;
    }
  }
}

const READ_PREFIX = "read-";
const WRITE_PREFIX = "write-";

/**
 * Shared readers, exclusive writers, in arrival order: a reader waits only for writers that came
 * before it, a writer for everyone before it. Readers and writers share one directory.
 */
export class ReadWriteLock {
  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly options: LockOptions = {},
  ) {
    assertRecipePath(path);
  }

  private isContender = (name: string): boolean => hasProtectedPrefix(name, READ_PREFIX) || hasProtectedPrefix(name, WRITE_PREFIX);

  /** A shared lease: held together with other readers, never with a writer. */
  acquireRead(options: AcquireOptions = {}): Promise<Lease> {
    const rule: TurnRule = (sorted, index) => {
      for (let i = index - 1; i >= 0; i--) if (hasProtectedPrefix(sorted[i], WRITE_PREFIX)) return sorted[i];
      return null;
    };
    return contend(this.zk, this.path, READ_PREFIX, rule, {
      ...options,
      lossPolicy: this.options.lossPolicy ?? "suspended",
      data: this.options.data,
      isContender: this.isContender,
      what: `read lock ${this.path}`,
    });
  }

  /** An exclusive lease: held alone. */
  acquireWrite(options: AcquireOptions = {}): Promise<Lease> {
    return contend(this.zk, this.path, WRITE_PREFIX, (sorted, index) => (index === 0 ? null : sorted[index - 1]), {
      ...options,
      lossPolicy: this.options.lossPolicy ?? "suspended",
      data: this.options.data,
      isContender: this.isContender,
      what: `write lock ${this.path}`,
    });
  }
}
