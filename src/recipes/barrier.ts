// Barrier and DoubleBarrier: the ZooKeeper documentation's barrier recipes (kazoo's Barrier and
// DoubleBarrier, Curator's DistributedBarrier and DistributedDoubleBarrier).
//
// Barrier: while its node exists, wait() blocks; remove() lets everyone through. The node is
// persistent: the barrier outlives whoever set it (a coordinator that dies does not release the
// workers by accident).
//
// DoubleBarrier: `count` participants enter together and leave together. enter() creates an
// EPHEMERAL node named by the participant's id and, once `count` participants are present, the
// `ready` node that releases everyone (each waits on `ready`'s creation, armed before counting so
// it cannot be missed). leave() deletes its node and waits until all are gone, herd-free: the
// lowest-named participant waits for the highest to go, every other deletes itself and waits for
// the lowest. A participant whose session expires is removed with its ephemeral node, so the
// others' leave() completes instead of hanging. The last to leave deletes `ready`. Use a fresh
// path per round, or let leave() finish everywhere before entering again.
import { NodeExistsError, type ZooKeeperClient } from "../zookeeper/client/index.js";
import { RETRIES_MAX, Wakeup, assertRecipePath, deadlineOf, deleteIfExists, ensurePath, newGuid, retrying } from "./common.js";
import type { AcquireOptions } from "./lock.js";

export class Barrier {
  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    assertRecipePath(path);
  }

  /** Raises the barrier (idempotent). */
  async set(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    await ensurePath(this.zk, parent);
    try {
      await retrying(() => this.zk.create(this.path));
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /** Lowers the barrier: every waiter proceeds (idempotent). */
  remove(): Promise<void> {
    return deleteIfExists(this.zk, this.path);
  }

  /** Resolves once the barrier is down (at once if it is not set). */
  async wait(options: AcquireOptions = {}): Promise<void> {
    const deadlineMs = deadlineOf(options.timeoutMs);
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wakeup();
      if ((await retrying(() => this.zk.exists(this.path, { watch: wake.watcher }))) === null) return;
      await wake.wait({ deadlineMs, signal: options.signal, what: `barrier ${this.path}` });
    }
  }
}

const READY = "ready";

export class DoubleBarrier {
  /** This participant's node name under the barrier. */
  readonly id: string;
  private readonly ownPath: string;

  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly count: number,
    options: { id?: string } = {},
  ) {
    assertRecipePath(path);
    if (!Number.isSafeInteger(count) || count < 1) throw new TypeError(`count must be a positive integer, not ${count}`);
    this.id = options.id ?? newGuid();
    if (this.id === READY || this.id.includes("/")) throw new TypeError(`bad participant id ${JSON.stringify(this.id)}`);
    this.ownPath = `${path}/${this.id}`;
  }

  private async participants(): Promise<string[]> {
    const { children } = await retrying(() => this.zk.getChildren(this.path));
    return children.filter((name) => name !== READY).sort();
  }

  /** Creates our ephemeral node; after a lost reply the node that exists may be our own. */
  private async join(): Promise<void> {
    for (let attempt = 0; attempt < RETRIES_MAX; attempt++) {
      try {
        await retrying(() => this.zk.create(this.ownPath, "", { mode: "ephemeral" }));
        return;
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
        const stat = await retrying(() => this.zk.exists(this.ownPath));
        if (stat && stat.ephemeralOwner === this.zk.sessionId) return;
        if (stat) throw new TypeError(`participant id ${this.id} is already in use at ${this.path}`, { cause: error });
      }
    }
    throw new Error(`could not join ${this.path}`);
  }

  /** Joins; resolves when `count` participants have joined. */
  async enter(options: AcquireOptions = {}): Promise<void> {
    const deadlineMs = deadlineOf(options.timeoutMs);
    await ensurePath(this.zk, this.path);
    await this.join();
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wakeup();
      if (await retrying(() => this.zk.exists(`${this.path}/${READY}`, { watch: wake.watcher }))) return;
      if ((await this.participants()).length >= this.count) {
        try {
          await retrying(() => this.zk.create(`${this.path}/${READY}`));
        } catch (error) {
          if (!(error instanceof NodeExistsError)) throw error;
        }
        return;
      }
      await wake.wait({ deadlineMs, signal: options.signal, what: `double barrier ${this.path} enter` });
    }
  }

  /** Leaves; resolves when every participant has left (or lost its session). */
  async leave(options: AcquireOptions = {}): Promise<void> {
    const deadlineMs = deadlineOf(options.timeoutMs);
    for (;;) {
      options.signal?.throwIfAborted();
      const present = await this.participants();
      if (present.length === 0 || (present.length === 1 && present[0] === this.id)) {
        await deleteIfExists(this.zk, this.ownPath);
        await deleteIfExists(this.zk, `${this.path}/${READY}`);
        return;
      }
      const lowest = present[0];
      const highest = present[present.length - 1];
      let waitOn: string;
      if (lowest === this.id) waitOn = highest;
      else {
        await deleteIfExists(this.zk, this.ownPath);
        waitOn = lowest;
      }
      const wake = new Wakeup();
      if ((await retrying(() => this.zk.exists(`${this.path}/${waitOn}`, { watch: wake.watcher }))) === null) continue;
      await wake.wait({ deadlineMs, signal: options.signal, what: `double barrier ${this.path} leave` });
    }
  }
}
