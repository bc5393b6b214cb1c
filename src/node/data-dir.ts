// The node's data directory: created on first start, stamped with the node's identity, and
// locked against a second process using it at the same time (two writers would corrupt logs).
import { mkdirSync, readFileSync, writeFileSync, openSync, closeSync, unlinkSync, fsyncSync, renameSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";

export interface NodeIdentity {
  nodeId: number;
  /** Random id stamped at first start; a node from another cluster is refused by peers. */
  clusterId: string;
  createdAt: string;
}

export interface DataDir {
  readonly path: string;
  readonly identity: NodeIdentity;
  release(): void;
}

const IDENTITY_FILE = "node.json";
const LOCK_FILE = "LOCK";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function acquireLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockPath, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new Error(`data directory is in use by process ${owner} (${lockPath})`, { cause: error });
      }
      // A stale lock from a process that died (SIGKILL, power loss): take it over.
      unlinkSync(lockPath);
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

/** Atomically replaces a small file: write temp, fsync, rename, fsync the directory. */
export function writeFileAtomicSync(dir: string, name: string, contents: string | Buffer): void {
  const target = join(dir, name);
  const temp = `${target}.tmp`;
  const fd = openSync(temp, "w");
  try {
    writeFileSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Opens (creating on first use) a node's data directory; `clusterId` is stamped on creation and checked after. */
export function openDataDir(path: string, nodeId: number, clusterId?: string): DataDir {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  acquireLock(lockPath);
  try {
    let identity: NodeIdentity;
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, IDENTITY_FILE), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text === undefined) {
      identity = { nodeId, clusterId: clusterId || randomUUID(), createdAt: new Date().toISOString() };
      writeFileAtomicSync(dir, IDENTITY_FILE, JSON.stringify(identity, null, 2) + "\n");
    } else {
      try {
        identity = JSON.parse(text) as NodeIdentity;
      } catch {
        throw new Error(`${join(dir, IDENTITY_FILE)} is not valid JSON; refusing to start`);
      }
      if (identity.nodeId !== nodeId) {
        throw new Error(`${dir} belongs to node ${identity.nodeId}, not node ${nodeId}; refusing to start`);
      }
      if (clusterId && identity.clusterId !== clusterId) {
        throw new Error(`${dir} belongs to cluster ${identity.clusterId}, not ${clusterId}; refusing to start`);
      }
    }
    return {
      path: dir,
      identity,
      release: () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      },
    };
  } catch (error) {
    unlinkSync(lockPath);
    throw error;
  }
}
