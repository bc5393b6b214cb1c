// The TypeScript ZooKeeper client's public operations: every op the recipes need, typed, on top
// of the session engine (session.ts: connections, pings, reconnects, pipelining, timeouts).
//
//   const zk = await ZooKeeperClient.connect({ connectString: "127.0.0.1:2181/app", sessionTimeoutMs: 10_000 });
//   const { path, stat } = await zk.create("/jobs/job-", "payload", { mode: "persistentSequential" });
//   const { data } = await zk.getData(path, { watch: (event) => console.log(event.type) });
//   await zk.close();
//
// Conventions (as the Java client): paths are absolute and validated before anything is sent;
// `version: -1` (the default) matches any version; a watch is registered only when the server
// accepted the read (exists also registers on NoNode, to learn of the creation). A failed request
// rejects with a typed ZooKeeperError (errors.ts); writes that fail with ConnectionLoss have an
// UNKNOWN outcome.
import type { JuteReader, JuteWriter } from "../jute/runtime.js";
import * as jute from "../generated/jute.js";
import { AddWatchMode, CreateFlag, OpCode, WatcherType } from "../protocol/constants.js";
import { ErrorCode } from "../protocol/errors.js";
import { decodeMultiResponse, encodeMultiRequest, type MultiOp } from "../protocol/multi.js";
import { MultiError, errorFromCode } from "./errors.js";
import { toClientPath, toServerPath, validatePath } from "./paths.js";
import { Session, type ZooKeeperClientOptions } from "./session.js";
import type { Watcher, WatchKind } from "./watches.js";

export type Stat = jute.Stat;
export type ACL = jute.ACL;

export type CreateMode =
  | "persistent"
  | "ephemeral"
  | "persistentSequential"
  | "ephemeralSequential"
  | "container"
  | "persistentWithTtl"
  | "persistentSequentialWithTtl";

/** world:anyone with every permission (`ZooDefs.Ids.OPEN_ACL_UNSAFE`). */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: 31, id: { scheme: "world", id: "anyone" } }]);
/** Every permission for the creator's authenticated ids (`ZooDefs.Ids.CREATOR_ALL_ACL`). */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{ perms: 31, id: { scheme: "auth", id: "" } }]);
/** world:anyone may read (`ZooDefs.Ids.READ_ACL_UNSAFE`). */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: 1, id: { scheme: "world", id: "anyone" } }]);

export type Data = Uint8Array | string;

export interface RequestOptions {
  /** Overrides the client's requestTimeoutMs for this request (0 = none). */
  timeoutMs?: number;
}
export interface CreateOptions extends RequestOptions {
  /** Default "persistent". */
  mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: readonly ACL[];
  /** Required for the TTL modes (1 … 2^40−1 ms); the server must run with extendedTypesEnabled. */
  ttlMs?: number;
}
export interface VersionOptions extends RequestOptions {
  /** Expected version; -1 (default) matches any. */
  version?: number;
}
export interface WatchOptions extends RequestOptions {
  /** A one-shot watch, registered if the read succeeds (exists: also on NoNode). */
  watch?: Watcher;
}

export interface CreateResult {
  /** The created path (with the sequence suffix for sequential modes). */
  path: string;
  stat: Stat;
}

/** One op of a transaction (multi): all apply atomically in one zxid, or none does. */
export type Op =
  | { op: "create"; path: string; data?: Data; mode?: CreateMode; acl?: readonly ACL[]; ttlMs?: number }
  | { op: "delete"; path: string; version?: number }
  | { op: "setData"; path: string; data: Data; version?: number }
  | { op: "check"; path: string; version: number };

export type OpResult = { op: "create"; path: string; stat: Stat | undefined } | { op: "delete" } | { op: "setData"; stat: Stat } | { op: "check" };

/** Most ops one multi may carry (the server's 1 MiB frame is the real limit; this catches runaway callers). */
export const MULTI_OPS_MAX = 10_000;

const CREATE_FLAGS: Record<CreateMode, number> = {
  persistent: CreateFlag.persistent,
  ephemeral: CreateFlag.ephemeral,
  persistentSequential: CreateFlag.persistentSequential,
  ephemeralSequential: CreateFlag.ephemeralSequential,
  container: CreateFlag.container,
  persistentWithTtl: CreateFlag.persistentWithTtl,
  persistentSequentialWithTtl: CreateFlag.persistentSequentialWithTtl,
};

function isSequential(mode: CreateMode): boolean {
  return mode === "persistentSequential" || mode === "ephemeralSequential" || mode === "persistentSequentialWithTtl";
}

function isTtl(mode: CreateMode): boolean {
  return mode === "persistentWithTtl" || mode === "persistentSequentialWithTtl";
}

function toBytes(data: Data | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < -1 || version > 0x7fffffff) throw new TypeError(`bad version ${version}`);
  return version;
}

/** The wire op code and request record for a create in the given mode. */
function createRequest(
  serverPath: string,
  data: Data | undefined,
  options: { mode?: CreateMode; acl?: readonly ACL[]; ttlMs?: number },
): { opCode: number; write: (w: JuteWriter) => void; multi: MultiOp } {
  const mode = options.mode ?? "persistent";
  const flags = CREATE_FLAGS[mode];
  if (flags === undefined) throw new TypeError(`unknown create mode ${String(mode)}`);
  const acl = [...(options.acl ?? OPEN_ACL_UNSAFE)];
  const bytes = toBytes(data);
  if (isTtl(mode)) {
    const ttl = options.ttlMs;
    if (ttl === undefined || !Number.isSafeInteger(ttl) || ttl <= 0 || ttl > 0xffffffffff) throw new TypeError(`mode ${mode} needs ttlMs in 1 … 2^40−1`);
    const request: jute.CreateTTLRequest = { path: serverPath, data: bytes, acl, flags, ttl: BigInt(ttl) };
    return { opCode: OpCode.createTTL, write: (w) => jute.encodeCreateTTLRequest(w, request), multi: { type: OpCode.createTTL, request } };
  }
  if (options.ttlMs !== undefined) throw new TypeError(`ttlMs needs a TTL mode, not ${mode}`);
  const request: jute.CreateRequest = { path: serverPath, data: bytes, acl, flags };
  const opCode = mode === "container" ? OpCode.createContainer : OpCode.create2;
  return { opCode, write: (w) => jute.encodeCreateRequest(w, request), multi: { type: opCode, request } };
}

export class ZooKeeperClient extends Session {
  /** Creates a client and waits until its session is established (or fails and closes it). */
  static async connect(options: ZooKeeperClientOptions & { initialConnectTimeoutMs?: number }): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient(options);
    client.start();
    try {
      await client.waitConnected(options.initialConnectTimeoutMs ?? Math.max(options.sessionTimeoutMs ?? 30_000, 10_000));
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  private serverPath(path: string, sequential = false): string {
    validatePath(path, sequential);
    return toServerPath(this.chroot, path);
  }

  private check(err: number, path: string): void {
    if (err !== 0) throw errorFromCode(err, path);
  }

  /** Creates a znode; sequential modes append a 10-digit counter to `path`. */
  create(path: string, data?: Data, options: CreateOptions = {}): Promise<CreateResult> {
    const mode = options.mode ?? "persistent";
    const { opCode, write } = createRequest(this.serverPath(path, isSequential(mode)), data, options);
    return this.submit({
      opCode,
      path,
      writeBody: write,
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        const reply = jute.decodeCreate2Response(r);
        return { path: toClientPath(this.chroot, reply.path ?? ""), stat: reply.stat };
      },
    });
  }

  /** Deletes a znode (NotEmpty if it has children; BadVersion on a version mismatch). */
  delete(path: string, options: VersionOptions = {}): Promise<void> {
    const request: jute.DeleteRequest = { path: this.serverPath(path), version: checkVersion(options.version ?? -1) };
    return this.submit({ opCode: OpCode.delete, path, writeBody: (w) => jute.encodeDeleteRequest(w, request), timeoutMs: options.timeoutMs, handle: (err) => this.check(err, path) });
  }

  /** The node's Stat, or null when it does not exist (a watch then waits for its creation). */
  exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    const request: jute.ExistsRequest = { path: this.serverPath(path), watch: options.watch !== undefined };
    const watch = options.watch;
    return this.submit({
      opCode: OpCode.exists,
      path,
      writeBody: (w) => jute.encodeExistsRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        if (err === ErrorCode.noNode) {
          if (watch) this.watches.add("exist", path, watch);
          return null;
        }
        this.check(err, path);
        const stat = jute.decodeExistsResponse(r).stat;
        if (watch) this.watches.add("data", path, watch);
        return stat;
      },
    });
  }

  getData(path: string, options: WatchOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    const request: jute.GetDataRequest = { path: this.serverPath(path), watch: options.watch !== undefined };
    const watch = options.watch;
    return this.submit({
      opCode: OpCode.getData,
      path,
      writeBody: (w) => jute.encodeGetDataRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        const reply = jute.decodeGetDataResponse(r);
        if (watch) this.watches.add("data", path, watch);
        return { data: Buffer.from(reply.data ?? new Uint8Array(0)), stat: reply.stat };
      },
    });
  }

  setData(path: string, data: Data, options: VersionOptions = {}): Promise<Stat> {
    const request: jute.SetDataRequest = { path: this.serverPath(path), data: toBytes(data), version: checkVersion(options.version ?? -1) };
    return this.submit({
      opCode: OpCode.setData,
      path,
      writeBody: (w) => jute.encodeSetDataRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        return jute.decodeSetDataResponse(r).stat;
      },
    });
  }

  /** Children names (unsorted, as the server sends them) and the parent's Stat (getChildren2). */
  getChildren(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    const request: jute.GetChildren2Request = { path: this.serverPath(path), watch: options.watch !== undefined };
    const watch = options.watch;
    return this.submit({
      opCode: OpCode.getChildren2,
      path,
      writeBody: (w) => jute.encodeGetChildren2Request(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        const reply = jute.decodeGetChildren2Response(r);
        if (watch) this.watches.add("child", path, watch);
        return { children: (reply.children ?? []).filter((c): c is string => c !== null), stat: reply.stat };
      },
    });
  }

  getACL(path: string, options: RequestOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    const request: jute.GetACLRequest = { path: this.serverPath(path) };
    return this.submit({
      opCode: OpCode.getACL,
      path,
      writeBody: (w) => jute.encodeGetACLRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        const reply = jute.decodeGetACLResponse(r);
        return { acl: reply.acl ?? [], stat: reply.stat };
      },
    });
  }

  setACL(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    const request: jute.SetACLRequest = { path: this.serverPath(path), acl: [...acl], version: checkVersion(options.version ?? -1) };
    return this.submit({
      opCode: OpCode.setACL,
      path,
      writeBody: (w) => jute.encodeSetACLRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        return jute.decodeSetACLResponse(r).stat;
      },
    });
  }

  /**
   * Waits until the server this client is on has applied every write committed before the call:
   * sync + read gives an up-to-date read. Resolves with the path.
   */
  sync(path: string, options: RequestOptions = {}): Promise<string> {
    const request: jute.SyncRequest = { path: this.serverPath(path) };
    return this.submit({
      opCode: OpCode.sync,
      path,
      writeBody: (w) => jute.encodeSyncRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        return toClientPath(this.chroot, jute.decodeSyncResponse(r).path ?? path);
      },
    });
  }

  /** This session's ephemeral nodes whose paths start with `prefixPath` (ZooKeeper 3.6+). */
  getEphemerals(prefixPath = "/", options: RequestOptions = {}): Promise<string[]> {
    const request: jute.GetEphemeralsRequest = { prefixPath: this.serverPath(prefixPath) };
    return this.submit({
      opCode: OpCode.getEphemerals,
      path: prefixPath,
      writeBody: (w) => jute.encodeGetEphemeralsRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, prefixPath);
        return (jute.decodeGetEphemeralsResponse(r).ephemerals ?? []).filter((p): p is string => p !== null).map((p) => toClientPath(this.chroot, p));
      },
    });
  }

  /** How many nodes are below `path`, at any depth (ZooKeeper 3.6+). */
  getAllChildrenNumber(path: string, options: RequestOptions = {}): Promise<number> {
    const request: jute.GetAllChildrenNumberRequest = { path: this.serverPath(path) };
    return this.submit({
      opCode: OpCode.getAllChildrenNumber,
      path,
      writeBody: (w) => jute.encodeGetAllChildrenNumberRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        this.check(err, path);
        return jute.decodeGetAllChildrenNumberResponse(r).totalNumber;
      },
    });
  }

  /** The identities this session is authenticated as (ZooKeeper 3.7+). */
  whoAmI(options: RequestOptions = {}): Promise<Array<{ scheme: string; user: string }>> {
    return this.submit({
      opCode: OpCode.whoAmI,
      path: undefined,
      writeBody: null,
      timeoutMs: options.timeoutMs,
      handle: (err, r) => {
        if (err !== 0) throw errorFromCode(err, undefined);
        return (jute.decodeWhoAmIResponse(r).clientInfo ?? []).map((info) => ({ scheme: info.authScheme ?? "", user: info.user ?? "" }));
      },
    });
  }

  /**
   * Runs the ops as one transaction. Resolves with one result per op; if any op fails nothing is
   * applied and it rejects with MultiError (`failedIndex`, `failure`, and the failing `code`).
   */
  multi(ops: readonly Op[], options: RequestOptions = {}): Promise<OpResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    if (ops.length > MULTI_OPS_MAX) throw new TypeError(`a multi carries at most ${MULTI_OPS_MAX} ops`);
    const wire = ops.map((op) => this.multiOp(op));
    return this.submit({
      opCode: OpCode.multi,
      path: ops[0].path,
      writeBody: (w) => encodeMultiRequest(w, { ops: wire }),
      timeoutMs: options.timeoutMs,
      handle: (err, r) => this.multiResults(ops, err, r),
    });
  }

  private multiOp(op: Op): MultiOp {
    switch (op.op) {
      case "create": {
        const mode = op.mode ?? "persistent";
        return createRequest(this.serverPath(op.path, isSequential(mode)), op.data, op).multi;
      }
      case "delete":
        return { type: OpCode.delete, request: { path: this.serverPath(op.path), version: checkVersion(op.version ?? -1) } };
      case "setData":
        return { type: OpCode.setData, request: { path: this.serverPath(op.path), data: toBytes(op.data), version: checkVersion(op.version ?? -1) } };
      case "check":
        return { type: OpCode.check, request: { path: this.serverPath(op.path), version: checkVersion(op.version) } };
    }
  }

  private multiResults(ops: readonly Op[], err: number, r: JuteReader): OpResult[] {
    if (err !== 0) throw errorFromCode(err, ops[0].path);
    const { results } = decodeMultiResponse(r);
    const failed = results.findIndex((result) => result.type === OpCode.error && result.err !== 0 && result.err !== ErrorCode.runtimeInconsistency);
    if (failed >= 0) {
      const code = (results[failed] as { err: number }).err;
      throw new MultiError(code, failed, errorFromCode(code, ops[failed]?.path));
    }
    if (results.length !== ops.length) throw errorFromCode(ErrorCode.marshallingError, ops[0].path);
    return results.map((result): OpResult => {
      switch (result.type) {
        case OpCode.create:
          return { op: "create", path: toClientPath(this.chroot, result.path ?? ""), stat: undefined };
        case OpCode.create2:
          return { op: "create", path: toClientPath(this.chroot, result.path ?? ""), stat: result.stat };
        case OpCode.delete:
          return { op: "delete" };
        case OpCode.setData:
          return { op: "setData", stat: result.stat };
        case OpCode.check:
          return { op: "check" };
        default:
          throw errorFromCode(ErrorCode.marshallingError, ops[0].path);
      }
    });
  }

  /**
   * A persistent watch (ZooKeeper 3.6+): fires on every change of `path` (and, recursive, of
   * every node below it, except NodeChildrenChanged) until removed. Survives reconnects.
   */
  addWatch(path: string, mode: "persistent" | "persistentRecursive", watcher: Watcher, options: RequestOptions = {}): Promise<void> {
    const request: jute.AddWatchRequest = { path: this.serverPath(path), mode: mode === "persistent" ? AddWatchMode.persistent : AddWatchMode.persistentRecursive };
    return this.submit({
      opCode: OpCode.addWatch,
      path,
      writeBody: (w) => jute.encodeAddWatchRequest(w, request),
      timeoutMs: options.timeoutMs,
      handle: (err) => {
        this.check(err, path);
        this.watches.add(mode, path, watcher);
      },
    });
  }

  /**
   * Removes watches of `type` at `path`: one listener, or all of that type when `watcher` is
   * omitted ("any" also removes persistent watches). The removed listeners get a
   * dataWatchRemoved / childWatchRemoved / persistentWatchRemoved event. NoWatcher if none matched.
   * The server is told only when no listener of that kind remains on the path.
   */
  async removeWatches(path: string, type: "data" | "children" | "any", watcher?: Watcher, options: RequestOptions = {}): Promise<void> {
    const kinds: WatchKind[] = type === "data" ? ["data", "exist"] : type === "children" ? ["child"] : ["data", "exist", "child", "persistent", "persistentRecursive"];
    const present = kinds.filter((kind) => this.watches.has(kind, path, watcher));
    if (present.length === 0) throw errorFromCode(ErrorCode.noWatcher, path);
    const request: jute.RemoveWatchesRequest = {
      path: this.serverPath(path),
      type: type === "data" ? WatcherType.data : type === "children" ? WatcherType.children : WatcherType.any,
    };
    const removed = present.map((kind) => ({ kind, watchers: this.watches.remove(kind, path, watcher) }));
    const noneLeft = present.every((kind) => !this.watches.has(kind, path));
    if (noneLeft) {
      await this.submit({
        opCode: OpCode.removeWatches,
        path,
        writeBody: (w) => jute.encodeRemoveWatchesRequest(w, request),
        timeoutMs: options.timeoutMs,
        handle: (err) => {
          // The server may already have dropped a one-shot watch that fired; locally it is gone.
          if (err !== 0 && err !== ErrorCode.noWatcher) this.check(err, path);
        },
      });
    }
    for (const { kind, watchers } of removed) {
      const eventType = kind === "child" ? "childWatchRemoved" : kind === "persistent" || kind === "persistentRecursive" ? "persistentWatchRemoved" : "dataWatchRemoved";
      this.deliver(watchers, { type: eventType, state: "syncConnected", path });
    }
  }
}
