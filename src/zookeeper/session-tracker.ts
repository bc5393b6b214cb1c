// Session expiry on the coordination group's leader (ZooKeeper's `SessionTrackerImpl` with its
// `ExpiryQueue`). Deadlines are rounded UP to the next multiple of `bucketMs`, so sessions expire
// in batches: a session with timeout T expires within [T, T + bucketMs] after its last touch, and
// a check costs O(expired sessions), not O(sessions). Pure bookkeeping: the caller passes
// monotonic time in and proposes the replicated closeSession for what `expired()` returns.
//
// Only the leader tracks sessions. A new leader does not know when followers last heard from
// clients, so it gives every live session a fresh full timeout (`track` on takeover), exactly as
// ZooKeeper's leader does when it loads sessions.
import { assert } from "../util/assert.js";

export class SessionTracker {
  /** Session → its bucket (a deadline in ms), for sessions not yet expired. */
  private readonly deadlineOf = new Map<bigint, number>();
  private readonly timeoutOf = new Map<bigint, number>();
  private readonly buckets = new Map<number, Set<bigint>>();
  /** Returned by expired() and not yet untracked: touches no longer revive them (ZooKeeper's "closing"). */
  private readonly expiring = new Set<bigint>();
  /** The next bucket deadline expired() looks at. */
  private nextBucketMs: number;

  constructor(
    readonly bucketMs: number,
    nowMs: number,
  ) {
    assert(Number.isSafeInteger(bucketMs) && bucketMs > 0, "bucketMs must be a positive integer");
    this.nextBucketMs = this.roundUp(nowMs);
  }

  private roundUp(ms: number): number {
    return (Math.floor(ms / this.bucketMs) + 1) * this.bucketMs;
  }

  get size(): number {
    return this.timeoutOf.size;
  }

  has(sessionId: bigint): boolean {
    return this.timeoutOf.has(sessionId);
  }

  /** Starts tracking (or restarts) a session with a full timeout from now. */
  track(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    assert(Number.isSafeInteger(timeoutMs) && timeoutMs > 0, "session timeout must be positive");
    this.expiring.delete(sessionId);
    this.timeoutOf.set(sessionId, timeoutMs);
    this.schedule(sessionId, nowMs + timeoutMs);
  }

  /** A sign of life (a request or ping): pushes the deadline out. False for unknown or expiring sessions. */
  touch(sessionId: bigint, nowMs: number): boolean {
    const timeoutMs = this.timeoutOf.get(sessionId);
    if (timeoutMs === undefined || this.expiring.has(sessionId)) return false;
    this.schedule(sessionId, nowMs + timeoutMs);
    return true;
  }

  private schedule(sessionId: bigint, deadlineMs: number): void {
    const bucket = Math.max(this.roundUp(deadlineMs), this.nextBucketMs);
    const previous = this.deadlineOf.get(sessionId);
    if (previous === bucket) return;
    if (previous !== undefined) this.removeFromBucket(sessionId, previous);
    this.deadlineOf.set(sessionId, bucket);
    let set = this.buckets.get(bucket);
    if (!set) this.buckets.set(bucket, (set = new Set()));
    set.add(sessionId);
  }

  private removeFromBucket(sessionId: bigint, bucket: number): void {
    const set = this.buckets.get(bucket);
    if (!set) return;
    set.delete(sessionId);
    if (set.size === 0) this.buckets.delete(bucket);
  }

  /** Forgets a session (its closeSession applied). */
  untrack(sessionId: bigint): void {
    const bucket = this.deadlineOf.get(sessionId);
    if (bucket !== undefined) this.removeFromBucket(sessionId, bucket);
    this.deadlineOf.delete(sessionId);
    this.timeoutOf.delete(sessionId);
    this.expiring.delete(sessionId);
  }

  /**
   * Sessions whose deadline passed, each returned once (they stay tracked as "expiring" until
   * untrack). Walks at most one bucket per bucketMs elapsed since the last call.
   */
  expired(nowMs: number): bigint[] {
    const out: bigint[] = [];
    while (this.nextBucketMs <= nowMs) {
      const set = this.buckets.get(this.nextBucketMs);
      if (set) {
        this.buckets.delete(this.nextBucketMs);
        for (const sessionId of set) {
          this.deadlineOf.delete(sessionId);
          this.expiring.add(sessionId);
          out.push(sessionId);
        }
      }
      this.nextBucketMs += this.bucketMs;
    }
    return out;
  }

  /** Every tracked session id (for reconciliation with the state machine). */
  sessionIds(): IterableIterator<bigint> {
    return this.timeoutOf.keys();
  }

  clear(nowMs: number): void {
    this.deadlineOf.clear();
    this.timeoutOf.clear();
    this.buckets.clear();
    this.expiring.clear();
    this.nextBucketMs = this.roundUp(nowMs);
  }
}
