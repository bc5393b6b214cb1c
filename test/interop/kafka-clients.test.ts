// Interop with real third-party Kafka clients installed from Debian by tools/test-all.sh: kcat
// and confluent-kafka (both librdkafka 2.0.2) and kafka-python 2.0.2, against a real synod node.
// Each test logs the API versions the client negotiated.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import { repoRoot } from "../helpers/process.js";
import { tempDir } from "../helpers/tmp.js";

const run = promisify(execFile);
/** Debian's interpreter: the python3 packages (confluent-kafka, kafka-python) are installed for it. */
const PYTHON = "/usr/bin/python3";

let cluster: TestCluster;
before(async () => {
  cluster = await startTestCluster({ node: { defaultPartitions: 1 } });
});
after(() => cluster.close());

/** Runs a command, capturing stdout and stderr; rejects on a non-zero exit. */
function runCapture(command: string, args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code === 0) resolve(result);
      else reject(new Error(`${command} exited with ${code}\n${result.stderr.slice(-4000)}`));
    });
  });
}

/** librdkafka's protocol debug: "Sent ProduceRequest (v7, ...)" → { Produce: 7, ... }. */
function negotiatedVersions(debug: string): Record<string, number> {
  const versions: Record<string, number> = {};
  for (const match of debug.matchAll(/Sent (\w+)Request \(v(\d+)/g)) versions[match[1]] = Number(match[2]);
  return versions;
}

test("kcat produces 100,000 records from a file and consumes them back identical and in order", async (t) => {
  const dir = tempDir(t);
  const input = join(dir, "in.txt");
  const lines = Array.from({ length: 100_000 }, (_, i) => `record-${i}-${"x".repeat(i % 50)}`);
  await writeFile(input, lines.join("\n") + "\n");
  const produce = await runCapture("kcat", ["-P", "-b", cluster.bootstrapServers, "-t", "kcat-interop", "-X", "acks=all", "-X", "debug=protocol", "-l", input]);
  const consume = await run("kcat", ["-C", "-b", cluster.bootstrapServers, "-t", "kcat-interop", "-e", "-o", "beginning", "-q", "-f", "%s\n"], { maxBuffer: 64 * 2 ** 20 });
  const got = consume.stdout.split("\n").slice(0, -1);
  assert.equal(got.length, lines.length);
  assert.ok(got.every((line, i) => line === lines[i]), "identical and in order");
  t.diagnostic(`kcat negotiated ${JSON.stringify(negotiatedVersions(produce.stderr))}`);
  await readFile(input); // the file is removed with the temp dir
});

test("confluent-kafka: an idempotent producer and a 2-member consumer group with synchronous commits", async (t) => {
  const { stdout, stderr } = await runCapture(PYTHON, [join(repoRoot, "test/interop/confluent_kafka_client.py"), cluster.bootstrapServers, "confluent-interop", "2000"]);
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  t.diagnostic(`confluent-kafka (librdkafka) negotiated ${JSON.stringify(negotiatedVersions(stderr))}`);
  t.diagnostic(`confluent-kafka result ${JSON.stringify(result)}`);
  assert.equal(result.delivered, 2000);
  assert.equal(result.unflushed, 0);
  assert.deepEqual(result.producer_errors, []);
  assert.equal(result.dense, true);
  assert.equal(result.consumed_unique, 2000);
  assert.deepEqual(result.members, ["m1", "m2"], "both members consumed");
});

test("kafka-python: a producer with acks=all and a group consumer that commits", async (t) => {
  const { stdout } = await runCapture(PYTHON, [join(repoRoot, "test/interop/kafka_python_client.py"), cluster.bootstrapServers, "kafka-python-interop", "1000"]);
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  t.diagnostic(`kafka-python inferred broker version ${JSON.stringify(result.api_version)}; result ${JSON.stringify(result)}`);
  assert.equal(result.acknowledged, 1000);
  assert.equal(result.consumed_unique, 1000);
  assert.equal(result.committed_total, 1000);
});
