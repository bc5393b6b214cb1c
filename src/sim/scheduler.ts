// The simulator's clock and event queue: a binary heap ordered by (timeMs, insertionSeq), so runs
// never depend on microtask order or real timers and every seed replays bit for bit (STYLE.md §5).
// All work for one event is synchronous; time jumps straight to the next event.
import { assert } from "../util/assert.js";

interface ScheduledEvent {
  readonly timeMs: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private nowMsValue = 0;
  private executed = 0;

  get nowMs(): number {
    return this.nowMsValue;
  }

  get executedCount(): number {
    return this.executed;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs `run` at `nowMs + delayMs` (delay >= 0), after everything already scheduled for that time. */
  after(delayMs: number, run: () => void): void {
    assert(delayMs >= 0 && Number.isFinite(delayMs), `bad delay ${delayMs}`);
    this.push({ timeMs: this.nowMsValue + delayMs, seq: this.seq++, run });
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
        i = smallest;
      }
    }
    return top;
  }

  /**
   * Runs events in order until virtual time would pass `endMs`, `stop()` returns true, or
   * `eventsMax` events ran (a runaway guard). Returns how it ended.
   */
  runUntil(endMs: number, options: { stop?: () => boolean; eventsMax?: number } = {}): "time" | "stopped" | "idle" | "eventsMax" {
    const eventsMax = options.eventsMax ?? Number.MAX_SAFE_INTEGER;
    let ran = 0;
    for (;;) {
      if (options.stop?.()) return "stopped";
      const next = this.heap[0];
      if (next === undefined) return "idle";
      if (next.timeMs > endMs) {
        this.nowMsValue = endMs;
        return "time";
      }
      if (ran++ >= eventsMax) return "eventsMax";
      this.pop();
      assert(next.timeMs >= this.nowMsValue, "time never goes backwards");
      this.nowMsValue = next.timeMs;
      this.executed++;
      next.run();
    }
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}
