// Reads Apache Kafka's message schemas (clients/src/main/resources/common/message/*.json, which
// carry `//` comments) into a normalized model the emitter walks. Everything the emitter and the
// schema-driven test generators need is decided here, once: version ranges, which versions of a
// field are inline or tagged, nullable, compact; the struct each field refers to; defaults.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** A contiguous version range; empty when lo > hi. Open-ended ranges end at VERSION_MAX. */
export interface Range {
  lo: number;
  hi: number;
}

export const VERSION_MAX = 0x7fff;
export const EMPTY: Range = { lo: 1, hi: 0 };

export function parseRange(spec: string | undefined, what: string): Range {
  if (spec === undefined || spec === "none") return EMPTY;
  let match = /^(\d+)\+$/.exec(spec);
  if (match) return { lo: Number(match[1]), hi: VERSION_MAX };
  match = /^(\d+)-(\d+)$/.exec(spec);
  if (match) return { lo: Number(match[1]), hi: Number(match[2]) };
  match = /^(\d+)$/.exec(spec);
  if (match) return { lo: Number(match[1]), hi: Number(match[1]) };
  throw new Error(`${what}: bad version spec ${JSON.stringify(spec)}`);
}

export function isEmpty(range: Range): boolean {
  return range.lo > range.hi;
}

export function intersect(a: Range, b: Range): Range {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo > hi ? EMPTY : { lo, hi };
}

/** The smallest range holding both (a conservative union: version checks stay correct, just less pruned). */
export function hull(a: Range, b: Range): Range {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

export function contains(range: Range, version: number): boolean {
  return version >= range.lo && version <= range.hi;
}

/** Is every version of `inner` in `outer`? */
export function covers(outer: Range, inner: Range): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && inner.hi <= outer.hi);
}

export type ScalarKind =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "string"
  | "bytes"
  | "records"
  | "uuid";
export type FieldKind = ScalarKind | "struct";

const SCALARS = new Set<string>(["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "string", "bytes", "records", "uuid"]);
export const FIXED_BYTES: Partial<Record<FieldKind, number>> = { bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, float64: 8, uuid: 16 };

export interface FieldModel {
  /** The schema's PascalCase name. */
  name: string;
  /** The TypeScript property name (first letter lowered, as Kafka's Java generator does). */
  camel: string;
  about: string;
  kind: FieldKind;
  array: boolean;
  /** Name of the struct (the element type for arrays) when kind is "struct". */
  struct: string | null;
  versions: Range;
  nullable: Range;
  /** Versions in which the field travels in the tagged-field section; EMPTY when never. */
  tagged: Range;
  tag: number | null;
  /** Versions in which variable-length values use compact encodings (field override or message's). */
  flexible: Range;
  /** The schema's default, verbatim (may be "null", hex, "False"); undefined when none. */
  defaultRaw: string | undefined;
  ignorable: boolean;
  mapKey: boolean;
  entityType: string | null;
}

export interface StructModel {
  name: string;
  /** The TypeScript interface name: the struct name, prefixed by the message's when it would clash. */
  tsName: string;
  versions: Range;
  fields: FieldModel[];
  /** Hull of the versions in which this struct is ever encoded; computed after parsing. */
  possible: Range;
}

export interface MessageModel {
  name: string;
  file: string;
  kind: "request" | "response" | "header" | "data";
  apiKey: number;
  valid: Range;
  flexible: Range;
  listeners: string[];
  latestVersionUnstable: boolean;
  deprecated: Range;
  about: string;
  top: StructModel;
  /** Every named struct (inline and common), in definition order. */
  structs: StructModel[];
}

/** Removes `//` comments outside string literals, keeping line numbers for JSON.parse's errors. */
export function stripComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += c;
    }
  }
  return out;
}

interface RawField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  ignorable?: boolean;
  mapKey?: boolean;
  entityType?: string;
  about?: string;
  fields?: RawField[];
  zeroCopy?: boolean;
}

interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: RawField[];
  commonStructs?: Array<{ name: string; versions: string; fields: RawField[] }>;
  listeners?: string[];
  latestVersionUnstable?: boolean;
  deprecatedVersions?: string;
  about?: string;
}

/** Names the generated code uses itself; a struct with one of them gets the message's prefix. */
const RESERVED_NAMES = new Set(["Reader", "Writer", "TaggedField", "MessageCodec", "Buffer", "Array", "Number", "String", "BigInt", "Object", "Error", "Math", "Map", "Set", "Record", "Promise", "Symbol", "Date", "JSON"]);

function camelCase(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/([A-Z])([A-Z][a-z])/g, "$1-$2").toLowerCase();
}

function parseMessage(raw: RawMessage, file: string): MessageModel {
  const where = (what: string) => `${file}: ${what}`;
  const valid = parseRange(raw.validVersions, where("validVersions"));
  const flexible = parseRange(raw.flexibleVersions, where("flexibleVersions"));
  const structs = new Map<string, StructModel>();
  const kind = raw.type === "request" || raw.type === "response" || raw.type === "header" || raw.type === "data" ? raw.type : null;
  if (!kind) throw new Error(where(`unknown message type ${raw.type}`));

  const defineStruct = (name: string, versions: Range, fields: RawField[]): StructModel => {
    if (structs.has(name)) throw new Error(where(`struct ${name} defined twice`));
    const tsName = RESERVED_NAMES.has(name) || name === raw.name ? `${raw.name}${name}` : name;
    const struct: StructModel = { name, tsName, versions, fields: [], possible: EMPTY };
    structs.set(name, struct);
    struct.fields = fields.map((f) => parseField(f));
    const tags = struct.fields.filter((f) => f.tag !== null).map((f) => f.tag);
    if (new Set(tags).size !== tags.length) throw new Error(where(`struct ${name} reuses a tag`));
    return struct;
  };

  const parseField = (f: RawField): FieldModel => {
    const what = where(`field ${f.name}`);
    const array = f.type.startsWith("[]");
    const element = array ? f.type.slice(2) : f.type;
    const isScalar = SCALARS.has(element);
    const versions = parseRange(f.versions, what);
    const tagged = f.taggedVersions === undefined ? EMPTY : parseRange(f.taggedVersions, what);
    if (!isEmpty(tagged) && tagged.hi !== VERSION_MAX) throw new Error(`${what}: tagged versions must be open-ended`);
    if (!isEmpty(tagged) && f.tag === undefined) throw new Error(`${what}: tagged versions without a tag`);
    const fieldFlexible = f.flexibleVersions === undefined ? flexible : parseRange(f.flexibleVersions, what);
    if (!covers(flexible, intersect(tagged, versions))) throw new Error(`${what}: tagged in a version that is not flexible`);
    if (f.fields && isScalar) throw new Error(`${what}: a scalar type with fields`);
    const model: FieldModel = {
      name: f.name,
      camel: camelCase(f.name),
      about: f.about ?? "",
      kind: isScalar ? (element as ScalarKind) : "struct",
      array,
      struct: isScalar ? null : element,
      versions,
      nullable: parseRange(f.nullableVersions, what),
      tagged,
      tag: f.tag ?? null,
      flexible: fieldFlexible,
      defaultRaw: f.default === undefined ? undefined : String(f.default),
      ignorable: f.ignorable ?? false,
      mapKey: f.mapKey ?? false,
      entityType: f.entityType ?? null,
    };
    if (f.fields) defineStruct(element, versions, f.fields);
    return model;
  };

  for (const common of raw.commonStructs ?? []) defineStruct(common.name, parseRange(common.versions, where(common.name)), common.fields);
  const top: StructModel = {
    name: raw.name,
    tsName: raw.name,
    versions: valid,
    fields: raw.fields.map((f) => parseField(f)),
    possible: valid,
  };
  // Every struct a field names must be defined in this message (inline or common).
  const check = (struct: StructModel) => {
    for (const field of struct.fields) {
      if (field.kind === "struct" && !structs.has(field.struct!)) throw new Error(where(`field ${field.name} names unknown struct ${field.struct}`));
    }
  };
  check(top);
  structs.forEach(check);
  const message: MessageModel = {
    name: raw.name,
    file: kebabCase(raw.name),
    kind,
    apiKey: raw.apiKey ?? -1,
    valid,
    flexible,
    listeners: raw.listeners ?? [],
    latestVersionUnstable: raw.latestVersionUnstable ?? false,
    deprecated: parseRange(raw.deprecatedVersions, where("deprecatedVersions")),
    about: raw.about ?? "",
    top,
    structs: [...structs.values()],
  };
  computePossible(message);
  return message;
}

/** The versions in which each struct can be encoded: the hull over every field that holds it. */
function computePossible(message: MessageModel): void {
  const byName = new Map(message.structs.map((s) => [s.name, s]));
  const visit = (struct: StructModel, possible: Range, depth: number) => {
    if (depth > 32) throw new Error(`${message.name}: structs nest deeper than 32 (a cycle?)`);
    for (const field of struct.fields) {
      if (field.kind !== "struct") continue;
      const child = byName.get(field.struct!)!;
      const reach = intersect(intersect(field.versions, possible), child.versions);
      if (isEmpty(reach) || covers(child.possible, reach)) continue;
      child.possible = hull(child.possible, reach);
      visit(child, child.possible, depth + 1);
    }
  };
  visit(message.top, message.valid, 0);
}

export function loadSchemas(schemaDir: string): MessageModel[] {
  const files = readdirSync(schemaDir)
    .filter((name) => name.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`no *.json schemas in ${schemaDir}`);
  return files.map((name) => {
    const text = readFileSync(join(schemaDir, name), "utf8");
    let raw: RawMessage;
    try {
      raw = JSON.parse(stripComments(text)) as RawMessage;
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}`, { cause: error });
    }
    return parseMessage(raw, name);
  });
}
