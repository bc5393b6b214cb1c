// A replica's view of its log: a dense window of entries held in memory (the uncommitted tail plus
// a bounded stretch of recently committed entries), the ballot "steps" that record re-acceptance
// without rewriting, the snapshot horizon and the membership history. The durable copy lives with
// the driver; this class only mirrors what the driver was told to persist.
//
// Effective accepted ballot. Each entry carries the ballot under which this replica WROTE it. When
// a new leader re-proposes a value this replica already holds byte-for-byte, rewriting the entry
// would need truncate-then-append on the storage engine, and a crash between the two (truncation
// is durable on its own) would make this acceptor forget a value that may be chosen. Instead the
// re-acceptance is recorded as a step `(throughSlot, ballot)` in the hard state: every slot at or
// below `throughSlot` was accepted at `ballot`. The effective accepted ballot of a slot is the max
// of its entry's ballot and the ballots of the steps that cover it. Steps are sorted by ascending
// `throughSlot` and strictly descending ballot (a newer leader's step covers a shorter prefix or
// replaces the older ones), and steps at or below the commit slot are pruned.
import { assert } from "../util/assert.js";
import { EMPTY_MEMBERSHIP, decodeMembership, type Membership } from "./membership.js";
import {
  EntryKind,
  compareBallots,
  entryBytes,
  maxBallot,
  type Ballot,
  type BallotStep,
  type LogEntry,
  type Slot,
} from "./types.js";

export interface MembershipAt {
  /** The slot of the config entry (or the snapshot slot for the base). */
  readonly slot: Slot;
  readonly membership: Membership;
}

export class ReplicaLog {
  /** Slot of the latest snapshot: everything at or below it is chosen and may be compacted. */
  snapshotSlot: Slot;
  /** First slot the driver's durable log still holds (entries below it are compacted). */
  diskFirstSlot: Slot;
  private lastSlotValue: Slot;
  private memFirstSlotValue: Slot;
  private entries: LogEntry[] = [];
  /** cumulativeBytes[i] = bytes of entries[head..i] plus `bytesBase` (for O(1) range sums). */
  private cumulativeBytes: number[] = [];
  private head = 0;
  private stepsValue: BallotStep[] = [];
  /** Config entries by slot; element 0 is the base (the configuration in force at its slot). */
  private memberships: MembershipAt[];

  constructor(options: { snapshotSlot: Slot; snapshotMembership: Membership; diskFirstSlot: Slot }) {
    assert(options.diskFirstSlot >= 1, "the first log slot is 1 or above");
    assert(options.diskFirstSlot <= options.snapshotSlot + 1, "the log may only be compacted up to the snapshot");
    this.snapshotSlot = options.snapshotSlot;
    this.diskFirstSlot = options.diskFirstSlot;
    this.lastSlotValue = options.snapshotSlot;
    this.memFirstSlotValue = options.snapshotSlot + 1;
    this.memberships = [{ slot: options.snapshotSlot, membership: options.snapshotMembership }];
  }

  get lastSlot(): Slot {
    return this.lastSlotValue;
  }

  /** First slot held in memory (lastSlot + 1 when the window is empty). */
  get memFirstSlot(): Slot {
    return this.memFirstSlotValue;
  }

  get steps(): readonly BallotStep[] {
    return this.stepsValue;
  }

  get memEntryCount(): number {
    return this.entries.length - this.head;
  }

  /**
   * Loads the durable tail at restart: `entries` must be contiguous and end at the log's last slot.
   * The window may start above the snapshot (older committed entries stay on disk).
   */
  restoreTail(entries: readonly LogEntry[], lastSlot: Slot): void {
    assert(this.memEntryCount === 0, "restoring into an empty window");
    assert(lastSlot >= this.snapshotSlot, "the log does not end below the snapshot");
    const first = entries.length > 0 ? entries[0].slot : lastSlot + 1;
    assert(first > this.snapshotSlot, "the tail starts above the snapshot");
    assert(entries.length === 0 || entries[entries.length - 1].slot === lastSlot, "the tail ends at the last slot");
    this.memFirstSlotValue = first;
    this.lastSlotValue = first - 1;
    for (const entry of entries) this.append(entry);
    assert(this.lastSlotValue === lastSlot, "restored up to the last slot");
  }

  entry(slot: Slot): LogEntry | undefined {
    if (slot < this.memFirstSlotValue || slot > this.lastSlotValue) return undefined;
    return this.entries[this.head + (slot - this.memFirstSlotValue)];
  }

  /** The entry at `slot`, which must be in memory. */
  at(slot: Slot): LogEntry {
    const entry = this.entry(slot);
    assert(entry !== undefined, `slot ${slot} is not in memory [${this.memFirstSlotValue}, ${this.lastSlotValue}]`);
    assert(entry.slot === slot, "window indexing");
    return entry;
  }

  /** The effective accepted ballot of an in-memory slot: the entry's ballot raised by steps. */
  effectiveBallot(slot: Slot): Ballot {
    const entry = this.at(slot);
    for (const step of this.stepsValue) {
      if (step.throughSlot >= slot) return maxBallot(entry.ballot, step.ballot);
    }
    return entry.ballot;
  }

  /** Bytes of the in-memory entries in slots [fromSlot, toSlot]. */
  bytesBetween(fromSlot: Slot, toSlot: Slot): number {
    if (toSlot < fromSlot) return 0;
    assert(fromSlot >= this.memFirstSlotValue && toSlot <= this.lastSlotValue, "byte range in memory");
    const lo = this.head + (fromSlot - this.memFirstSlotValue);
    const hi = this.head + (toSlot - this.memFirstSlotValue);
    const before = lo > this.head ? this.cumulativeBytes[lo - 1] : this.cumulativeBytes[lo] - entryBytes(this.entries[lo]);
    return this.cumulativeBytes[hi] - before;
  }

  append(entry: LogEntry): void {
    assert(entry.slot === this.lastSlotValue + 1, `append at ${entry.slot}, last is ${this.lastSlotValue}`);
    assert(this.memFirstSlotValue <= entry.slot, "appending inside the window");
    const previous = this.entries.length > this.head ? this.cumulativeBytes[this.entries.length - 1] : 0;
    this.entries.push(entry);
    this.cumulativeBytes.push(previous + entryBytes(entry));
    this.lastSlotValue = entry.slot;
    if (entry.kind === EntryKind.config) this.memberships.push({ slot: entry.slot, membership: decodeMembership(entry.data) });
  }

  /** Removes every entry at or above `slot` and clips the steps and memberships with them. */
  truncateFrom(slot: Slot): void {
    assert(slot > this.snapshotSlot, "never truncate below the snapshot");
    assert(slot >= this.memFirstSlotValue && slot <= this.lastSlotValue, "truncation inside the window");
    const keep = this.head + (slot - this.memFirstSlotValue);
    this.entries.length = keep;
    this.cumulativeBytes.length = keep;
    this.lastSlotValue = slot - 1;
    this.clipSteps(slot - 1);
    while (this.memberships.length > 1 && this.memberships[this.memberships.length - 1].slot >= slot) this.memberships.pop();
  }

  private clipSteps(throughSlot: Slot): void {
    const kept: BallotStep[] = [];
    for (const step of this.stepsValue) {
      if (step.throughSlot <= throughSlot) {
        kept.push(step);
        continue;
      }
      // The first clipped step has the highest ballot of the clipped ones; keep it unless an
      // earlier step already covers `throughSlot` with a higher ballot.
      const last = kept[kept.length - 1];
      if (throughSlot > 0 && (last === undefined || last.throughSlot < throughSlot)) kept.push({ throughSlot, ballot: step.ballot });
      break;
    }
    this.stepsValue = kept;
  }

  /**
   * Records that every slot up to `throughSlot` was accepted at `ballot`, which must be at least
   * every recorded step's ballot. Returns false when nothing changed.
   */
  recordStep(throughSlot: Slot, ballot: Ballot): boolean {
    assert(throughSlot <= this.lastSlotValue, "a step covers only held slots");
    for (const step of this.stepsValue) assert(compareBallots(ballot, step.ballot) >= 0, "steps only rise");
    const first = this.stepsValue[0];
    if (first !== undefined && first.throughSlot >= throughSlot && compareBallots(first.ballot, ballot) === 0) return false;
    const kept = this.stepsValue.filter((s) => s.throughSlot > throughSlot && compareBallots(s.ballot, ballot) < 0);
    this.stepsValue = [{ throughSlot, ballot }, ...kept];
    return true;
  }

  /** Drops steps that only cover committed slots (those are reported as chosen instead). */
  pruneSteps(commitSlot: Slot): boolean {
    const before = this.stepsValue.length;
    this.stepsValue = this.stepsValue.filter((s) => s.throughSlot > commitSlot);
    return this.stepsValue.length !== before;
  }

  setSteps(steps: readonly BallotStep[]): void {
    for (let i = 1; i < steps.length; i++) {
      assert(steps[i - 1].throughSlot < steps[i].throughSlot, "steps ascend by slot");
      assert(compareBallots(steps[i - 1].ballot, steps[i].ballot) > 0, "steps descend by ballot");
    }
    this.stepsValue = steps.filter((s) => s.throughSlot <= this.lastSlotValue);
  }

  /** Forgets in-memory entries at or below `slot` (they stay on the driver's disk). */
  evictThrough(slot: Slot): void {
    if (slot < this.memFirstSlotValue) return;
    assert(slot <= this.lastSlotValue, "evicting only held slots");
    const count = slot - this.memFirstSlotValue + 1;
    this.head += count;
    this.memFirstSlotValue = slot + 1;
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.cumulativeBytes = this.cumulativeBytes.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Installs a snapshot at `slot`: drops what it covers, keeps any entries above it, and makes its
   * membership the base. If the log ended below the snapshot, it now ends at the snapshot.
   */
  installSnapshot(slot: Slot, membership: Membership): void {
    assert(slot > this.snapshotSlot, "snapshots only move forward");
    if (slot >= this.lastSlotValue) {
      this.entries = [];
      this.cumulativeBytes = [];
      this.head = 0;
      this.lastSlotValue = slot;
      this.memFirstSlotValue = slot + 1;
    } else {
      this.evictThrough(Math.max(slot, this.memFirstSlotValue - 1));
      if (this.memFirstSlotValue <= slot) this.memFirstSlotValue = slot + 1;
    }
    this.snapshotSlot = slot;
    this.diskFirstSlot = slot + 1;
    this.pruneSteps(slot);
    this.memberships = [{ slot, membership }, ...this.memberships.filter((m) => m.slot > slot)];
  }

  /** Adds config entries that are older than the in-memory window (restart). */
  restoreMemberships(list: readonly MembershipAt[]): void {
    const above = this.memberships.slice(1);
    const merged = [...list.filter((m) => m.slot > this.memberships[0].slot && m.slot < this.memFirstSlotValue), ...above];
    this.memberships = [this.memberships[0], ...merged];
    for (let i = 1; i < this.memberships.length; i++) assert(this.memberships[i - 1].slot < this.memberships[i].slot, "memberships sorted");
  }

  /** The membership governing `slot`: the last config entry strictly below it (or the base). */
  membershipAt(slot: Slot): Membership {
    let result = this.memberships[0].membership;
    for (const m of this.memberships) {
      if (m.slot < slot) result = m.membership;
      else break;
    }
    return result;
  }

  /** The newest membership in the log (in force after the last slot). */
  latestMembership(): Membership {
    return this.memberships[this.memberships.length - 1]?.membership ?? EMPTY_MEMBERSHIP;
  }

  /** Memberships governing some slot in (afterSlot, lastSlot + 1]: the joint set during a change. */
  membershipsAfter(afterSlot: Slot): Membership[] {
    const result = [this.membershipAt(afterSlot + 1)];
    for (const m of this.memberships) if (m.slot > afterSlot && m.slot > this.memberships[0].slot) result.push(m.membership);
    return result;
  }

  /** The slot of the newest config entry above `afterSlot`, or 0. */
  lastConfigSlotAfter(afterSlot: Slot): Slot {
    const last = this.memberships[this.memberships.length - 1];
    return this.memberships.length > 1 && last.slot > afterSlot ? last.slot : 0;
  }

  /** Forgets memberships superseded at or below `commitSlot` (keeps the one governing commit+1). */
  pruneMemberships(commitSlot: Slot): void {
    let keepFrom = 0;
    for (let i = 0; i < this.memberships.length; i++) if (this.memberships[i].slot <= commitSlot) keepFrom = i;
    if (keepFrom > 0) this.memberships = this.memberships.slice(keepFrom);
    assert(this.memberships.length >= 1, "a base membership remains");
  }
}
