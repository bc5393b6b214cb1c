// The client's watch registry (the Java client's ZKWatchManager): which local listeners wait on
// which path, and which of them an event from the server wakes. One-shot watches are removed as
// they fire; persistent ones (addWatch) stay. The registry is also what SetWatches replays after a
// reconnect, so a listener survives a server change without the caller doing anything.
//
// Paths here are client paths (chroot already stripped). A listener is deduplicated per kind and
// path (a Set), so registering the same function twice fires it once, as in Java.
import { EventType, KeeperState } from "../protocol/constants.js";

export type WatchEventType =
  | "none"
  | "nodeCreated"
  | "nodeDeleted"
  | "nodeDataChanged"
  | "nodeChildrenChanged"
  | "dataWatchRemoved"
  | "childWatchRemoved"
  | "persistentWatchRemoved";

/** The session state a watch event reports (`Watcher.Event.KeeperState`). */
export type WatchEventState = "syncConnected" | "disconnected" | "expired" | "closed" | "authFailed" | "connectedReadOnly" | "saslAuthenticated";

export interface WatchEvent {
  type: WatchEventType;
  state: WatchEventState;
  /** The znode path; "" for a "none" event about the session. */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;

export type WatchKind = "data" | "exist" | "child" | "persistent" | "persistentRecursive";

const TYPE_NAMES = new Map<number, WatchEventType>([
  [EventType.none, "none"],
  [EventType.nodeCreated, "nodeCreated"],
  [EventType.nodeDeleted, "nodeDeleted"],
  [EventType.nodeDataChanged, "nodeDataChanged"],
  [EventType.nodeChildrenChanged, "nodeChildrenChanged"],
  [EventType.dataWatchRemoved, "dataWatchRemoved"],
  [EventType.childWatchRemoved, "childWatchRemoved"],
  [EventType.persistentWatchRemoved, "persistentWatchRemoved"],
]);

const STATE_NAMES = new Map<number, WatchEventState>([
  [KeeperState.disconnected, "disconnected"],
  [KeeperState.syncConnected, "syncConnected"],
  [KeeperState.authFailed, "authFailed"],
  [KeeperState.connectedReadOnly, "connectedReadOnly"],
  [KeeperState.saslAuthenticated, "saslAuthenticated"],
  [KeeperState.closed, "closed"],
  [KeeperState.expired, "expired"],
]);

/** Names for the wire's event type and state numbers; undefined for numbers ZooKeeper does not define. */
export function eventTypeName(type: number): WatchEventType | undefined {
  return TYPE_NAMES.get(type);
}
export function eventStateName(state: number): WatchEventState | undefined {
  return STATE_NAMES.get(state);
}

function parentOf(path: string): string | undefined {
  if (path === "/") return undefined;
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

export class WatchRegistry {
  private readonly byKind: Record<WatchKind, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };

  add(kind: WatchKind, path: string, watcher: Watcher): void {
    const map = this.byKind[kind];
    let set = map.get(path);
    if (!set) {
      set = new Set();
      map.set(path, set);
    }
    set.add(watcher);
  }

  has(kind: WatchKind, path: string, watcher?: Watcher): boolean {
    const set = this.byKind[kind].get(path);
    if (!set) return false;
    return watcher === undefined ? set.size > 0 : set.has(watcher);
  }

  /** Removes one listener (or all of `kind` at `path`); returns the listeners removed. */
  remove(kind: WatchKind, path: string, watcher?: Watcher): Watcher[] {
    const map = this.byKind[kind];
    const set = map.get(path);
    if (!set) return [];
    if (watcher === undefined) {
      map.delete(path);
      return [...set];
    }
    if (!set.delete(watcher)) return [];
    if (set.size === 0) map.delete(path);
    return [watcher];
  }

  /** The paths each kind watches (SetWatches/SetWatches2 replay). */
  paths(kind: WatchKind): string[] {
    return [...this.byKind[kind].keys()];
  }

  get isEmpty(): boolean {
    return Object.values(this.byKind).every((map) => map.size === 0);
  }

  /** Total listeners registered (tests and metrics). */
  get size(): number {
    let count = 0;
    for (const map of Object.values(this.byKind)) for (const set of map.values()) count += set.size;
    return count;
  }

  private take(kind: WatchKind, path: string, out: Set<Watcher>): void {
    const set = this.byKind[kind].get(path);
    if (!set) return;
    for (const w of set) out.add(w);
    this.byKind[kind].delete(path);
  }

  private peek(kind: WatchKind, path: string, out: Set<Watcher>): void {
    const set = this.byKind[kind].get(path);
    if (set) for (const w of set) out.add(w);
  }

  /**
   * The listeners a server event wakes, removing the one-shot ones (ZKWatchManager.materialize).
   * Recursive watches see every event at or below their path except NodeChildrenChanged.
   */
  materialize(type: WatchEventType, path: string): Set<Watcher> {
    const out = new Set<Watcher>();
    switch (type) {
      case "nodeCreated":
      case "nodeDataChanged":
        this.take("data", path, out);
        this.take("exist", path, out);
        break;
      case "nodeChildrenChanged":
        this.take("child", path, out);
        break;
      case "nodeDeleted":
        this.take("data", path, out);
        this.take("exist", path, out);
        this.take("child", path, out);
        break;
      default:
        return out;
    }
    this.peek("persistent", path, out);
    if (type !== "nodeChildrenChanged") {
      for (let at: string | undefined = path; at !== undefined; at = parentOf(at)) this.peek("persistentRecursive", at, out);
    }
    return out;
  }

  /** Every listener of every kind (session events); `clear` empties the registry (expiry, close). */
  all(clear: boolean): Set<Watcher> {
    const out = new Set<Watcher>();
    for (const map of Object.values(this.byKind)) for (const set of map.values()) for (const w of set) out.add(w);
    if (clear) for (const map of Object.values(this.byKind)) map.clear();
    return out;
  }
}
