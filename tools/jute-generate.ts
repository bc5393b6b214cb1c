// Jute DDL → TypeScript codecs. Parses ZooKeeper's zookeeper.jute (modules, classes, the types
// int/long/boolean/byte/ustring/buffer/vector<T> and nested records) and writes one module with an
// interface, encodeX(w, v) and decodeX(r) per class, a registry of all codecs, and the parsed
// schema as data (tests derive arbitraries and a reference codec from it).
//
// Usage (from the repo root, after `npm run build`):
//   npm run generate:jute [path/to/zookeeper.jute]      writes src/zookeeper/generated/jute.ts
//   npm run check:generated:jute [path]                 exits 1 if the committed file is stale
// The default input is ../shared/specs/zookeeper/zookeeper.jute; the spec file itself is never
// copied into the project (only code derived from it, see NOTICE).
//
// Why generated functions rather than a table-driven interpreter: straight-line code per record
// lets V8 inline the primitive reads and build objects of one stable shape; bench/zk-jute.ts
// measures both (the interpreter lives in test/zookeeper/jute-reference.ts as the test oracle).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { JuteClass, JuteField, JuteSchema, JuteType } from "../src/zookeeper/jute/schema.js";
import { juteBytesMin } from "../src/zookeeper/jute/schema.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_INPUT = join(repoRoot, "..", "shared", "specs", "zookeeper", "zookeeper.jute");
export const DEFAULT_OUTPUT = join(repoRoot, "src", "zookeeper", "generated", "jute.ts");

/** A field as parsed, before record names are resolved against the whole file. */
interface ParsedField {
  name: string;
  type: ParsedType;
  comment: string | undefined;
}
type ParsedType = { kind: "primitive"; name: string } | { kind: "vector"; element: ParsedType } | { kind: "ref"; name: string };

export class JuteParseError extends Error {
  override name = "JuteParseError";
}

interface Token {
  text: string;
  line: number;
  /** A `//` comment that ended the token's line (attached to fields for documentation). */
  trailingComment?: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      const text = source.slice(i + 2, end === -1 ? source.length : end).trim();
      const last = tokens[tokens.length - 1];
      if (last && last.line === line && text.length > 0) last.trailingComment = text;
      i = end === -1 ? source.length : end;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end === -1) throw new JuteParseError(`line ${line}: unterminated /* comment`);
      for (let k = i; k < end; k++) if (source[k] === "\n") line++;
      i = end + 2;
    } else if ("{}<>;,".includes(c)) {
      tokens.push({ text: c, line });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_.]/.test(source[j])) j++;
      tokens.push({ text: source.slice(i, j), line });
      i = j;
    } else {
      throw new JuteParseError(`line ${line}: unexpected character ${JSON.stringify(c)}`);
    }
  }
  return tokens;
}

const PRIMITIVES = new Set(["int", "long", "boolean", "byte", "ustring", "buffer"]);
const UNSUPPORTED = new Set(["float", "double", "map"]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const token = this.tokens[this.i++];
    if (!token) throw new JuteParseError(`unexpected end of file, expected ${what}`);
    return token;
  }

  private expect(text: string): Token {
    const token = this.next(JSON.stringify(text));
    if (token.text !== text) throw new JuteParseError(`line ${token.line}: expected ${JSON.stringify(text)}, got ${JSON.stringify(token.text)}`);
    return token;
  }

  private identifier(what: string): Token {
    const token = this.next(what);
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(token.text)) {
      throw new JuteParseError(`line ${token.line}: expected ${what}, got ${JSON.stringify(token.text)}`);
    }
    return token;
  }

  parseFile(): Array<{ module: string; name: string; fields: ParsedField[] }> {
    const classes: Array<{ module: string; name: string; fields: ParsedField[] }> = [];
    while (this.peek()) {
      this.expect("module");
      const module = this.identifier("module name").text;
      this.expect("{");
      while (this.peek()?.text !== "}") {
        this.expect("class");
        const nameToken = this.identifier("class name");
        if (nameToken.text.includes(".")) throw new JuteParseError(`line ${nameToken.line}: class name may not be qualified`);
        this.expect("{");
        const fields: ParsedField[] = [];
        while (this.peek()?.text !== "}") fields.push(this.parseField());
        this.expect("}");
        classes.push({ module, name: nameToken.text, fields });
      }
      this.expect("}");
    }
    return classes;
  }

  private parseField(): ParsedField {
    const type = this.parseType();
    const name = this.identifier("field name");
    if (name.text.includes(".")) throw new JuteParseError(`line ${name.line}: field name may not be qualified`);
    const semicolon = this.expect(";");
    return { name: name.text, type, comment: semicolon.trailingComment ?? name.trailingComment };
  }

  private parseType(): ParsedType {
    const token = this.identifier("type");
    if (UNSUPPORTED.has(token.text)) throw new JuteParseError(`line ${token.line}: jute type ${token.text} is not supported`);
    if (token.text === "vector") {
      this.expect("<");
      const element = this.parseType();
      this.expect(">");
      return { kind: "vector", element };
    }
    if (PRIMITIVES.has(token.text)) return { kind: "primitive", name: token.text };
    return { kind: "ref", name: token.text };
  }
}

/** Parses jute DDL text into a schema; record references are resolved and checked (no cycles). */
export function parseJute(source: string): JuteSchema & { comments: ReadonlyMap<string, string> } {
  const parsed = new Parser(tokenize(source)).parseFile();
  const byName = new Map<string, { module: string }>();
  for (const cls of parsed) {
    const existing = byName.get(cls.name);
    if (existing) {
      throw new JuteParseError(`class ${cls.name} is declared in both ${existing.module} and ${cls.module}; generated names must be unique`);
    }
    byName.set(cls.name, { module: cls.module });
  }
  const comments = new Map<string, string>();
  const resolveType = (type: ParsedType, module: string, where: string): JuteType => {
    switch (type.kind) {
      case "primitive":
        return { kind: type.name as "int" | "long" | "boolean" | "byte" | "ustring" | "buffer" };
      case "vector":
        return { kind: "vector", element: resolveType(type.element, module, where) };
      case "ref": {
        const dot = type.name.lastIndexOf(".");
        const refModule = dot === -1 ? module : type.name.slice(0, dot);
        const refName = dot === -1 ? type.name : type.name.slice(dot + 1);
        const target = byName.get(refName);
        if (!target || target.module !== refModule) throw new JuteParseError(`${where}: unknown record type ${type.name}`);
        return { kind: "record", name: refName };
      }
    }
  };
  const classes: JuteClass[] = parsed.map((cls) => {
    const names = new Set<string>();
    const fields: JuteField[] = cls.fields.map((field) => {
      if (names.has(field.name)) throw new JuteParseError(`${cls.name}: duplicate field ${field.name}`);
      names.add(field.name);
      if (field.comment) comments.set(`${cls.name}.${field.name}`, field.comment);
      return { name: field.name, type: resolveType(field.type, cls.module, `${cls.name}.${field.name}`) };
    });
    return { name: cls.name, module: cls.module, fields };
  });
  checkAcyclic(classes);
  return { classes, comments };
}

function checkAcyclic(classes: readonly JuteClass[]): void {
  const byName = new Map(classes.map((cls) => [cls.name, cls]));
  const state = new Map<string, "visiting" | "done">();
  const refsOf = (type: JuteType): string[] =>
    type.kind === "record" ? [type.name] : type.kind === "vector" ? refsOf(type.element) : [];
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new JuteParseError(`record cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const field of byName.get(name)!.fields) for (const ref of refsOf(field.type)) visit(ref, [...path, name]);
    state.set(name, "done");
  };
  for (const cls of classes) visit(cls.name, []);
}

function tsType(type: JuteType): string {
  switch (type.kind) {
    case "int":
    case "byte":
      return "number";
    case "long":
      return "bigint";
    case "boolean":
      return "boolean";
    case "ustring":
      return "string | null";
    case "buffer":
      return "Uint8Array | null";
    case "record":
      return type.name;
    case "vector": {
      const element = tsType(type.element);
      return element.includes("|") ? `Array<${element}> | null` : `${element}[] | null`;
    }
  }
}

function decodeExpression(type: JuteType, classes: ReadonlyMap<string, JuteClass>, r: string, depth: number): string {
  switch (type.kind) {
    case "int":
      return `${r}.readInt()`;
    case "long":
      return `${r}.readLong()`;
    case "boolean":
      return `${r}.readBool()`;
    case "byte":
      return `${r}.readByte()`;
    case "ustring":
      return `${r}.readString()`;
    case "buffer":
      return `${r}.readBuffer()`;
    case "record":
      return `decode${type.name}(${r})`;
    case "vector": {
      if (type.element.kind === "ustring") return `${r}.readStringVector()`;
      const bytesMin = juteBytesMin(type.element, classes);
      if (type.element.kind === "record") return `${r}.readVector(${bytesMin}, decode${type.element.name})`;
      const inner = `r${depth}`;
      return `${r}.readVector(${bytesMin}, (${inner}) => ${decodeExpression(type.element, classes, inner, depth + 1)})`;
    }
  }
}

function encodeStatement(type: JuteType, w: string, value: string, depth: number): string {
  switch (type.kind) {
    case "int":
      return `${w}.writeInt(${value})`;
    case "long":
      return `${w}.writeLong(${value})`;
    case "boolean":
      return `${w}.writeBool(${value})`;
    case "byte":
      return `${w}.writeByte(${value})`;
    case "ustring":
      return `${w}.writeString(${value})`;
    case "buffer":
      return `${w}.writeBuffer(${value})`;
    case "record":
      return `encode${type.name}(${w}, ${value})`;
    case "vector": {
      if (type.element.kind === "ustring") return `${w}.writeStringVector(${value})`;
      if (type.element.kind === "record") return `${w}.writeVector(${value}, encode${type.element.name})`;
      const item = `x${depth}`;
      const writer = `w${depth}`;
      return `${w}.writeVector(${value}, (${writer}, ${item}) => ${encodeStatement(type.element, writer, item, depth + 1)})`;
    }
  }
}

/** The generated TypeScript module for a parsed schema (deterministic: same input, same text). */
export function generateJuteModule(
  schema: JuteSchema & { comments?: ReadonlyMap<string, string> },
  provenance: { sourceName: string; sha256: string; bytes: number },
): string {
  const classes = new Map(schema.classes.map((cls) => [cls.name, cls]));
  const out: string[] = [];
  out.push(
    `// GENERATED by tools/jute-generate.ts from ${provenance.sourceName} — DO NOT EDIT.`,
    `// Input: ${provenance.bytes} bytes, sha256 ${provenance.sha256}.`,
    `// Regenerate: npm run generate:jute [path/to/zookeeper.jute]   (default ../shared/specs/zookeeper/zookeeper.jute)`,
    `// Check that this file is current: npm run check:generated:jute`,
    `// Derived from Apache ZooKeeper's jute definitions (Apache License 2.0); see NOTICE.`,
    `// 64-bit jute longs are bigints (zxids, session ids, ephemeralOwner need all 64 bits);`,
    `// ustring/buffer/vector may be null on the wire (length -1) and are typed so.`,
    `import type { JuteCodec, JuteReader, JuteWriter } from "../jute/runtime.js";`,
    `import type { JuteSchema } from "../jute/schema.js";`,
    ``,
  );
  let currentModule = "";
  for (const cls of schema.classes) {
    if (cls.module !== currentModule) {
      currentModule = cls.module;
      out.push(`// ---- module ${cls.module} ----`, ``);
    }
    out.push(`/** jute class ${cls.module}.${cls.name} */`, `export interface ${cls.name} {`);
    for (const field of cls.fields) {
      const comment = schema.comments?.get(`${cls.name}.${field.name}`);
      if (comment) out.push(`  /** ${comment.replace(/\*\//g, "* /")} */`);
      out.push(`  ${field.name}: ${tsType(field.type)};`);
    }
    out.push(`}`, ``);
    const valueName = cls.fields.length === 0 ? "_v" : "v";
    out.push(`export function encode${cls.name}(w: JuteWriter, ${valueName}: ${cls.name}): void {`);
    for (const field of cls.fields) out.push(`  ${encodeStatement(field.type, "w", `v.${field.name}`, 0)};`);
    out.push(`}`, ``);
    const readerName = cls.fields.length === 0 ? "_r" : "r";
    out.push(`export function decode${cls.name}(${readerName}: JuteReader): ${cls.name} {`);
    if (cls.fields.length === 0) {
      out.push(`  return {};`);
    } else {
      // Object literal properties evaluate in source order, which is the wire order.
      out.push(`  return {`);
      for (const field of cls.fields) out.push(`    ${field.name}: ${decodeExpression(field.type, classes, "r", 0)},`);
      out.push(`  };`);
    }
    out.push(`}`, ``);
  }
  out.push(`/** Every generated record codec, by class name. */`, `export const juteCodecs = {`);
  for (const cls of schema.classes) {
    const bytesMin = juteBytesMin({ kind: "record", name: cls.name }, classes);
    out.push(`  ${cls.name}: { encode: encode${cls.name}, decode: decode${cls.name}, bytesMin: ${bytesMin} } as JuteCodec<${cls.name}>,`);
  }
  out.push(`} as const;`, ``, `export type JuteRecordName = keyof typeof juteCodecs;`, ``);
  out.push(`/** The parsed definitions these codecs were generated from (one class per line). */`, `export const JUTE_SCHEMA: JuteSchema = {`, `  classes: [`);
  for (const cls of schema.classes) out.push(`    ${JSON.stringify({ name: cls.name, module: cls.module, fields: cls.fields })},`);
  out.push(`  ],`, `};`, ``);
  return out.join("\n");
}

/** Reads the DDL, generates, and writes (or, with check, compares). Returns a process exit code. */
export function run(options: { input: string; output: string; check: boolean }): number {
  let source: string;
  try {
    source = readFileSync(options.input, "utf8");
  } catch (error) {
    process.stderr.write(`jute-generate: cannot read ${options.input}: ${(error as Error).message}\n`);
    return 2;
  }
  const schema = parseJute(source);
  const text = generateJuteModule(schema, {
    sourceName: "zookeeper.jute",
    sha256: createHash("sha256").update(source).digest("hex"),
    bytes: Buffer.byteLength(source),
  });
  const shown = relative(repoRoot, options.output);
  if (options.check) {
    let current = "";
    try {
      current = readFileSync(options.output, "utf8");
    } catch {
      // A missing file is simply stale.
    }
    if (current !== text) {
      process.stderr.write(`jute-generate: ${shown} is stale; run \`npm run generate:jute\` and commit the result\n`);
      return 1;
    }
    process.stdout.write(`jute-generate: ${shown} is current (${schema.classes.length} classes)\n`);
    return 0;
  }
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileSync(options.output, text);
  process.stdout.write(`jute-generate: wrote ${shown} (${schema.classes.length} classes)\n`);
  return 0;
}

function main(argv: string[]): number {
  const check = argv.includes("--check");
  let output = DEFAULT_OUTPUT;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--check") continue;
    if (argv[i] === "--out") {
      output = resolve(argv[++i]);
      continue;
    }
    positional.push(argv[i]);
  }
  const input = positional[0] ? resolve(positional[0]) : DEFAULT_INPUT;
  return run({ input, output, check });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
