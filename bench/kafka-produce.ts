// Produce throughput at acks=all with fsync (the default policy): kcat (librdkafka) and kafkajs
// against a synod node in its own process, 100-byte and 1 KiB records, beside the disk's dd
// fdatasync bandwidth. Broker and client CPU seconds are reported separately (they share the
// machine's cores). Usage: npm run bench -- kafka-produce [--records100 N] [--records1k N]
import { writeFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { note, parseArgs, report } from "./harness.js";
import { cpuSeconds, ddBaselineMBps, startBenchNode, timedRun } from "./kafka-support.js";

const args = parseArgs();
const sizes: Array<{ bytes: number; records: number }> = [
  { bytes: 100, records: Number(args.get("records100") ?? 1_000_000) },
  { bytes: 1024, records: Number(args.get("records1k") ?? 200_000) },
];

function recordFile(dir: string, bytes: number, records: number): string {
  const path = join(dir, `records-${bytes}.txt`);
  const line = "x".repeat(bytes - 8);
  const chunks: string[] = [];
  for (let i = 0; i < records; i++) chunks.push(`${String(i).padStart(7, "0")}:${line}`);
  writeFileSync(path, chunks.join("\n") + "\n");
  return path;
}

async function kafkajsProduce(bootstrap: string, topic: string, bytes: number, records: number, brokerPid: number) {
  const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  const value = Buffer.alloc(bytes, 120);
  const batch = Array.from({ length: 1000 }, () => ({ value }));
  await producer.send({ topic, acks: -1, messages: batch.slice(0, 1) });
  const brokerBefore = cpuSeconds(brokerPid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  const inflight = 8;
  const worker = async (): Promise<void> => {
    while (sent < records) {
      sent += batch.length;
      await producer.send({ topic, acks: -1, messages: batch });
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const seconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  await producer.disconnect();
  return {
    records: sent,
    recordsPerSecond: Math.round(sent / seconds),
    megabytesPerSecond: +((sent * bytes) / seconds / 1e6).toFixed(1),
    clientCpuSeconds: +((clientCpu.user + clientCpu.system) / 1e6).toFixed(2),
    brokerCpuSeconds: +(cpuSeconds(brokerPid) - brokerBefore).toFixed(2),
    wallSeconds: +seconds.toFixed(2),
  };
}

const workDir = mkdtempSync(join(tmpdir(), "synod-bench-files-"));
const node = await startBenchNode();
const results: Record<string, unknown> = { coldStartToListeningMs: Math.round(node.startMs) };
try {
  results.ddFdatasyncMBps = +ddBaselineMBps(node.dataDir).toFixed(1);
  for (const { bytes, records } of sizes) {
    note(`kcat: ${records} records of ${bytes} B`);
    const file = recordFile(workDir, bytes, records);
    const brokerBefore = cpuSeconds(node.pid);
    const run = timedRun("kcat", [
      "-P", "-b", node.bootstrap, "-t", `kcat-${bytes}`, "-l",
      "-X", "acks=all", "-X", "linger.ms=5", "-X", "batch.num.messages=100000", "-X", "queue.buffering.max.messages=1000000",
      "-X", "queue.buffering.max.kbytes=1048576", file,
    ]);
    rmSync(file);
    results[`kcat_${bytes}B`] = {
      records,
      recordsPerSecond: Math.round(records / run.wallSeconds),
      megabytesPerSecond: +((records * bytes) / run.wallSeconds / 1e6).toFixed(1),
      clientCpuSeconds: +run.cpuSeconds.toFixed(2),
      brokerCpuSeconds: +(cpuSeconds(node.pid) - brokerBefore).toFixed(2),
      wallSeconds: +run.wallSeconds.toFixed(2),
    };
    note(`kafkajs: ${records} records of ${bytes} B`);
    results[`kafkajs_${bytes}B`] = await kafkajsProduce(node.bootstrap, `kafkajs-${bytes}`, bytes, Math.min(records, bytes > 500 ? 100_000 : 300_000), node.pid);
  }
} finally {
  await node.stop();
  rmSync(workDir, { recursive: true, force: true });
}
report("kafka-produce", { acks: "all", fsync: "always", partitions: 1, ...results } as never);
