// Node configuration: one table of settings, each with a default, an environment variable
// (SYNOD_*), a command-line flag and a config-file key (DESIGN.md "Defaults"). Precedence, highest
// first: flags, environment, config file, defaults. The table is the single place a setting is
// declared, so the CLI help, the env parser and the file loader cannot drift apart.
import { readFileSync } from "node:fs";

export type FsyncPolicy = "always" | "never" | `interval:${number}`;

export interface NodeConfig {
  /** This node's id in the cluster, a positive integer. Default 1. */
  nodeId: number;
  /** Directory for all durable state. Default ./synod-data. */
  dataDir: string;
  /** Address every listener binds. Default 127.0.0.1 (loopback; set 0.0.0.0 to serve a network). */
  host: string;
  /** Kafka listener port; 0 picks a free port. Default 9092. */
  kafkaPort: number;
  /** ZooKeeper listener port; 0 picks a free port. Default 2181. */
  zookeeperPort: number;
  /** Admin HTTP port (/health, /metrics); 0 picks a free port. Default 8080. */
  adminPort: number;
  /** Host name clients are told to connect to (Kafka Metadata). Default: host. */
  advertisedHost: string | undefined;
  /** When the storage engine fsyncs: "always" (group commit), "interval:<ms>" or "never". */
  fsync: FsyncPolicy;
  /** pino log level. Default info. */
  logLevel: string;
  /** Create a topic on first use (Metadata / Produce). Default true. */
  autoCreateTopics: boolean;
  /** Partitions of an auto-created topic (Kafka's num.partitions). Default 1. */
  defaultPartitions: number;
  /** Replicas per partition; -1 means min(3, nodes). Default -1. */
  defaultReplicationFactor: number;
  /** SASL/PLAIN users as "user:password,user2:password2"; empty = no authentication. */
  kafkaSaslUsers: string;
  /** group.initial.rebalance.delay.ms. Default 3000 (Kafka's); startTestCluster uses 0. */
  groupInitialRebalanceDelayMs: number;
  /** Milliseconds per consensus tick (elections after 10–20 ticks). Default 50. */
  tickMs: number;
  /**
   * The cluster's members as "id@host:port,..." (host:port of each node's peer listener),
   * including this node. Empty: a single node.
   */
  peers: string;
  /** This node's peer (node-to-node) listener port; default 9094, or the port `peers` gives it. */
  peerPort: number;
  /**
   * The cluster's id. Default: derived from `peers` (so nodes started with the same list agree),
   * or random for a single node. A node added later must be given the cluster's id.
   */
  clusterId: string;
  /** ZooKeeper minSessionTimeout: requested session timeouts are clamped up to it. Default 4000 (2 × ZooKeeper's tickTime). */
  zookeeperSessionTimeoutMsMin: number;
  /** ZooKeeper maxSessionTimeout: requested session timeouts are clamped down to it. Default 40000. */
  zookeeperSessionTimeoutMsMax: number;
  /** ZooKeeper 4lw.commands.whitelist: comma-separated four-letter words, or "*" for all. Default "srvr". */
  zookeeper4lwWhitelist: string;
  /** ZooKeeper jute.maxbuffer: the largest request frame accepted; larger closes the connection. Default 0xfffff. */
  zookeeperPacketBytesMax: number;
  /** ZooKeeper zookeeper.extendedTypesEnabled: allows TTL nodes. Default false. */
  zookeeperExtendedTypesEnabled: boolean;
  /** ZooKeeper's DigestAuthenticationProvider.superDigest ("super:base64sha1"); empty = none. */
  zookeeperSuperDigest: string;
  /** How often the coordination leader deletes empty containers and expired TTL nodes (znode.container.checkIntervalMs). Default 60000. */
  zookeeperContainerCheckMs: number;
}

export interface PeerAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** Parses "1@host:port,2@host:port" into addresses, sorted by node id. */
export function parsePeers(raw: string): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const part of raw.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const match = /^(\d+)@(.+):(\d+)$/.exec(part);
    if (!match) throw new Error(`invalid peer ${JSON.stringify(part)} (expected id@host:port)`);
    const nodeId = Number(match[1]);
    const port = Number(match[3]);
    if (nodeId < 1 || port < 1 || port > 65535) throw new Error(`invalid peer ${part}`);
    if (peers.some((p) => p.nodeId === nodeId)) throw new Error(`node ${nodeId} appears twice in peers`);
    peers.push({ nodeId, host: match[2], port });
  }
  return peers.sort((a, b) => a.nodeId - b.nodeId);
}

interface Setting<K extends keyof NodeConfig> {
  key: K;
  flag: string;
  env: string;
  description: string;
  defaultValue: NodeConfig[K];
  parse: (raw: string) => NodeConfig[K];
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${raw}`);
  return port;
}

function parsePositiveInt(raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`invalid positive integer: ${raw}`);
  return value;
}

export function parseFsyncPolicy(raw: string): FsyncPolicy {
  if (raw === "always" || raw === "never") return raw;
  const match = /^interval:(\d+)$/.exec(raw);
  if (match && Number(match[1]) > 0) return raw as FsyncPolicy;
  throw new Error(`invalid fsync policy: ${raw} (expected always, never or interval:<ms>)`);
}

const identity = (raw: string): string => raw;

function parseBoolean(raw: string): boolean {
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new Error(`invalid boolean: ${raw}`);
}

function parseInteger(min: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`invalid integer (>= ${min}): ${raw}`);
    return value;
  };
}

function parseUsers(raw: string): string {
  for (const pair of raw.split(",").filter((p) => p !== "")) {
    if (!/^[^:]+:.+$/.test(pair)) throw new Error(`invalid SASL user entry (expected user:password): ${pair}`);
  }
  return raw;
}

export const SETTINGS = [
  { key: "nodeId", flag: "--node-id <id>", env: "SYNOD_NODE_ID", description: "this node's id", defaultValue: 1, parse: parsePositiveInt },
  { key: "dataDir", flag: "--data-dir <dir>", env: "SYNOD_DATA_DIR", description: "directory for durable state", defaultValue: "./synod-data", parse: identity },
  { key: "host", flag: "--host <host>", env: "SYNOD_HOST", description: "address the listeners bind", defaultValue: "127.0.0.1", parse: identity },
  { key: "kafkaPort", flag: "--kafka-port <port>", env: "SYNOD_KAFKA_PORT", description: "Kafka listener port (0: any free port)", defaultValue: 9092, parse: parsePort },
  { key: "zookeeperPort", flag: "--zookeeper-port <port>", env: "SYNOD_ZOOKEEPER_PORT", description: "ZooKeeper listener port (0: any free port)", defaultValue: 2181, parse: parsePort },
  { key: "adminPort", flag: "--admin-port <port>", env: "SYNOD_ADMIN_PORT", description: "admin HTTP port for /health and /metrics (0: any free port)", defaultValue: 8080, parse: parsePort },
  { key: "advertisedHost", flag: "--advertised-host <host>", env: "SYNOD_ADVERTISED_HOST", description: "host name clients are told to connect to", defaultValue: undefined, parse: identity },
  { key: "fsync", flag: "--fsync <policy>", env: "SYNOD_FSYNC", description: "always | interval:<ms> | never", defaultValue: "always", parse: parseFsyncPolicy },
  { key: "logLevel", flag: "--log-level <level>", env: "SYNOD_LOG_LEVEL", description: "log level (trace..fatal, silent)", defaultValue: "info", parse: identity },
  { key: "autoCreateTopics", flag: "--auto-create-topics <bool>", env: "SYNOD_AUTO_CREATE_TOPICS", description: "create topics on first use", defaultValue: true, parse: parseBoolean },
  { key: "defaultPartitions", flag: "--default-partitions <n>", env: "SYNOD_DEFAULT_PARTITIONS", description: "partitions of an auto-created topic", defaultValue: 1, parse: parseInteger(1) },
  { key: "defaultReplicationFactor", flag: "--default-replication-factor <n>", env: "SYNOD_DEFAULT_REPLICATION_FACTOR", description: "replicas per partition (-1: min(3, nodes))", defaultValue: -1, parse: parseInteger(-1) },
  { key: "kafkaSaslUsers", flag: "--kafka-sasl-users <list>", env: "SYNOD_KAFKA_SASL_USERS", description: "SASL/PLAIN users user:password,... (empty: no auth)", defaultValue: "", parse: parseUsers },
  { key: "groupInitialRebalanceDelayMs", flag: "--group-initial-rebalance-delay-ms <ms>", env: "SYNOD_GROUP_INITIAL_REBALANCE_DELAY_MS", description: "wait for more members before a group's first generation", defaultValue: 3000, parse: parseInteger(0) },
  { key: "peers", flag: "--peers <list>", env: "SYNOD_PEERS", description: "cluster members id@host:port,... (this node included)", defaultValue: "", parse: (raw: string) => (parsePeers(raw), raw) },
  { key: "peerPort", flag: "--peer-port <port>", env: "SYNOD_PEER_PORT", description: "node-to-node listener port (0: any free port)", defaultValue: 9094, parse: parsePort },
  { key: "clusterId", flag: "--cluster-id <id>", env: "SYNOD_CLUSTER_ID", description: "the cluster's id (default: derived from --peers)", defaultValue: "", parse: identity },
  { key: "tickMs", flag: "--tick-ms <ms>", env: "SYNOD_TICK_MS", description: "consensus tick (heartbeats every 2, elections after 10-20)", defaultValue: 50, parse: parseInteger(1) },
  { key: "zookeeperSessionTimeoutMsMin", flag: "--zookeeper-session-timeout-ms-min <ms>", env: "SYNOD_ZOOKEEPER_SESSION_TIMEOUT_MS_MIN", description: "ZooKeeper minSessionTimeout", defaultValue: 4000, parse: parseInteger(100) },
  { key: "zookeeperSessionTimeoutMsMax", flag: "--zookeeper-session-timeout-ms-max <ms>", env: "SYNOD_ZOOKEEPER_SESSION_TIMEOUT_MS_MAX", description: "ZooKeeper maxSessionTimeout", defaultValue: 40000, parse: parseInteger(100) },
  { key: "zookeeper4lwWhitelist", flag: "--zookeeper-4lw-whitelist <words>", env: "SYNOD_ZOOKEEPER_4LW_WHITELIST", description: "four-letter words served (comma-separated, * for all)", defaultValue: "srvr", parse: identity },
  { key: "zookeeperPacketBytesMax", flag: "--zookeeper-packet-bytes-max <bytes>", env: "SYNOD_ZOOKEEPER_PACKET_BYTES_MAX", description: "ZooKeeper jute.maxbuffer: largest request frame", defaultValue: 0xfffff, parse: parseInteger(1024) },
  { key: "zookeeperExtendedTypesEnabled", flag: "--zookeeper-extended-types-enabled <bool>", env: "SYNOD_ZOOKEEPER_EXTENDED_TYPES_ENABLED", description: "allow TTL znodes", defaultValue: false, parse: parseBoolean },
  { key: "zookeeperSuperDigest", flag: "--zookeeper-super-digest <digest>", env: "SYNOD_ZOOKEEPER_SUPER_DIGEST", description: "super user digest (super:base64sha1), bypasses ACLs", defaultValue: "", parse: identity },
  { key: "zookeeperContainerCheckMs", flag: "--zookeeper-container-check-ms <ms>", env: "SYNOD_ZOOKEEPER_CONTAINER_CHECK_MS", description: "how often empty containers and expired TTL nodes are deleted", defaultValue: 60000, parse: parseInteger(10) },
] as const satisfies ReadonlyArray<Setting<keyof NodeConfig>>;

export function defaultConfig(): NodeConfig {
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) config[setting.key] = setting.defaultValue;
  return config as unknown as NodeConfig;
}

export interface ResolveSources {
  /** Values from command-line flags, already keyed by setting (strings as typed). */
  flags?: Partial<Record<keyof NodeConfig, string>>;
  /** Environment, default process.env. */
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file whose keys are NodeConfig keys. */
  configFile?: string;
  /** Programmatic overrides (startNode options), applied last. */
  overrides?: Partial<NodeConfig>;
}

export function resolveConfig(sources: ResolveSources = {}): NodeConfig {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const env = sources.env ?? process.env;
  let file: Record<string, unknown> = {};
  if (sources.configFile) {
    const text = readFileSync(sources.configFile, "utf8");
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`config file ${sources.configFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(file)) {
    if (!known.has(key)) throw new Error(`config file ${sources.configFile}: unknown setting "${key}"`);
  }
  for (const setting of SETTINGS) {
    const fromFile = file[setting.key];
    if (fromFile !== undefined) config[setting.key] = setting.parse(String(fromFile));
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") config[setting.key] = setting.parse(fromEnv);
    const fromFlag = sources.flags?.[setting.key];
    if (fromFlag !== undefined) config[setting.key] = setting.parse(fromFlag);
  }
  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) config[key] = value;
  }
  return config as unknown as NodeConfig;
}
