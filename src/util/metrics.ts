// Per-request metrics with one label, cheap enough for the write path, rendered by prom-client.
//
// prom-client's Histogram.observe({ op }, v) validates and hashes its label object on every call
// (about 1 µs, three calls per ZooKeeper write: 3-4 % of the server's CPU in the profile). Here a
// caller resolves the label once to a child (`labels("setData")`), and an observation is a bucket
// search and three additions into typed arrays. The metric registers itself with a prom-client
// Registry as a custom metric (name, help, type, get()), so the exposition format, default labels
// and the registry's JSON output stay prom-client's.
import type { Registry } from "prom-client";

/** What prom-client's registry reads from a metric (its MetricObjectWithValues). */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  /** Labels rendered after `labels` (prom-client's own histogram puts its label set here). */
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface CollectedMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: MetricValue[];
  aggregator: "sum";
}

export interface HistogramChild {
  observe(value: number): void;
}

export interface CounterChild {
  inc(by?: number): void;
}

interface HistogramOptions {
  name: string;
  help: string;
  labelName: string;
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
  registry: Registry;
}

/** Label values a metric tracks at most; beyond them, observations go to the "other" child. */
export const METRIC_LABEL_VALUES_MAX = 256;
const OVERFLOW_LABEL = "other";

class HistogramSeries implements HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram with one label; `labels(v)` returns a child to keep and observe on. */
export class LabeledHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly bounds: Float64Array;
  private readonly series = new Map<string, HistogramSeries>();

  constructor(private readonly options: HistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i] > options.buckets[i - 1])) throw new RangeError(`${options.name}: buckets must ascend`);
    }
    this.bounds = Float64Array.from(options.buckets);
    options.registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  labels(value: string): HistogramChild {
    let series = this.series.get(value);
    if (series === undefined) {
      if (this.series.size >= METRIC_LABEL_VALUES_MAX && value !== OVERFLOW_LABEL) return this.labels(OVERFLOW_LABEL);
      series = new HistogramSeries(this.bounds);
      this.series.set(value, series);
    }
    return series;
  }

  /** For the registry's JSON output: each value's labels in one object. */
  get(): Promise<CollectedMetric> {
    return Promise.resolve(this.collect(false));
  }

  /** For the text exposition: rendered as prom-client renders its Histogram (le, defaults, label). */
  getForPromString(): Promise<CollectedMetric> {
    return Promise.resolve(this.collect(true));
  }

  private collect(shared: boolean): CollectedMetric {
    const values: MetricValue[] = [];
    const labelName = this.options.labelName;
    for (const [label, series] of this.series) {
      const own = { [labelName]: label };
      const value = (metricName: string, v: number, labels: Record<string, string | number>): MetricValue =>
        shared ? { value: v, labels, sharedLabels: own, metricName } : { value: v, labels: { ...labels, ...own }, metricName };
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i];
        values.push(value(`${this.name}_bucket`, cumulative, { le: i < this.bounds.length ? this.bounds[i] : "+Inf" }));
      }
      values.push(value(`${this.name}_sum`, series.sum, {}));
      values.push(value(`${this.name}_count`, series.count, {}));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client calls reset() on registry.resetMetrics(). */
  reset(): void {
    this.series.clear();
  }
}

class CounterSeries implements CounterChild {
  value = 0;
  inc(by = 1): void {
    if (by >= 0) this.value += by;
  }
}

/** A counter with one label; `labels(v)` returns a child to keep and increment. */
export class LabeledCounter {
  readonly name: string;
  readonly help: string;
  readonly type = "counter";
  readonly aggregator = "sum";
  private readonly series = new Map<string, CounterSeries>();

  constructor(private readonly options: { name: string; help: string; labelName: string; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    options.registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  labels(value: string): CounterChild {
    let series = this.series.get(value);
    if (series === undefined) {
      if (this.series.size >= METRIC_LABEL_VALUES_MAX && value !== OVERFLOW_LABEL) return this.labels(OVERFLOW_LABEL);
      series = new CounterSeries();
      this.series.set(value, series);
    }
    return series;
  }

  get(): Promise<CollectedMetric> {
    const values: MetricValue[] = [];
    for (const [label, series] of this.series) values.push({ value: series.value, labels: { [this.options.labelName]: label } });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    this.series.clear();
  }
}
