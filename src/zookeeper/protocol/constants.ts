// ZooKeeper wire constants (3.8 `ZooDefs`, `Watcher.Event`, `ClientCnxn`), named once for the
// codecs, the connection handler and the tests. Values are checked against the research notes
// (../shared/notes/zookeeper-protocol.md §1.3–1.6) and the 3.8 sources.

/** Request/transaction types (`ZooDefs.OpCode`). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCodeName = keyof typeof OpCode;
export type OpCodeValue = (typeof OpCode)[OpCodeName];

const OP_NAMES = new Map<number, OpCodeName>(Object.entries(OpCode).map(([name, code]) => [code, name as OpCodeName]));

/** The op's name for logs and metrics, or `op<N>` for an unknown code. */
export function opName(code: number): string {
  return OP_NAMES.get(code) ?? `op${code}`;
}

/** Special request/reply xids (`ClientCnxn`): they mark frames that are not ordinary replies. */
export const Xid = {
  /** Server → client watch notification: ReplyHeader(-1, -1 in 3.8, 0) + WatcherEvent. */
  notification: -1,
  /** Ping: request type 11, reply ReplyHeader(-2, lastZxid, 0). */
  ping: -2,
  /** AuthPacket (type 100); reply (-4, 0, 0 | AuthFailed). */
  auth: -4,
  /** SetWatches / SetWatches2 replay after a reconnect. */
  setWatches: -8,
} as const;

/** `Watcher.Event.EventType`. */
export const EventType = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
} as const;

/** `Watcher.Event.KeeperState` (the `state` of a WatcherEvent). */
export const KeeperState = {
  disconnected: 0,
  syncConnected: 3,
  authFailed: 4,
  connectedReadOnly: 5,
  saslAuthenticated: 6,
  closed: 7,
  expired: -112,
} as const;

/** ACL permission bits (`ZooDefs.Perms`). */
export const Perms = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/** Create flags (`CreateMode.fromFlag`). */
export const CreateFlag = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;

/** addWatch modes (`ZooDefs.AddWatchModes`). */
export const AddWatchMode = { persistent: 0, persistentRecursive: 1 } as const;

/** checkWatches/removeWatches `type` (`Watcher.WatcherType`; 4 and 5 arrived after 3.8). */
export const WatcherType = { children: 1, data: 2, any: 3, persistent: 4, persistentRecursive: 5 } as const;

/** `jute.maxbuffer`'s default: the largest frame the server accepts (1 MiB − 1). */
export const PACKET_BYTES_MAX_DEFAULT = 0xfffff;
