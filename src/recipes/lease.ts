// A held lock, read/write lock, semaphore permit or leadership: an ephemeral node of ours plus the
// promise to tell the holder, through `signal`, the moment it can no longer rely on holding it.
//
// THE FENCING CAVEAT. No lock built on sessions (ZooKeeper's, etcd's leases, Chubby's) can stop a
// holder that was paused (GC, swap, a stopped VM) or partitioned from acting after its session
// expired and someone else acquired the lock: it only learns later. Jepsen's etcd 3.4.3 analysis
// shows exactly this with etcd locks. The cure is on the side of the protected resource: every
// write carries a FENCING TOKEN and the resource refuses tokens older than the newest it has seen.
// `fencingToken` is the czxid of the lock node: a 64-bit number that ZooKeeper makes strictly
// increasing in acquisition order (nodes are created in sequence order, and successive holders of
// a Lock are successive nodes). Pass it with every write to what the lock protects.
//
// `signal` aborts (reason: LeaseLostError) when:
//  - the connection drops, with lossPolicy "suspended" (the default): the client declares the
//    connection dead after 2/3 of the session timeout without a reply, before the server (which
//    waits the whole timeout) can expire the session and hand the lock to someone else; so a
//    holder that stops work on abort never overlaps the next holder — barring pauses longer than
//    the remaining third, which fencing covers. With "expired" the lease survives disconnects and
//    ends only when the session is gone: fewer spurious losses, weaker guarantee;
//  - the session expires or the client is closed;
//  - the node is deleted (by an operator, or the expiry seen first as a deletion).
// After a loss, call release() anyway: if the session survived, it deletes the node.
import { SessionExpiredError, type Stat, type ZooKeeperClient } from "../zookeeper/client/index.js";
import { deleteIfExists } from "./common.js";
import { LeaseLostError, type LeaseLossReason } from "./errors.js";

export type LossPolicy = "suspended" | "expired";

export class Lease {
  /** The ephemeral node that represents the lease. */
  readonly path: string;
  /** The lock node's creation zxid: strictly increasing across successive holders of a lock. */
  readonly fencingToken: bigint;
  /** The node's Stat at acquisition (czxid = fencingToken). */
  readonly stat: Stat;
  private readonly controller = new AbortController();
  private readonly unsubscribe: () => void;
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly zk: ZooKeeperClient,
    path: string,
    stat: Stat,
    readonly lossPolicy: LossPolicy,
  ) {
    this.path = path;
    this.stat = stat;
    this.fencingToken = stat.czxid;
    this.unsubscribe = zk.onStateChange((change) => this.onState(change.state));
    this.onState(zk.state);
    if (!this.signal.aborted) this.watchNode();
  }

  /** Aborted, with a LeaseLostError as reason, when the lease can no longer be relied on. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  /** Throws the LeaseLostError if the lease was lost (a check to put before each protected step). */
  throwIfLost(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  private lose(reason: LeaseLossReason): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new LeaseLostError(reason, this.path));
  }

  private onState(state: string): void {
    if (state === "disconnected" && this.lossPolicy === "suspended") this.lose("suspended");
    else if (state === "expired") this.lose("sessionExpired");
    else if (state === "closed" || state === "authFailed") this.lose("closed");
  }

  private watchNode(): void {
    const watcher = (event: { type: string }): void => {
      if (event.type === "nodeDeleted") this.lose("nodeDeleted");
      else if (event.type !== "none" && !this.releasing && !this.lost) this.watchNode();
    };
    this.zk.exists(this.path, { watch: watcher }).then(
      (stat) => {
        if (stat === null) this.lose("nodeDeleted");
      },
      (error: unknown) => {
        if (error instanceof SessionExpiredError) this.lose("sessionExpired");
        // A connection loss here is covered by the state listener; the watch is replayed on reconnect
        // only if it was registered, so try again once connected.
        else if (!this.releasing && !this.lost) setTimeout(() => this.watchNode(), 100);
      },
    );
  }

  /** Gives the lease up: deletes the node (idempotent; a no-op once the session is gone). */
  release(): Promise<void> {
    this.releasing ??= (async () => {
      this.unsubscribe();
      // From here on the holder relies on nothing; deleting the node must not read as a loss.
      this.lose("released");
      try {
        await deleteIfExists(this.zk, this.path);
      } catch (error) {
        const state = this.zk.state;
        if (state !== "expired" && state !== "closed" && state !== "authFailed") throw error;
      }
    })();
    return this.releasing;
  }
}
