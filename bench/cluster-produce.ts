// Produce throughput on a 3-node cluster (real processes; all three nodes and the client share
// this 2-core machine): kcat at acks=all and acks=1, 100-byte and 1 KiB records, one partition
// replicated on all three nodes. Compare with `npm run bench -- kafka-produce` (one node).
// Usage: npm run bench -- cluster-produce [--records100 N] [--records1k N]
import { writeFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { note, parseArgs, report } from "./harness.js";
import { cpuSeconds, timedRun } from "./kafka-support.js";
import { leaderOf, startBenchCluster } from "./cluster-support.js";

const args = parseArgs();
const sizes = [
  { bytes: 100, records: Number(args.get("records100") ?? 500_000) },
  { bytes: 1024, records: Number(args.get("records1k") ?? 100_000) },
];

const workDir = mkdtempSync(join(tmpdir(), "synod-bench-files-"));
const cluster = await startBenchCluster(3);
const results: Record<string, unknown> = {};
try {
  for (const { bytes, records } of sizes) {
    const file = join(workDir, `records-${bytes}.txt`);
    const line = "z".repeat(bytes - 8);
    writeFileSync(file, Array.from({ length: records }, (_, i) => `${String(i).padStart(7, "0")}:${line}`).join("\n") + "\n");
    for (const acks of ["all", "1"]) {
      const topic = `cluster-${bytes}-${acks}`;
      // Create the topic and wait for its leader before timing.
      timedRun("bash", ["-c", `echo warm | kcat -P -b ${cluster.bootstrap} -t ${topic} -X acks=all`]);
      while ((await leaderOf(cluster.nodes.map((n) => n.kafka), topic, 0)) < 0) await new Promise((r) => setTimeout(r, 50));
      note(`kcat acks=${acks}: ${records} records of ${bytes} B`);
      const before = cluster.nodes.map((n) => cpuSeconds(n.child!.pid!));
      const run = timedRun("kcat", ["-P", "-b", cluster.bootstrap, "-t", topic, "-X", `acks=${acks}`, "-X", "linger.ms=5", "-X", "batch.num.messages=100000", "-X", "queue.buffering.max.messages=1000000", "-X", "queue.buffering.max.kbytes=1048576", "-l", file]);
      const brokerCpu = cluster.nodes.reduce((sum, n, i) => sum + cpuSeconds(n.child!.pid!) - before[i], 0);
      results[`kcat_${bytes}B_acks_${acks}`] = {
        records,
        recordsPerSecond: Math.round(records / run.wallSeconds),
        megabytesPerSecond: +((records * bytes) / run.wallSeconds / 1e6).toFixed(1),
        clientCpuSeconds: +run.cpuSeconds.toFixed(2),
        brokersCpuSeconds: +brokerCpu.toFixed(2),
        wallSeconds: +run.wallSeconds.toFixed(2),
      };
    }
    rmSync(file);
  }
} finally {
  await cluster.stop();
  rmSync(workDir, { recursive: true, force: true });
}
report("cluster-produce", { nodes: 3, replicationFactor: 3, partitions: 1, fsync: "always", note: "three nodes and the client share this 2-core machine", ...results } as never);
