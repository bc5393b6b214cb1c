// The coordination state machine: ZooKeeper's data tree and sessions, applied from the
// coordination group's log on every replica. Deterministic: the same commands at the same log
// positions give the same state, results, events and snapshot bytes everywhere (no clock, no
// randomness; time and identities arrive inside commands; iteration that reaches results or
// snapshots is sorted).
//
// Semantics follow ZooKeeper 3.8 (PrepRequestProcessor for the order of checks and the error
// codes, DataTree for the changes, FinalRequestProcessor for the reads); see
// docs/zookeeper-compatibility.md for the deliberate differences.
//
// zxid: derived from the log position, zxid = slot·2^20 + index (index < 2^20, slot < 2^43 so it
// fits a positive int64). Every command consumes its zxid, whether it succeeds or fails (as
// ZooKeeper's ErrorTxn does), and a multi uses one zxid for all its ops.
import { ProgrammerError, assert } from "../util/assert.js";
import type { LogPosition, StateMachine } from "../util/state-machine.js";
import { aclPermits, fixupAcl, maskDigests } from "./acl.js";
import { CoordDecodeError } from "./binary.js";
import { CoordOp, decodeCommand, type Command, type MultiWriteOp, type WriteOp } from "./commands.js";
import { CoordError } from "./errors.js";
import { isValidPath, SPECIAL_PATHS, sequenceSuffix } from "./path.js";
import { readSnapshot, SnapshotStream, writeSnapshot } from "./snapshot.js";
import {
  CONTAINER_EPHEMERAL_OWNER,
  DataTree,
  TTL_MS_MAX,
  childCount,
  compareCodeUnits,
  ttlEphemeralOwner,
  ttlOf,
  type Undo,
  type Znode,
} from "./tree.js";
import { NodeKind, Perm, WatchEventType, type Acl, type Identity, type Stat, type WatchEvent, type WatchEventTypeValue } from "./types.js";

export interface CoordConfig {
  /**
   * ZooKeeper's `zookeeper.extendedTypesEnabled`: allows TTL nodes (create flags 5 and 6, op
   * createTTL). Off by default, as in ZooKeeper, where TTL creation then fails with Unimplemented.
   * Part of the replicated state: it travels in snapshots.
   */
  extendedTypesEnabled: boolean;
}

/** A successful write op's result, shaped like the jute response records. */
export type OpSuccess =
  | { type: typeof CoordOp.create; path: string }
  /** create2, createContainer and createTTL all answer Create2Response. */
  | { type: typeof CoordOp.create2; path: string; stat: Stat }
  | { type: typeof CoordOp.delete }
  | { type: typeof CoordOp.setData; stat: Stat }
  | { type: typeof CoordOp.setACL; stat: Stat }
  | { type: typeof CoordOp.check };

/** One entry of a multi's results: success, or type -1 with the op's error (0 = rolled back, -2 = not tried). */
export type MultiOpResult = Exclude<OpSuccess, { type: typeof CoordOp.setACL }> | { type: -1; err: number };

export interface CoordApplyResult {
  /** The command's zxid. */
  zxid: bigint;
  /**
   * 0 on success, else the ZooKeeper error code. For a multi: the first failing op's code — the
   * reply header still carries 0 and `multi` holds the per-op results, as ZooKeeper replies.
   */
  err: number;
  /** The result of an "op" command that succeeded. */
  op?: OpSuccess;
  /** Per-op results of a multi (always present for a well-formed multi). */
  multi?: MultiOpResult[];
  /** Paths an "expire" command deleted (those whose condition still held). */
  expired?: string[];
  /** Watch events the command triggered, in order, all with this zxid. Empty when nothing changed. */
  events: WatchEvent[];
}

/** A local read's outcome: the value, or a ZooKeeper error code. */
export type Read<T> = { ok: true; value: T } | { ok: false; err: number };

export type MultiReadOp = { type: typeof READ_GET_CHILDREN; path: string } | { type: typeof READ_GET_DATA; path: string };
export type MultiReadResult =
  | { type: typeof READ_GET_CHILDREN; children: string[] }
  | { type: typeof READ_GET_DATA; data: Uint8Array | null; stat: Stat }
  | { type: -1; err: number };
const READ_GET_DATA = 4;
const READ_GET_CHILDREN = 8;

export interface ExpiredNodesOptions {
  /** Most paths returned per call, containers and TTL nodes together (ZooKeeper: maxPerMinute). */
  containerMaxPerBatch: number;
  /** Also expire never-used containers (cversion 0) older than this; 0 disables (ZooKeeper's default). */
  containerNeverUsedMsMax?: number;
}

/** The largest command index within one slot's batch: zxid = slot·2^20 + index. */
export const ZXID_INDEX_LIMIT = 1 << 20;
/** Slots must stay below 2^43 so the zxid stays a positive int64. */
export const ZXID_SLOT_LIMIT = 2 ** 43;

export function zxidOf(position: LogPosition): bigint {
  if (!(Number.isSafeInteger(position.slot) && position.slot >= 0 && position.slot < ZXID_SLOT_LIMIT)) throw new ProgrammerError(`slot ${position.slot} outside [0, 2^43)`);
  if (!(Number.isInteger(position.index) && position.index >= 0 && position.index < ZXID_INDEX_LIMIT)) throw new ProgrammerError(`index ${position.index} outside [0, 2^20)`);
  return (BigInt(position.slot) << 20n) | BigInt(position.index);
}

/** Create-flag meanings (`CreateMode`), by flag value 0–6. */
const MODES = [
  { sequential: false, ephemeral: false, container: false, ttl: false },
  { sequential: false, ephemeral: true, container: false, ttl: false },
  { sequential: true, ephemeral: false, container: false, ttl: false },
  { sequential: true, ephemeral: true, container: false, ttl: false },
  { sequential: false, ephemeral: false, container: true, ttl: false },
  { sequential: false, ephemeral: false, container: false, ttl: true },
  { sequential: true, ephemeral: false, container: false, ttl: true },
] as const;

/** What one command's ops share while applying. */
interface ApplyContext {
  readonly zxid: bigint;
  readonly timeMs: bigint;
  readonly sessionId: bigint;
  /** The node serving the command's connection (0: none, e.g. the leader's expiry). */
  readonly owner: number;
  readonly identities: readonly Identity[];
  readonly events: WatchEvent[];
  /** Present inside a multi: mutations push their undo here. */
  readonly undo: Undo[] | undefined;
}

/** Parent key of a path for lookups: "/" for top-level names (ZooKeeper's "" alias of the root). */
function parentKey(path: string, lastSlash: number): string {
  return lastSlash === 0 ? "/" : path.slice(0, lastSlash);
}

export class CoordStateMachine implements StateMachine<CoordApplyResult> {
  private tree: DataTree = DataTree.initial();
  private config: CoordConfig;
  private zxid = 0n;
  private secret: Uint8Array | null = null;

  constructor(config: CoordConfig = { extendedTypesEnabled: false }) {
    this.config = { ...config };
  }

  /** The zxid of the last applied command (0 before any). */
  get lastZxid(): bigint {
    return this.zxid;
  }

  /** The replicated session secret (null until the first setSecret applies). */
  get sessionSecret(): Uint8Array | null {
    return this.secret;
  }

  get settings(): Readonly<CoordConfig> {
    return this.config;
  }

  get nodeCount(): number {
    return this.tree.nodes.size;
  }

  // ---- applying commands ----

  apply(command: Uint8Array, position: LogPosition): CoordApplyResult {
    const zxid = this.advance(position);
    let decoded: Command;
    try {
      decoded = decodeCommand(command);
    } catch (error) {
      // A corrupt entry fails the same way on every replica instead of crash-looping all of them.
      if (error instanceof CoordDecodeError) return { zxid, err: CoordError.marshallingError, events: [] };
      throw error;
    }
    return this.run(decoded, zxid);
  }

  /** Applies an already-decoded command (the runtime's fast path and the tests'). */
  applyCommand(command: Command, position: LogPosition): CoordApplyResult {
    return this.run(command, this.advance(position));
  }

  private advance(position: LogPosition): bigint {
    const zxid = zxidOf(position);
    if (zxid <= this.zxid) throw new ProgrammerError(`log positions must increase: zxid ${zxid} after ${this.zxid}`);
    this.zxid = zxid;
    return zxid;
  }

  private run(command: Command, zxid: bigint): CoordApplyResult {
    const events: WatchEvent[] = [];
    const ctx: ApplyContext = {
      zxid,
      timeMs: BigInt(command.wallTimeMs),
      sessionId: command.sessionId,
      owner: command.owner ?? 0,
      identities: command.identities,
      events,
      undo: undefined,
    };
    const body = command.body;
    switch (body.kind) {
      case "op": {
        const outcome = this.applyOp(ctx, body.op);
        return typeof outcome === "number" ? { zxid, err: outcome, events } : { zxid, err: 0, op: outcome, events };
      }
      case "multi":
        return this.applyMulti(ctx, body.ops);
      case "createSession":
        return { zxid, err: this.createSession(command.sessionId, body.timeoutMs, ctx.owner), events };
      case "moveSession":
        return { zxid, err: this.moveSession(ctx), events };
      case "closeSession":
        return { zxid, err: this.closeSession(ctx), events };
      case "expire":
        return { zxid, err: 0, expired: this.expire(ctx, body.paths, command.wallTimeMs, body.containerNeverUsedMsMax), events };
      case "sync":
        return { zxid, err: 0, events };
      case "setSecret":
        if (this.secret === null) this.secret = body.secret.slice();
        return { zxid, err: 0, events };
    }
  }

  private applyOp(ctx: ApplyContext, op: WriteOp): OpSuccess | number {
    switch (op.type) {
      case CoordOp.create:
      case CoordOp.create2:
      case CoordOp.createContainer:
      case CoordOp.createTTL:
        return this.create(ctx, op);
      case CoordOp.delete:
        return this.delete(ctx, op.path, op.version);
      case CoordOp.setData:
        return this.setData(ctx, op.path, op.data, op.version);
      case CoordOp.setACL:
        return this.setAcl(ctx, op.path, op.acl, op.version);
      case CoordOp.check:
        return this.check(ctx, op.path, op.version);
    }
  }

  /**
   * ZooKeeper's session check (`SessionTracker.checkSession`): writes from a session that is gone
   * fail with SessionExpired, and writes from a connection the session has moved away from (its
   * node is not the session's owner) with SessionMoved.
   */
  private sessionProblem(ctx: ApplyContext): number | undefined {
    if (ctx.sessionId === 0n) return undefined;
    const session = this.tree.sessions.get(ctx.sessionId);
    if (session === undefined) return CoordError.sessionExpired;
    if (ctx.owner !== 0 && session.owner !== 0 && ctx.owner !== session.owner) return CoordError.sessionMoved;
    return undefined;
  }

  private emit(ctx: ApplyContext, type: WatchEventTypeValue, path: string, acl: readonly Acl[]): void {
    ctx.events.push({ type, path, zxid: ctx.zxid, acl });
  }

  /** Checks in PrepRequestProcessor.pRequest2TxnCreate order, then DataTree.createNode. */
  private create(ctx: ApplyContext, op: Extract<WriteOp, { flags: number }>): OpSuccess | number {
    const mode = Number.isInteger(op.flags) && op.flags >= 0 && op.flags <= 6 ? MODES[op.flags] : undefined;
    if (!mode) return CoordError.badArguments;
    // The op picks the reply shape; the flags pick the node kind. createContainer and createTTL
    // must agree with their flags (ZooKeeper would build an inconsistent or crashing txn).
    if (op.type === CoordOp.createContainer && !mode.container) return CoordError.badArguments;
    if (op.type === CoordOp.createTTL && !mode.ttl) return CoordError.badArguments;
    if (mode.ttl && !this.config.extendedTypesEnabled) return CoordError.unimplemented;
    if (mode.ttl && !(op.ttl >= 1n && op.ttl <= TTL_MS_MAX)) return CoordError.badArguments;
    const sessionProblem = this.sessionProblem(ctx);
    if (sessionProblem !== undefined) return sessionProblem;
    if (mode.ephemeral && ctx.sessionId === 0n) return CoordError.badArguments;
    const lastSlash = op.path.lastIndexOf("/");
    if (lastSlash === -1 || op.path.includes("\0")) return CoordError.badArguments;
    const acl = fixupAcl(op.acl, ctx.identities);
    if (typeof acl === "number") return acl;
    const parentPath = parentKey(op.path, lastSlash);
    const parent = this.tree.nodes.get(parentPath);
    if (!parent) return CoordError.noNode;
    if (!aclPermits(parent.aclRef.acl, Perm.create, ctx.identities)) return CoordError.noAuth;
    const path = mode.sequential ? op.path + sequenceSuffix(parent.cversion) : op.path;
    if (!isValidPath(path)) return CoordError.badArguments;
    if (this.tree.nodes.has(path)) return CoordError.nodeExists;
    if (parent.kind === NodeKind.ephemeral) return CoordError.noChildrenForEphemerals;
    const kind = mode.container ? NodeKind.container : mode.ttl ? NodeKind.ttl : mode.ephemeral ? NodeKind.ephemeral : NodeKind.persistent;
    const ephemeralOwner =
      kind === NodeKind.container ? CONTAINER_EPHEMERAL_OWNER : kind === NodeKind.ttl ? ttlEphemeralOwner(op.ttl) : kind === NodeKind.ephemeral ? ctx.sessionId : 0n;
    const { node, undo } = this.tree.createNode(path, parent, { data: op.data, acl, kind, ephemeralOwner, zxid: ctx.zxid, timeMs: ctx.timeMs });
    ctx.undo?.push(undo);
    this.emit(ctx, WatchEventType.nodeCreated, path, node.aclRef.acl);
    this.emit(ctx, WatchEventType.nodeChildrenChanged, parentPath, parent.aclRef.acl);
    return op.type === CoordOp.create ? { type: CoordOp.create, path } : { type: CoordOp.create2, path, stat: this.tree.stat(node) };
  }

  private delete(ctx: ApplyContext, path: string, version: number): OpSuccess | number {
    const sessionProblem = this.sessionProblem(ctx);
    if (sessionProblem !== undefined) return sessionProblem;
    const lastSlash = path.lastIndexOf("/");
    if (lastSlash === -1 || path.includes("\0") || SPECIAL_PATHS.has(path)) return CoordError.badArguments;
    const parentPath = parentKey(path, lastSlash);
    const parent = this.tree.nodes.get(parentPath);
    if (!parent) return CoordError.noNode;
    if (!aclPermits(parent.aclRef.acl, Perm.delete, ctx.identities)) return CoordError.noAuth;
    const node = this.tree.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (version !== -1 && version !== node.version) return CoordError.badVersion;
    if (childCount(node) > 0) return CoordError.notEmpty;
    this.removeNode(ctx, path, node, parent, parentPath);
    return { type: CoordOp.delete };
  }

  private removeNode(ctx: ApplyContext, path: string, node: Znode, parent: Znode, parentPath: string): void {
    const undo = this.tree.deleteNode(path, node, parent, ctx.zxid);
    ctx.undo?.push(undo);
    this.emit(ctx, WatchEventType.nodeDeleted, path, node.aclRef.acl);
    this.emit(ctx, WatchEventType.nodeChildrenChanged, parentPath, parent.aclRef.acl);
  }

  private setData(ctx: ApplyContext, path: string, data: Uint8Array | null, version: number): OpSuccess | number {
    const sessionProblem = this.sessionProblem(ctx);
    if (sessionProblem !== undefined) return sessionProblem;
    if (!isValidPath(path)) return CoordError.badArguments;
    const node = this.tree.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (!aclPermits(node.aclRef.acl, Perm.write, ctx.identities)) return CoordError.noAuth;
    if (version !== -1 && version !== node.version) return CoordError.badVersion;
    const undo = this.tree.setData(path, node, data, (node.version + 1) | 0, ctx.zxid, ctx.timeMs);
    ctx.undo?.push(undo);
    this.emit(ctx, WatchEventType.nodeDataChanged, path, node.aclRef.acl);
    return { type: CoordOp.setData, stat: this.tree.stat(node) };
  }

  private setAcl(ctx: ApplyContext, path: string, acl: readonly Acl[], version: number): OpSuccess | number {
    assert(ctx.undo === undefined, "setACL is not allowed inside a multi");
    const sessionProblem = this.sessionProblem(ctx);
    if (sessionProblem !== undefined) return sessionProblem;
    if (!isValidPath(path)) return CoordError.badArguments;
    const fixed = fixupAcl(acl, ctx.identities);
    if (typeof fixed === "number") return fixed;
    const node = this.tree.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (!aclPermits(node.aclRef.acl, Perm.admin, ctx.identities)) return CoordError.noAuth;
    if (version !== -1 && version !== node.aversion) return CoordError.badVersion;
    this.tree.setAcl(path, node, fixed, (node.aversion + 1) | 0);
    return { type: CoordOp.setACL, stat: this.tree.stat(node) };
  }

  private check(ctx: ApplyContext, path: string, version: number): OpSuccess | number {
    const sessionProblem = this.sessionProblem(ctx);
    if (sessionProblem !== undefined) return sessionProblem;
    if (!isValidPath(path)) return CoordError.badArguments;
    const node = this.tree.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (!aclPermits(node.aclRef.acl, Perm.read, ctx.identities)) return CoordError.noAuth;
    if (version !== -1 && version !== node.version) return CoordError.badVersion;
    return { type: CoordOp.check };
  }

  /**
   * All or nothing, in one zxid. On the first failure every applied op is undone (in reverse), no
   * event is emitted, and the results are: earlier ops -1/0, the failing op -1/its code, later
   * ops -1/RuntimeInconsistency (DataTree.processTxn for a multi with an ErrorTxn).
   */
  private applyMulti(ctx: ApplyContext, ops: readonly MultiWriteOp[]): CoordApplyResult {
    const undo: Undo[] = [];
    const staged: WatchEvent[] = [];
    const inner: ApplyContext = { ...ctx, events: staged, undo };
    const results: MultiOpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const outcome = this.applyOp(inner, ops[i]);
      if (typeof outcome === "number") {
        for (let k = undo.length - 1; k >= 0; k--) undo[k]();
        const failed: MultiOpResult[] = ops.map((_, j) => ({ type: -1, err: j < i ? 0 : j === i ? outcome : CoordError.runtimeInconsistency }));
        return { zxid: ctx.zxid, err: outcome, multi: failed, events: ctx.events };
      }
      assert(outcome.type !== CoordOp.setACL, "setACL inside a multi");
      results.push(outcome);
    }
    for (const event of staged) ctx.events.push(event);
    return { zxid: ctx.zxid, err: 0, multi: results, events: ctx.events };
  }

  // ---- sessions ----

  private createSession(sessionId: bigint, timeoutMs: number, owner: number): number {
    // 0 means "no session"; the container marker and the TTL range (top byte 0xFF) are taken.
    if (sessionId === 0n || sessionId === CONTAINER_EPHEMERAL_OWNER || sessionId >> 56n === -1n) return CoordError.badArguments;
    if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) return CoordError.badArguments;
    if (this.tree.sessions.has(sessionId)) return CoordError.badArguments;
    this.tree.sessions.set(sessionId, { timeoutMs, ephemerals: new Set(), owner });
    return 0;
  }

  /** The session's connection is now served by `ctx.owner` (ZooKeeper's revalidation on reconnect). */
  private moveSession(ctx: ApplyContext): number {
    const session = this.tree.sessions.get(ctx.sessionId);
    if (session === undefined) return CoordError.sessionExpired;
    if (ctx.owner === 0) return CoordError.badArguments;
    session.owner = ctx.owner;
    return 0;
  }

  /** The node serving the session (0: not recorded), or undefined for no such session. */
  sessionOwner(sessionId: bigint): number | undefined {
    return this.tree.sessions.get(sessionId)?.owner;
  }

  /** Removes the session and all its ephemerals in this one zxid, firing their watches (sorted order). */
  private closeSession(ctx: ApplyContext): number {
    const session = this.tree.sessions.get(ctx.sessionId);
    if (!session) return CoordError.sessionExpired;
    const paths = [...session.ephemerals].sort(compareCodeUnits);
    for (const path of paths) {
      const node = this.tree.nodes.get(path)!;
      const parentPath = parentKey(path, path.lastIndexOf("/"));
      this.removeNode(ctx, path, node, this.tree.nodes.get(parentPath)!, parentPath);
    }
    assert(session.ephemerals.size === 0, "closeSession left ephemerals behind");
    this.tree.sessions.delete(ctx.sessionId);
    return 0;
  }

  // ---- containers and TTL nodes ----

  private isExpired(node: Znode, nowMs: number, containerNeverUsedMsMax: number): boolean {
    if (childCount(node) > 0) return false;
    const idleMs = nowMs - Number(node.mtime);
    if (node.kind === NodeKind.container) return node.cversion > 0 || (containerNeverUsedMsMax > 0 && idleMs > containerNeverUsedMsMax);
    if (node.kind === NodeKind.ttl) return idleMs > ttlOf(node);
    return false;
  }

  private expire(ctx: ApplyContext, paths: readonly string[], nowMs: number, containerNeverUsedMsMax: number): string[] {
    const deleted: string[] = [];
    for (const path of paths) {
      const node = this.tree.nodes.get(path);
      if (!node || SPECIAL_PATHS.has(path) || !this.isExpired(node, nowMs, containerNeverUsedMsMax)) continue;
      const parentPath = parentKey(path, path.lastIndexOf("/"));
      this.removeNode(ctx, path, node, this.tree.nodes.get(parentPath)!, parentPath);
      deleted.push(path);
    }
    return deleted;
  }

  /**
   * For the leader: containers and TTL nodes whose expiry condition holds at `nowMs`, sorted,
   * at most containerMaxPerBatch. Propose them in an "expire" command, which re-checks each one.
   */
  expiredNodes(nowMs: number, options: ExpiredNodesOptions): string[] {
    assert(Number.isSafeInteger(options.containerMaxPerBatch) && options.containerMaxPerBatch >= 0, "containerMaxPerBatch must be a count");
    const neverUsed = options.containerNeverUsedMsMax ?? 0;
    const candidates: string[] = [];
    for (const set of [this.tree.containers, this.tree.ttls]) {
      for (const path of set) if (this.isExpired(this.tree.nodes.get(path)!, nowMs, neverUsed)) candidates.push(path);
    }
    return candidates.sort(compareCodeUnits).slice(0, options.containerMaxPerBatch);
  }

  // ---- session queries (for the leader's expiry tracking and the front-end) ----

  hasSession(sessionId: bigint): boolean {
    return this.tree.sessions.has(sessionId);
  }

  sessionTimeoutMs(sessionId: bigint): number | undefined {
    return this.tree.sessions.get(sessionId)?.timeoutMs;
  }

  /** Every live session and its timeout, by id. */
  sessions(): Array<{ sessionId: bigint; timeoutMs: number }> {
    return [...this.tree.sessions.entries()]
      .map(([sessionId, session]) => ({ sessionId, timeoutMs: session.timeoutMs }))
      .sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
  }

  ephemeralsOf(sessionId: bigint): string[] {
    const session = this.tree.sessions.get(sessionId);
    return session ? [...session.ephemerals].sort(compareCodeUnits) : [];
  }

  // ---- local reads (FinalRequestProcessor semantics) ----

  /** A node's Stat without any ACL check (SetWatches replay, 4lw, tests). */
  peekStat(path: string): Stat | undefined {
    const node = this.tree.nodes.get(path);
    return node ? this.tree.stat(node) : undefined;
  }

  private readable(path: string, identities: readonly Identity[], perm: number = Perm.read): Read<Znode> {
    const node = this.tree.nodes.get(path);
    if (!node) return { ok: false, err: CoordError.noNode };
    if (!aclPermits(node.aclRef.acl, perm, identities)) return { ok: false, err: CoordError.noAuth };
    return { ok: true, value: node };
  }

  /** getData. The front-end sets a data watch only when this succeeds. */
  getData(path: string, identities: readonly Identity[]): Read<{ data: Uint8Array | null; stat: Stat }> {
    const read = this.readable(path, identities);
    return read.ok ? { ok: true, value: { data: read.value.data, stat: this.tree.stat(read.value) } } : read;
  }

  /** exists. The front-end sets the watch on success AND on NoNode (not on NoAuth). */
  exists(path: string, identities: readonly Identity[]): Read<Stat> {
    if (path.includes("\0")) return { ok: false, err: CoordError.badArguments };
    const read = this.readable(path, identities);
    return read.ok ? { ok: true, value: this.tree.stat(read.value) } : read;
  }

  /** getChildren / getChildren2 (sorted names; the array is shared and frozen by contract: do not mutate). */
  getChildren(path: string, identities: readonly Identity[]): Read<{ children: readonly string[]; stat: Stat }> {
    const read = this.readable(path, identities);
    return read.ok ? { ok: true, value: { children: this.tree.sortedChildren(read.value), stat: this.tree.stat(read.value) } } : read;
  }

  /** getACL needs READ or ADMIN; without ADMIN, digest ids are masked to "user:x". */
  getACL(path: string, identities: readonly Identity[]): Read<{ acl: readonly Acl[]; stat: Stat }> {
    const read = this.readable(path, identities, Perm.read | Perm.admin);
    if (!read.ok) return read;
    const node = read.value;
    const acl = aclPermits(node.aclRef.acl, Perm.admin, identities) ? node.aclRef.acl : maskDigests(node.aclRef.acl);
    return { ok: true, value: { acl, stat: this.tree.stat(node) } };
  }

  /** All descendants (not just children) of the node, as ZooKeeper counts them. */
  getAllChildrenNumber(path: string, identities: readonly Identity[]): Read<number> {
    const read = this.readable(path, identities);
    return read.ok ? { ok: true, value: read.value.descendants } : read;
  }

  /** The session's own ephemerals under a prefix (plain string prefix; null, blank or "/" means all), sorted. */
  getEphemerals(sessionId: bigint, prefix: string | null): string[] {
    const all = this.ephemeralsOf(sessionId);
    if (prefix === null || prefix.trim() === "" || prefix.trim() === "/") return all;
    return all.filter((path) => path.startsWith(prefix));
  }

  /** multiRead: each op independently, errors per op. */
  multiRead(ops: readonly MultiReadOp[], identities: readonly Identity[]): MultiReadResult[] {
    return ops.map((op): MultiReadResult => {
      if (op.type === READ_GET_CHILDREN) {
        const read = this.getChildren(op.path, identities);
        return read.ok ? { type: READ_GET_CHILDREN, children: [...read.value.children] } : { type: -1, err: read.err };
      }
      const read = this.getData(op.path, identities);
      return read.ok ? { type: READ_GET_DATA, data: read.value.data, stat: read.value.stat } : { type: -1, err: read.err };
    });
  }

  // ---- snapshots ----

  snapshot(): Uint8Array {
    const chunks = [...this.snapshotChunks()];
    let size = 0;
    for (const chunk of chunks) size += chunk.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /** The snapshot as a sequence of chunks (about 64 KiB each), for streaming to disk or a peer. */
  snapshotChunks(): Iterable<Uint8Array> {
    return writeSnapshot(this.tree, { lastZxid: this.zxid, extendedTypesEnabled: this.config.extendedTypesEnabled, sessionSecret: this.secret });
  }

  /** The snapshot at this moment, streamed while applies continue (copy-on-write; see SnapshotStream). */
  snapshotStream(chunkBytes?: number): SnapshotStream {
    return new SnapshotStream(this.tree, { lastZxid: this.zxid, extendedTypesEnabled: this.config.extendedTypesEnabled, sessionSecret: this.secret }, chunkBytes);
  }

  restore(snapshot: Uint8Array): void {
    const image = readSnapshot(snapshot);
    this.tree = image.tree;
    this.zxid = image.lastZxid;
    this.secret = image.sessionSecret;
    this.config = { extendedTypesEnabled: image.extendedTypesEnabled };
  }
}
