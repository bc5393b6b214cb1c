// Consume throughput: N records are produced first (kcat), then read back from offset 0 by kcat
// (librdkafka) and by kafkajs, against a synod node in its own process. Also measures the cold
// start of `synod start` to the first acknowledged produce. Usage:
// npm run bench -- kafka-fetch [--records N] [--bytes B]
import { writeFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { note, parseArgs, percentile, report } from "./harness.js";
import { cpuSeconds, startBenchNode, timedRun } from "./kafka-support.js";
import { RawProduceProbe } from "./raw-produce-probe.js";

const args = parseArgs();
const records = Number(args.get("records") ?? 1_000_000);
const bytes = Number(args.get("bytes") ?? 100);

async function coldStart(samples: number): Promise<{ p50: number; max: number; samples: number[] }> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const node = await startBenchNode();
    await RawProduceProbe.produceOnce(node.bootstrap, "cold-start");
    times.push(Math.round(performance.now() - started));
    await node.stop();
  }
  return { p50: percentile([...times], 50), max: Math.max(...times), samples: times };
}

const workDir = mkdtempSync(join(tmpdir(), "synod-bench-files-"));
const results: Record<string, unknown> = {};
results.coldStartToFirstProduceMs = await coldStart(5);
const node = await startBenchNode();
try {
  const file = join(workDir, "records.txt");
  const line = "y".repeat(bytes - 8);
  writeFileSync(file, Array.from({ length: records }, (_, i) => `${String(i).padStart(7, "0")}:${line}`).join("\n") + "\n");
  timedRun("kcat", ["-P", "-b", node.bootstrap, "-t", "fetch-bench", "-X", "acks=all", "-X", "linger.ms=5", "-X", "batch.num.messages=100000", "-X", "queue.buffering.max.messages=1000000", "-l", file]);
  rmSync(file);
  note(`consuming ${records} records with kcat`);
  const brokerBefore = cpuSeconds(node.pid);
  // kcat -e exits on the fetch that finds the end of the log, which the broker holds for
  // fetch.wait.max.ms (librdkafka's default 500 ms) as Kafka does: a 10 ms wait keeps that final
  // long poll out of the figure (fetches with data return at once either way).
  const run = timedRun("bash", ["-c", `kcat -C -b ${node.bootstrap} -t fetch-bench -e -o beginning -q -X fetch.max.bytes=52428800 -X max.partition.fetch.bytes=10485760 -X fetch.wait.max.ms=10 -f '%o\\n' | wc -l`]);
  const consumed = Number(run.stdout.trim());
  results.kcat = {
    records: consumed,
    recordsPerSecond: Math.round(consumed / run.wallSeconds),
    megabytesPerSecond: +((consumed * bytes) / run.wallSeconds / 1e6).toFixed(1),
    clientCpuSeconds: +run.cpuSeconds.toFixed(2),
    brokerCpuSeconds: +(cpuSeconds(node.pid) - brokerBefore).toFixed(2),
    wallSeconds: +run.wallSeconds.toFixed(2),
  };

  note(`consuming ${records} records with kafkajs`);
  const kafka = new kafkajs.Kafka({ brokers: [node.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: "bench", maxBytes: 50 << 20, maxBytesPerPartition: 10 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: "fetch-bench", fromBeginning: true });
  const brokerBefore2 = cpuSeconds(node.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= records) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  await consumer.disconnect();
  results.kafkajs = {
    records: seen,
    recordsPerSecond: Math.round(seen / seconds),
    megabytesPerSecond: +((seen * bytes) / seconds / 1e6).toFixed(1),
    clientCpuSeconds: +((clientCpu.user + clientCpu.system) / 1e6).toFixed(2),
    brokerCpuSeconds: +(cpuSeconds(node.pid) - brokerBefore2).toFixed(2),
    wallSeconds: +seconds.toFixed(2),
  };
} finally {
  await node.stop();
  rmSync(workDir, { recursive: true, force: true });
}
report("kafka-fetch", { recordBytes: bytes, ...results } as never);
