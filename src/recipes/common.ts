// What every recipe shares: retrying idempotent steps across ConnectionLoss, creating parents,
// the protected sequential create (a GUID in the node name so that a create whose reply was lost
// can be found again instead of leaking a node that blocks everyone), exactly-once writes with an
// ephemeral receipt, and waiting for a watch with a deadline, an abort signal and the session.
import { randomUUID } from "node:crypto";
import {
  ConnectionLossError,
  MultiError,
  NoNodeError,
  NodeExistsError,
  RequestTimeoutError,
  type CreateMode,
  type CreateResult,
  type Data,
  type Op,
  type OpResult,
  type WatchEvent,
  type Watcher,
  type ZooKeeperClient,
} from "../zookeeper/client/index.js";
import { RecipeTimeoutError } from "./errors.js";

/** Attempts of one idempotent step across connection losses (the session's expiry ends them sooner). */
export const RETRIES_MAX = 100;
const RETRY_DELAY_MS_MAX = 500;

export function isRetryable(error: unknown): boolean {
  return error instanceof ConnectionLossError || error instanceof RequestTimeoutError;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `step` again after a ConnectionLoss or RequestTimeout (the client queues it until it has
 * reconnected). Only for steps whose repetition is harmless: reads, deletes that accept NoNode,
 * creates that accept NodeExists, version-checked writes.
 */
export async function retrying<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isRetryable(error) || attempt >= RETRIES_MAX) throw error;
      await pause(Math.min(RETRY_DELAY_MS_MAX, 10 * 2 ** Math.min(attempt, 6)));
    }
  }
}

/** Creates `path` and its missing parents as persistent nodes (idempotent). */
export async function ensurePath(zk: ZooKeeperClient, path: string): Promise<void> {
  if (path === "/") return;
  if (await retrying(() => zk.exists(path))) return;
  const parts = path.split("/").filter((p) => p !== "");
  let at = "";
  for (const part of parts) {
    at += `/${part}`;
    try {
      await retrying(() => zk.create(at));
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }
}

/** Deletes `path` if it exists; NoNode is success (idempotent). */
export async function deleteIfExists(zk: ZooKeeperClient, path: string, version = -1): Promise<void> {
  try {
    await retrying(() => zk.delete(path, { version }));
  } catch (error) {
    if (!(error instanceof NoNodeError)) throw error;
  }
}

/**
 * The sequence number a sequential node's name ends with: ZooKeeper appends exactly 10 characters
 * (`%010d` of the parent's cversion; a wrapped counter gives "-000000001"-style values).
 */
export function sequenceOf(name: string): number {
  const suffix = name.slice(-10);
  return /^(-\d{9}|\d{10})$/.test(suffix) ? Number(suffix) : Number.NaN;
}

/** Names sorted by their sequence suffix (ties by name, for determinism). */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const PROTECTED_MARK = "_c_";
/** "_c_" + a 36-character GUID + "-". */
const PROTECTED_HEAD_LENGTH = 40;

/** Whether `name` is a protected sequential node created with `prefix` (see createProtectedSequential). */
export function hasProtectedPrefix(name: string, prefix: string): boolean {
  return name.length >= PROTECTED_HEAD_LENGTH + prefix.length + 10 && name.startsWith(PROTECTED_MARK) && name.startsWith(prefix, PROTECTED_HEAD_LENGTH);
}

export function newGuid(): string {
  return randomUUID();
}

/**
 * Waits until every write this session sent before a connection loss has either applied or will
 * never apply, so that looking for its effect gives a final answer. A write whose reply was lost
 * may still be in the server's pipeline and commit AFTER this session's next read on a new
 * connection (synod orders a session's requests per connection — measured: 6–12 of 40 reads missed
 * such a write — and a ZooKeeper ensemble may still have it queued on the old server). A write is
 * ordered behind it by construction on any server: a transaction holding one `check` at version
 * -1 (always true, changes nothing) is proposed after the lost write and so commits after it
 * (measured: 0 of 40). ZooKeeper's sync() would also do, its leader queues a sync behind the
 * proposals in flight, but what sync waits for is a server's choice; a write is not.
 */
export async function writeBarrier(zk: ZooKeeperClient, path: string): Promise<void> {
  await retrying(() => zk.multi([{ op: "check", path, version: -1 }]));
}

/**
 * Creates `${dir}/_c_${guid}-${prefix}<seq>` so that, when the reply is lost with the connection,
 * the node can be found again by its GUID (Curator's "protection mode", whose naming this follows:
 * a lock node reads `_c_<guid>-lock-0000000007` as in Curator's InterProcessMutex). Without it a
 * retry would leave an orphan sequential node that, being ephemeral and owned by a live session,
 * blocks every other participant until that session ends.
 */
export async function createProtectedSequential(
  zk: ZooKeeperClient,
  dir: string,
  prefix: string,
  options: { data?: Data; mode: CreateMode; guid?: string },
): Promise<CreateResult & { name: string; guid: string }> {
  const guid = options.guid ?? newGuid();
  const base = `${dir}/${PROTECTED_MARK}${guid}-${prefix}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const created = await zk.create(base, options.data, { mode: options.mode });
      return { ...created, name: created.path.slice(dir.length + 1), guid };
    } catch (error) {
      if (!isRetryable(error) || attempt >= RETRIES_MAX) throw error;
    }
    await writeBarrier(zk, dir);
    const found = await findProtected(zk, dir, guid);
    if (found) return { ...found, guid };
    await pause(Math.min(RETRY_DELAY_MS_MAX, 10 * 2 ** Math.min(attempt, 6)));
  }
}

/** Our node with `guid` in its name under `dir`, if the create did happen. */
export async function findProtected(zk: ZooKeeperClient, dir: string, guid: string): Promise<(CreateResult & { name: string }) | undefined> {
  const { children } = await retrying(() => zk.getChildren(dir));
  const mine = sortBySequence(children.filter((c) => c.includes(guid)));
  if (mine.length === 0) return undefined;
  const path = `${dir}/${mine[0]}`;
  const stat = await retrying(() => zk.exists(path));
  if (!stat) return undefined;
  return { path, name: mine[0], stat };
}

/**
 * Runs `ops` exactly once despite connection losses: the transaction also creates an ephemeral
 * receipt `${receiptDir}/${opId}`. When the reply is lost, the receipt says whether it applied.
 * A late duplicate cannot apply twice: the receipt's path can be created only once, and the ops
 * carry version checks that the first application invalidates. Resolves with the results, or
 * `undefined` when the transaction failed for a reason of its own (the caller re-reads and
 * retries); other errors reject. The receipt is removed afterwards.
 */
export async function multiOnce(
  zk: ZooKeeperClient,
  ops: readonly Op[],
  receiptDir: string,
  opId: string,
): Promise<{ applied: true; results: OpResult[] } | { applied: false; error: unknown }> {
  const receipt = `${receiptDir}/${opId}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const results = await zk.multi([...ops, { op: "create", path: receipt, mode: "ephemeral" }]);
      void deleteIfExists(zk, receipt).catch(() => undefined);
      return { applied: true, results: results.slice(0, ops.length) };
    } catch (error) {
      // Our receipt already exists: an earlier attempt whose reply was lost did apply.
      if (error instanceof MultiError && error.failedIndex === ops.length && error.failure instanceof NodeExistsError) {
        void deleteIfExists(zk, receipt).catch(() => undefined);
        return { applied: true, results: [] };
      }
      if (!isRetryable(error) || attempt >= RETRIES_MAX) return { applied: false, error };
    }
    // Let a transaction still in flight land before looking. (Even without this a late one
    // cannot apply twice — see above — but the answer is then exact.)
    await writeBarrier(zk, receiptDir);
    if (await retrying(() => zk.exists(receipt))) {
      void deleteIfExists(zk, receipt).catch(() => undefined);
      return { applied: true, results: [] };
    }
  }
}

/**
 * A one-shot watch turned into a promise: resolves on the first node event, or on the session's
 * end (the recipe then finds the session gone on its next call). Session "none" events about
 * disconnects and reconnects are ignored: the client replays the watch after a reconnect.
 */
export class Wakeup {
  private resolveFn: ((event: WatchEvent | undefined) => void) | undefined;
  private fired: WatchEvent | undefined;
  readonly promise: Promise<WatchEvent | undefined>;

  constructor() {
    this.promise = new Promise((resolve) => (this.resolveFn = resolve));
  }

  readonly watcher: Watcher = (event) => {
    if (event.type === "none" && (event.state === "disconnected" || event.state === "syncConnected")) return;
    if (this.fired) return;
    this.fired = event;
    this.resolveFn?.(event);
  };

  /** Waits for the event; rejects with RecipeTimeoutError at `deadlineMs` (performance.now() clock) or with the signal's reason. */
  wait(options: { deadlineMs?: number; signal?: AbortSignal; what: string }): Promise<WatchEvent | undefined> {
    const { deadlineMs, signal, what } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        cleanup();
        reject(signal!.reason);
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new RecipeTimeoutError(what));
        }, Math.max(0, deadlineMs - performance.now()));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      void this.promise.then((event) => {
        cleanup();
        resolve(event);
      });
    });
  }
}

/** The absolute deadline for an optional timeout (undefined = wait forever). */
export function deadlineOf(timeoutMs: number | undefined): number | undefined {
  return timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
}

export function assertRecipePath(path: string): void {
  if (typeof path !== "string" || !path.startsWith("/") || path.length < 2 || path.endsWith("/")) {
    throw new TypeError(`a recipe needs an absolute node path, not ${JSON.stringify(path)}`);
  }
}
