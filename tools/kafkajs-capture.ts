// `npm run capture:kafkajs`: runs kafkajs against the fake broker of test/helpers/kafkajs-capture.ts
// and writes the request frames it sent to test/fixtures/kafkajs/captures.json, the golden vectors
// test/kafka/protocol/kafkajs-golden.test.ts checks offline. Rerun after upgrading kafkajs, review
// the diff, commit.
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { captureKafkajs } from "../test/helpers/kafkajs-capture.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const kafkajsVersion = (createRequire(import.meta.url)("kafkajs/package.json") as { version: string }).version;

const captures = await captureKafkajs();
const path = join(repoRoot, "test", "fixtures", "kafkajs", "captures.json");
const file = {
  about: "Request frames (size prefix removed, hex) that kafkajs sent to synod's capture broker; written by `npm run capture:kafkajs`.",
  kafkajs: kafkajsVersion,
  captures,
};
writeFileSync(path, JSON.stringify(file, null, 1) + "\n");
console.log(`wrote ${captures.length} kafkajs ${kafkajsVersion} request frames to ${path}`);
