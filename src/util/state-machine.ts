// The contract between the consensus layer and the deterministic state machines (log/, coord/,
// meta/, and the simulator's KV store). A state machine sees only chosen commands, in slot order,
// and must compute the same state from the same commands on every replica: no clock, no
// randomness, no I/O. Time enters only inside commands (the leader stamps it when proposing).

/** Where a command sits in the replicated log: unique and strictly increasing across applies. */
export interface LogPosition {
  /** The Paxos slot that carries the command's batch. */
  slot: number;
  /** The command's index within that slot's batch (0-based). */
  index: number;
}

/** A snapshot image in chunks; close() when abandoning it before the end. */
export interface SnapshotChunks {
  next(): IteratorResult<Uint8Array>;
  close(): void;
}

export interface StateMachine<Result = unknown> {
  /** Applies one chosen command and returns its result (handed to the proposer's waiter, if any). */
  apply(command: Uint8Array, position: LogPosition): Result;
  /** A self-contained image of the state after the last applied command. */
  snapshot(): Uint8Array;
  /**
   * Optional: the same image as snapshot() at the moment of the call, produced chunk by chunk
   * while apply() goes on (the state machine keeps copies of what changes until the stream ends
   * or is closed). Lets the runtime write a large image without stopping its event loop.
   */
  snapshotStream?(): SnapshotChunks;
  /** Replaces the whole state with a snapshot's image (discarding everything before). */
  restore(snapshot: Uint8Array): void;
}
