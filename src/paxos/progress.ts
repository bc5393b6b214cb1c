// The leader's view of one follower (after etcd-io/raft tracker/progress.go): `match` is the last
// slot the follower durably accepted in the leader's CURRENT ballot (matches from older ballots are
// never counted), `next` the first slot to send. States:
//   probe      - position unknown: at most one Accept in flight until a reply or a heartbeat;
//   replicate  - streaming: many Accepts in flight, bounded by count and bytes (the inflight ring);
//   snapshot   - the follower needs a snapshot; nothing is sent until the driver reports on it.
import { assert } from "../util/assert.js";
import type { Slot } from "./types.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  match: Slot = 0;
  next: Slot;
  state: ProgressState = "probe";
  /** In probe: an Accept is outstanding; cleared by a reply or the next heartbeat ack. */
  probeSent = false;
  /** Heard from in the current check-quorum window. */
  recentActive = false;
  /** The highest heartbeat round this follower acknowledged. */
  ackedRound = 0;
  /** In snapshot: the slot of the snapshot being sent. */
  pendingSnapshotSlot: Slot = 0;
  /** A load for this follower's catch-up is outstanding. */
  loadPending = false;
  /** The leader's heartbeat round when the latest Accept was sent to this follower. */
  sendRound = 0;
  /** The leader's heartbeat round when match last advanced: only acks of later rounds may lower it. */
  matchRound = 0;
  private readonly inflightLast: number[] = [];
  private readonly inflightBytesList: number[] = [];
  private inflightHead = 0;
  private inflightBytesValue = 0;

  constructor(
    next: Slot,
    private readonly inflightMessagesMax: number,
    private readonly inflightBytesMax: number,
  ) {
    assert(next >= 1, "next slot starts at 1");
    assert(inflightMessagesMax >= 1 && inflightBytesMax >= 1, "inflight limits are positive");
    this.next = next;
  }

  get inflightCount(): number {
    return this.inflightLast.length - this.inflightHead;
  }

  get inflightBytes(): number {
    return this.inflightBytesValue;
  }

  /** Whether another Accept with entries may be sent now. */
  canSend(): boolean {
    if (this.state === "snapshot") return false;
    if (this.state === "probe") return !this.probeSent;
    return this.inflightCount < this.inflightMessagesMax && this.inflightBytesValue < this.inflightBytesMax;
  }

  /** Records an Accept covering up to `lastSlot` (with `bytes` of entries) as sent. */
  sent(lastSlot: Slot, bytes: number): void {
    assert(lastSlot >= this.next - 1, "sent range ends at or after next - 1");
    if (this.state === "probe") {
      this.probeSent = true;
      return;
    }
    assert(this.state === "replicate", "sending only in probe or replicate");
    this.inflightLast.push(lastSlot);
    this.inflightBytesList.push(bytes);
    this.inflightBytesValue += bytes;
    this.next = lastSlot + 1;
  }

  /** The follower matched up to `slot` in this ballot: frees the inflight window below it. */
  acknowledge(slot: Slot): boolean {
    assert(slot >= 0, "match is a slot");
    const advanced = slot > this.match;
    if (advanced) this.match = slot;
    if (this.next <= this.match) this.next = this.match + 1;
    while (this.inflightCount > 0 && this.inflightLast[this.inflightHead] <= slot) {
      this.inflightBytesValue -= this.inflightBytesList[this.inflightHead];
      this.inflightHead++;
    }
    if (this.inflightHead > 64 && this.inflightHead * 2 > this.inflightLast.length) this.compactInflight();
    return advanced;
  }

  private compactInflight(): void {
    this.inflightLast.splice(0, this.inflightHead);
    this.inflightBytesList.splice(0, this.inflightHead);
    this.inflightHead = 0;
  }

  private clearInflight(): void {
    this.inflightLast.length = 0;
    this.inflightBytesList.length = 0;
    this.inflightHead = 0;
    this.inflightBytesValue = 0;
  }

  /**
   * The follower reports holding less than we believed: it lost entries (a corrupt disk tail) or
   * the report is stale. Lowering match is safe (the leader's commit never decreases) and lets
   * the probe start where the follower really is.
   */
  lowerMatch(slot: Slot): void {
    assert(slot >= 0, "match is a slot");
    if (slot < this.match) this.match = slot;
  }

  becomeProbe(next: Slot): void {
    assert(next >= 1, "probe from a real slot");
    this.state = "probe";
    this.probeSent = false;
    this.pendingSnapshotSlot = 0;
    this.next = Math.max(next, this.match + 1);
    this.clearInflight();
  }

  becomeReplicate(): void {
    assert(this.state === "probe", "replicate follows a successful probe");
    this.state = "replicate";
    this.probeSent = false;
    this.next = Math.max(this.next, this.match + 1);
    this.clearInflight();
  }

  becomeSnapshot(snapshotSlot: Slot): void {
    assert(snapshotSlot >= this.match, "a snapshot does not go backwards");
    this.state = "snapshot";
    this.pendingSnapshotSlot = snapshotSlot;
    this.probeSent = false;
    this.clearInflight();
  }
}
