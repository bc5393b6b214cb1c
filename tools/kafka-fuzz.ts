// `npm run fuzz -- [--cases N] [--seed S]`: feeds mutated and random request frames for every
// Kafka API key to the request decoder (test/helpers/kafka-fuzz.ts) and prints one JSON report.
// Exits 1 if any frame produced an error other than KafkaDecodeError or an oversized result.
// The CI test runs 100,000 cases under a small heap cap; run millions here when changing codecs.
import { parseArgs } from "../bench/harness.js";
import { runFuzz } from "../test/helpers/kafka-fuzz.js";

const args = parseArgs();
const cases = Number(args.get("cases") ?? 100_000);
const seed = Number(args.get("seed") ?? process.env.SEED ?? 20260401);
const started = process.hrtime.bigint();
const report = runFuzz({ cases, seed });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ seed, seconds: Math.round(seconds * 10) / 10, ...report }));
process.exit(report.failures.length === 0 ? 0 : 1);
