// The composition root: startNode() wires the runtime (node/), the front-ends (kafka/, zookeeper/)
// and the admin server into one synod node. It is the one way to run a node, from the CLI or
// in-process; startTestCluster() starts nodes in-process on free ports for other projects' tests.
import { Registry, collectDefaultMetrics, Counter } from "prom-client";
import { LabeledHistogram, type HistogramChild } from "./util/metrics.js";
import { startAdminServer, type AdminServer, type HealthReport } from "./admin/server.js";
import { createLogger, type Logger } from "./util/logger.js";
import { DisposableStack } from "./util/disposable.js";
import { openDataDir, type NodeIdentity } from "./node/data-dir.js";
import { parsePeers, resolveConfig, type NodeConfig, type PeerAddress } from "./node/config.js";
import { Transport } from "./transport/transport.js";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { systemClock } from "./node/system-clock.js";
import { NodeRuntime } from "./node/runtime.js";
import { registerRuntimeMetrics } from "./node/metrics.js";
import { KafkaCluster } from "./kafka/cluster.js";
import type { ClusterView } from "./kafka/backend.js";
import { startKafkaBroker } from "./kafka/broker.js";
import { startZooKeeperServer } from "./zookeeper/server.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Kafka API keys whose latency child is cached (every key Kafka defines is below this). */
const API_KEYS_CACHED = 128;

export interface StartNodeOptions extends Partial<NodeConfig> {
  /** Logger to use; default a pino logger at config.logLevel. */
  logger?: Logger;
  /**
   * What to do when a group hits an unrecoverable storage error: "exit" the process (the CLI:
   * a supervisor restarts it and recovery runs from disk) or "degrade" (in-process nodes: the
   * node reports unhealthy on /health and the failed group stops serving). Default "degrade".
   */
  onFatal?: "exit" | "degrade";
}

export interface SynodNode {
  readonly config: NodeConfig;
  readonly identity: NodeIdentity;
  /** The admin HTTP server's bound port (useful when adminPort was 0). */
  readonly adminPort: number;
  /** The Kafka listener's bound port. */
  readonly kafkaPort: number;
  /** "host:port" for Kafka clients' bootstrap servers. */
  readonly bootstrapServers: string;
  /** The ZooKeeper listener's bound port. */
  readonly zookeeperPort: number;
  /** "host:port" for ZooKeeper clients' connect string. */
  readonly zookeeperConnectString: string;
  readonly registry: Registry;
  /** The node's runtime (its Paxos groups): for tests, tools and introspection. */
  readonly runtime: NodeRuntime;
  /** The node's view of the Kafka cluster (nodes, topics, leaders). */
  readonly kafka: ClusterView;
  /** Stops listeners and flushes state; idempotent. */
  close(): Promise<void>;
}

function parseSaslUsers(raw: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const pair of raw.split(",").filter((p) => p !== "")) {
    const at = pair.indexOf(":");
    users.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return users;
}

export async function startNode(options: StartNodeOptions = {}): Promise<SynodNode> {
  const { logger: givenLogger, onFatal = "degrade", ...overrides } = options;
  const config = resolveConfig({ overrides, env: {} });
  const logger = (givenLogger ?? createLogger({ level: config.logLevel as never })).child({ node: config.nodeId });
  const stack = new DisposableStack();
  let status: HealthReport["status"] = "starting";
  try {
    const peers = parsePeers(config.peers);
    const clustered = peers.length > 0;
    const selfPeer = peers.find((p) => p.nodeId === config.nodeId);
    if (clustered && !selfPeer) throw new Error(`--peers does not list this node (${config.nodeId})`);
    const dataDir = openDataDir(config.dataDir, config.nodeId, config.clusterId || (clustered ? deriveClusterId(peers) : undefined));
    stack.defer(() => dataDir.release());
    logger.info({ dataDir: dataDir.path, clusterId: dataDir.identity.clusterId }, "data directory ready");

    const registry = new Registry();
    registry.setDefaultLabels({ node: String(config.nodeId) });
    collectDefaultMetrics({ register: registry });
    const requestLatency = new LabeledHistogram({
      name: "synod_kafka_request_duration_seconds",
      help: "Kafka request handling time by API key",
      labelName: "api_key",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registry,
    });
    const requestLatencyByKey: HistogramChild[] = [];
    const requestErrors = new Counter({ name: "synod_kafka_request_failures_total", help: "Kafka requests whose handler failed", labelNames: ["api_key"], registers: [registry] });

    let transport: Transport | undefined;
    if (clustered) {
      transport = new Transport({
        nodeId: config.nodeId,
        clusterId: dataDir.identity.clusterId,
        host: config.host,
        port: selfPeer!.port,
        peers: new Map(peers.filter((p) => p.nodeId !== config.nodeId).map((p) => [p.nodeId, { host: p.host, port: p.port }])),
        logger,
      });
      await transport.start();
      stack.defer(() => transport!.close());
    }
    // The metrics read the runtime at scrape time; the runtime feeds the commit-latency histogram.
    const holder: { runtime?: NodeRuntime } = {};
    const runtimeMetrics = registerRuntimeMetrics(registry, () => holder.runtime, transport);
    const runtime = new NodeRuntime({
      nodeId: config.nodeId,
      dataDir: dataDir.path,
      clock: systemClock,
      logger,
      fsync: config.fsync,
      tickMs: config.tickMs,
      transport,
      onCommitLatency: (groupId, seconds) => runtimeMetrics.observeCommit(groupId, seconds),
      onFatal: (groupId, error) => {
        status = "degraded";
        logger.fatal({ groupId, err: error }, "unrecoverable storage failure");
        if (onFatal === "exit") process.exit(70);
      },
    });
    holder.runtime = runtime;
    stack.defer(() => runtime.close());
    runtime.setPeers(peers.map((p) => p.nodeId));
    runtime.start();

    // The Kafka listener binds before the cluster starts so its real port can be advertised.
    const cluster = new KafkaCluster({
      runtime,
      clock: systemClock,
      logger,
      clusterId: dataDir.identity.clusterId,
      metaVoters: clustered ? metaVotersOf(peers) : [config.nodeId],
      self: { host: config.advertisedHost ?? config.host, kafkaPort: config.kafkaPort, zookeeperPort: config.zookeeperPort, peerHost: selfPeer?.host ?? "", peerPort: selfPeer?.port ?? 0, rack: null },
      // Nodes that join later are learned from the metadata: connect to them too.
      onNodesChanged: (nodes) => {
        if (!transport) return;
        const addresses = new Map<number, { host: string; port: number }>(peers.filter((p) => p.nodeId !== config.nodeId).map((p) => [p.nodeId, { host: p.host, port: p.port }]));
        for (const node of nodes) if (node.nodeId !== config.nodeId && node.peerHost && node.peerPort > 0) addresses.set(node.nodeId, { host: node.peerHost, port: node.peerPort });
        transport.setPeers(addresses);
        runtime.setPeers([config.nodeId, ...addresses.keys()]);
      },
      autoCreateTopics: config.autoCreateTopics,
      defaultPartitions: config.defaultPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      configuredNodes: peers.map((p) => p.nodeId),
      saslPlainUsers: parseSaslUsers(config.kafkaSaslUsers),
      coordinator: { initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs },
    });
    const broker = await startKafkaBroker({
      host: config.host,
      port: config.kafkaPort,
      backend: cluster,
      logger,
      onRequest: (apiKey, _version, durationMs, ok) => {
        const child = requestLatencyByKey[apiKey] ?? requestLatency.labels(String(apiKey));
        if (Number.isInteger(apiKey) && apiKey >= 0 && apiKey < API_KEYS_CACHED) requestLatencyByKey[apiKey] = child;
        child.observe(durationMs / 1000);
        if (!ok) requestErrors.inc({ api_key: String(apiKey) });
      },
    });
    stack.defer(() => broker.close());
    const advertisedPort = broker.port;
    cluster.setAdvertisedKafkaPort(advertisedPort);
    await cluster.start();
    stack.defer(() => cluster.close());
    // The coordination group has the metadata group's voters; each of them serves ZooKeeper clients.
    // It starts while the metadata group elects its leader (a cold start waits for both at once).
    const zookeeperStarting = startZooKeeperServer({
      runtime,
      clock: systemClock,
      logger,
      registry,
      host: config.host,
      port: config.zookeeperPort,
      voters: clustered ? metaVotersOf(peers) : [config.nodeId],
      sessionTimeoutMsMin: config.zookeeperSessionTimeoutMsMin,
      sessionTimeoutMsMax: config.zookeeperSessionTimeoutMsMax,
      fourLetterWordWhitelist: config.zookeeper4lwWhitelist,
      packetBytesMax: config.zookeeperPacketBytesMax,
      extendedTypesEnabled: config.zookeeperExtendedTypesEnabled,
      superDigest: config.zookeeperSuperDigest,
      containerCheckMs: config.zookeeperContainerCheckMs,
      dataDir: dataDir.path,
    });
    // A cluster node waits for a quorum of its peers to elect a metadata leader.
    const [metaReady, zookeeperStarted] = await Promise.allSettled([cluster.ready(clustered ? 60_000 : 10_000), zookeeperStarting]);
    if (zookeeperStarted.status === "rejected") throw zookeeperStarted.reason;
    const zookeeper = zookeeperStarted.value;
    stack.defer(() => zookeeper.close());
    if (metaReady.status === "rejected") throw metaReady.reason;
    if (!metaReady.value) throw new Error("the metadata group did not elect a leader in time");
    // A single node serves ZooKeeper clients as soon as it leads the coordination group; in a
    // cluster a node serves them once the group has a leader, and this node need not wait.
    if (!clustered && !(await zookeeper.ready(10_000))) throw new Error("the coordination group did not become ready within 10 s");

    const admin: AdminServer = stack.add(
      await startAdminServer({
        host: config.host,
        port: config.adminPort,
        registry,
        logger,
        health: () => ({ status, nodeId: config.nodeId }),
        routes: [
          {
            method: "POST",
            path: "/cluster/rebalance",
            handle: async () => {
              const result = await cluster.rebalanceReplicas();
              return { status: result.errorCode === 0 ? 200 : 503, body: result };
            },
          },
          {
            method: "POST",
            path: "/cluster/decommission",
            handle: async (query) => {
              const nodeId = Number(query.get("node"));
              if (!Number.isInteger(nodeId) || nodeId < 1) return { status: 400, body: { error: "?node=<id> is required" } };
              const result = await cluster.decommission(nodeId);
              return { status: result.errorCode === 0 ? 200 : 503, body: result };
            },
          },
          { method: "GET", path: "/cluster/moves", handle: async () => ({ status: 200, body: cluster.movesComplete() }) },
        ],
      }),
    );
    status = "ok";
    const bootstrapServers = `${config.advertisedHost ?? config.host}:${advertisedPort}`;
    const zookeeperConnectString = `${config.advertisedHost ?? config.host}:${zookeeper.port}`;
    logger.info({ kafka: bootstrapServers, zookeeper: zookeeperConnectString, admin: admin.port }, "node started");
    return {
      config,
      identity: dataDir.identity,
      adminPort: admin.port,
      kafkaPort: advertisedPort,
      bootstrapServers,
      zookeeperPort: zookeeper.port,
      zookeeperConnectString,
      registry,
      runtime,
      kafka: cluster.cluster,
      close: async () => {
        status = "stopping";
        // A planned stop hands leaderships over first (rolling restarts see no election timeout).
        if (clustered) await runtime.drain().catch(() => undefined);
        await stack.close();
        logger.info("node stopped");
      },
    };
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
}

/** The metadata group's voters: the first 3 (or 5, from 5 nodes on) nodes by id. */
export function metaVotersOf(peers: readonly PeerAddress[]): number[] {
  const ids = peers.map((p) => p.nodeId).sort((a, b) => a - b);
  return ids.slice(0, ids.length >= 5 ? 5 : Math.min(3, ids.length));
}

/** Nodes started with the same peer list agree on the cluster id without configuration. */
function deriveClusterId(peers: readonly PeerAddress[]): string {
  const hex = createHash("sha256").update(peers.map((p) => `${p.nodeId}@${p.host}:${p.port}`).join(",")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestClusterOptions {
  /** Nodes to start (1–9); several nodes form one cluster over loopback TCP. */
  nodes?: number;
  /** Keep data here instead of a fresh temporary directory (removed on close when temporary). */
  dataDir?: string;
  logger?: Logger;
  /** Extra node settings. */
  node?: Partial<NodeConfig>;
}

export interface TestCluster {
  /** Every running node's Kafka address, comma-separated. */
  readonly bootstrapServers: string;
  /** ZooKeeper connect string of every running node ("127.0.0.1:p1,127.0.0.1:p2"). */
  readonly zookeeperConnectString: string;
  /** nodes[i] is node i+1 (a stopped node keeps its last handle until restarted). */
  readonly nodes: SynodNode[];
  /** Stops one node (its data stays); the others keep running. */
  stop(nodeId: number): Promise<void>;
  /** Starts a stopped node again on the same data directory and peer port. */
  restart(nodeId: number): Promise<SynodNode>;
  close(): Promise<void>;
}

/**
 * Starts a real synod cluster in-process on free loopback ports, with zero configuration, for
 * other projects' tests: `const cluster = await startTestCluster(); ... await cluster.close();`.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error(`nodes must be 1..9, got ${count}`);
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "synod-test-cluster-")));
  const ports = count === 1 ? [] : await Promise.all(Array.from({ length: count }, () => freePort("127.0.0.1")));
  const peers = ports.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(",");
  const nodeOptions = (i: number): StartNodeOptions => ({
    nodeId: i + 1,
    dataDir: join(dataDir, `node-${i + 1}`),
    host: "127.0.0.1",
    kafkaPort: 0,
    zookeeperPort: 0,
    adminPort: 0,
    peers,
    groupInitialRebalanceDelayMs: 0,
    logLevel: "warn",
    ...options.node,
    logger: options.logger,
  });
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNode(nodeOptions(i))));
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    await Promise.all(nodes.map((n) => n.close()));
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw failure.reason;
  }
  // Every node knows every other node's address before the cluster is handed out.
  const deadline = Date.now() + 30_000;
  while (nodes.some((n) => n.kafka.nodes().length < count) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const stopped = new Set<number>();
  return {
    get bootstrapServers() {
      return nodes.filter((n) => !stopped.has(n.config.nodeId)).map((n) => n.bootstrapServers).join(",");
    },
    get zookeeperConnectString() {
      return nodes.filter((n) => !stopped.has(n.config.nodeId)).map((n) => n.zookeeperConnectString).join(",");
    },
    nodes,
    stop: async (nodeId) => {
      if (stopped.has(nodeId)) return;
      stopped.add(nodeId);
      await nodes[nodeId - 1].close();
    },
    restart: async (nodeId) => {
      if (!stopped.has(nodeId)) return nodes[nodeId - 1];
      const node = await startNode(nodeOptions(nodeId - 1));
      nodes[nodeId - 1] = node;
      stopped.delete(nodeId);
      return node;
    },
    close: async () => {
      await Promise.all(nodes.filter((n) => !stopped.has(n.config.nodeId)).map((n) => n.close()));
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
