// DistributedQueue: the ZooKeeper documentation's "Queues" recipe (kazoo's Queue, Curator's
// DistributedQueue), FIFO by ZooKeeper's sequence numbers, exactly once across connection losses.
//
// put() creates a persistent sequential `entry-<guid>-<seq>` under the queue node; the GUID finds
// the entry again when the create's reply is lost, so a retried put never enqueues twice.
// take() reads the oldest entry and deletes it in a transaction that also creates an ephemeral
// receipt `receipt-<opid>` (multiOnce): when the reply is lost, the receipt tells whether the take
// happened, so an entry is never taken twice nor lost by a retrying consumer. Two consumers that
// race for an entry are told apart by the delete's version check: one wins, the other moves on.
// The one gap: a consumer whose session EXPIRES between its take applying and it learning so
// cannot find its receipt (it was ephemeral): that entry is gone, and take() rejects with
// SessionExpiredError — at most once in that case, exactly once otherwise.
//
// Waiting consumers watch the queue's children: a put wakes every waiting consumer (the recipe's
// documented herd; one of them gets the entry, the rest go back to waiting).
import { BadVersionError, MultiError, NoNodeError, type Data, type ZooKeeperClient } from "../zookeeper/client/index.js";
import { Wakeup, assertRecipePath, createProtectedSequential, deadlineOf, ensurePath, multiOnce, newGuid, retrying, sortBySequence, hasProtectedPrefix } from "./common.js";
import type { AcquireOptions } from "./lock.js";

const ENTRY_PREFIX = "entry-";
const RECEIPT_PREFIX = "receipt-";
/** Entries one take() tries before reading the queue again (others may be racing for the head). */
const ENTRIES_PER_SCAN_MAX = 64;

export class DistributedQueue {
  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    assertRecipePath(path);
  }

  /** Appends one entry; resolves with its node name. */
  async put(data: Data): Promise<string> {
    await ensurePath(this.zk, this.path);
    const created = await createProtectedSequential(this.zk, this.path, ENTRY_PREFIX, { mode: "persistentSequential", data });
    return created.name;
  }

  private async entries(watch?: Wakeup): Promise<string[]> {
    const { children } = await retrying(() => this.zk.getChildren(this.path, watch ? { watch: watch.watcher } : {}));
    return sortBySequence(children.filter((name) => hasProtectedPrefix(name, ENTRY_PREFIX)));
  }

  /** Entries waiting (a snapshot). */
  async size(): Promise<number> {
    await ensurePath(this.zk, this.path);
    return (await this.entries()).length;
  }

  /** The oldest entry's data without removing it, or null when empty. */
  async peek(): Promise<Buffer | null> {
    await ensurePath(this.zk, this.path);
    for (const name of await this.entries()) {
      try {
        return (await retrying(() => this.zk.getData(`${this.path}/${name}`))).data;
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return null;
  }

  /** Removes and returns the oldest entry, waiting for one if the queue is empty. */
  async take(options: AcquireOptions = {}): Promise<Buffer> {
    const deadlineMs = deadlineOf(options.timeoutMs);
    await ensurePath(this.zk, this.path);
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wakeup();
      const names = await this.entries(wake);
      for (const name of names.slice(0, ENTRIES_PER_SCAN_MAX)) {
        const taken = await this.tryTake(name);
        if (taken) return taken;
      }
      if (names.length > 0) continue;
      await wake.wait({ deadlineMs, signal: options.signal, what: `queue ${this.path}` });
    }
  }

  /** Takes one named entry; null when another consumer got it first. */
  private async tryTake(name: string): Promise<Buffer | null> {
    const path = `${this.path}/${name}`;
    let read;
    try {
      read = await retrying(() => this.zk.getData(path));
    } catch (error) {
      if (error instanceof NoNodeError) return null;
      throw error;
    }
    const outcome = await multiOnce(this.zk, [{ op: "delete", path, version: read.stat.version }], this.path, `${RECEIPT_PREFIX}${newGuid()}`);
    if (outcome.applied) return read.data;
    const { error } = outcome;
    if (error instanceof MultiError && (error.failure instanceof NoNodeError || error.failure instanceof BadVersionError)) return null;
    throw error;
  }
}
