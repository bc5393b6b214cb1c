// Commands of the coordination group: what a ZooKeeper front-end proposes and every replica
// applies. A command carries everything that is not deterministic — the leader-stamped wall time,
// the session, the identities of the requesting connection (ACLs are checked at apply time, so a
// concurrent setACL cannot race a check done earlier) — plus the requested op(s). The binary
// codec is compact and bounded; decoding is a trust boundary like any other (CoordDecodeError),
// because a replica must survive a corrupt entry deterministically rather than crash-loop.
//
// Layout (big-endian): u8 format, u8 kind, u64 wallTimeMs, i64 sessionId, u32 owner (format 2),
// u32 identity count + (scheme, id) strings, then the kind's payload. Strings are u32 length +
// UTF-8, data is i32 length (-1 = null) + bytes. Format 2 added `owner`, the node serving the
// session's connection (SessionMoved); format 1 commands (in logs written before) read owner 0.
import { assert } from "../util/assert.js";
import { ByteReader, ByteWriter, CoordDecodeError } from "./binary.js";
import type { Acl, Identity } from "./types.js";

const FORMAT = 2;
const FORMAT_WITHOUT_OWNER = 1;

/** Op codes of the write ops a command can carry: ZooKeeper's own numbers (`ZooDefs.OpCode`). */
export const CoordOp = {
  create: 1,
  delete: 2,
  setData: 5,
  setACL: 7,
  check: 13,
  create2: 15,
  createContainer: 19,
  createTTL: 21,
} as const;
export type CoordOpCode = (typeof CoordOp)[keyof typeof CoordOp];
export type CreateOpCode = typeof CoordOp.create | typeof CoordOp.create2 | typeof CoordOp.createContainer | typeof CoordOp.createTTL;

/** A write op. `flags` are ZooKeeper's create flags 0–6; `ttl` is -1 unless the op is createTTL (asserted when encoding). */
export type WriteOp =
  | { type: CreateOpCode; path: string; data: Uint8Array | null; acl: Acl[]; flags: number; ttl: bigint }
  | { type: typeof CoordOp.delete; path: string; version: number }
  | { type: typeof CoordOp.setData; path: string; data: Uint8Array | null; version: number }
  | { type: typeof CoordOp.setACL; path: string; acl: Acl[]; version: number }
  | { type: typeof CoordOp.check; path: string; version: number };

/** The op kinds allowed inside a multi (as in ZooKeeper: no setACL). */
export type MultiWriteOp = Exclude<WriteOp, { type: typeof CoordOp.setACL }>;

export type CommandBody =
  /** One write op (create*, delete, setData, setACL, or a stand-alone check). */
  | { kind: "op"; op: WriteOp }
  /** All-or-nothing ops sharing one zxid. */
  | { kind: "multi"; ops: MultiWriteOp[] }
  /** Registers `sessionId` (chosen by the proposer) with its negotiated timeout. */
  | { kind: "createSession"; timeoutMs: number }
  /** Closes `sessionId`: its ephemerals go atomically, in this command's zxid. */
  | { kind: "closeSession" }
  /** Leader's container/TTL cleanup: deletes each path whose expiry condition still holds at apply time. */
  | { kind: "expire"; paths: string[]; containerNeverUsedMsMax: number }
  /** A barrier for sync(): applies nothing, answers when everything before it has applied. */
  | { kind: "sync" }
  /**
   * The session's connection moved to the node in the command's `owner`: from now on, writes
   * from any other node's (stale) connection of the session fail with SessionMoved.
   */
  | { kind: "moveSession" }
  /**
   * Sets the cluster-wide session secret (session passwords are an HMAC of the session id under
   * it, so any node can check a reconnecting client). The first one applied wins; later ones are
   * no-ops, so two leaders racing to set it agree on one value.
   */
  | { kind: "setSecret"; secret: Uint8Array };

export interface Command {
  /** Wall-clock ms stamped by the proposing leader: ctime/mtime and expiry decisions. */
  wallTimeMs: number;
  /** The requesting session; 0n for system commands (expire). */
  sessionId: bigint;
  /**
   * The node serving the session's connection (1..254), checked against the session's owner;
   * 0 (or absent) for commands that belong to no connection (expiry, leader housekeeping).
   */
  owner?: number;
  /** The connection's identities: ("ip", addr) always, plus digest/super ids from addAuth. */
  identities: Identity[];
  body: CommandBody;
}

/** Decoding limits. The command's own size (bounded by the Paxos entry limit) bounds everything; these are sanity caps on counts. */
export const COMMAND_LIMITS = {
  identitiesMax: 1024,
  aclEntriesMax: 65_536,
  multiOpsMax: 1_000_000,
  expirePathsMax: 1_000_000,
  stringBytesMax: 64 * 1024 * 1024,
  dataBytesMax: 1024 * 1024 * 1024,
} as const;

const scratch = new ByteWriter(4096);

const KIND_CODES = { op: 1, multi: 2, createSession: 3, closeSession: 4, expire: 5, sync: 6, setSecret: 7, moveSession: 8 } as const;
/** A node id fits a session id's top byte. */
const OWNER_MAX = 255;
/** Longest session secret a command may carry. */
const SECRET_BYTES_MAX = 1024;

function writeAcl(w: ByteWriter, acl: readonly Acl[]): void {
  w.u32(acl.length);
  for (const entry of acl) {
    w.i32(entry.perms);
    w.string(entry.id.scheme);
    w.string(entry.id.id);
  }
}

function readAcl(r: ByteReader): Acl[] {
  const count = r.count(12, COMMAND_LIMITS.aclEntriesMax, "ACL");
  const acl: Acl[] = [];
  for (let i = 0; i < count; i++) {
    const perms = r.i32();
    const scheme = r.string(COMMAND_LIMITS.stringBytesMax);
    const id = r.string(COMMAND_LIMITS.stringBytesMax);
    acl.push({ perms, id: { scheme, id } });
  }
  return acl;
}

function writeOp(w: ByteWriter, op: WriteOp): void {
  w.u8(op.type);
  w.string(op.path);
  switch (op.type) {
    case CoordOp.create:
    case CoordOp.create2:
    case CoordOp.createContainer:
    case CoordOp.createTTL:
      w.bytesOrNull(op.data);
      writeAcl(w, op.acl);
      w.i32(op.flags);
      // Only createTTL carries a ttl; the other creates have -1 implicitly.
      if (op.type === CoordOp.createTTL) w.i64(op.ttl);
      else assert(op.ttl === -1n, "only createTTL carries a ttl");
      break;
    case CoordOp.delete:
    case CoordOp.check:
      w.i32(op.version);
      break;
    case CoordOp.setData:
      w.bytesOrNull(op.data);
      w.i32(op.version);
      break;
    case CoordOp.setACL:
      writeAcl(w, op.acl);
      w.i32(op.version);
      break;
  }
}

function readOp(r: ByteReader): WriteOp {
  const at = r.position;
  const type = r.u8();
  const path = r.string(COMMAND_LIMITS.stringBytesMax);
  switch (type) {
    case CoordOp.create:
    case CoordOp.create2:
    case CoordOp.createContainer:
    case CoordOp.createTTL: {
      const data = r.bytesOrNull(COMMAND_LIMITS.dataBytesMax);
      const acl = readAcl(r);
      const flags = r.i32();
      const ttl = type === CoordOp.createTTL ? r.i64() : -1n;
      return { type, path, data, acl, flags, ttl };
    }
    case CoordOp.delete:
    case CoordOp.check:
      return { type, path, version: r.i32() };
    case CoordOp.setData: {
      const data = r.bytesOrNull(COMMAND_LIMITS.dataBytesMax);
      return { type, path, data, version: r.i32() };
    }
    case CoordOp.setACL: {
      const acl = readAcl(r);
      return { type, path, acl, version: r.i32() };
    }
    default:
      throw new CoordDecodeError(`unknown op type ${type}`, at);
  }
}

/**
 * Encodes a command. `allocate` makes the output array (default: a fresh Uint8Array); the
 * ZooKeeper front-end can pass Buffer.allocUnsafe, since commands are short-lived.
 */
export function encodeCommand(command: Command, allocate?: (size: number) => Uint8Array): Uint8Array {
  assert(command.identities.length <= COMMAND_LIMITS.identitiesMax, "too many identities for one command");
  // One scratch writer for all encodes (encoding is synchronous and not re-entrant); the result is
  // an exactly-sized copy, so the scratch buffer is never shared with a caller.
  const w = scratch;
  w.reset();
  w.u8(FORMAT);
  w.u8(KIND_CODES[command.body.kind]);
  w.safeInt(command.wallTimeMs);
  w.i64(command.sessionId);
  const owner = command.owner ?? 0;
  assert(Number.isInteger(owner) && owner >= 0 && owner <= OWNER_MAX, `command owner ${owner}`);
  w.u32(owner);
  w.u32(command.identities.length);
  for (const identity of command.identities) {
    w.string(identity.scheme);
    w.string(identity.id);
  }
  const body = command.body;
  switch (body.kind) {
    case "op":
      writeOp(w, body.op);
      break;
    case "multi":
      assert(body.ops.length <= COMMAND_LIMITS.multiOpsMax, "too many ops for one multi");
      w.u32(body.ops.length);
      for (const op of body.ops) {
        assert((op as WriteOp).type !== CoordOp.setACL, "setACL is not allowed in a multi");
        writeOp(w, op);
      }
      break;
    case "createSession":
      w.i32(body.timeoutMs);
      break;
    case "expire":
      assert(body.paths.length <= COMMAND_LIMITS.expirePathsMax, "too many paths for one expire command");
      w.u32(body.paths.length);
      for (const path of body.paths) w.string(path);
      w.safeInt(body.containerNeverUsedMsMax);
      break;
    case "setSecret":
      assert(body.secret.length > 0 && body.secret.length <= SECRET_BYTES_MAX, "session secret length");
      w.bytesOrNull(body.secret);
      break;
    case "closeSession":
    case "sync":
    case "moveSession":
      break;
  }
  return w.finish(allocate);
}

function readBody(r: ByteReader, kind: number, at: number): CommandBody {
  switch (kind) {
    case KIND_CODES.op:
      return { kind: "op", op: readOp(r) };
    case KIND_CODES.multi: {
      const count = r.count(9, COMMAND_LIMITS.multiOpsMax, "multi op");
      const ops: MultiWriteOp[] = [];
      for (let i = 0; i < count; i++) {
        const opAt = r.position;
        const op = readOp(r);
        if (op.type === CoordOp.setACL) throw new CoordDecodeError("setACL inside a multi", opAt);
        ops.push(op);
      }
      return { kind: "multi", ops };
    }
    case KIND_CODES.createSession:
      return { kind: "createSession", timeoutMs: r.i32() };
    case KIND_CODES.closeSession:
      return { kind: "closeSession" };
    case KIND_CODES.expire: {
      const count = r.count(4, COMMAND_LIMITS.expirePathsMax, "expire path");
      const paths: string[] = [];
      for (let i = 0; i < count; i++) paths.push(r.string(COMMAND_LIMITS.stringBytesMax));
      return { kind: "expire", paths, containerNeverUsedMsMax: r.safeInt() };
    }
    case KIND_CODES.sync:
      return { kind: "sync" };
    case KIND_CODES.moveSession:
      return { kind: "moveSession" };
    case KIND_CODES.setSecret: {
      const secretAt = r.position;
      const secret = r.bytesOrNull(SECRET_BYTES_MAX);
      if (secret === null || secret.length === 0) throw new CoordDecodeError("empty session secret", secretAt);
      return { kind: "setSecret", secret };
    }
    default:
      throw new CoordDecodeError(`unknown command kind ${kind}`, at);
  }
}

/** Decodes a command; CoordDecodeError on anything malformed (including trailing bytes). */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(bytes);
  const format = r.u8();
  if (format !== FORMAT && format !== FORMAT_WITHOUT_OWNER) throw new CoordDecodeError(`unknown command format ${format}`, 0);
  const kindAt = r.position;
  const kind = r.u8();
  const wallTimeMs = r.safeInt();
  const sessionId = r.i64();
  const ownerAt = r.position;
  const owner = format === FORMAT ? r.u32() : 0;
  if (owner > OWNER_MAX) throw new CoordDecodeError(`command owner ${owner} is not a node id`, ownerAt);
  const identityCount = r.count(8, COMMAND_LIMITS.identitiesMax, "identity");
  const identities: Identity[] = [];
  for (let i = 0; i < identityCount; i++) {
    const scheme = r.string(COMMAND_LIMITS.stringBytesMax);
    const id = r.string(COMMAND_LIMITS.stringBytesMax);
    identities.push({ scheme, id });
  }
  const body = readBody(r, kind, kindAt);
  r.expectEnd("command");
  return { wallTimeMs, sessionId, owner, identities, body };
}

const KIND_NAMES = new Map<number, CommandBody["kind"]>(Object.entries(KIND_CODES).map(([name, code]) => [code, name as CommandBody["kind"]]));

/**
 * The kind and session of an encoded command without decoding the rest (the front-end uses it
 * after apply, e.g. to close the connection of a session that a closeSession just removed).
 * Undefined when the bytes are too short or of another format.
 */
export function peekCommand(bytes: Uint8Array): { kind: CommandBody["kind"]; sessionId: bigint; owner: number } | undefined {
  const format = bytes[0];
  if (bytes.length < 18 || (format !== FORMAT && format !== FORMAT_WITHOUT_OWNER) || (format === FORMAT && bytes.length < 22)) return undefined;
  const kind = KIND_NAMES.get(bytes[1]);
  if (kind === undefined) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { kind, sessionId: view.getBigInt64(10), owner: format === FORMAT ? view.getUint32(18) : 0 };
}

/** Where the wall time sits in an encoded command: 8 bytes after the format and kind bytes. */
export const WALL_TIME_OFFSET = 2;

/**
 * A copy of an encoded command with its wall time replaced: the coordination leader stamps its
 * own time on a command a follower forwarded (ctime, mtime and TTL decisions then come from one
 * clock, as in ZooKeeper, where the leader stamps every txn). Undefined if the bytes are not a
 * command of this format (the leader then proposes them unchanged; apply rejects them anyway).
 */
export function withWallTime(bytes: Uint8Array, wallTimeMs: number): Uint8Array | undefined {
  if (peekCommand(bytes) === undefined || !(Number.isSafeInteger(wallTimeMs) && wallTimeMs >= 0)) return undefined;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  view.setUint32(WALL_TIME_OFFSET, Math.floor(wallTimeMs / 0x100000000));
  view.setUint32(WALL_TIME_OFFSET + 4, wallTimeMs >>> 0);
  return copy;
}

