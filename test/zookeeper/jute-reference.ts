// Test oracle for the generated jute codecs: a deliberately plain, table-driven interpreter over
// the schema the generator emitted (JUTE_SCHEMA), with its own byte handling (no JuteWriter or
// JuteReader), plus fast-check arbitraries derived from the same definitions. The generated code
// must agree with it byte for byte; bench/zk-jute.ts also times it as the table-driven alternative.
import fc from "fast-check";
import { JUTE_SCHEMA } from "../../src/zookeeper/generated/jute.js";
import type { JuteClass, JuteType } from "../../src/zookeeper/jute/schema.js";

export const CLASSES: ReadonlyMap<string, JuteClass> = new Map(JUTE_SCHEMA.classes.map((cls) => [cls.name, cls]));

type Value = unknown;

/** Encodes `value` as jute record `name` with plain arrays and DataView. */
export function referenceEncode(name: string, value: Value): Uint8Array {
  const out: number[] = [];
  const int32 = (v: number): void => {
    out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  };
  const write = (type: JuteType, v: Value): void => {
    switch (type.kind) {
      case "int":
        int32(v as number);
        break;
      case "long": {
        const u = BigInt.asUintN(64, v as bigint);
        int32(Number(u >> 32n) | 0);
        int32(Number(u & 0xffffffffn) | 0);
        break;
      }
      case "boolean":
        out.push(v ? 1 : 0);
        break;
      case "byte":
        out.push((v as number) & 0xff);
        break;
      case "ustring":
      case "buffer": {
        if (v === null) {
          int32(-1);
          break;
        }
        const bytes = type.kind === "ustring" ? new TextEncoder().encode(v as string) : (v as Uint8Array);
        int32(bytes.length);
        for (const b of bytes) out.push(b);
        break;
      }
      case "vector": {
        if (v === null) {
          int32(-1);
          break;
        }
        const items = v as Value[];
        int32(items.length);
        for (const item of items) write(type.element, item);
        break;
      }
      case "record":
        for (const field of CLASSES.get(type.name)!.fields) write(field.type, (v as Record<string, Value>)[field.name]);
        break;
    }
  };
  write({ kind: "record", name }, value);
  return Uint8Array.from(out);
}

/** Decodes a record by interpretation; throws a plain Error on truncation (the oracle need not be typed). */
export function referenceDecode(name: string, bytes: Uint8Array): { value: Value; consumed: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new Error("truncated");
  };
  const read = (type: JuteType): Value => {
    switch (type.kind) {
      case "int":
        need(4);
        pos += 4;
        return view.getInt32(pos - 4);
      case "long":
        need(8);
        pos += 8;
        return view.getBigInt64(pos - 8);
      case "boolean":
        need(1);
        return bytes[pos++] !== 0;
      case "byte":
        need(1);
        pos += 1;
        return view.getInt8(pos - 1);
      case "ustring":
      case "buffer": {
        need(4);
        const length = view.getInt32(pos);
        pos += 4;
        if (length === -1) return null;
        if (length < 0) throw new Error("negative length");
        need(length);
        const slice = bytes.slice(pos, pos + length);
        pos += length;
        return type.kind === "ustring" ? new TextDecoder().decode(slice) : slice;
      }
      case "vector": {
        need(4);
        const count = view.getInt32(pos);
        pos += 4;
        if (count === -1) return null;
        if (count < 0) throw new Error("negative count");
        const items: Value[] = [];
        for (let i = 0; i < count; i++) items.push(read(type.element));
        return items;
      }
      case "record": {
        const value: Record<string, Value> = {};
        for (const field of CLASSES.get(type.name)!.fields) value[field.name] = read(field.type);
        return value;
      }
    }
  };
  const value = read({ kind: "record", name });
  return { value, consumed: pos };
}

/** Values of a jute type: full int/long ranges, nulls, non-ASCII text, empty and short byte strings. */
export function arbitraryOf(type: JuteType): fc.Arbitrary<Value> {
  switch (type.kind) {
    case "int":
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case "long":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case "boolean":
      return fc.boolean();
    case "byte":
      return fc.integer({ min: -128, max: 127 });
    case "ustring":
      return fc.option(fc.oneof(fc.string({ unit: "grapheme", maxLength: 12 }), fc.string({ unit: "binary-ascii", maxLength: 12 })), { nil: null });
    case "buffer":
      return fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
    case "vector":
      return fc.option(fc.array(arbitraryOf(type.element), { maxLength: 4 }), { nil: null });
    case "record": {
      const fields: Record<string, fc.Arbitrary<Value>> = {};
      for (const field of CLASSES.get(type.name)!.fields) fields[field.name] = arbitraryOf(field.type);
      return fc.record(fields);
    }
  }
}

/** Replaces Buffers by plain Uint8Arrays so values from different decoders compare with deepEqual. */
export function plain(value: Value): Value {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, Value> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = plain(inner);
    return out;
  }
  return value;
}
