// ZooKeeper servers for client and recipe tests. Every test that talks ZooKeeper runs against each
// server in `zooKeeperTargets()`: real Apache ZooKeeper 3.8 (Debian's `zookeeper` package, a JVM
// started standalone on a free loopback port with its own data dir under /tmp, stopped and removed
// after) and, once synod's ZooKeeper front-end serves it, synod itself. A target can be stopped and
// started again on the same port and data (sessions survive in its log, as in production).
//
// Apache ZooKeeper is started with tickTime 250 ms (sessions expire within a quarter second of
// their timeout), min/max session timeouts 1 s / 60 s, TTL nodes enabled, the admin server off,
// and every four-letter word allowed (`ruok` is the readiness probe).
import { freePort } from "./ports.js";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import type { NodeConfig } from "../../src/node/config.js";
import { join } from "node:path";

export const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";

export interface ZooKeeperTarget {
  /** "apache" or "synod": for test names. */
  readonly kind: string;
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:port". */
  readonly connectString: string;
  /** Stops the server (SIGTERM, as an operator would); its data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. Idempotent. */
  close(): Promise<void>;
}

export { freePort };

/** Sends a four-letter word and returns the reply (or "" on any failure). */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = "";
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("connect", () => socket.write(word));
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

class ApacheZooKeeper implements ZooKeeperTarget {
  readonly kind = "apache";
  readonly host = "127.0.0.1";
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stderr = "";
  private closed = false;

  constructor(
    readonly port: number,
    private readonly dir: string,
    /** Extra zoo.cfg lines (an ensemble's server list); with them QuorumPeerMain runs instead of standalone. */
    private readonly ensembleLines: readonly string[] = [],
    /** JVM flags: the tests favour a fast start (C1 only, small heap); a benchmark wants the full JIT. */
    private readonly jvmFlags: readonly string[] = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"],
  ) {
    writeFileSync(
      join(dir, "zoo.cfg"),
      [
        "tickTime=250",
        `dataDir=${join(dir, "data")}`,
        `clientPort=${port}`,
        `clientPortAddress=${this.host}`,
        "minSessionTimeout=1000",
        "maxSessionTimeout=60000",
        "admin.enableServer=false",
        "4lw.commands.whitelist=*",
        "maxClientCnxns=0",
        ...ensembleLines,
        "",
      ].join("\n"),
    );
  }

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.stderr = "";
    const child = spawn(
      "java",
      [
        ...this.jvmFlags,
        "-Dzookeeper.extendedTypesEnabled=true",
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        ZOOKEEPER_JAR,
        this.ensembleLines.length > 0 ? "org.apache.zookeeper.server.quorum.QuorumPeerMain" : "org.apache.zookeeper.server.ZooKeeperServerMain",
        join(this.dir, "zoo.cfg"),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    try {
      await waitUntil(`Apache ZooKeeper on ${this.port}`, 30_000, async () => {
        if (!this.child) throw new Error(`Apache ZooKeeper exited during startup: ${this.stderr}`);
        // Serving (standalone, or leader/follower of a quorum), not merely listening.
        return /Mode: (standalone|leader|follower)/.test(await fourLetterWord(this.host, this.port, "srvr"));
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGTERM");
    const killTimer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(killTimer);
    this.child = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a standalone Apache ZooKeeper 3.8 (Debian's package); fails loudly when it is not
 * installed. `jvmFlags` replaces the test defaults (a benchmark passes e.g. ["-Xmx1g"]).
 */
export async function startApacheZooKeeper(options: { jvmFlags?: readonly string[] } = {}): Promise<ZooKeeperTarget> {
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new Error(`${ZOOKEEPER_JAR} is missing: install Debian's zookeeper package (tools/apt-packages.txt; tools/test-all.sh does it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "synod-zk-apache-"));
  const server = new ApacheZooKeeper(await freePort(), dir, [], options.jvmFlags);
  await server.start();
  return server;
}

/** A running ensemble (cluster) of `size` servers on loopback. */
export interface ZooKeeperEnsemble {
  readonly kind: string;
  /** One entry per server; stop() stops just that one. */
  readonly servers: Array<{ readonly connectString: string; stop(): Promise<void> }>;
  /** Every server: "127.0.0.1:p1,127.0.0.1:p2,…". */
  readonly connectString: string;
  close(): Promise<void>;
}

/** A synod cluster of `size` nodes (startTestCluster); every node serves clients (followers forward writes to the leader). */
export async function startSynodEnsemble(size: number): Promise<ZooKeeperEnsemble> {
  const cluster = await startTestCluster({ nodes: size, node: SYNOD_ZOOKEEPER_SETTINGS });
  return {
    kind: "synod",
    servers: cluster.nodes.map((node) => ({ connectString: node.zookeeperConnectString, stop: () => cluster.stop(node.config.nodeId) })),
    connectString: cluster.zookeeperConnectString,
    close: () => cluster.close(),
  };
}

export async function startApacheEnsemble(size: number): Promise<ZooKeeperEnsemble> {
  if (!existsSync(ZOOKEEPER_JAR)) throw new Error(`${ZOOKEEPER_JAR} is missing: install Debian's zookeeper package`);
  const ports: number[] = [];
  while (ports.length < size * 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const quorum = Array.from({ length: size }, (_, i) => `server.${i + 1}=127.0.0.1:${ports[size + 2 * i]}:${ports[size + 2 * i + 1]}`);
  const servers = Array.from({ length: size }, (_, i) => {
    const dir = mkdtempSync(join(tmpdir(), `synod-zk-ensemble-${i + 1}-`));
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "myid"), `${i + 1}\n`);
    return new ApacheZooKeeper(ports[i], dir, ["initLimit=20", "syncLimit=10", ...quorum]);
  });
  try {
    await Promise.all(servers.map((server) => server.start()));
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    throw error;
  }
  return {
    kind: "apache",
    servers,
    connectString: servers.map((server) => server.connectString).join(","),
    close: async () => {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}

/** The Apache server's settings above, in synod's terms. */
const SYNOD_ZOOKEEPER_SETTINGS: Partial<NodeConfig> = {
  zookeeperSessionTimeoutMsMin: 1000,
  zookeeperSessionTimeoutMsMax: 60_000,
  zookeeperExtendedTypesEnabled: true,
  zookeeper4lwWhitelist: "*",
};

/**
 * synod's own ZooKeeper front-end: startTestCluster() in this process with its data in a
 * directory of its own (kept across stop/start, so sessions survive a restart as in production),
 * the same session-timeout bounds, TTL setting and 4lw whitelist as the Apache server above, and
 * the same port after a restart.
 */
class SynodZooKeeper implements ZooKeeperTarget {
  readonly kind = "synod";
  readonly host = "127.0.0.1";
  private cluster: TestCluster | undefined;
  private portValue = 0;
  private closed = false;

  constructor(private readonly dir: string) {}

  get port(): number {
    return this.portValue;
  }

  get connectString(): string {
    return `${this.host}:${this.portValue}`;
  }

  async start(): Promise<void> {
    if (this.cluster) return;
    this.cluster = await startTestCluster({ dataDir: this.dir, node: { ...SYNOD_ZOOKEEPER_SETTINGS, zookeeperPort: this.portValue } });
    this.portValue = this.cluster.nodes[0].zookeeperPort;
  }

  async stop(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    await cluster?.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startSynodZooKeeper(): Promise<ZooKeeperTarget> {
  const server = new SynodZooKeeper(mkdtempSync(join(tmpdir(), "synod-zk-synod-")));
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

export interface TargetFactory {
  kind: string;
  start(): Promise<ZooKeeperTarget>;
}

/**
 * The servers every client and recipe test runs against: SYNOD_ZK_TARGETS (comma-separated kinds)
 * or DEFAULT_TARGETS (both; SYNOD_ZK_TARGETS=synod runs synod alone while working on it).
 */
export const DEFAULT_TARGETS = "apache,synod";

/** The ensembles the multi-server tests run against (SYNOD_ZK_TARGETS chooses, as above). */
export function zooKeeperEnsembles(): Array<{ kind: string; start(size: number): Promise<ZooKeeperEnsemble> }> {
  return zooKeeperTargets().map((target) => ({ kind: target.kind, start: target.kind === "synod" ? startSynodEnsemble : startApacheEnsemble }));
}

const FACTORIES: Record<string, TargetFactory> = {
  apache: { kind: "apache", start: () => startApacheZooKeeper() },
  synod: { kind: "synod", start: startSynodZooKeeper },
};

export function zooKeeperTargets(): TargetFactory[] {
  const kinds = (process.env.SYNOD_ZK_TARGETS || DEFAULT_TARGETS).split(",").map((k) => k.trim()).filter((k) => k !== "");
  return kinds.map((kind) => {
    const factory = FACTORIES[kind];
    if (!factory) throw new Error(`SYNOD_ZK_TARGETS: unknown server kind ${JSON.stringify(kind)} (known: ${Object.keys(FACTORIES).join(", ")})`);
    return factory;
  });
}
