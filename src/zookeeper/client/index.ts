// The TypeScript ZooKeeper client: one entry module re-exporting the public API.
export { ZooKeeperClient, OPEN_ACL_UNSAFE, CREATOR_ALL_ACL, READ_ACL_UNSAFE, MULTI_OPS_MAX } from "./client.js";
export type { ACL, CreateMode, CreateOptions, CreateResult, Data, Op, OpResult, RequestOptions, Stat, VersionOptions, WatchOptions } from "./client.js";
export type { SessionState, StateChange, ZooKeeperClientOptions } from "./session.js";
export type { WatchEvent, WatchEventState, WatchEventType, Watcher } from "./watches.js";
export { parseConnectString, validatePath } from "./paths.js";
export * from "./errors.js";
