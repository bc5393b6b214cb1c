// Goal: the write path's labeled histogram and counter expose exactly what prom-client's own
// Histogram and Counter would for the same observations (names, labels, cumulative buckets, sum,
// count, default labels), and their label sets are bounded.
// Method: feed both implementations the same random observations (seeded) in two registries and
// compare the text exposition line by line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Counter, Histogram, Registry } from "prom-client";
import { LabeledCounter, LabeledHistogram, METRIC_LABEL_VALUES_MAX } from "../../src/util/metrics.js";
import { SeededRandom } from "../../src/util/random.js";

const BUCKETS = [0.0001, 0.001, 0.01, 0.1, 1, 5];

function registries(): { ours: Registry; theirs: Registry } {
  const ours = new Registry();
  const theirs = new Registry();
  for (const registry of [ours, theirs]) registry.setDefaultLabels({ node: "3" });
  return { ours, theirs };
}

test("the labeled histogram and counter render as prom-client's Histogram and Counter do", async () => {
  const { ours, theirs } = registries();
  const histogram = new LabeledHistogram({ name: "t_duration_seconds", help: "time by op", labelName: "op", buckets: BUCKETS, registry: ours });
  const counter = new LabeledCounter({ name: "t_requests_total", help: "requests by op", labelName: "op", registry: ours });
  const reference = new Histogram({ name: "t_duration_seconds", help: "time by op", labelNames: ["op"], buckets: BUCKETS, registers: [theirs] });
  const referenceCounter = new Counter({ name: "t_requests_total", help: "requests by op", labelNames: ["op"], registers: [theirs] });
  const random = new SeededRandom(4242);
  const ops = ["create", "setData", "getData"];
  for (let i = 0; i < 5000; i++) {
    const op = ops[random.int(ops.length)];
    // Values land on, between and beyond the bounds.
    const value = random.int(4) === 0 ? BUCKETS[random.int(BUCKETS.length)] : random.int(7_000_000) / 1_000_000;
    histogram.labels(op).observe(value);
    reference.observe({ op }, value);
    counter.labels(op).inc();
    referenceCounter.inc({ op });
  }
  const sortLines = (text: string): string[] => text.split("\n").filter((line) => line !== "").sort();
  assert.deepEqual(sortLines(await ours.metrics()), sortLines(await theirs.metrics()));
  const json = await ours.getMetricsAsJSON();
  assert.equal(json.length, 2);
  ours.resetMetrics();
  assert.ok(!(await ours.metrics()).includes('op="create"'), "reset forgets every series");
});

test("label values are bounded: beyond the limit, observations count under op=\"other\"", async () => {
  const registry = new Registry();
  const histogram = new LabeledHistogram({ name: "b_seconds", help: "bounded", labelName: "op", buckets: [1], registry });
  for (let i = 0; i < METRIC_LABEL_VALUES_MAX + 10; i++) histogram.labels(`v${i}`).observe(0.5);
  const text = await registry.metrics();
  assert.equal(text.match(/b_seconds_count\{/g)?.length, METRIC_LABEL_VALUES_MAX + 1);
  assert.match(text, /b_seconds_count\{op="other"\} 10/);
  histogram.labels("v0").observe(Number.NaN);
  assert.match(await registry.metrics(), /b_seconds_count\{op="v0"\} 1\n/, "a non-finite value is not observed");
});
