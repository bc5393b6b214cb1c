// Watch bookkeeping for one server: which of its connections watch which paths, and, given the
// events a command produced, which connection gets which notification. Not replicated (watches
// live on the server a connection is attached to) but pure and deterministic, so the simulator and
// the tests drive it directly.
//
// Semantics are ZooKeeper's server WatchManager as of 3.9 (ZOOKEEPER-4466/4471, a superset of
// 3.8 that lets one connection hold a standard and a persistent watch on the same path): two
// tables, data watches (getData/exists, persistent, persistent-recursive) and child watches
// (getChildren, persistent); per (connection, path, table) a set of modes. An event fires the
// exact path's watchers of every mode — standard ones are removed (one-shot) — and, walking up,
// the ancestors' persistent-recursive watchers; recursive watches live only in the data table,
// so they never see NodeChildrenChanged. A delete fires NodeDeleted from the data table and the
// child table, once per connection. Delivery is filtered by READ permission on the event's ACL
// (the watch is consumed either way), as ServerCnxn.process does.
import { assert } from "../util/assert.js";
import { parentPath } from "./path.js";
import { WatchEventType, type Acl, type WatchEvent, type WatchEventTypeValue } from "./types.js";

/** A server-local connection handle chosen by the front-end. */
export type ConnectionId = number;

/** Watch modes as bits, as ZooKeeper's WatchStats. */
const STANDARD = 1;
const PERSISTENT = 2;
const RECURSIVE = 4;
const NO_NOTIFICATIONS: readonly Notification[] = [];

/** checkWatches/removeWatches types (`Watcher.WatcherType`). */
export const WatcherKind = { children: 1, data: 2, any: 3, persistent: 4, persistentRecursive: 5 } as const;

export interface Notification {
  connection: ConnectionId;
  type: WatchEventTypeValue;
  path: string;
  /** The change's zxid (-1 for SetWatches replays). ZooKeeper 3.8 puts -1 in the reply header regardless. */
  zxid: bigint;
}

class WatchTable {
  private readonly byPath = new Map<string, Map<ConnectionId, number>>();
  private readonly byConnection = new Map<ConnectionId, Map<string, number>>();
  private recursive = 0;

  /** Adds a mode; returns whether a (connection, path) entry was created. */
  add(connection: ConnectionId, path: string, mode: number): { created: boolean } {
    let watchers = this.byPath.get(path);
    if (!watchers) this.byPath.set(path, (watchers = new Map()));
    let paths = this.byConnection.get(connection);
    if (!paths) this.byConnection.set(connection, (paths = new Map()));
    const before = paths.get(path) ?? 0;
    const after = before | mode;
    if ((after & RECURSIVE) !== 0 && (before & RECURSIVE) === 0) this.recursive++;
    paths.set(path, after);
    watchers.set(connection, after);
    return { created: before === 0 };
  }

  has(connection: ConnectionId, path: string, mode: number | undefined): boolean {
    const flags = this.byConnection.get(connection)?.get(path) ?? 0;
    return mode === undefined ? flags !== 0 : (flags & mode) !== 0;
  }

  /** Removes one mode (or all with undefined); returns [changed, entryRemoved]. */
  remove(connection: ConnectionId, path: string, mode: number | undefined): { changed: boolean; removed: boolean } {
    const paths = this.byConnection.get(connection);
    const before = paths?.get(path) ?? 0;
    const after = mode === undefined ? 0 : before & ~mode;
    if (before === after) return { changed: false, removed: false };
    this.setFlags(connection, path, before, after);
    return { changed: true, removed: after === 0 };
  }

  private setFlags(connection: ConnectionId, path: string, before: number, after: number): void {
    if ((before & RECURSIVE) !== 0 && (after & RECURSIVE) === 0) this.recursive--;
    const paths = this.byConnection.get(connection)!;
    const watchers = this.byPath.get(path)!;
    if (after === 0) {
      paths.delete(path);
      if (paths.size === 0) this.byConnection.delete(connection);
      watchers.delete(connection);
      if (watchers.size === 0) this.byPath.delete(path);
    } else {
      paths.set(path, after);
      watchers.set(connection, after);
    }
  }

  get empty(): boolean {
    return this.byPath.size === 0;
  }

  /** Fires watchers for `path` into `fired` (insertion-ordered); calls `emptied` for each entry a one-shot watch leaves empty. */
  trigger(path: string, fired: Set<ConnectionId>, emptied: (connection: ConnectionId) => void): void {
    let local = path;
    for (;;) {
      const watchers = this.byPath.get(local);
      if (watchers) {
        for (const [connection, flags] of watchers) {
          if (local === path) {
            fired.add(connection);
            if ((flags & STANDARD) !== 0) {
              this.setFlags(connection, local, flags, flags & ~STANDARD);
              if ((flags & ~STANDARD) === 0) emptied(connection);
            }
          } else if ((flags & RECURSIVE) !== 0) {
            fired.add(connection);
          }
        }
      }
      // Only recursive watches look at ancestors; skip the walk when there are none.
      if (this.recursive === 0 || local === "/") break;
      local = parentPath(local);
    }
  }

  /** Drops every watch of a connection; returns how many (path) entries it had. */
  removeConnection(connection: ConnectionId): number {
    const paths = this.byConnection.get(connection);
    if (!paths) return 0;
    const count = paths.size;
    for (const [path, flags] of [...paths]) this.setFlags(connection, path, flags, 0);
    return count;
  }

  pathsOf(connection: ConnectionId): string[] {
    return [...(this.byConnection.get(connection)?.keys() ?? [])];
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  get entryCount(): number {
    let total = 0;
    for (const paths of this.byConnection.values()) total += paths.size;
    return total;
  }
}

export interface WatchManagerOptions {
  /**
   * Most (path, table) watch entries one connection may hold; beyond it add* returns false and
   * the front-end decides (ZooKeeper has no limit; a client that watches a million paths costs
   * memory on every server it talks to). Default 1,000,000.
   */
  watchesPerConnectionMax?: number;
}

/** Node state SetWatches needs: whether the node exists, and its mzxid and pzxid. */
export type WatchedNodeLookup = (path: string) => { mzxid: bigint; pzxid: bigint } | undefined;

export interface SetWatchesLists {
  dataWatches: readonly string[];
  existWatches: readonly string[];
  childWatches: readonly string[];
  persistentWatches?: readonly string[];
  persistentRecursiveWatches?: readonly string[];
}

export class WatchManager {
  private readonly dataTable = new WatchTable();
  private readonly childTable = new WatchTable();
  private readonly entries = new Map<ConnectionId, number>();
  readonly watchesPerConnectionMax: number;

  constructor(options: WatchManagerOptions = {}) {
    this.watchesPerConnectionMax = options.watchesPerConnectionMax ?? 1_000_000;
    assert(this.watchesPerConnectionMax > 0, "watchesPerConnectionMax must be positive");
  }

  private room(connection: ConnectionId, needed: number): boolean {
    return (this.entries.get(connection) ?? 0) + needed <= this.watchesPerConnectionMax;
  }

  private count(connection: ConnectionId, delta: number): void {
    const next = (this.entries.get(connection) ?? 0) + delta;
    assert(next >= 0, "watch entry count underflow");
    if (next === 0) this.entries.delete(connection);
    else this.entries.set(connection, next);
  }

  private addTo(table: WatchTable, connection: ConnectionId, path: string, mode: number): void {
    if (table.add(connection, path, mode).created) this.count(connection, 1);
  }

  /** A one-shot data watch (getData on an existing node; exists, whether or not the node exists). */
  addDataWatch(connection: ConnectionId, path: string): boolean {
    if (!this.room(connection, 1)) return false;
    this.addTo(this.dataTable, connection, path, STANDARD);
    return true;
  }

  /** A one-shot child watch (getChildren/getChildren2 on an existing node). */
  addChildWatch(connection: ConnectionId, path: string): boolean {
    if (!this.room(connection, 1)) return false;
    this.addTo(this.childTable, connection, path, STANDARD);
    return true;
  }

  /** addWatch: PERSISTENT watches data and children of the path; PERSISTENT_RECURSIVE data events of the subtree. */
  addPersistentWatch(connection: ConnectionId, path: string, recursive: boolean): boolean {
    if (!this.room(connection, recursive ? 1 : 2)) return false;
    if (recursive) {
      this.addTo(this.dataTable, connection, path, RECURSIVE);
    } else {
      this.addTo(this.childTable, connection, path, PERSISTENT);
      this.addTo(this.dataTable, connection, path, PERSISTENT);
    }
    return true;
  }

  /**
   * The notifications `events` trigger, in event order; at most one per connection per event.
   * `canRead(connection, acl)` filters delivery (ZooKeeper checks READ on the node's ACL).
   */
  trigger(events: readonly WatchEvent[], canRead: (connection: ConnectionId, acl: readonly Acl[]) => boolean): readonly Notification[] {
    // Most writes change nodes nobody watches: no work and no allocation then.
    if (this.dataTable.empty && this.childTable.empty) return NO_NOTIFICATIONS;
    const out: Notification[] = [];
    const emptied = (connection: ConnectionId): void => this.count(connection, -1);
    for (const event of events) {
      const fired = new Set<ConnectionId>();
      switch (event.type) {
        case WatchEventType.nodeCreated:
        case WatchEventType.nodeDataChanged:
          this.dataTable.trigger(event.path, fired, emptied);
          break;
        case WatchEventType.nodeDeleted:
          this.dataTable.trigger(event.path, fired, emptied);
          this.childTable.trigger(event.path, fired, emptied);
          break;
        case WatchEventType.nodeChildrenChanged:
          this.childTable.trigger(event.path, fired, emptied);
          break;
      }
      for (const connection of fired) {
        if (canRead(connection, event.acl)) out.push({ connection, type: event.type, path: event.path, zxid: event.zxid });
      }
    }
    return out;
  }

  /** Forgets a closed connection's watches. */
  removeConnection(connection: ConnectionId): void {
    this.dataTable.removeConnection(connection);
    this.childTable.removeConnection(connection);
    this.entries.delete(connection);
  }

  /** checkWatches (op 17): is there such a watch? False also for an unknown type (the reply is NoWatcher). */
  checkWatches(connection: ConnectionId, path: string, type: number): boolean {
    switch (type) {
      case WatcherKind.children:
        return this.childTable.has(connection, path, STANDARD);
      case WatcherKind.data:
        return this.dataTable.has(connection, path, STANDARD);
      case WatcherKind.persistent:
        return this.dataTable.has(connection, path, PERSISTENT);
      case WatcherKind.persistentRecursive:
        return this.dataTable.has(connection, path, RECURSIVE);
      case WatcherKind.any:
        return this.childTable.has(connection, path, undefined) || this.dataTable.has(connection, path, undefined);
      default:
        return false;
    }
  }

  /** removeWatches (op 18): removes the matching watches; false (NoWatcher) when there were none. */
  removeWatches(connection: ConnectionId, path: string, type: number): boolean {
    const removeFrom = (table: WatchTable, mode: number | undefined): boolean => {
      const { changed, removed } = table.remove(connection, path, mode);
      if (removed) this.count(connection, -1);
      return changed;
    };
    switch (type) {
      case WatcherKind.children:
        return removeFrom(this.childTable, STANDARD);
      case WatcherKind.data:
        return removeFrom(this.dataTable, STANDARD);
      case WatcherKind.persistent: {
        const child = removeFrom(this.childTable, PERSISTENT);
        const data = removeFrom(this.dataTable, PERSISTENT);
        return child || data;
      }
      case WatcherKind.persistentRecursive:
        return removeFrom(this.dataTable, RECURSIVE);
      case WatcherKind.any: {
        const child = removeFrom(this.childTable, undefined);
        const data = removeFrom(this.dataTable, undefined);
        return child || data;
      }
      default:
        return false;
    }
  }

  /**
   * SetWatches/SetWatches2 after a reconnect (`DataTree.setWatches`): fires at once where the node
   * changed since relativeZxid — data: NodeDeleted if gone, NodeDataChanged if mzxid > rel; exist:
   * NodeCreated if it now exists; child: NodeDeleted if gone, NodeChildrenChanged if pzxid > rel —
   * and re-arms the rest. Persistent watches are re-armed unconditionally. Replayed notifications
   * skip the ACL filter, as in ZooKeeper. Watches beyond the per-connection limit are dropped.
   */
  setWatches(connection: ConnectionId, relativeZxid: bigint, lists: SetWatchesLists, lookup: WatchedNodeLookup): Notification[] {
    const out: Notification[] = [];
    const fire = (type: WatchEventTypeValue, path: string): void => {
      out.push({ connection, type, path, zxid: -1n });
    };
    for (const path of lists.dataWatches) {
      const node = lookup(path);
      if (!node) fire(WatchEventType.nodeDeleted, path);
      else if (node.mzxid > relativeZxid) fire(WatchEventType.nodeDataChanged, path);
      else this.addDataWatch(connection, path);
    }
    for (const path of lists.existWatches) {
      if (lookup(path)) fire(WatchEventType.nodeCreated, path);
      else this.addDataWatch(connection, path);
    }
    for (const path of lists.childWatches) {
      const node = lookup(path);
      if (!node) fire(WatchEventType.nodeDeleted, path);
      else if (node.pzxid > relativeZxid) fire(WatchEventType.nodeChildrenChanged, path);
      else this.addChildWatch(connection, path);
    }
    for (const path of lists.persistentWatches ?? []) this.addPersistentWatch(connection, path, false);
    for (const path of lists.persistentRecursiveWatches ?? []) this.addPersistentWatch(connection, path, true);
    return out;
  }

  /** Watch entries one connection holds (a path watched in both tables counts twice). */
  watchCount(connection: ConnectionId): number {
    return this.entries.get(connection) ?? 0;
  }

  /** For `wchs`: connections with watches, watched paths, total watch entries. */
  summary(): { connections: number; paths: number; watches: number } {
    return { connections: this.entries.size, paths: this.dataTable.pathCount + this.childTable.pathCount, watches: this.dataTable.entryCount + this.childTable.entryCount };
  }

  /** For `wchc`/`dump`: the paths a connection watches, sorted, per table. */
  watchesOf(connection: ConnectionId): { data: string[]; child: string[] } {
    return { data: this.dataTable.pathsOf(connection).sort(), child: this.childTable.pathsOf(connection).sort() };
  }
}
