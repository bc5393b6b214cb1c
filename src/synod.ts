// The composition root: startNode() wires the runtime (node/), the front-ends (kafka/, zookeeper/)
// and the admin server into one synod node. It is the one way to run a node, from the CLI or
// in-process; startTestCluster() starts nodes in-process on free ports for other projects' tests.
import { Registry, collectDefaultMetrics, Histogram, Counter } from "prom-client";
import { startAdminServer, type AdminServer, type HealthReport } from "./admin/server.js";
import { createLogger, type Logger } from "./util/logger.js";
import { DisposableStack } from "./util/disposable.js";
import { openDataDir, type NodeIdentity } from "./node/data-dir.js";
import { resolveConfig, type NodeConfig } from "./node/config.js";
import { systemClock } from "./node/system-clock.js";
import { NodeRuntime } from "./node/runtime.js";
import { KafkaCluster } from "./kafka/cluster.js";
import { startKafkaBroker } from "./kafka/broker.js";
import { startZooKeeperServer } from "./zookeeper/server.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
    const dataDir = openDataDir(config.dataDir, config.nodeId);
    stack.defer(() => dataDir.release());
    logger.info({ dataDir: dataDir.path, clusterId: dataDir.identity.clusterId }, "data directory ready");

    const registry = new Registry();
    registry.setDefaultLabels({ node: String(config.nodeId) });
    collectDefaultMetrics({ register: registry });
    const requestLatency = new Histogram({
      name: "synod_kafka_request_duration_seconds",
      help: "Kafka request handling time by API key",
      labelNames: ["api_key"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const requestErrors = new Counter({ name: "synod_kafka_request_failures_total", help: "Kafka requests whose handler failed", labelNames: ["api_key"], registers: [registry] });

    const runtime = new NodeRuntime({
      nodeId: config.nodeId,
      dataDir: dataDir.path,
      clock: systemClock,
      logger,
      fsync: config.fsync,
      tickMs: config.tickMs,
      onFatal: (groupId, error) => {
        status = "degraded";
        logger.fatal({ groupId, err: error }, "unrecoverable storage failure");
        if (onFatal === "exit") process.exit(70);
      },
    });
    stack.defer(() => runtime.close());
    runtime.start();

    // The Kafka listener binds before the cluster starts so its real port can be advertised.
    const cluster = new KafkaCluster({
      runtime,
      clock: systemClock,
      logger,
      clusterId: dataDir.identity.clusterId,
      metaVoters: [config.nodeId],
      self: { host: config.advertisedHost ?? config.host, kafkaPort: config.kafkaPort, zookeeperPort: config.zookeeperPort, peerPort: 0, rack: null },
      autoCreateTopics: config.autoCreateTopics,
      defaultPartitions: config.defaultPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      saslPlainUsers: parseSaslUsers(config.kafkaSaslUsers),
      coordinator: { initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs },
    });
    const broker = await startKafkaBroker({
      host: config.host,
      port: config.kafkaPort,
      backend: cluster,
      logger,
      onRequest: (apiKey, _version, durationMs, ok) => {
        requestLatency.observe({ api_key: String(apiKey) }, durationMs / 1000);
        if (!ok) requestErrors.inc({ api_key: String(apiKey) });
      },
    });
    stack.defer(() => broker.close());
    const advertisedPort = broker.port;
    cluster.setAdvertisedKafkaPort(advertisedPort);
    await cluster.start();
    stack.defer(() => cluster.close());
    if (!(await cluster.ready(10_000))) throw new Error("the metadata group did not elect a leader within 10 s");

    // The coordination group has the metadata group's voters; its leader serves ZooKeeper clients.
    const zookeeper = await startZooKeeperServer({
      runtime,
      clock: systemClock,
      logger,
      registry,
      host: config.host,
      port: config.zookeeperPort,
      voters: [config.nodeId],
      sessionTimeoutMsMin: config.zookeeperSessionTimeoutMsMin,
      sessionTimeoutMsMax: config.zookeeperSessionTimeoutMsMax,
      fourLetterWordWhitelist: config.zookeeper4lwWhitelist,
      packetBytesMax: config.zookeeperPacketBytesMax,
      extendedTypesEnabled: config.zookeeperExtendedTypesEnabled,
      superDigest: config.zookeeperSuperDigest,
      containerCheckMs: config.zookeeperContainerCheckMs,
      dataDir: dataDir.path,
    });
    stack.defer(() => zookeeper.close());
    if (!(await zookeeper.ready(10_000))) throw new Error("the coordination group did not become ready within 10 s");

    const admin: AdminServer = stack.add(
      await startAdminServer({
        host: config.host,
        port: config.adminPort,
        registry,
        logger,
        health: () => ({ status, nodeId: config.nodeId }),
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
      close: async () => {
        status = "stopping";
        await stack.close();
        logger.info("node stopped");
      },
    };
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
}

export interface TestClusterOptions {
  /** Nodes to start (1 for now; the cluster issue adds more). */
  nodes?: number;
  /** Keep data here instead of a fresh temporary directory (removed on close when temporary). */
  dataDir?: string;
  logger?: Logger;
  /** Extra node settings. */
  node?: Partial<NodeConfig>;
}

export interface TestCluster {
  readonly bootstrapServers: string;
  /** ZooKeeper connect string of every node ("127.0.0.1:p1,127.0.0.1:p2"). */
  readonly zookeeperConnectString: string;
  readonly nodes: SynodNode[];
  close(): Promise<void>;
}

/**
 * Starts a real synod cluster in-process on free loopback ports, with zero configuration, for
 * other projects' tests: `const cluster = await startTestCluster(); ... await cluster.close();`.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 1;
  if (count !== 1) throw new Error("startTestCluster supports one node until the cluster runtime lands");
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "synod-test-cluster-")));
  const node = await startNode({
    nodeId: 1,
    dataDir: join(dataDir, "node-1"),
    host: "127.0.0.1",
    kafkaPort: 0,
    zookeeperPort: 0,
    adminPort: 0,
    groupInitialRebalanceDelayMs: 0,
    logLevel: "warn",
    ...options.node,
    logger: options.logger,
  });
  return {
    bootstrapServers: node.bootstrapServers,
    zookeeperConnectString: node.zookeeperConnectString,
    nodes: [node],
    close: async () => {
      await node.close();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
