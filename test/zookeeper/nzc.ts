// node-zookeeper-client (a CommonJS package without typings) as the tests use it: the typed
// surface, the module, and promise helpers. Shared by the server tests on one node and on followers.
import { createRequire } from "node:module";

export interface ZkError extends Error {
  getCode(): number;
}
export type Callback<T> = (error: ZkError | null, value: T) => void;
export type Watcher = (event: { name: string; path: string; type: number }) => void;
export interface Stat {
  version: number;
  ephemeralOwner: Buffer;
  numChildren: number;
}
export interface ZkClient {
  on(event: "state", listener: (state: { name: string }) => void): void;
  connect(): void;
  close(): void;
  once(event: "connected" | "disconnected" | "expired", listener: () => void): void;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, callback: Callback<string>): void;
  getData(path: string, watcher: Watcher | undefined, callback: (error: ZkError | null, data: Buffer, stat: Stat) => void): void;
  setData(path: string, data: Buffer, version: number, callback: Callback<Stat>): void;
  exists(path: string, watcher: Watcher | undefined, callback: Callback<Stat | null>): void;
  getChildren(path: string, watcher: Watcher | undefined, callback: Callback<string[]>): void;
  remove(path: string, version: number, callback: (error: ZkError | null) => void): void;
  getACL(path: string, callback: Callback<Array<{ permission: number; id: { scheme: string; id: string } }>>): void;
  setACL(path: string, acls: unknown[], version: number, callback: Callback<Stat>): void;
  transaction(): Tx;
  getSessionId(): Buffer;
  getSessionTimeout(): number;
}
export interface Tx {
  create(path: string, data?: Buffer, acls?: unknown[], mode?: number): Tx;
  setData(path: string, data: Buffer, version: number): Tx;
  check(path: string, version: number): Tx;
  remove(path: string, version: number): Tx;
  commit(callback: (error: ZkError | null, results: Array<{ type: number; err?: number; path?: string }>) => void): void;
}
export interface ZkModule {
  createClient(connection: string, options: { sessionTimeout: number; retries?: number }): ZkClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[]; READ_ACL_UNSAFE: unknown[]; new (permission: number, id: unknown): unknown };
  Id: new (scheme: string, id: string) => unknown;
  Permission: { ALL: number; READ: number; WRITE: number; ADMIN: number };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  Exception: Record<string, number>;
}

export const zookeeper = createRequire(import.meta.url)("node-zookeeper-client") as ZkModule;

export const buf = (text: string): Buffer => Buffer.from(text);

/** A node-zookeeper-client call as a promise. */
export function call<T>(fn: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));
}
