// A cluster of real `synod start` processes for fault tests. Each node listens on its own
// loopback address (127.0.0.2, .3, ...) with the same ports, so iptables rules can cut the links
// between nodes (test/helpers/netfault.ts) while the test process (127.0.0.1) reaches them all.
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawnLogged, type LoggedProcess } from "../helpers/process.js";

/** Resolves when `promise` settles or after `ms`, whichever comes first (cleanup must not hang a test). */
export async function bounded(promise: Promise<unknown>, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export interface ProcessNode {
  id: number;
  host: string;
  bootstrap: string;
  process: LoggedProcess | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export interface ProcessCluster {
  nodes: ProcessNode[];
  bootstrap: string;
  close(): Promise<void>;
}

/**
 * `hostBase`: node i gets 127.0.0.(hostBase + i); fault test files use disjoint ranges so their
 * iptables rules never touch another file's nodes when the runner runs files in parallel.
 */
export async function startProcessCluster(options: { nodes: number; dataDir: string; kafkaPort: number; peerPort: number; hostBase: number; zookeeperPort?: number; extraArgs?: string[] }): Promise<ProcessCluster> {
  const hosts = Array.from({ length: options.nodes }, (_, i) => `127.0.0.${options.hostBase + i}`);
  const peers = hosts.map((host, i) => `${i + 1}@${host}:${options.peerPort}`).join(",");
  const nodes: ProcessNode[] = hosts.map((host, i) => {
    const node: ProcessNode = {
      id: i + 1,
      host,
      bootstrap: `${host}:${options.kafkaPort}`,
      process: undefined,
      async kill(signal: NodeJS.Signals = "SIGKILL") {
        const proc = node.process;
        if (!proc) return;
        node.process = undefined;
        proc.child.kill(signal);
        // A graceful stop is bounded: SIGKILL after 20 s.
        const timer = setTimeout(() => proc.child.kill("SIGKILL"), 20_000);
        await proc.exited;
        clearTimeout(timer);
        keepLog(options.dataDir, i + 1, proc.lines);
      },
      async start() {
        node.process = spawnLogged([
          "start",
          "--node-id", String(i + 1),
          "--data-dir", join(options.dataDir, `node-${i + 1}`),
          "--host", host,
          "--kafka-port", String(options.kafkaPort),
          "--zookeeper-port", String(options.zookeeperPort ?? 0),
          "--admin-port", "0",
          "--peers", peers,
          "--group-initial-rebalance-delay-ms", "0",
          "--log-level", "info",
          ...(options.extraArgs ?? []),
        ]);
        await node.process.waitFor((line) => line.msg === "node started", 60_000);
      },
    };
    return node;
  });
  await Promise.all(nodes.map((n) => n.start()));
  // Formed: every node has applied every node's registration (a node reports "node started" once
  // its own is applied; a peer's may still be on its way), so admin requests see all of them.
  await Promise.all(nodes.map((n) => n.process!.waitFor((line) => line.msg === "cluster nodes changed" && Array.isArray(line.nodes) && line.nodes.length === options.nodes, 30_000)));
  return {
    nodes,
    bootstrap: nodes.map((n) => n.bootstrap).join(","),
    close: async () => {
      await Promise.all(nodes.map((n) => n.kill("SIGKILL")));
    },
  };
}

/**
 * With SYNOD_TEST_LOGS=<dir>, every node's log lines are appended to <dir>/<data dir name>-node-N.log
 * when the node stops, so a failed fault test can be read afterwards.
 */
function keepLog(dataDir: string, id: number, lines: Array<Record<string, unknown>>): void {
  const dir = process.env.SYNOD_TEST_LOGS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const name = dataDir.split("/").filter(Boolean).pop();
  appendFileSync(join(dir, `${name}-node-${id}.log`), lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
}
