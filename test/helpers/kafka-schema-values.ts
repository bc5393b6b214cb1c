// Values for any Kafka message at any version, driven by the schema metadata the generator emits
// (src/kafka/protocol/generated/schema.ts): defaults (what a decoder fills in for fields a version
// lacks) and fast-check arbitraries (random valid values). This is written independently of the
// generated codecs, from the schema's rules, so the round-trip tests compare two readings of the
// same schema rather than the codec with itself.
import fc from "fast-check";
import { MESSAGE_SCHEMAS, type FieldSchema, type MessageSchema, type StructSchema, type VersionRange } from "../../src/kafka/protocol/generated/schema.js";

export type Value = Record<string, unknown>;

export function inRange(range: VersionRange, version: number): boolean {
  return range !== null && version >= range[0] && version <= range[1];
}

export function schemaByName(name: string): MessageSchema {
  const schema = MESSAGE_SCHEMAS.find((s) => s.name === name);
  if (!schema) throw new Error(`no schema named ${name}`);
  return schema;
}

function parseInteger(raw: string): bigint {
  const negative = raw.startsWith("-");
  const digits = negative ? raw.slice(1) : raw;
  const value = /^0x/i.test(digits) ? BigInt(digits) : BigInt(digits);
  return negative ? -value : value;
}

/** The value a decoder must produce for a field its version does not carry. */
export function defaultOf(schema: MessageSchema, field: FieldSchema): unknown {
  if (field.default === "null") return null;
  if (field.array) return [];
  switch (field.type) {
    case "struct":
      return defaultStruct(schema, schema.structs[field.struct!]);
    case "string":
      return field.default ?? "";
    case "bytes":
      return Buffer.alloc(0);
    case "records":
      return null;
    case "uuid":
      return "AAAAAAAAAAAAAAAAAAAAAA";
    case "bool":
      return field.default?.toLowerCase() === "true";
    case "int64":
      return field.default === undefined ? 0n : parseInteger(field.default);
    case "float64":
      return field.default === undefined ? 0 : Number(field.default);
    default:
      return field.default === undefined ? 0 : Number(parseInteger(field.default));
  }
}

function defaultStruct(schema: MessageSchema, struct: StructSchema): Value {
  const value: Value = {};
  for (const field of struct.fields) value[field.name] = defaultOf(schema, field);
  return value;
}

/** Every field at its default (valid for any version whose non-nullable fields accept defaults). */
export function defaultMessage(schema: MessageSchema): Value {
  return defaultStruct(schema, { name: schema.name, versions: schema.validVersions, fields: schema.fields });
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export interface ArbitraryOptions {
  /** Longest generated array (default 3); nested arrays past depth 2 get at most 1 element. */
  arrayLengthMax?: number;
  /** Also generate unknown tagged fields in flexible versions (default true). */
  unknownTaggedFields?: boolean;
}

function scalarArbitrary(field: FieldSchema): fc.Arbitrary<unknown> {
  switch (field.type) {
    case "bool":
      return fc.boolean();
    case "int64":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case "float64":
      return fc.double();
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 6 });
    case "bytes":
    case "records":
      return fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes));
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString("base64url"));
    default: {
      const [min, max] = INT_RANGES[field.type];
      return fc.integer({ min, max });
    }
  }
}

/** Random valid values of a message at one version: absent fields hold their defaults. */
export function arbitraryMessage(schema: MessageSchema, version: number, options: ArbitraryOptions = {}): fc.Arbitrary<Value> {
  const flexible = inRange(schema.flexibleVersions, version);
  const arrayLengthMax = options.arrayLengthMax ?? 3;
  const withUnknown = (options.unknownTaggedFields ?? true) && flexible;

  const structArbitrary = (fields: readonly FieldSchema[], depth: number): fc.Arbitrary<Value> => {
    const parts: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of fields) parts[field.name] = fieldArbitrary(field, depth);
    const record = fc.record(parts, { noNullPrototype: true }) as fc.Arbitrary<Value>;
    if (!withUnknown) return record;
    const knownTags = new Set(fields.filter((f) => f.tag !== null).map((f) => f.tag!));
    const unknown = fc.option(
      fc
        .uniqueArray(
          fc.record({ tag: fc.integer({ min: 0, max: 200 }).filter((tag) => !knownTags.has(tag)), data: fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)) }, { noNullPrototype: true }),
          { selector: (field) => field.tag, minLength: 1, maxLength: 2 },
        )
        .map((list) => list.sort((a, b) => a.tag - b.tag)),
      { nil: undefined, freq: 4 },
    );
    return fc.tuple(record, unknown).map(([value, tags]) => (tags === undefined ? value : { ...value, _unknownTaggedFields: tags }));
  };

  const fieldArbitrary = (field: FieldSchema, depth: number): fc.Arbitrary<unknown> => {
    if (!inRange(field.versions, version)) return fc.constant(defaultOf(schema, field));
    const element: fc.Arbitrary<unknown> = field.type === "struct" ? fc.constant(null).chain(() => structArbitrary(schema.structs[field.struct!].fields, depth + 1)) : scalarArbitrary(field);
    const value = field.array ? fc.array(element, { maxLength: depth >= 2 ? 1 : arrayLengthMax }) : element;
    return inRange(field.nullableVersions, version) ? fc.option(value, { nil: null, freq: 4 }) : value;
  };

  return structArbitrary(schema.fields, 0);
}

/** Every (message, version) pair of the schemas. */
export function everyMessageVersion(): Array<{ schema: MessageSchema; version: number }> {
  const out: Array<{ schema: MessageSchema; version: number }> = [];
  for (const schema of MESSAGE_SCHEMAS) {
    for (let version = schema.validVersions[0]; version <= schema.validVersions[1]; version++) out.push({ schema, version });
  }
  return out;
}
