// Assertions for invariants. They stay on in production: a replica that finds its own state
// inconsistent must stop rather than continue and spread the damage (TigerStyle; STYLE.md §6).
// Expected failures (timeouts, not-leader, backpressure, bad client input) are NOT assertions:
// they are typed results handled by callers.

/** Thrown when an invariant of synod's own code does not hold: a bug, never bad input. */
export class ProgrammerError extends Error {
  override name = "ProgrammerError";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new ProgrammerError(message);
}

export function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new ProgrammerError(`${what} is not a safe integer: ${value}`);
}

export function assertNever(value: never, what = "value"): never {
  throw new ProgrammerError(`unexpected ${what}: ${String(value)}`);
}
