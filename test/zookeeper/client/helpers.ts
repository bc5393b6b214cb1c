// Shared pieces of the client and recipe tests: connecting a client whose every op is confined to
// a fresh chroot (so the tests of one file share a server without seeing each other's nodes), and
// small waiting utilities with deadlines (a test never hangs: it fails with a message).
import { ZooKeeperClient, type ZooKeeperClientOptions, type WatchEvent } from "../../../src/zookeeper/client/index.js";
import type { ZooKeeperTarget } from "../../helpers/zookeeper-server.js";

let chrootCounter = 0;

/** Creates a fresh top-level node for one test and returns "host:port/that-node". */
export async function freshChroot(server: ZooKeeperTarget | { connectString: string }, name: string): Promise<string> {
  const root = `/${name.replace(/[^A-Za-z0-9_-]/g, "_")}-${process.pid}-${++chrootCounter}`;
  const admin = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 10_000 });
  try {
    await admin.create(root);
  } finally {
    await admin.close();
  }
  return `${server.connectString}${root}`;
}

export type ClientOptions = Partial<ZooKeeperClientOptions>;

/** Connects a client and closes it when the test ends. */
export async function client(t: { after(fn: () => Promise<void> | void): void }, connectString: string, options: ClientOptions = {}): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect({ connectString, sessionTimeoutMs: 10_000, ...options });
  t.after(() => zk.close());
  return zk;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 20 ms until true; throws `what` after timeoutMs. */
export async function eventually(what: string, timeoutMs: number, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await delay(20);
  }
}

/** A watcher that records events and lets a test await the next one matching a predicate. */
export class EventLog {
  readonly events: WatchEvent[] = [];
  private waiters: Array<{ match: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }> = [];
  readonly watcher = (event: WatchEvent): void => {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  next(match: (e: WatchEvent) => boolean, timeoutMs = 10_000): Promise<WatchEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching watch event within ${timeoutMs} ms; saw ${JSON.stringify(this.events)}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Events that are not session notifications ("none"). */
  get nodeEvents(): WatchEvent[] {
    return this.events.filter((e) => e.type !== "none");
  }
}
