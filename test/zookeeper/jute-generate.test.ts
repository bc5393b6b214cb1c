// Goal: the jute generator parses the DDL faithfully, rejects what it cannot express, and its
// staleness check (`npm run check:generated:jute`) fails when the committed output does not match
// the definitions. Method: small DDL snippets through parseJute/generateJuteModule; the committed
// schema printed back to DDL and re-parsed (round trip); run() in check mode against temporary
// files, fresh and then deliberately stale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JuteParseError, generateJuteModule, parseJute, run } from "../../tools/jute-generate.js";
import { JUTE_SCHEMA } from "../../src/zookeeper/generated/jute.js";
import type { JuteType } from "../../src/zookeeper/jute/schema.js";
import { tempDir } from "../helpers/tmp.js";

const DDL = `
/* licence header */
module a.b {
    class Id { ustring scheme; ustring id; }
    class ACL {
        int perms; // permission bits
        Id id;
    }
}
module a.c {
    class Holder {
        vector<a.b.ACL>acl;
        vector<vector<long>> grid;
        buffer blob;
        boolean flag;
        byte small;
    }
}`;

test("parses modules, classes, comments, qualified and unqualified references, nested vectors", () => {
  const schema = parseJute(DDL);
  assert.deepEqual(
    schema.classes.map((cls) => `${cls.module}.${cls.name}`),
    ["a.b.Id", "a.b.ACL", "a.c.Holder"],
  );
  assert.deepEqual(schema.classes[1].fields[1], { name: "id", type: { kind: "record", name: "Id" } });
  assert.deepEqual(schema.classes[2].fields[1].type, { kind: "vector", element: { kind: "vector", element: { kind: "long" } } });
  assert.equal(schema.comments.get("ACL.perms"), "permission bits");
  const text = generateJuteModule(schema, { sourceName: "x.jute", sha256: "0", bytes: 1 });
  assert.match(text, /export interface Holder \{\n {2}acl: ACL\[\] \| null;\n {2}grid: Array<bigint\[\] \| null> \| null;/);
  assert.match(text, /r\.readVector\(4, \(r0\) => r0\.readVector\(8, \(r1\) => r1\.readLong\(\)\)\)/);
  assert.match(text, /\/\*\* permission bits \*\//);
  assert.match(text, /Regenerate: npm run generate:jute/);
});

test("rejects unsupported types, unknown records, duplicates, cycles and unterminated comments", () => {
  const cases: Array<[string, RegExp]> = [
    ["module m { class A { float f; } }", /not supported/],
    ["module m { class A { B b; } }", /unknown record type B/],
    ["module m { class A { int x; int x; } }", /duplicate field/],
    ["module m { class A { int x; } } module n { class A { int y; } }", /declared in both/],
    ["module m { class A { B b; } class B { A a; } }", /record cycle/],
    ["module m { class A { int x; } /* open", /unterminated/],
    ["module m { class A { int x } }", /expected ";"/],
    ["module m { class A { other.m.B b; } }", /unknown record type/],
  ];
  for (const [source, message] of cases) assert.throws(() => parseJute(source), (e: unknown) => e instanceof JuteParseError && message.test(e.message), source);
});

function ddlOf(type: JuteType, module: string): string {
  switch (type.kind) {
    case "vector":
      return `vector<${ddlOf(type.element, module)}>`;
    case "record":
      return `${JUTE_SCHEMA.classes.find((cls) => cls.name === type.name)!.module}.${type.name}`;
    default:
      return type.kind;
  }
}

test("the committed schema prints back to DDL that parses to the same schema", () => {
  const modules = [...new Set(JUTE_SCHEMA.classes.map((cls) => cls.module))];
  const text = modules
    .map(
      (module) =>
        `module ${module} {\n${JUTE_SCHEMA.classes
          .filter((cls) => cls.module === module)
          .map((cls) => `  class ${cls.name} {\n${cls.fields.map((f) => `    ${ddlOf(f.type, module)} ${f.name};`).join("\n")}\n  }`)
          .join("\n")}\n}`,
    )
    .join("\n");
  assert.deepEqual(parseJute(text).classes, JUTE_SCHEMA.classes);
});

test("check mode passes on fresh output and fails on stale output", (t) => {
  const dir = tempDir(t);
  const input = join(dir, "z.jute");
  const output = join(dir, "out.ts");
  writeFileSync(input, DDL);
  assert.equal(run({ input, output, check: true }), 1, "missing output is stale");
  assert.equal(run({ input, output, check: false }), 0);
  assert.equal(run({ input, output, check: true }), 0);
  writeFileSync(input, DDL.replace("boolean flag;", "boolean flag; int added;"));
  assert.equal(run({ input, output, check: true }), 1, "a new field makes the committed output stale");
  writeFileSync(input, DDL);
  writeFileSync(output, readFileSync(output, "utf8").replace("readBool()", "readByte()"));
  assert.equal(run({ input, output, check: true }), 1, "a hand edit to the output is caught");
  assert.equal(run({ input: join(dir, "missing.jute"), output, check: true }), 2);
});
