// LeaderElection: the ZooKeeper documentation's "Leader Election" recipe (Curator's LeaderLatch /
// LeaderSelector, kazoo's Election). Candidates are ephemeral sequential nodes holding their id;
// the lowest sequence leads; each other candidate watches only its predecessor (no herd), so when
// the leader goes, exactly one candidate — the next — takes over.
//
// `campaign()` resolves when this candidate becomes leader, with a Leadership (a Lease):
// `leadership.signal` is the leadership-lost signal — aborted when the session expires, the
// connection is suspended (default policy), the node is deleted, or the client closes — and
// `fencingToken` grows with every new leader, for the resources the leader writes to.
// `resign()` (release()) steps down and lets the next candidate lead.
import type { ZooKeeperClient } from "../zookeeper/client/index.js";
import { assertRecipePath, newGuid, retrying, sortBySequence, hasProtectedPrefix } from "./common.js";
import type { Lease, LossPolicy } from "./lease.js";
import { contend, type AcquireOptions } from "./lock.js";

// Curator's LeaderLatch names its nodes "latch-" too.
const CANDIDATE_PREFIX = "latch-";

export interface Leadership extends Lease {
  /** This candidate's id (the node's data). */
  readonly id: string;
}

export class LeaderElection {
  /** This candidate's id, stored in its node; `leader()` returns the leader's. */
  readonly id: string;

  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly options: { id?: string; lossPolicy?: LossPolicy } = {},
  ) {
    assertRecipePath(path);
    this.id = options.id ?? newGuid();
  }

  /** Joins the election and resolves once this candidate leads. */
  async campaign(options: AcquireOptions = {}): Promise<Leadership> {
    const lease = await contend(this.zk, this.path, CANDIDATE_PREFIX, (sorted, index) => (index === 0 ? null : sorted[index - 1]), {
      ...options,
      lossPolicy: this.options.lossPolicy ?? "suspended",
      data: this.id,
      isContender: (name) => hasProtectedPrefix(name, CANDIDATE_PREFIX),
      what: `election ${this.path}`,
    });
    return Object.assign(lease, { id: this.id }) as Leadership;
  }

  /** The current leader's id, or null when there are no candidates. */
  async leader(): Promise<string | null> {
    for (;;) {
      let children: string[];
      try {
        ({ children } = await retrying(() => this.zk.getChildren(this.path)));
      } catch (error) {
        if ((error as { code?: number }).code === -101) return null;
        throw error;
      }
      const sorted = sortBySequence(children.filter((name) => hasProtectedPrefix(name, CANDIDATE_PREFIX)));
      if (sorted.length === 0) return null;
      try {
        const { data } = await retrying(() => this.zk.getData(`${this.path}/${sorted[0]}`));
        return data.toString("utf8");
      } catch (error) {
        // The leader left between the two reads: look again.
        if ((error as { code?: number }).code !== -101) throw error;
      }
    }
  }
}
