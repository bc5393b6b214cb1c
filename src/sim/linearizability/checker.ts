// A linearizability checker: Wing & Gong's search (JPDC 1993) with Lowe's memoization of
// configurations (2017), ported from the shape of Porcupine's checkSingle (anishathalye/porcupine
// checker.go), and P-compositionality (Horn & Kroening 2015) through the model's partition().
//
// Per partition: every operation becomes a call entry and a return entry, sorted by time (calls
// before returns on ties, so operations that touch count as concurrent: conservative, it can only
// accept more orders, never reject a linearizable history). The entries form doubly linked lists
// in parallel typed arrays. A cursor walks the call entries before the first return entry: it
// tries to linearize each operation next (model.step); if legal and the configuration (set of
// linearized operations, state) is new, the operation is lifted out of the lists and the walk
// restarts. When the walk reaches the first return entry, that operation had to take effect
// already and could not be placed, so the search backtracks by popping an explicit stack (no
// recursion). Once every operation with a known outcome is placed, the history is linearizable.
//
// Unknown outcomes (return at infinity, output undefined) get four refinements over Porcupine,
// each sound by the argument in docs/consensus.md: they need not be placed at all (one that did
// take effect can always go last, where nothing observes it); one that would not change the
// state where it is tried is skipped; a configuration is pruned when one with the same known
// operations and state, but a subset of its unknown ones, was already explored (dominance; plain
// memoization is the equal-sets case); and right after an unknown operation, another one is
// skipped when placing it straight from the earlier state gives the same result.
//
// Budgets: the search is exponential in the worst case, so it runs under an explicit step budget
// (deterministic), a wall-clock budget, and a limit on the cache's memory. When one runs out the
// verdict is "unknown" — never "ok".
import { assert } from "../../util/assert.js";
import type { Clock } from "../../util/clock.js";
import { ILLEGAL, mix32, type Model, type Operation } from "./model.js";

export type Verdict = "ok" | "illegal" | "unknown";
/** Which budget ran out when the verdict is "unknown". */
export type UnknownReason = "budgetSteps" | "budgetMs" | "cacheBytes";

/** Default step budget for a whole check (all partitions): roughly 0.5-2 s of search on one core. */
export const BUDGET_STEPS_DEFAULT = 10_000_000;
/** Default wall-clock budget for a whole check. */
export const BUDGET_MS_DEFAULT = 60_000;
/** Default limit on the memoization cache: bitsets plus a fixed overhead per entry. */
export const CACHE_BYTES_MAX_DEFAULT = 256 * 2 ** 20;
/** Bytes charged per cache entry beyond its bitset (chain link, state reference, map share). */
const CACHE_ENTRY_OVERHEAD_BYTES = 32;
/** How many steps pass between two looks at the clock (the clock is slower than a step). */
const CLOCK_CHECK_INTERVAL_STEPS = 4096;

export interface CheckOptions {
  /**
   * Most search steps (model steps tried plus backtracks) for the whole check, shared by the
   * partitions, smallest partition first. Default BUDGET_STEPS_DEFAULT (10,000,000). Deterministic:
   * the same history and budget always give the same verdict.
   */
  budgetSteps?: number;
  /** Most wall-clock ms for the whole check. Default BUDGET_MS_DEFAULT (60,000). */
  budgetMs?: number;
  /** Most bytes the memoization cache may hold per partition. Default 256 MiB. */
  cacheBytesMax?: number;
  /** The clock budgetMs is measured with; default performance.now(). */
  clock?: Pick<Clock, "monotonicMs">;
}

/** Why a history is not linearizable, for one partition. Indices point into its `operations`. */
export interface IllegalDiagnostic<S> {
  /** The longest sequence of operations the search managed to linearize, in order. */
  longestPrefix: number[];
  /** The model state after that prefix. */
  stateAfterPrefix: S;
  /** An operation that had returned, so must have taken effect, but fits nowhere after it. */
  stuck: number;
}

export interface PartitionResult<S, I, O> {
  /** Position of this partition in the model's partition() output. */
  index: number;
  verdict: Verdict;
  operations: Operation<I, O>[];
  steps: number;
  elapsedMs: number;
  unknownReason?: UnknownReason;
  /**
   * For "ok": a witness order (indices into operations) of every known operation and of the
   * unknown ones that took effect; an unknown operation missing from it did not (or came last).
   */
  linearization?: number[];
  /** For "illegal": where the search got stuck. */
  illegal?: IllegalDiagnostic<S>;
}

export interface LinearizabilityResult<S, I, O> {
  /** "illegal" if any partition is illegal, else "unknown" if any ran out of budget, else "ok". */
  verdict: Verdict;
  partitions: PartitionResult<S, I, O>[];
  operationCount: number;
  steps: number;
  elapsedMs: number;
  /** Set when the verdict is "unknown". */
  unknownReason?: UnknownReason;
  budget: { steps: number; ms: number; cacheBytesMax: number };
}

/** A malformed history (bad times, a defined output at infinity...): the caller's bug. */
export class HistoryError extends Error {
  override name = "HistoryError";
}

/**
 * Checks that `operations` is linearizable with respect to `model`.
 *
 * @example
 * const result = checkLinearizability(registerModel(), recorder.operations(), { budgetSteps: 1e6 });
 * if (result.verdict === "illegal") console.log(formatReport(registerModel(), result));
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: CheckOptions = {},
): LinearizabilityResult<S, I, O> {
  const budget = {
    steps: options.budgetSteps ?? BUDGET_STEPS_DEFAULT,
    ms: options.budgetMs ?? BUDGET_MS_DEFAULT,
    cacheBytesMax: options.cacheBytesMax ?? CACHE_BYTES_MAX_DEFAULT,
  };
  assert(budget.steps >= 0, `budgetSteps must be non-negative: ${budget.steps}`);
  assert(budget.ms >= 0, `budgetMs must be non-negative: ${budget.ms}`);
  assert(budget.cacheBytesMax > 0, `cacheBytesMax must be positive: ${budget.cacheBytesMax}`);
  const clock = options.clock ?? { monotonicMs: () => performance.now() };
  const startMs = clock.monotonicMs();
  operations.forEach(validateOperation);
  const parts = model.partition ? model.partition(operations) : [operations.slice()];
  const partCount = parts.reduce((sum, part) => sum + part.length, 0);
  if (partCount !== operations.length) {
    throw new HistoryError(`model.partition returned ${partCount} operations for ${operations.length}`);
  }
  // Smallest first: cheap partitions get decided before a hard one can exhaust the budget.
  const order = parts.map((_, index) => index).sort((a, b) => parts[a].length - parts[b].length || a - b);
  const results: PartitionResult<S, I, O>[] = new Array(parts.length);
  let steps = 0;
  for (const index of order) {
    const limits: SearchLimits = {
      steps: Math.max(0, budget.steps - steps),
      deadlineMs: startMs + budget.ms,
      cacheBytesMax: budget.cacheBytesMax,
      clock,
    };
    results[index] = checkPartition(model, parts[index], index, limits);
    steps += results[index].steps;
  }
  const verdicts = results.map((result) => result.verdict);
  const verdict: Verdict = verdicts.includes("illegal") ? "illegal" : verdicts.includes("unknown") ? "unknown" : "ok";
  const result: LinearizabilityResult<S, I, O> = {
    verdict,
    partitions: results,
    operationCount: operations.length,
    steps,
    elapsedMs: clock.monotonicMs() - startMs,
    budget,
  };
  if (verdict === "unknown") result.unknownReason = results.find((r) => r.verdict === "unknown")!.unknownReason;
  return result;
}

function validateOperation<I, O>(operation: Operation<I, O>, index: number): void {
  const { call, return: ret, output } = operation;
  if (!Number.isFinite(call)) throw new HistoryError(`operation ${index}: call time ${call} is not finite`);
  if (Number.isNaN(ret) || ret < call) throw new HistoryError(`operation ${index}: return ${ret} is before call ${call}`);
  if ((ret === Infinity) !== (output === undefined)) {
    throw new HistoryError(`operation ${index}: an unknown outcome needs output undefined AND return Infinity`);
  }
}

interface SearchLimits {
  steps: number;
  deadlineMs: number;
  cacheBytesMax: number;
  clock: Pick<Clock, "monotonicMs">;
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  operations: Operation<I, O>[],
  index: number,
  limits: SearchLimits,
): PartitionResult<S, I, O> {
  const startMs = limits.clock.monotonicMs();
  const search = new PartitionSearch(model, operations, limits);
  const outcome = search.run();
  const result: PartitionResult<S, I, O> = {
    index,
    verdict: outcome,
    operations,
    steps: search.steps,
    elapsedMs: limits.clock.monotonicMs() - startMs,
  };
  if (outcome === "ok") result.linearization = search.linearization();
  if (outcome === "illegal") result.illegal = search.diagnostic();
  if (outcome === "unknown") result.unknownReason = search.unknownReason;
  return result;
}

/**
 * The search state of one partition. Hot structures are typed arrays sized once.
 *
 * Entries are numbered by their position in time order (so comparing two entry numbers compares
 * their times). They live in two doubly linked lists sharing the `next`/`prev` arrays: the known
 * list holds the call and return entries of operations with a known outcome; the unknown list
 * holds only the call entries of unknown-outcome operations (their returns, at infinity, never
 * bound anything). The candidates to come next are the known list's call entries before its
 * first return entry, then the unknown list's call entries before that same return entry.
 */
class PartitionSearch<S, I, O> {
  steps = 0;
  unknownReason: UnknownReason = "budgetSteps";
  private readonly count: number;
  /** Sentinels of the two circular lists: entries 2n and 2n + 1. */
  private readonly knownHead: number;
  private readonly unknownHead: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Entry → operation index; entry → 1 for a return entry, 0 for a call entry. */
  private readonly entryOp: Int32Array;
  private readonly entryIsReturn: Uint8Array;
  /** Operation → its return entry. */
  private readonly returnEntryOf: Int32Array;
  private readonly bits: LinearizedSet;
  private readonly cache: ConfigurationCache<S>;
  /**
   * The explicit stack: the call entry placed at each depth, the state before it, and the first
   * return entry of the configuration it was placed from (needed to resume the unknown pass).
   */
  private readonly stackEntry: Int32Array;
  private readonly stackState: S[];
  private readonly stackFirstReturn: Int32Array;
  private depth = 0;
  /** Operation → 1 when its outcome is unknown (it need not be placed at all). */
  private readonly isUnknown: Uint8Array;
  private readonly knownCount: number;
  private knownPlaced = 0;
  /** Diagnostics: the deepest stack seen, the state there, and the operation that blocked it. */
  private readonly longestEntries: Int32Array;
  private longestDepth = 0;
  /** longestEntries[0, longestValid) equals the stack's bottom: what a new record need not copy. */
  private longestValid = 0;
  private longestState: S;
  private stuckOp = -1;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly operations: Operation<I, O>[],
    private readonly limits: SearchLimits,
  ) {
    const n = operations.length;
    this.count = n;
    this.knownHead = 2 * n;
    this.unknownHead = 2 * n + 1;
    this.next = new Int32Array(2 * n + 2);
    this.prev = new Int32Array(2 * n + 2);
    this.entryOp = new Int32Array(2 * n);
    this.entryIsReturn = new Uint8Array(2 * n);
    this.returnEntryOf = new Int32Array(n);
    this.isUnknown = Uint8Array.from(operations, (operation) => (operation.output === undefined ? 1 : 0));
    this.knownCount = n - this.isUnknown.reduce((sum, flag) => sum + flag, 0);
    this.bits = new LinearizedSet(this.isUnknown);
    this.cache = new ConfigurationCache<S>(model, this.bits.words, limits.cacheBytesMax);
    this.stackEntry = new Int32Array(n);
    this.stackState = new Array<S>(n);
    this.stackFirstReturn = new Int32Array(n);
    this.longestEntries = new Int32Array(n);
    this.longestState = model.init();
    this.buildEntries();
  }

  /** Sorts call and return events by time (calls first on ties) and links the two lists. */
  private buildEntries(): void {
    const n = this.count;
    const timeOf = (event: number): number => (event < n ? this.operations[event].call : this.operations[event - n].return);
    const events = Array.from({ length: 2 * n }, (_, event) => event);
    // Event e < n is the call of operation e; e >= n is the return of operation e - n.
    events.sort((a, b) => timeOf(a) - timeOf(b) || Number(a >= n) - Number(b >= n) || a - b);
    const { next, prev, knownHead, unknownHead } = this;
    let knownTail = knownHead;
    let unknownTail = unknownHead;
    for (let position = 0; position < 2 * n; position++) {
      const event = events[position];
      const isReturn = event >= n;
      const op = isReturn ? event - n : event;
      this.entryOp[position] = op;
      this.entryIsReturn[position] = isReturn ? 1 : 0;
      if (isReturn) this.returnEntryOf[op] = position;
      if (this.isUnknown[op] === 0) {
        next[knownTail] = position;
        prev[position] = knownTail;
        knownTail = position;
      } else if (!isReturn) {
        next[unknownTail] = position;
        prev[position] = unknownTail;
        unknownTail = position;
      }
    }
    next[knownTail] = knownHead;
    prev[knownHead] = knownTail;
    next[unknownTail] = unknownHead;
    prev[unknownHead] = unknownTail;
  }

  /**
   * The search loop. Each configuration's candidates are tried in two passes: known operations
   * (pass 0), then unknown ones (pass 1). The order does not change which successors exist, but
   * exploring with fewer unknown operations placed first lets dominance prune more.
   */
  run(): Verdict {
    const { next, knownHead, unknownHead, entryOp, operations, model } = this;
    let state = this.longestState;
    let pass = 0;
    let cursor = next[knownHead];
    let firstReturn = -1;
    while (this.knownPlaced < this.knownCount) {
      if (!this.spendStep()) return "unknown";
      let op: number;
      if (pass === 0) {
        assert(cursor !== knownHead, "a known return entry ends every walk of the known list");
        if (this.entryIsReturn[cursor] === 1) {
          firstReturn = cursor;
          pass = 1;
          cursor = next[unknownHead];
          continue;
        }
        op = entryOp[cursor];
      } else if (cursor !== unknownHead && cursor < firstReturn) {
        op = entryOp[cursor];
      } else {
        // The operation of firstReturn had already returned, so it had to come next, and
        // nothing let it: backtrack.
        if (this.depth === this.longestDepth && this.stuckOp === -1) this.stuckOp = entryOp[firstReturn];
        if (this.depth === 0) return "illegal";
        const entry = this.pop();
        state = this.stackState[this.depth];
        this.stackState[this.depth] = undefined as S;
        pass = this.isUnknown[entryOp[entry]];
        firstReturn = this.stackFirstReturn[this.depth];
        cursor = next[entry];
        continue;
      }
      const stepped = model.step(state, operations[op].input, operations[op].output);
      if (stepped !== ILLEGAL && !(pass === 1 && this.redundantUnknown(op, state, stepped))) {
        this.bits.flip(op);
        const added = this.cache.add(this.bits, stepped);
        if (added === "full") {
          this.unknownReason = "cacheBytes";
          return "unknown";
        }
        if (added === "added") {
          this.push(cursor, state, stepped, firstReturn);
          state = stepped;
          pass = 0;
          cursor = next[knownHead];
          continue;
        }
        this.bits.flip(op);
      }
      cursor = next[cursor];
    }
    return "ok";
  }

  /**
   * Whether placing unknown operation `op` here (state → stepped) can be skipped without losing a
   * linearization (the arguments are in docs/consensus.md, "Unknown outcomes"):
   * - it would change nothing here, so it may as well come last, where it is harmless;
   * - the operation placed just before it was unknown too, and placing `op` straight from the
   *   state before that one gives an equal state: that configuration, with one unknown operation
   *   fewer, dominates this one, and the parent tries it (or already did).
   */
  private redundantUnknown(op: number, state: S, stepped: S): boolean {
    const { model, operations } = this;
    if (model.equal(stepped, state)) return true;
    if (this.depth === 0 || this.isUnknown[this.entryOp[this.stackEntry[this.depth - 1]]] === 0) return false;
    const parentState = this.stackState[this.depth - 1];
    const direct = model.step(parentState, operations[op].input, operations[op].output);
    return direct !== ILLEGAL && model.equal(direct, stepped);
  }

  /** Counts one step; false when the step or time budget is spent. */
  private spendStep(): boolean {
    if (this.steps >= this.limits.steps) {
      this.unknownReason = "budgetSteps";
      return false;
    }
    this.steps++;
    if (this.steps % CLOCK_CHECK_INTERVAL_STEPS === 0 && this.limits.clock.monotonicMs() > this.limits.deadlineMs) {
      this.unknownReason = "budgetMs";
      return false;
    }
    return true;
  }

  /** Linearizes the operation of call entry `entry` next: stack, bitset, list, counters. */
  private push(entry: number, stateBefore: S, stateAfter: S, firstReturn: number): void {
    assert(this.depth < this.count, "stack depth is bounded by the operation count");
    this.stackEntry[this.depth] = entry;
    this.stackState[this.depth] = stateBefore;
    this.stackFirstReturn[this.depth] = firstReturn;
    this.depth++;
    this.lift(entry);
    if (this.isUnknown[this.entryOp[entry]] === 0) this.knownPlaced++;
    if (this.depth > this.longestDepth) {
      // Copy only what differs from the recorded prefix: amortized O(1) per push, not O(depth).
      this.longestEntries.set(this.stackEntry.subarray(this.longestValid, this.depth), this.longestValid);
      this.longestDepth = this.depth;
      this.longestValid = this.depth;
      this.longestState = stateAfter;
      this.stuckOp = -1;
    }
  }

  /** Undoes the latest push; returns its call entry. The caller restores the state. */
  private pop(): number {
    assert(this.depth > 0, "pop needs a non-empty stack");
    this.depth--;
    if (this.longestValid > this.depth) this.longestValid = this.depth;
    const entry = this.stackEntry[this.depth];
    const op = this.entryOp[entry];
    this.bits.flip(op);
    this.unlift(entry);
    if (this.isUnknown[op] === 0) this.knownPlaced--;
    return entry;
  }

  /**
   * Unlinks an operation's entries: call and return for a known operation, the call alone for an
   * unknown one (dancing links: the unlinked entries keep their own pointers).
   */
  private lift(entry: number): void {
    this.unlink(entry);
    const op = this.entryOp[entry];
    if (this.isUnknown[op] === 0) this.unlink(this.returnEntryOf[op]);
  }

  /** Relinks what lift() unlinked, in reverse order; valid because lifts are undone LIFO. */
  private unlift(entry: number): void {
    const op = this.entryOp[entry];
    if (this.isUnknown[op] === 0) this.relink(this.returnEntryOf[op]);
    this.relink(entry);
  }

  private unlink(entry: number): void {
    const { next, prev } = this;
    next[prev[entry]] = next[entry];
    prev[next[entry]] = prev[entry];
  }

  private relink(entry: number): void {
    const { next, prev } = this;
    next[prev[entry]] = entry;
    prev[next[entry]] = entry;
  }

  linearization(): number[] {
    assert(this.knownPlaced === this.knownCount, "a linearization exists only after an ok verdict");
    return Array.from(this.stackEntry.subarray(0, this.depth), (entry) => this.entryOp[entry]);
  }

  diagnostic(): IllegalDiagnostic<S> {
    assert(this.stuckOp !== -1, "an illegal verdict always names the operation that blocked the search");
    return {
      longestPrefix: Array.from(this.longestEntries.subarray(0, this.longestDepth), (entry) => this.entryOp[entry]),
      stateAfterPrefix: this.longestState,
      stuck: this.stuckOp,
    };
  }
}

/**
 * The set of linearized operations as a bitset, with a Zobrist hash of its KNOWN members kept up
 * to date on every flip (each known operation owns a random 32-bit key; the hash is the XOR of
 * its members' keys). Unknown-outcome operations are left out of the hash so that configurations
 * differing only in them meet in the cache, where the one with fewer of them dominates.
 */
class LinearizedSet {
  readonly words: number;
  readonly data: Uint32Array;
  /** Bit set for each operation whose outcome is known. */
  readonly knownMask: Uint32Array;
  knownHash = 0;
  private readonly keys: Int32Array;

  constructor(isUnknown: Uint8Array) {
    const count = isUnknown.length;
    this.words = Math.max(1, Math.ceil(count / 32));
    this.data = new Uint32Array(this.words);
    this.knownMask = new Uint32Array(this.words);
    this.keys = new Int32Array(count);
    for (let op = 0; op < count; op++) {
      if (isUnknown[op] === 1) continue;
      this.keys[op] = mix32(Math.imul(op + 1, 0x9e3779b9));
      this.knownMask[op >>> 5] |= 1 << (op & 31);
    }
  }

  flip(op: number): void {
    this.data[op >>> 5] ^= 1 << (op & 31);
    this.knownHash ^= this.keys[op];
  }
}

/**
 * Configurations already explored, with dominance: (known set K, unknown set U1, state s)
 * dominates (K, U2, s) when U1 ⊆ U2, because every continuation of the second is open to the
 * first (unknown operations never have to be placed, and never block anything: they return at
 * infinity). Exact repeats are the special case U1 = U2 (Lowe's memoization).
 *
 * Bitsets live back to back in one growable Uint32Array pool; entries with the same key (hash of
 * K and s) are chained through `chainNext`, so an entry costs no JS object of its own.
 */
class ConfigurationCache<S> {
  private readonly heads = new Map<number, number>();
  private chainNext = new Int32Array(1024);
  private pool: Uint32Array;
  private states: S[] = [];
  private size = 0;
  private readonly entriesMax: number;

  constructor(
    private readonly model: Model<S, unknown, unknown>,
    private readonly words: number,
    cacheBytesMax: number,
  ) {
    this.pool = new Uint32Array(1024 * words);
    this.entriesMax = Math.max(1, Math.floor(cacheBytesMax / (words * 4 + CACHE_ENTRY_OVERHEAD_BYTES)));
  }

  /** Adds the configuration unless one dominating it is present: "added", "seen", or "full". */
  add(bits: LinearizedSet, state: S): "added" | "seen" | "full" {
    const key = bits.knownHash ^ mix32(this.model.hash(state));
    const first = this.heads.get(key) ?? -1;
    for (let entry = first; entry !== -1; entry = this.chainNext[entry]) {
      if (this.dominates(entry, bits) && this.model.equal(this.states[entry], state)) return "seen";
    }
    if (this.size >= this.entriesMax) return "full";
    this.ensureCapacity();
    const entry = this.size++;
    this.pool.set(bits.data, entry * this.words);
    this.states.push(state);
    this.chainNext[entry] = first;
    this.heads.set(key, entry);
    return "added";
  }

  /** Entry ⊆ current, and everything only in current is an unknown-outcome operation. */
  private dominates(entry: number, bits: LinearizedSet): boolean {
    const base = entry * this.words;
    const { data, knownMask } = bits;
    for (let word = 0; word < this.words; word++) {
      const cached = this.pool[base + word];
      const current = data[word];
      if ((cached & ~current) !== 0 || (current & ~cached & knownMask[word]) !== 0) return false;
    }
    return true;
  }

  private ensureCapacity(): void {
    if (this.size < this.chainNext.length) return;
    const capacity = this.chainNext.length * 2;
    const chainNext = new Int32Array(capacity);
    chainNext.set(this.chainNext);
    this.chainNext = chainNext;
    const pool = new Uint32Array(capacity * this.words);
    pool.set(this.pool);
    this.pool = pool;
  }
}
