// Value types shared by the coordination state machine, its commands and its readers. Field names
// and types match the generated jute records (Stat, ACL, Id), so the ZooKeeper front-end can pass
// these values straight to its encoders; 64-bit fields are bigints, as on the wire.

/** An authenticated identity of a connection, or an ACL's subject: ("digest", "user:hash"), ("ip", "10.0.0.1"), ("super", ""), ("world", "anyone"). */
export interface Identity {
  readonly scheme: string;
  readonly id: string;
}

export interface Acl {
  readonly perms: number;
  readonly id: Identity;
}

/** The Stat clients see (ZooKeeper's `Stat`, 68 bytes on the wire). */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

/** ACL permission bits. */
export const Perm = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/** Node kinds, from the create flags; stored explicitly (ZooKeeper encodes them in ephemeralOwner). */
export const NodeKind = { persistent: 0, ephemeral: 1, container: 2, ttl: 3 } as const;
export type NodeKindValue = (typeof NodeKind)[keyof typeof NodeKind];

/** Watch event types a state change triggers (`Watcher.Event.EventType`). */
export const WatchEventType = { nodeCreated: 1, nodeDeleted: 2, nodeDataChanged: 3, nodeChildrenChanged: 4 } as const;
export type WatchEventTypeValue = (typeof WatchEventType)[keyof typeof WatchEventType];

/**
 * One change a command made, in apply order, for watch delivery on every server. `acl` is the ACL
 * ZooKeeper checks READ against before delivering (the node's; the parent's for
 * NodeChildrenChanged); it is the state machine's frozen, shared array — do not mutate it.
 */
export interface WatchEvent {
  readonly type: WatchEventTypeValue;
  readonly path: string;
  readonly zxid: bigint;
  readonly acl: readonly Acl[];
}

/** ZooKeeper's fixed ACLs (`ZooDefs.Ids`). */
export const OPEN_ACL_UNSAFE: readonly Acl[] = Object.freeze([Object.freeze({ perms: Perm.all, id: Object.freeze({ scheme: "world", id: "anyone" }) })]);
export const READ_ACL_UNSAFE: readonly Acl[] = Object.freeze([Object.freeze({ perms: Perm.read, id: Object.freeze({ scheme: "world", id: "anyone" }) })]);
