// Time as an injected input (STYLE.md §2). Only the runtime (node/) and the simulator implement
// Clock; deterministic code receives time as ticks or as values stamped into commands.

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin; never steps backwards (leases, timeouts). */
  monotonicMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (timestamps users see); may step. */
  wallMs(): number;
}
