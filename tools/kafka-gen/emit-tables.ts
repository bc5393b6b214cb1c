// The generated files that are tables rather than codecs: the API registry the broker dispatches
// on, the schema metadata (the same model the codecs were generated from, for the schema-driven
// property tests and for introspection), and the error-code table.
import { HEADER } from "./emit.js";
import { type FieldModel, type MessageModel, type Range, isEmpty, VERSION_MAX } from "./model.js";

function codecName(message: MessageModel): string {
  return `${message.name}Codec`;
}

/** "Produce" for ProduceRequest: the API's name as Kafka's ApiKeys enum spells it. */
function apiName(request: MessageModel): string {
  return request.name.replace(/Request$/, "");
}

export function emitRegistry(messages: MessageModel[]): string {
  const requests = messages.filter((m) => m.kind === "request").sort((a, b) => a.apiKey - b.apiKey);
  const responses = new Map(messages.filter((m) => m.kind === "response").map((m) => [m.apiKey, m]));
  const others = messages.filter((m) => m.kind === "header" || m.kind === "data");
  let out = HEADER("the Apache Kafka message schemas (the registry of every API)");
  out += `import type { MessageCodec } from "../codec.js";\n`;
  for (const m of [...messages].sort((a, b) => a.file.localeCompare(b.file))) {
    const type = m.kind === "request" || m.kind === "response" ? `, type ${m.name}` : "";
    out += `import { ${codecName(m)}${type} } from "./${m.file}.js";\n`;
  }
  out += `\n/** One Kafka API: its versions and its request and response codecs. */\n`;
  out += `export interface ApiInfo {\n  readonly apiKey: number;\n  /** The name Kafka's ApiKeys enum uses, e.g. "Produce". */\n  readonly name: string;\n`;
  out += `  readonly lowestVersion: number;\n  readonly highestVersion: number;\n  /** First flexible version, or -1 when no version is. */\n  readonly flexibleFromVersion: number;\n`;
  out += `  /** The schema marks its highest version unstable: do not advertise it. */\n  readonly latestVersionUnstable: boolean;\n`;
  out += `  /** Versions the schema deprecates (KIP-896 removals in Kafka 4.0), or null. */\n  readonly deprecatedVersions: { readonly lo: number; readonly hi: number } | null;\n`;
  out += `  /** Which Kafka listeners serve this API ("broker", "controller", "zkBroker"). */\n  readonly listeners: readonly string[];\n`;
  out += `  readonly request: MessageCodec<unknown>;\n  readonly response: MessageCodec<unknown>;\n}\n\n`;
  out += `/** API keys by name. */\nexport const ApiKey = {\n`;
  for (const r of requests) out += `  ${apiName(r)}: ${r.apiKey},\n`;
  out += `} as const;\nexport type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];\n\n`;
  out += `/** The request body type of each API key. */\nexport interface RequestByApiKey {\n`;
  for (const r of requests) out += `  ${r.apiKey}: ${r.name};\n`;
  out += `}\n\n/** The response body type of each API key. */\nexport interface ResponseByApiKey {\n`;
  for (const r of requests) out += `  ${r.apiKey}: ${responses.get(r.apiKey)!.name};\n`;
  out += `}\n\n/** Every API, indexed by API key (the keys are contiguous from 0). */\nexport const APIS: readonly ApiInfo[] = [\n`;
  requests.forEach((r, index) => {
    if (r.apiKey !== index) throw new Error(`API keys are not contiguous at ${r.apiKey}`);
    const response = responses.get(r.apiKey);
    if (!response) throw new Error(`${r.name} has no response schema`);
    if (response.valid.lo !== r.valid.lo || response.valid.hi !== r.valid.hi) throw new Error(`${r.name}: request and response versions differ`);
    if (response.flexible.lo !== r.flexible.lo || response.flexible.hi !== r.flexible.hi) throw new Error(`${r.name}: request and response flexible versions differ`);
    const deprecated = isEmpty(r.deprecated) ? "null" : `{ lo: ${r.deprecated.lo}, hi: ${Math.min(r.deprecated.hi, r.valid.hi)} }`;
    out += `  {\n    apiKey: ${r.apiKey},\n    name: ${JSON.stringify(apiName(r))},\n    lowestVersion: ${r.valid.lo},\n    highestVersion: ${r.valid.hi},\n`;
    out += `    flexibleFromVersion: ${isEmpty(r.flexible) ? -1 : r.flexible.lo},\n    latestVersionUnstable: ${r.latestVersionUnstable},\n    deprecatedVersions: ${deprecated},\n`;
    out += `    listeners: ${JSON.stringify(r.listeners)},\n    request: ${codecName(r)} as MessageCodec<unknown>,\n    response: ${codecName(response)} as MessageCodec<unknown>,\n  },\n`;
  });
  out += `];\n\n`;
  out += `/** The API with this key, or undefined when the schemas define none. */\nexport function apiInfo(apiKey: number): ApiInfo | undefined {\n  return Number.isInteger(apiKey) && apiKey >= 0 ? APIS[apiKey] : undefined;\n}\n\n`;
  out += `export function requestCodec<K extends keyof RequestByApiKey>(apiKey: K): MessageCodec<RequestByApiKey[K]> {\n  return APIS[apiKey].request as MessageCodec<RequestByApiKey[K]>;\n}\n\n`;
  out += `export function responseCodec<K extends keyof ResponseByApiKey>(apiKey: K): MessageCodec<ResponseByApiKey[K]> {\n  return APIS[apiKey].response as MessageCodec<ResponseByApiKey[K]>;\n}\n\n`;
  out += `/**\n * The request header version for an API version: 2 (flexible, tagged fields) when the API version is\n * flexible, else 1; 0 only for ControlledShutdown v0 (Kafka's ApiKeys.requestHeaderVersion).\n */\n`;
  out += `export function requestHeaderVersion(apiKey: number, apiVersion: number): number {\n  const api = APIS[apiKey];\n  if (apiKey === ${requests.find((r) => r.name === "ControlledShutdownRequest")?.apiKey ?? -1} && apiVersion === 0) return 0;\n  return api.flexibleFromVersion >= 0 && apiVersion >= api.flexibleFromVersion ? 2 : 1;\n}\n\n`;
  out += `/**\n * The response header version: 1 when the API version is flexible, else 0 — except ApiVersions, whose\n * response header is always v0 so a client can parse it before it knows what the broker supports.\n */\n`;
  out += `export function responseHeaderVersion(apiKey: number, apiVersion: number): number {\n  const api = APIS[apiKey];\n  if (apiKey === ${requests.find((r) => r.name === "ApiVersionsRequest")!.apiKey}) return 0;\n  return api.flexibleFromVersion >= 0 && apiVersion >= api.flexibleFromVersion ? 1 : 0;\n}\n\n`;
  out += `/** Codecs that belong to no API: the request/response headers and the "data" types (consumer protocol, KRaft records). */\nexport const OTHER_CODECS = {\n`;
  for (const m of others) out += `  ${m.name}: ${codecName(m)},\n`;
  out += `} as const;\n\n/** Every generated codec (requests, responses, headers, data types). */\nexport const ALL_CODECS: readonly MessageCodec<unknown>[] = [\n`;
  for (const m of [...messages].sort((a, b) => a.name.localeCompare(b.name))) out += `  ${codecName(m)} as MessageCodec<unknown>,\n`;
  out += `];\n`;
  return out;
}

function range(r: Range): string {
  return isEmpty(r) ? "null" : `[${r.lo}, ${r.hi === VERSION_MAX ? "MAX" : r.hi}]`;
}

function fieldSchema(f: FieldModel, message: MessageModel): string {
  const parts = [
    `name: ${JSON.stringify(f.camel)}`,
    `type: ${JSON.stringify(f.kind)}`,
    `array: ${f.array}`,
    `struct: ${f.struct === null ? "null" : JSON.stringify(f.struct)}`,
    `versions: ${range(f.versions)}`,
    `nullableVersions: ${range(f.nullable)}`,
    `taggedVersions: ${range(f.tagged)}`,
    `tag: ${f.tag}`,
    `flexibleVersions: ${f.flexible === message.flexible ? "undefined" : range(f.flexible)}`,
    `default: ${f.defaultRaw === undefined ? "undefined" : JSON.stringify(f.defaultRaw)}`,
    `ignorable: ${f.ignorable}`,
    `mapKey: ${f.mapKey}`,
  ];
  return `{ ${parts.filter((p) => !p.endsWith("undefined")).join(", ")} }`;
}

export function emitSchema(messages: MessageModel[]): string {
  let out = HEADER("the Apache Kafka message schemas (normalized metadata)");
  out += `// The normalized model the codecs were generated from. Ranges are [lowest, highest] inclusive,
// MAX meaning open-ended, null meaning never. Used by the schema-driven property tests and fuzzers.

const MAX = 0x7fff;

export type VersionRange = readonly [number, number] | null;
export type FieldType = "bool" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "float64" | "string" | "bytes" | "records" | "uuid" | "struct";

export interface FieldSchema {
  /** The TypeScript property name. */
  readonly name: string;
  readonly type: FieldType;
  readonly array: boolean;
  /** The struct (or array element struct) name when type is "struct". */
  readonly struct: string | null;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number | null;
  /** Present only when the field overrides the message's flexible versions (RequestHeader.ClientId). */
  readonly flexibleVersions?: VersionRange;
  /** The schema's default, verbatim. */
  readonly default?: string;
  readonly ignorable: boolean;
  readonly mapKey: boolean;
}

export interface StructSchema {
  readonly name: string;
  readonly versions: VersionRange;
  readonly fields: readonly FieldSchema[];
}

export interface MessageSchema {
  readonly name: string;
  readonly kind: "request" | "response" | "header" | "data";
  readonly apiKey: number;
  readonly validVersions: readonly [number, number];
  readonly flexibleVersions: VersionRange;
  readonly fields: readonly FieldSchema[];
  readonly structs: Readonly<Record<string, StructSchema>>;
}

export const MESSAGE_SCHEMAS: readonly MessageSchema[] = [
`;
  for (const m of messages) {
    out += `  {\n    name: ${JSON.stringify(m.name)},\n    kind: ${JSON.stringify(m.kind)},\n    apiKey: ${m.apiKey},\n    validVersions: [${m.valid.lo}, ${m.valid.hi}],\n    flexibleVersions: ${range(m.flexible)},\n`;
    out += `    fields: [\n${m.top.fields.map((f) => `      ${fieldSchema(f, m)},\n`).join("")}    ],\n    structs: {\n`;
    for (const s of m.structs) {
      out += `      ${JSON.stringify(s.name)}: {\n        name: ${JSON.stringify(s.name)},\n        versions: ${range(s.versions)},\n        fields: [\n`;
      out += s.fields.map((f) => `          ${fieldSchema(f, m)},\n`).join("");
      out += `        ],\n      },\n`;
    }
    out += `    },\n  },\n`;
  }
  out += `];\n`;
  return out;
}

export interface ErrorDetail {
  retriable: boolean;
  message: string;
}

export function emitErrors(rows: Array<{ code: number; name: string }>, details: ReadonlyMap<number, ErrorDetail>): string {
  let out = HEADER("../shared/specs/kafka-error-codes.tsv (codes, names) and tools/kafka-error-details.ts (retriable, messages)");
  out += `
/** One Kafka protocol error code. */
export interface KafkaErrorInfo {
  readonly code: number;
  /** Kafka's name, e.g. "NOT_LEADER_OR_FOLLOWER". */
  readonly name: string;
  /** Whether Kafka's client treats it as retriable (its exception extends RetriableException). */
  readonly retriable: boolean;
  readonly message: string;
}

/** Error codes by name. */
export const ErrorCode = {
`;
  for (const r of rows) out += `  ${r.name}: ${r.code},\n`;
  out += `} as const;\nexport type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];\n\nexport const KAFKA_ERRORS: readonly KafkaErrorInfo[] = [\n`;
  for (const r of rows) {
    const d = details.get(r.code);
    if (!d) throw new Error(`error code ${r.code} ${r.name} has no entry in tools/kafka-error-details.ts`);
    out += `  { code: ${r.code}, name: ${JSON.stringify(r.name)}, retriable: ${d.retriable}, message: ${JSON.stringify(d.message)} },\n`;
  }
  out += `];\n\nconst BY_CODE = new Map(KAFKA_ERRORS.map((e) => [e.code, e]));\n\n/** The error with this code, or undefined for a code Kafka does not define. */\nexport function kafkaError(code: number): KafkaErrorInfo | undefined {\n  return BY_CODE.get(code);\n}\n`;
  return out;
}
