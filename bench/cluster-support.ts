// A 3-node cluster of real `synod start` processes on 127.0.0.1 for the cluster benchmarks (all
// nodes share this machine's cores — the figures say so), and a raw acks=all produce loop that
// records when each write was acknowledged.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createConnection, type Socket } from "node:net";
import { freePort } from "./kafka-support.js";
import { LengthPrefixedReader } from "../src/util/frame-reader.js";
import { decodeResponse, encodeRequest } from "../src/kafka/protocol/request.js";
import type { ProduceResponse } from "../src/kafka/protocol/generated/produce-response.js";
import type { MetadataResponse } from "../src/kafka/protocol/generated/metadata-response.js";

export interface BenchClusterNode {
  id: number;
  kafka: string;
  adminPort: number;
  child: ChildProcess | undefined;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface BenchCluster {
  nodes: BenchClusterNode[];
  bootstrap: string;
  stop(): Promise<void>;
}

export async function startBenchCluster(count = 3, extraArgs: string[] = []): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), "synod-bench-cluster-"));
  const peerPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const kafkaPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const adminPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const peers = peerPorts.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(",");
  const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
  const nodes: BenchClusterNode[] = kafkaPorts.map((kafkaPort, i) => {
    const node: BenchClusterNode = {
      id: i + 1,
      kafka: `127.0.0.1:${kafkaPort}`,
      adminPort: adminPorts[i],
      child: undefined,
      async start() {
        const child = spawn(process.execPath, [cli, "start", "--node-id", String(i + 1), "--data-dir", join(dir, `node-${i + 1}`), "--kafka-port", String(kafkaPort), "--admin-port", String(adminPorts[i]), "--zookeeper-port", "0", "--peers", peers, "--log-level", "info", ...extraArgs], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        node.child = child;
        await new Promise<void>((resolve, reject) => {
          createInterface({ input: child.stdout! }).on("line", (line) => {
            if (line.includes('"node started"')) resolve();
          });
          child.once("exit", (code) => reject(new Error(`node ${i + 1} exited with ${code}`)));
        });
      },
      async kill(signal: NodeJS.Signals = "SIGKILL") {
        const child = node.child;
        if (!child) return;
        node.child = undefined;
        child.kill(signal);
        await new Promise((resolve) => child.once("exit", resolve));
      },
    };
    return node;
  });
  await Promise.all(nodes.map((n) => n.start()));
  return {
    nodes,
    bootstrap: nodes.map((n) => n.kafka).join(","),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill("SIGKILL")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A connection that sends one request at a time and resolves its response (or undefined). */
export class RawConnection {
  private readonly reader = new LengthPrefixedReader(64 << 20);
  private waiter: ((frame: Buffer | undefined) => void) | undefined;
  private correlationId = 1;
  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        const w = this.waiter;
        this.waiter = undefined;
        w?.(frame);
      }
    });
    socket.on("close", () => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.(undefined);
    });
    socket.on("error", () => undefined);
  }

  static connect(address: string, timeoutMs = 1000): Promise<RawConnection | undefined> {
    const [host, port] = address.split(":");
    return new Promise((resolve) => {
      const socket = createConnection({ host, port: Number(port) });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(undefined);
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once("error", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  async request<T>(apiKey: number, version: number, body: unknown, timeoutMs = 5000): Promise<T | undefined> {
    const frame = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.socket.write(encodeRequest(apiKey, version, this.correlationId++, "bench", body));
    });
    return frame ? (decodeResponse(apiKey, version, frame).body as T) : undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The partition's leader as any live node reports it (-1 when unknown). */
export async function leaderOf(addresses: string[], topic: string, partition: number): Promise<number> {
  for (const address of addresses) {
    const connection = await RawConnection.connect(address, 300);
    if (!connection) continue;
    const metadata = await connection.request<MetadataResponse>(3, 5, { topics: [{ name: topic }], allowAutoTopicCreation: true }, 1000);
    connection.close();
    const leader = metadata?.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition)?.leaderId;
    if (leader !== undefined && leader >= 0) return leader;
  }
  return -1;
}

export function produceBody(topic: string, partition: number, records: Buffer, acks = -1) {
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

export type { ProduceResponse };
