// `npm run check:fixtures [-- fixturesDir]`: decodes every wire fixture kafkajs publishes (bodies
// of requests and responses captured from real brokers, record batches) with our generated codecs
// at the fixture's version, re-encodes it, and requires identical bytes. Differences we expect are
// listed in TOLERATED with the reason; an unlisted difference, or a listed one that no longer
// happens, fails the check. The fixtures are kafkajs's (MIT), read from ../shared/specs, never
// copied into the project; `.ci/run` runs this when that folder exists.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeMessage, encodeMessage, type MessageCodec } from "../src/kafka/protocol/codec.js";
import { APIS, OTHER_CODECS } from "../src/kafka/protocol/generated/registry.js";
import { checkFixtureRecords } from "./kafka-fixture-records.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Fixtures whose round trip is known not to be byte-identical, and why. Keys are paths under the fixture folder. */
export const TOLERATED: Readonly<Record<string, string>> = {
  "requests/apiVersions/v1_response_missing_throttle_time.json":
    "a v1 body cut short by an old broker (no throttle_time_ms); kafkajs reads it leniently, our decoder reports TRUNCATED",
  "requests/joinGroup/v1_assignerMetadata.json":
    "kafkajs labels its consumer-protocol subscription version 1 but writes the v0 layout (no owned partitions)",
  "requests/joinGroup/v2_assignerMetadata.json":
    "kafkajs labels its consumer-protocol subscription version 1 but writes the v0 layout (no owned partitions)",
  "requests/describeGroups/v1_memberMetadata.json":
    "kafkajs labels its consumer-protocol subscription version 1 but writes the v0 layout (no owned partitions)",
  "requests/saslAuthenticate/plain_bytes.json": "raw SASL PLAIN token, not a protocol body",
  "requests/saslAuthenticate/scram256_bytes.json": "raw SCRAM token, not a protocol body",
  "requests/saslAuthenticate/scram256_firstRequest_response.json": "raw SCRAM server-first message, not a protocol body",
  "requests/saslAuthenticate/scram256_firstRequest_response_v1.json": "raw SCRAM server-first message, not a protocol body",
};

interface Outcome {
  path: string;
  ok: boolean;
  detail: string;
}

function loadFixture(path: string): Buffer {
  const json = JSON.parse(readFileSync(path, "utf8")) as { type?: string; data?: number[] };
  if (json.type !== "Buffer" || !Array.isArray(json.data)) throw new Error("not a serialized Buffer");
  return Buffer.from(json.data);
}

function apiByFolder(folder: string) {
  const name = folder[0].toUpperCase() + folder.slice(1);
  return APIS.find((api) => api.name === name);
}

/** Decodes at `version`, re-encodes, compares. Returns a failure description or "". */
function roundTrip(codec: MessageCodec<unknown>, version: number, bytes: Buffer, prefix: Buffer = Buffer.alloc(0)): string {
  if (prefix.length === 1 && prefix[0] !== 0) return "expected an empty header tagged-field section (0x00) before the flexible body";
  let again: Buffer;
  try {
    again = Buffer.concat([prefix, encodeMessage(codec, version, decodeMessage(codec, version, bytes.subarray(prefix.length)))]);
  } catch (error) {
    return `${codec.name} v${version}: ${(error as Error).message}`;
  }
  if (!again.equals(bytes)) {
    let at = 0;
    while (at < bytes.length && bytes[at] === again[at]) at++;
    return `${codec.name} v${version}: re-encoded ${again.length} bytes differ from the fixture's ${bytes.length} at byte ${at}`;
  }
  return "";
}

/** Consumer-protocol blobs (member metadata / assignment) start with their own int16 version. */
function consumerProtocol(codec: MessageCodec<unknown>, bytes: Buffer): string {
  if (bytes.length < 2) return "too short for a version prefix";
  const version = bytes.readInt16BE(0);
  return roundTrip(codec, version, bytes, bytes.subarray(0, 2));
}

function checkRequestFixture(relPath: string, bytes: Buffer): string {
  const [, folder, file] = relPath.split("/");
  const api = apiByFolder(folder);
  if (!api) return `no API named after folder ${folder}`;
  const match = /^v(\d+)_(.*)\.json$/.exec(file);
  if (!match) return `cannot read a version from ${file}`;
  const version = Number(match[1]);
  const kind = match[2];
  // kafkajs writes the request header's (v2) and response header's (v1) tagged-field section
  // as the first byte of a flexible body, so its fixtures of flexible versions start with it.
  const flexible = api.flexibleFromVersion >= 0 && version >= api.flexibleFromVersion;
  const headerTags = (isResponse: boolean) => (flexible && !(isResponse && api.name === "ApiVersions") ? bytes.subarray(0, 1) : Buffer.alloc(0));
  if (/request/.test(kind)) return roundTrip(api.request, version, bytes, headerTags(false));
  if (/response/.test(kind)) return roundTrip(api.response, version, bytes, headerTags(true));
  if (kind === "memberAssignment") return consumerProtocol(OTHER_CODECS.ConsumerProtocolAssignment as MessageCodec<unknown>, bytes);
  if (kind === "memberMetadata" || kind === "assignerMetadata") return consumerProtocol(OTHER_CODECS.ConsumerProtocolSubscription as MessageCodec<unknown>, bytes);
  return `unknown fixture kind ${kind}`;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".json")) out.push(path);
  }
  return out;
}

export function checkFixtures(fixturesDir: string): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const path of walk(fixturesDir)) {
    const relPath = relative(fixturesDir, path);
    let detail: string;
    try {
      const bytes = loadFixture(path);
      detail = relPath.startsWith("requests/") ? checkRequestFixture(relPath, bytes) : relPath.startsWith("recordBatch/") ? checkFixtureRecords(relPath, bytes) : "unexpected fixture folder";
    } catch (error) {
      detail = `unreadable: ${(error as Error).message}`;
    }
    const tolerated = TOLERATED[relPath];
    if (tolerated !== undefined) {
      outcomes.push({ path: relPath, ok: detail !== "", detail: detail === "" ? "listed as tolerated but now round-trips: remove it from TOLERATED" : `tolerated (${tolerated}): ${detail}` });
    } else {
      outcomes.push({ path: relPath, ok: detail === "", detail });
    }
  }
  return outcomes;
}

function main(): void {
  const fixturesDir = resolve(process.argv[2] ?? join(repoRoot, "..", "shared", "specs", "kafkajs-wire-fixtures"));
  if (!existsSync(fixturesDir)) {
    console.error(`fixture folder not found: ${fixturesDir}`);
    process.exit(2);
  }
  const outcomes = checkFixtures(fixturesDir);
  const failed = outcomes.filter((o) => !o.ok);
  for (const o of outcomes) if (o.detail) console.log(`${o.ok ? "ok  " : "FAIL"} ${o.path}: ${o.detail}`);
  console.log(`check:fixtures: ${outcomes.length - failed.length} passed, ${failed.length} failed (${Object.keys(TOLERATED).length} tolerated, listed in tools/kafka-check-fixtures.ts)`);
  process.exit(failed.length === 0 ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
