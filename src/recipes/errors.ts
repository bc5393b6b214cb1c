// The recipes' own failures. ZooKeeper failures (SessionExpiredError, NoAuthError, …) pass through
// as the client's typed errors; these are the outcomes that only a recipe can name.

/** acquire()/wait()/take() gave up at its timeout; nothing is left behind (its node was deleted). */
export class RecipeTimeoutError extends Error {
  override name = "RecipeTimeoutError";
  constructor(what: string) {
    super(`${what}: timed out`);
  }
}

export type LeaseLossReason = "sessionExpired" | "suspended" | "nodeDeleted" | "closed" | "released";

/**
 * A lock, permit or leadership can no longer be relied on. `reason`:
 * - "suspended": the connection dropped; the server may expire the session soon (default policy
 *   treats this as lost, see LossPolicy), and the node may still exist until then;
 * - "sessionExpired": the session is gone and with it the ephemeral node;
 * - "nodeDeleted": someone deleted the node (an operator, or expiry seen first as a deletion);
 * - "closed": the client was closed;
 * - "released": the holder released it.
 */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(
    readonly reason: LeaseLossReason,
    readonly path: string,
  ) {
    super(`${path}: lost (${reason})`);
  }
}
