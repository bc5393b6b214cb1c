// Catch-up of a restarted node: a follower of a 3-node cluster is stopped, N MiB (default 1 GiB)
// are produced to a partition replicated on all three nodes, the follower is restarted, and the
// figure is the time until the leader reports it 0 slots behind (synod_replication_lag_slots).
// Usage: npm run bench -- cluster-catch-up [--mib 1024]
import { closeSync, openSync, rmSync, mkdtempSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { note, parseArgs, report } from "./harness.js";
import { timedRun } from "./kafka-support.js";
import { leaderOf, startBenchCluster } from "./cluster-support.js";

const args = parseArgs();
const mib = Number(args.get("mib") ?? 1024);
const recordBytes = 1024;
const records = Math.round((mib * 2 ** 20) / recordBytes);

async function lagOf(adminPort: number, follower: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let lag: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^synod_replication_lag_slots\{[^}]*group="p-[^"]*"[^}]*follower="(\d+)"[^}]*\} (\d+)/.exec(line);
    if (match && Number(match[1]) === follower) lag = Math.max(lag ?? 0, Number(match[2]));
  }
  return lag;
}

const workDir = mkdtempSync(join(tmpdir(), "synod-bench-files-"));
const cluster = await startBenchCluster(3);
const result: Record<string, unknown> = { mebibytes: mib, records, recordBytes };
try {
  const topic = "catch-up";
  timedRun("bash", ["-c", `echo warm | kcat -P -b ${cluster.bootstrap} -t ${topic} -X acks=all`]);
  let leader = -1;
  while ((leader = await leaderOf(cluster.nodes.map((n) => n.kafka), topic, 0)) < 0) await new Promise((r) => setTimeout(r, 50));
  const follower = cluster.nodes.find((n) => n.id !== leader)!;
  await follower.kill("SIGKILL");
  const file = join(workDir, "records.txt");
  const line = "c".repeat(recordBytes - 8);
  const chunk = Array.from({ length: 10_000 }, (_, i) => `${String(i).padStart(7, "0")}:${line}`).join("\n") + "\n";
  // Written chunk by chunk: 1 GiB as one string is beyond V8's maximum string length.
  const fd = openSync(file, "w");
  const bytes = Buffer.from(chunk);
  for (let i = 0; i < Math.ceil(records / 10_000); i++) writeSync(fd, bytes);
  closeSync(fd);
  note(`producing ${mib} MiB while node ${follower.id} is down`);
  const produce = timedRun("kcat", ["-P", "-b", cluster.nodes.filter((n) => n !== follower).map((n) => n.kafka).join(","), "-t", topic, "-X", "acks=all", "-X", "linger.ms=5", "-X", "batch.num.messages=100000", "-X", "queue.buffering.max.kbytes=1048576", "-l", file]);
  rmSync(file);
  result.produceSeconds = +produce.wallSeconds.toFixed(1);
  const leaderNode = cluster.nodes[leader - 1];
  note(`restarting node ${follower.id}`);
  const restartedAt = performance.now();
  await follower.start();
  for (;;) {
    const lag = await lagOf(leaderNode.adminPort, follower.id);
    if (lag === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - restartedAt) / 1000;
  result.catchUpSeconds = +seconds.toFixed(1);
  result.catchUpMBps = +((mib * 2 ** 20) / seconds / 1e6).toFixed(1);
} finally {
  await cluster.stop();
  rmSync(workDir, { recursive: true, force: true });
}
report("cluster-catch-up", { nodes: 3, note: "three nodes share this 2-core machine and one disk", ...result } as never);
