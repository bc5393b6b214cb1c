// Shared setup of the recipe tests: a server per target, a pool of clients, a "victim" client
// whose connection runs through a TCP relay (so a test can partition it alone and let its session
// expire), and the in-memory invariant checkers the tests assert against.
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../src/zookeeper/client/index.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import type { ZooKeeperTarget } from "../helpers/zookeeper-server.js";
import { freshChroot } from "../zookeeper/client/helpers.js";

type Cleanup = { after(fn: () => Promise<void> | void): void };

/** Session timeout of the victim: short, so expiry tests stay fast. */
export const VICTIM_SESSION_TIMEOUT_MS = 2000;

export interface RecipeWorld {
  /** "host:port/chroot" for the test's own subtree. */
  connectString: string;
  /** Clients on a healthy connection (10 s sessions). */
  clients: ZooKeeperClient[];
  /** A client behind `proxy`, with a 2 s session. */
  victim: ZooKeeperClient;
  proxy: TcpProxy;
}

export async function world(t: Cleanup, server: ZooKeeperTarget, name: string, clientCount: number): Promise<RecipeWorld> {
  const connectString = await freshChroot(server, name);
  const chroot = connectString.slice(connectString.indexOf("/"));
  const proxy = await TcpProxy.start(server.host, server.port);
  t.after(() => proxy.close());
  const clients = await Promise.all(Array.from({ length: clientCount }, () => ZooKeeperClient.connect({ connectString, sessionTimeoutMs: 10_000 })));
  t.after(() => Promise.all(clients.map((zk) => zk.close())).then(() => undefined));
  const victim = await ZooKeeperClient.connect({ connectString: `${proxy.connectString}${chroot}`, sessionTimeoutMs: VICTIM_SESSION_TIMEOUT_MS });
  t.after(() => victim.close());
  return { connectString, clients, victim, proxy };
}

/**
 * Who is inside a critical section, checked on every entry: at most `capacity` holders at once,
 * and (for read/write) never a writer together with anyone. Records the most seen at once.
 */
export class Occupancy {
  private readonly inside = new Map<string, "read" | "write">();
  maxConcurrent = 0;
  entries = 0;

  constructor(private readonly capacity: number) {}

  enter(who: string, mode: "read" | "write" = "write"): void {
    assert.ok(!this.inside.has(who), `${who} entered twice`);
    if (mode === "write" && this.capacity === 1) assert.equal(this.inside.size, 0, `${who} entered while ${[...this.inside.keys()].join(",")} inside`);
    if (mode === "write" && this.capacity > 1) assert.ok(this.inside.size < this.capacity, `${who} entered as holder ${this.inside.size + 1} of ${this.capacity}`);
    if (mode === "read") assert.ok(![...this.inside.values()].includes("write"), `${who} read while a writer was inside`);
    this.inside.set(who, mode);
    this.entries++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inside.size);
  }

  leave(who: string): void {
    assert.ok(this.inside.delete(who), `${who} left without being inside`);
  }

  get size(): number {
    return this.inside.size;
  }
}

/** A resource guarded by fencing tokens: a write with a token older than the newest seen is refused. */
export class FencedResource {
  newestToken = -1n;
  writes = 0;
  refused = 0;

  write(token: bigint): boolean {
    if (token < this.newestToken) {
      this.refused++;
      return false;
    }
    this.newestToken = token;
    this.writes++;
    return true;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
