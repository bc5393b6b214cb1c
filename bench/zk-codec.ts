// ZooKeeper codec throughput: the generated jute codecs on the records a busy server handles most
// (request decode, response encode), next to a table-driven interpreter over the same JuteReader/
// JuteWriter primitives and the same schema — the measurement behind generating code instead of
// interpreting the schema (tools/jute-generate.ts). Prints one JSON line.
//   npm run bench -- zk-codec [--seconds 1]
import { performance } from "node:perf_hooks";
import { note, parseArgs, report } from "./harness.js";
import { JUTE_SCHEMA, juteCodecs, type JuteRecordName } from "../src/zookeeper/generated/jute.js";
import { JuteReader, JuteWriter, type JuteCodec } from "../src/zookeeper/jute/runtime.js";
import type { JuteClass, JuteType } from "../src/zookeeper/jute/schema.js";
import { juteBytesMin } from "../src/zookeeper/jute/schema.js";

const classes = new Map<string, JuteClass>(JUTE_SCHEMA.classes.map((cls) => [cls.name, cls]));

/** The table-driven alternative: walk the schema per value, using the same primitives. */
function interpretedCodec(name: string): JuteCodec<unknown> {
  const write = (w: JuteWriter, type: JuteType, v: unknown): void => {
    switch (type.kind) {
      case "int":
        return w.writeInt(v as number);
      case "long":
        return w.writeLong(v as bigint);
      case "boolean":
        return w.writeBool(v as boolean);
      case "byte":
        return w.writeByte(v as number);
      case "ustring":
        return w.writeString(v as string | null);
      case "buffer":
        return w.writeBuffer(v as Uint8Array | null);
      case "vector":
        return w.writeVector(v as unknown[] | null, (inner, item) => write(inner, type.element, item));
      case "record":
        for (const field of classes.get(type.name)!.fields) write(w, field.type, (v as Record<string, unknown>)[field.name]);
    }
  };
  const read = (r: JuteReader, type: JuteType): unknown => {
    switch (type.kind) {
      case "int":
        return r.readInt();
      case "long":
        return r.readLong();
      case "boolean":
        return r.readBool();
      case "byte":
        return r.readByte();
      case "ustring":
        return r.readString();
      case "buffer":
        return r.readBuffer();
      case "vector":
        return r.readVector(juteBytesMin(type.element, classes), (inner) => read(inner, type.element));
      case "record": {
        const value: Record<string, unknown> = {};
        for (const field of classes.get(type.name)!.fields) value[field.name] = read(r, field.type);
        return value;
      }
    }
  };
  const record: JuteType = { kind: "record", name };
  return { encode: (w, v) => write(w, record, v), decode: (r) => read(r, record), bytesMin: juteBytesMin(record, classes) };
}

const stat = { czxid: 0x100000001n, mzxid: 0x100000002n, ctime: 1_700_000_000_000n, mtime: 1_700_000_000_001n, version: 3, cversion: 7, aversion: 0, ephemeralOwner: 0n, dataLength: 100, numChildren: 4, pzxid: 0x100000003n };
const SAMPLES: Array<{ name: JuteRecordName; direction: "decode" | "encode"; value: unknown }> = [
  { name: "GetDataRequest", direction: "decode", value: { path: "/app/config/service-a/node-0042", watch: true } },
  { name: "CreateRequest", direction: "decode", value: { path: "/app/locks/lock-", data: new Uint8Array(100), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 3 } },
  { name: "SetDataRequest", direction: "decode", value: { path: "/app/config/service-a/node-0042", data: new Uint8Array(100), version: 3 } },
  { name: "GetDataResponse", direction: "encode", value: { data: new Uint8Array(100), stat } },
  { name: "Create2Response", direction: "encode", value: { path: "/app/locks/lock-0000000042", stat } },
  { name: "GetChildren2Response", direction: "encode", value: { children: Array.from({ length: 10 }, (_, i) => `member-${String(i).padStart(10, "0")}`), stat } },
];

function opsPerSecond(seconds: number, run: () => void): number {
  for (let i = 0; i < 20_000; i++) run(); // warm up
  let ops = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) run();
    ops += 1000;
  }
  return Math.round(ops / ((performance.now() - started) / 1000));
}

function main(): void {
  const args = parseArgs();
  const seconds = Number(args.get("seconds") ?? 1);
  const figures: Record<string, { generatedOpsPerSec: number; tableDrivenOpsPerSec: number; bytes: number }> = {};
  for (const sample of SAMPLES) {
    const generated = juteCodecs[sample.name] as JuteCodec<unknown>;
    const interpreted = interpretedCodec(sample.name);
    const w = new JuteWriter(4096);
    generated.encode(w, sample.value);
    const bytes = w.toBytes();
    const measure = (codec: JuteCodec<unknown>): number =>
      sample.direction === "decode"
        ? opsPerSecond(seconds, () => codec.decode(new JuteReader(bytes)))
        : opsPerSecond(seconds, () => {
            w.reset();
            codec.encode(w, sample.value);
          });
    const key = `${sample.direction} ${sample.name}`;
    figures[key] = { generatedOpsPerSec: measure(generated), tableDrivenOpsPerSec: measure(interpreted), bytes: bytes.length };
    note(`${key}: ${JSON.stringify(figures[key])}`);
  }
  report("zk-codec", { seconds, records: figures });
}

main();
