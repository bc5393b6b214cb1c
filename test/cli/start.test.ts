// `synod start` as a user runs it: a real process, real ports, real data directory. It must come
// up, serve /health and /metrics, and stop cleanly on SIGINT and SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnLogged } from "../helpers/process.js";
import { tempDir } from "../helpers/tmp.js";

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`synod start serves /health and /metrics and stops cleanly on ${signal}`, async (t) => {
    const dataDir = join(tempDir(t), "data");
    const proc = spawnLogged(["start", "--data-dir", dataDir, "--admin-port", "0", "--kafka-port", "0", "--zookeeper-port", "0"]);
    t.after(() => proc.child.kill("SIGKILL"));
    const listening = await proc.waitFor((line) => line.msg === "admin HTTP listening");
    await proc.waitFor((line) => line.msg === "node started");
    const port = listening.port as number;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, "ok");
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /text\/plain/);
    assert.match(await metrics.text(), /# TYPE process_cpu_user_seconds_total counter/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    assert.ok(existsSync(join(dataDir, "node.json")), "the data directory is created and stamped");
    proc.child.kill(signal);
    const exit = await proc.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(proc.lines.some((line) => line.msg === "node stopped"));
    assert.equal(existsSync(join(dataDir, "LOCK")), false, "the data directory lock is released");
  });
}

test("synod start refuses a data directory another live process holds", async (t) => {
  const dataDir = join(tempDir(t), "data");
  const first = spawnLogged(["start", "--data-dir", dataDir, "--admin-port", "0"]);
  t.after(() => first.child.kill("SIGKILL"));
  await first.waitFor((line) => line.msg === "node started");
  const second = spawnLogged(["start", "--data-dir", dataDir, "--admin-port", "0"]);
  t.after(() => second.child.kill("SIGKILL"));
  const exit = await second.exited;
  assert.equal(exit.code, 1);
});

test("synod start rejects an invalid setting with a clear message", async () => {
  const proc = spawnLogged(["start", "--fsync", "sometimes"]);
  const exit = await proc.exited;
  assert.equal(exit.code, 1);
});
