// Prometheus metrics of the runtime, registered in the node's own registry: group roles and
// leaderships, commit latency, replication lag per follower, bytes to and from each peer,
// elections won. Values are read from the runtime when Prometheus scrapes (collect callbacks), so
// the hot paths only feed the commit-latency histogram.
import { Counter, Gauge, type Registry } from "prom-client";
import { LabeledHistogram } from "../util/metrics.js";
import type { NodeRuntime } from "./runtime.js";
import type { Transport } from "../transport/transport.js";

/** Replication-lag series are reported for at most this many groups (bounded cardinality). */
const LAG_GROUPS_MAX = 1_000;

export function groupKind(groupId: string): string {
  if (groupId.startsWith("p-")) return "partition";
  return groupId;
}

export interface RuntimeMetrics {
  observeCommit(groupId: string, seconds: number): void;
}

export function registerRuntimeMetrics(registry: Registry, runtime: () => NodeRuntime | undefined, transport: Transport | undefined): RuntimeMetrics {
  const commitLatency = new LabeledHistogram({
    name: "synod_commit_latency_seconds",
    help: "Time from proposing a command to its application on this node (chosen by a majority, fsynced, applied)",
    labelName: "group_kind",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registry,
  });
  new Gauge({
    name: "synod_groups",
    help: "Paxos groups hosted on this node, by role",
    labelNames: ["role"],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const id of runtime()?.groupIds() ?? []) {
        const role = runtime()!.group(id)?.role ?? "unknown";
        counts.set(role, (counts.get(role) ?? 0) + 1);
      }
      for (const [role, count] of counts) this.set({ role }, count);
    },
  });
  new Gauge({
    name: "synod_groups_led",
    help: "Paxos groups this node leads and serves",
    labelNames: ["group_kind"],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const id of runtime()?.groupIds() ?? []) {
        if (runtime()!.group(id)?.isLeaderReady) counts.set(groupKind(id), (counts.get(groupKind(id)) ?? 0) + 1);
      }
      for (const [kind, count] of counts) this.set({ group_kind: kind }, count);
    },
  });
  new Gauge({
    name: "synod_replication_lag_slots",
    help: "For groups this node leads: how many log slots each follower is behind",
    labelNames: ["group", "follower"],
    registers: [registry],
    collect() {
      this.reset();
      let groups = 0;
      for (const id of runtime()?.groupIds() ?? []) {
        const group = runtime()!.group(id);
        if (!group || group.role !== "leader") continue;
        if (++groups > LAG_GROUPS_MAX) break;
        for (const { replicaId, lagSlots } of group.followerLag()) this.set({ group: id, follower: String(replicaId) }, lagSlots);
      }
    },
  });
  let electionsSeen = 0;
  new Counter({
    name: "synod_elections_won_total",
    help: "Times a replica on this node became leader of its group (elections and leadership transfers)",
    registers: [registry],
    collect() {
      let total = 0;
      for (const id of runtime()?.groupIds() ?? []) total += runtime()!.group(id)?.leaderships ?? 0;
      if (total > electionsSeen) this.inc(total - electionsSeen);
      electionsSeen = Math.max(electionsSeen, total);
    },
  });
  if (transport) {
    const seen = new Map<string, number>();
    const peerCounter = (name: string, help: string, field: "bytesOut" | "bytesIn" | "dropped") =>
      new Counter({
        name,
        help,
        labelNames: ["peer"],
        registers: [registry],
        collect() {
          for (const [peer, stats] of transport.stats()) {
            const key = `${name}/${peer}`;
            const delta = stats[field] - (seen.get(key) ?? 0);
            if (delta > 0) this.inc({ peer: String(peer) }, delta);
            seen.set(key, stats[field]);
          }
        },
      });
    peerCounter("synod_peer_sent_bytes_total", "Bytes sent to each peer node", "bytesOut");
    peerCounter("synod_peer_received_bytes_total", "Bytes received from each peer node", "bytesIn");
    peerCounter("synod_peer_dropped_messages_total", "Messages to a peer dropped because its send queue was full or its connection died", "dropped");
  }
  return { observeCommit: (groupId, seconds) => commitLatency.labels(groupKind(groupId)).observe(seconds) };
}
