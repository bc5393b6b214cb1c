// The coordination state machine's snapshot: a compact, deterministic binary image (same state →
// same bytes, on every replica), written as a stream of chunks so a large tree never needs one
// giant buffer while being produced.
//
// Layout (big-endian): "SZKS", u8 format, i64 lastZxid, bool extendedTypesEnabled, (format 2)
// session secret as i32 length (-1 none) + bytes; u32 session
// count + (i64 id, i32 timeoutMs, (format 3) u8 owner) sorted by id; u32 node count; then the nodes in pre-order with
// children sorted: name (root ""), u32 child count, data (i32 length, -1 null), u32 ACL index —
// when the index is new the ACL list follows inline (u32 entries × (i32 perms, scheme, id)), so
// ACLs are stored once, in order of first use — i64 czxid/mzxid/pzxid/ctime/mtime, i32
// version/cversion/aversion, u8 kind, i64 ephemeralOwner. Ephemeral sets, container/TTL indexes,
// descendant counts and ACL reference counts are rebuilt on restore.
import { assert } from "../util/assert.js";
import { ByteReader, ByteWriter, CoordDecodeError } from "./binary.js";
import { isValidPath, joinPath, parentPath } from "./path.js";
import { DataTree, childCount, type AclRef, type SnapshotFields, type Znode } from "./tree.js";
import { NodeKind, type Acl, type NodeKindValue } from "./types.js";

const MAGIC = [0x53, 0x5a, 0x4b, 0x53]; // "SZKS"
/** Format 2 added the session secret, format 3 each session's owner; older images still restore. */
const FORMAT = 3;
const CHUNK_BYTES = 64 * 1024;
const STRING_BYTES_MAX = 1024 * 1024 * 1024;
/** A session secret is 32 bytes; anything much longer is a corrupt image. */
export const SESSION_SECRET_BYTES_MAX = 1024;

export interface SnapshotMeta {
  lastZxid: bigint;
  extendedTypesEnabled: boolean;
  /** The cluster-wide key session passwords are derived from (null until the leader sets it). */
  sessionSecret: Uint8Array | null;
}

/**
 * Yields the snapshot in chunks of about 64 KiB. The tree must not change until the iteration
 * finishes (a synchronous caller); streamSnapshot() is the variant that allows changes.
 */
export function* writeSnapshot(tree: DataTree, meta: SnapshotMeta, chunkBytes = CHUNK_BYTES): Generator<Uint8Array> {
  const w = new ByteWriter(chunkBytes + 1024);
  const count = writeHeader(w, tree, meta);
  yield* writeNodes(w, tree, chunkBytes, count);
}

/**
 * The snapshot of the tree as it is now, produced chunk by chunk while the tree goes on changing
 * (copy-on-write, DataTree.beginCopyOnWrite): the header and sessions are written at once, the
 * nodes as the caller pulls. Gives the same bytes as writeSnapshot at the moment of the call.
 * Call close() if the stream is abandoned before its end (the tree then stops saving copies).
 */
export class SnapshotStream implements IterableIterator<Uint8Array> {
  private readonly chunks: Generator<Uint8Array>;
  private open = true;

  constructor(
    private readonly tree: DataTree,
    meta: SnapshotMeta,
    chunkBytes = CHUNK_BYTES,
  ) {
    const w = new ByteWriter(chunkBytes + 1024);
    const count = writeHeader(w, tree, meta);
    tree.beginCopyOnWrite();
    this.chunks = writeNodes(w, tree, chunkBytes, count);
  }

  next(): IteratorResult<Uint8Array> {
    if (!this.open) return { done: true, value: undefined };
    try {
      const result = this.chunks.next();
      if (result.done) this.close();
      return result;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.tree.endCopyOnWrite();
  }

  [Symbol.iterator](): IterableIterator<Uint8Array> {
    return this;
  }
}

/** Writes everything before the nodes; returns the node count it promised. */
function writeHeader(w: ByteWriter, tree: DataTree, meta: SnapshotMeta): number {
  for (const byte of MAGIC) w.u8(byte);
  w.u8(FORMAT);
  w.i64(meta.lastZxid);
  w.bool(meta.extendedTypesEnabled);
  w.bytesOrNull(meta.sessionSecret);
  const sessions = [...tree.sessions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  w.u32(sessions.length);
  for (const [id, session] of sessions) {
    w.i64(id);
    w.i32(session.timeoutMs);
    w.u8(session.owner);
  }
  w.u32(tree.nodes.size);
  return tree.nodes.size;
}

/** The nodes in pre-order, children sorted, each as tree.snapshotView shows it. */
function* writeNodes(w: ByteWriter, tree: DataTree, chunkBytes: number, count: number): Generator<Uint8Array> {
  let written = 0;
  const aclIndex = new Map<AclRef, number>();
  // Pre-order walk with an explicit stack (no recursion): children pushed in reverse sorted order.
  const stack: Array<{ path: string; name: string }> = [{ path: "/", name: "" }];
  while (stack.length > 0) {
    const { path, name } = stack.pop()!;
    const view = tree.snapshotView(path);
    // The fields are written before any yield: a live node's fields may change at a yield.
    w.string(name);
    w.u32(view.childNames.length);
    writeNode(w, view.fields, aclIndex);
    const children = view.sorted ? view.childNames : yield* sortInSlices(view.childNames);
    written++;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ path: joinPath(path, children[i]), name: children[i] });
    if (w.length >= chunkBytes) yield w.takeChunk();
  }
  assert(written === count, `snapshot walk wrote ${written} nodes of ${count}`);
  if (w.length > 0) yield w.takeChunk();
}

const NO_BYTES = new Uint8Array(0);
/** Names sorted per block between yields, then merged pairwise, one merge per yield. */
const SORT_BLOCK = 16 * 1024;

/**
 * Sorts a long child list (UTF-16 code-unit order, as DataTree.sortedChildren) in steps, yielding
 * an empty chunk after each so that a streaming reader can let the event loop run in between.
 */
function* sortInSlices(names: readonly string[]): Generator<Uint8Array, readonly string[]> {
  let runs: string[][] = [];
  for (let i = 0; i < names.length; i += SORT_BLOCK) {
    runs.push(names.slice(i, i + SORT_BLOCK).sort());
    yield NO_BYTES;
  }
  while (runs.length > 1) {
    const merged: string[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      merged.push(i + 1 < runs.length ? mergeSorted(runs[i], runs[i + 1]) : runs[i]);
      yield NO_BYTES;
    }
    runs = merged;
  }
  return runs[0] ?? [];
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = b[j] < a[i] ? b[j++] : a[i++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

function writeNode(w: ByteWriter, node: SnapshotFields, aclIndex: Map<AclRef, number>): void {
  w.bytesOrNull(node.data);
  const known = aclIndex.get(node.aclRef);
  if (known !== undefined) {
    w.u32(known);
  } else {
    const index = aclIndex.size;
    aclIndex.set(node.aclRef, index);
    w.u32(index);
    w.u32(node.aclRef.acl.length);
    for (const entry of node.aclRef.acl) {
      w.i32(entry.perms);
      w.string(entry.id.scheme);
      w.string(entry.id.id);
    }
  }
  w.i64(node.czxid);
  w.i64(node.mzxid);
  w.i64(node.pzxid);
  w.i64(node.ctime);
  w.i64(node.mtime);
  w.i32(node.version);
  w.i32(node.cversion);
  w.i32(node.aversion);
  w.u8(node.kind);
  w.i64(node.ephemeralOwner);
}

function readAclList(r: ByteReader): Acl[] {
  const count = r.count(12, 1 << 20, "ACL entry");
  const acl: Acl[] = [];
  for (let i = 0; i < count; i++) {
    const perms = r.i32();
    const scheme = r.string(STRING_BYTES_MAX);
    acl.push({ perms, id: { scheme, id: r.string(STRING_BYTES_MAX) } });
  }
  return acl;
}

function readKind(r: ByteReader): NodeKindValue {
  const at = r.position;
  const kind = r.u8();
  if (kind !== NodeKind.persistent && kind !== NodeKind.ephemeral && kind !== NodeKind.container && kind !== NodeKind.ttl) {
    throw new CoordDecodeError(`bad node kind ${kind}`, at);
  }
  return kind;
}

function readNode(r: ByteReader, tree: DataTree, acls: Acl[][]): Znode {
  const data = r.bytesOrNull(STRING_BYTES_MAX);
  const indexAt = r.position;
  const index = r.u32();
  if (index === acls.length) acls.push(readAclList(r));
  else if (index > acls.length) throw new CoordDecodeError(`ACL index ${index} before its definition`, indexAt);
  const node: Znode = {
    data,
    aclRef: tree.acls.intern(acls[index]),
    czxid: r.i64(),
    mzxid: r.i64(),
    pzxid: r.i64(),
    ctime: r.i64(),
    mtime: r.i64(),
    version: r.i32(),
    cversion: r.i32(),
    aversion: r.i32(),
    kind: readKind(r),
    ephemeralOwner: r.i64(),
    children: null,
    sortedChildren: undefined,
    descendants: 0,
  };
  return node;
}

/** Rebuilds the tree from a snapshot; CoordDecodeError if the image is malformed or inconsistent. */
export function readSnapshot(bytes: Uint8Array): SnapshotMeta & { tree: DataTree } {
  const r = new ByteReader(bytes);
  for (const byte of MAGIC) if (r.u8() !== byte) throw new CoordDecodeError("not a coordination snapshot", 0);
  const format = r.u8();
  if (format !== FORMAT && format !== 1 && format !== 2) throw new CoordDecodeError(`unknown snapshot format ${format}`, 4);
  const lastZxid = r.i64();
  const extendedTypesEnabled = r.bool();
  const sessionSecret = format >= 2 ? r.bytesOrNull(SESSION_SECRET_BYTES_MAX) : null;
  const tree = new DataTree();
  const sessionCount = r.count(12, Number.MAX_SAFE_INTEGER, "session");
  for (let i = 0; i < sessionCount; i++) {
    const at = r.position;
    const id = r.i64();
    const timeoutMs = r.i32();
    const owner = format >= 3 ? r.u8() : 0;
    if (tree.sessions.has(id)) throw new CoordDecodeError(`duplicate session ${id}`, at);
    tree.sessions.set(id, { timeoutMs, ephemerals: new Set(), owner });
  }
  const nodeCount = r.count(60, Number.MAX_SAFE_INTEGER, "node");
  if (nodeCount === 0) throw new CoordDecodeError("snapshot without a root", r.position);
  const acls: Acl[][] = [];
  // Each open directory: its path and how many of its children are still to come.
  const open: Array<{ path: string; left: number }> = [];
  const preorder: string[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const at = r.position;
    const name = r.string(STRING_BYTES_MAX);
    const childCount = r.u32();
    while (open.length > 0 && open[open.length - 1].left === 0) open.pop();
    const path = i === 0 ? "/" : open.length > 0 ? joinPath(open[open.length - 1].path, name) : undefined;
    if (path === undefined || (i === 0) !== (name === "") || name.includes("/") || !isValidPath(path) || tree.nodes.has(path)) {
      throw new CoordDecodeError(`bad node name ${JSON.stringify(name)}`, at);
    }
    const node = readNode(r, tree, acls);
    if (node.kind === NodeKind.ephemeral && !tree.sessions.has(node.ephemeralOwner)) {
      throw new CoordDecodeError(`ephemeral ${path} owned by unknown session ${node.ephemeralOwner}`, at);
    }
    if (i > 0) open[open.length - 1].left--;
    tree.attach(path, node, false);
    preorder.push(path);
    open.push({ path, left: childCount });
  }
  for (const entry of open) if (entry.left !== 0) throw new CoordDecodeError("snapshot ends inside a directory", r.position);
  r.expectEnd("snapshot");
  // Descendant counts in one pass: in reverse pre-order every node is complete before its parent.
  for (let i = preorder.length - 1; i > 0; i--) {
    const node = tree.nodes.get(preorder[i])!;
    tree.nodes.get(parentPath(preorder[i]))!.descendants += 1 + node.descendants;
  }
  // ZooKeeper never lets an ephemeral have children; an image that says otherwise is corrupt.
  for (const [path, node] of tree.nodes) {
    if (node.kind === NodeKind.ephemeral && childCount(node) > 0) throw new CoordDecodeError(`ephemeral ${path} has children`, r.position);
  }
  return { tree, lastZxid, extendedTypesEnabled, sessionSecret };
}
