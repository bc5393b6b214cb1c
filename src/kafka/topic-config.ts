// Topic configuration: the keys Kafka defines for topics, their defaults, which ones synod
// enforces, and validation. DescribeConfigs returns every key (clients such as librdkafka expect
// the full list, defaults included); AlterConfigs/CreateTopics accept every key with a valid value
// and refuse values synod cannot honour (e.g. cleanup.policy=compact) with INVALID_CONFIG rather
// than silently ignoring them.

export type ConfigType = "string" | "int" | "long" | "double" | "boolean" | "list";

export interface TopicConfigDefinition {
  name: string;
  type: ConfigType;
  defaultValue: string;
  /** True when synod acts on the value; false when it is stored and reported only. */
  enforced: boolean;
  /** Returns an error message for an invalid value, undefined when valid. */
  validate?: (value: string) => string | undefined;
  documentation: string;
}

const nonNegativeOrMinusOne = (value: string): string | undefined =>
  /^-?\d+$/.test(value) && Number(value) >= -1 && Number.isSafeInteger(Number(value)) ? undefined : "must be an integer >= -1";
const positiveInt = (min: number) => (value: string): string | undefined =>
  /^\d+$/.test(value) && Number(value) >= min && Number(value) <= 2 ** 31 - 1 ? undefined : `must be an integer between ${min} and 2147483647`;
const nonNegativeLong = (value: string): string | undefined =>
  /^\d{1,19}$/.test(value) && BigInt(value) <= 2n ** 63n - 1n ? undefined : "must be an integer between 0 and 9223372036854775807";
const oneOf = (...allowed: string[]) => (value: string): string | undefined =>
  allowed.includes(value) ? undefined : `must be one of ${allowed.join(", ")}`;
const booleanValue = oneOf("true", "false");
const ratio = (value: string): string | undefined => (/^\d*\.?\d+$/.test(value) && Number(value) <= 1 ? undefined : "must be between 0 and 1");

export const TOPIC_CONFIGS: readonly TopicConfigDefinition[] = [
  { name: "cleanup.policy", type: "list", defaultValue: "delete", enforced: true, validate: oneOf("delete"), documentation: "delete old segments by retention; compaction is not supported yet" },
  { name: "compression.type", type: "string", defaultValue: "producer", enforced: true, validate: oneOf("producer"), documentation: "batches are stored as the producer compressed them" },
  { name: "delete.retention.ms", type: "long", defaultValue: "86400000", enforced: false, validate: nonNegativeLong, documentation: "compaction tombstone retention (stored only)" },
  { name: "file.delete.delay.ms", type: "long", defaultValue: "60000", enforced: false, validate: nonNegativeLong, documentation: "stored only; segments are deleted at once" },
  { name: "flush.messages", type: "long", defaultValue: "9223372036854775807", enforced: false, validate: nonNegativeLong, documentation: "stored only; synod fsyncs every acknowledged write (see docs/operations.md)" },
  { name: "flush.ms", type: "long", defaultValue: "9223372036854775807", enforced: false, validate: nonNegativeLong, documentation: "stored only; synod fsyncs every acknowledged write" },
  { name: "follower.replication.throttled.replicas", type: "list", defaultValue: "", enforced: false, documentation: "stored only" },
  { name: "index.interval.bytes", type: "int", defaultValue: "4096", enforced: false, validate: positiveInt(0), documentation: "stored only; the storage engine indexes every 4 KiB" },
  { name: "leader.replication.throttled.replicas", type: "list", defaultValue: "", enforced: false, documentation: "stored only" },
  { name: "max.compaction.lag.ms", type: "long", defaultValue: "9223372036854775807", enforced: false, validate: nonNegativeLong, documentation: "stored only" },
  { name: "max.message.bytes", type: "int", defaultValue: "1048588", enforced: true, validate: positiveInt(0), documentation: "largest record batch accepted (after compression)" },
  { name: "message.downconversion.enable", type: "boolean", defaultValue: "true", enforced: false, validate: booleanValue, documentation: "stored only; synod serves record batch v2 only" },
  { name: "message.format.version", type: "string", defaultValue: "3.0-IV1", enforced: false, documentation: "stored only; always v2 batches" },
  { name: "message.timestamp.difference.max.ms", type: "long", defaultValue: "9223372036854775807", enforced: false, validate: nonNegativeLong, documentation: "stored only" },
  { name: "message.timestamp.type", type: "string", defaultValue: "CreateTime", enforced: true, validate: oneOf("CreateTime", "LogAppendTime"), documentation: "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's" },
  { name: "min.cleanable.dirty.ratio", type: "double", defaultValue: "0.5", enforced: false, validate: ratio, documentation: "stored only" },
  { name: "min.compaction.lag.ms", type: "long", defaultValue: "0", enforced: false, validate: nonNegativeLong, documentation: "stored only" },
  { name: "min.insync.replicas", type: "int", defaultValue: "1", enforced: false, validate: positiveInt(1), documentation: "acks=all always waits for a majority of the partition's replicas (Paxos)" },
  { name: "preallocate", type: "boolean", defaultValue: "false", enforced: false, validate: booleanValue, documentation: "stored only" },
  { name: "retention.bytes", type: "long", defaultValue: "-1", enforced: true, validate: nonNegativeOrMinusOne, documentation: "delete old segments beyond this size per partition; -1 unlimited" },
  { name: "retention.ms", type: "long", defaultValue: "604800000", enforced: true, validate: nonNegativeOrMinusOne, documentation: "delete segments older than this; -1 unlimited" },
  { name: "segment.bytes", type: "int", defaultValue: "1073741824", enforced: true, validate: positiveInt(14), documentation: "roll a new segment file at this size" },
  { name: "segment.index.bytes", type: "int", defaultValue: "10485760", enforced: false, validate: positiveInt(4), documentation: "stored only" },
  { name: "segment.jitter.ms", type: "long", defaultValue: "0", enforced: false, validate: nonNegativeLong, documentation: "stored only" },
  { name: "segment.ms", type: "long", defaultValue: "604800000", enforced: true, validate: positiveInt(1), documentation: "roll a new segment file at this age" },
  { name: "unclean.leader.election.enable", type: "boolean", defaultValue: "false", enforced: false, validate: oneOf("false"), documentation: "never: Paxos elects only from a majority" },
];

const BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

export function topicConfigDefinition(name: string): TopicConfigDefinition | undefined {
  return BY_NAME.get(name);
}

/** Validates one key/value; returns an error message (for INVALID_CONFIG) or undefined. */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const definition = BY_NAME.get(name);
  if (!definition) return `unknown topic config ${name}`;
  if (value === null) return undefined;
  return definition.validate?.(value) ? `invalid value ${JSON.stringify(value)} for ${name}: ${definition.validate(value)}` : undefined;
}

/** The effective value of a config given a topic's overrides. */
export function effectiveTopicConfig(overrides: Record<string, string>, name: string): string {
  const definition = BY_NAME.get(name);
  return overrides[name] ?? definition?.defaultValue ?? "";
}

export function effectiveNumber(overrides: Record<string, string>, name: string): number {
  return Number(effectiveTopicConfig(overrides, name));
}

/** Kafka's topic-name rule: 1–249 chars of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): string | undefined {
  if (name.length === 0) return "topic name is empty";
  if (name === "." || name === "..") return `topic name cannot be "${name}"`;
  if (name.length > 249) return "topic name is longer than 249 characters";
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name ${JSON.stringify(name)} contains characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

/**
 * Places `partitionCount` new partitions with `replicationFactor` replicas on `nodeIds`, spreading
 * leaders (the first replica) and replicas evenly, continuing from `startIndex` so that topics
 * created one after another do not all lead on the same node (Kafka's round-robin assignment).
 */
export function placeReplicas(nodeIds: readonly number[], partitionCount: number, replicationFactor: number, startIndex: number): number[][] {
  const nodes = [...nodeIds].sort((a, b) => a - b);
  if (replicationFactor < 1 || replicationFactor > nodes.length) throw new RangeError(`replication factor ${replicationFactor} with ${nodes.length} nodes`);
  const placement: number[][] = [];
  for (let p = 0; p < partitionCount; p++) {
    const first = (startIndex + p) % nodes.length;
    // Shift followers by a per-round offset so follower load spreads as well (Kafka's "nextReplicaShift").
    const shift = 1 + (Math.floor((startIndex + p) / nodes.length) % Math.max(1, nodes.length - 1));
    const replicas = [nodes[first]];
    for (let r = 1; r < replicationFactor; r++) {
      let index = (first + shift + r - 1) % nodes.length;
      while (replicas.includes(nodes[index])) index = (index + 1) % nodes.length;
      replicas.push(nodes[index]);
    }
    placement.push(replicas);
  }
  return placement;
}
