// Goal: readable, reviewable transcripts of the protocol in the situations that matter most
// (leader change with holes, a lost unsynced tail, catch-up by snapshot, membership change during
// a partition, pre-vote against a disruptive rejoiner, lease read versus read index). Method:
// each test/paxos/testdata/*.txt is a script of commands, each followed by "----" and the exact
// output; the interpreter (src/sim/interaction.ts) replays it and the output must match. After a
// deliberate change, regenerate with `SYNOD_REWRITE=1 npm run test:unit -- scenarios` and review
// the diff before committing it (etcd-io/raft's datadriven -rewrite).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InteractionEnv } from "../../src/sim/interaction.js";
import { repoRoot } from "../helpers/process.js";

const dataDir = join(repoRoot, "test", "paxos", "testdata");
const rewrite = process.env.SYNOD_REWRITE === "1";

interface Block {
  readonly preamble: string[];
  readonly command: string;
  readonly expected: string;
}

function parse(text: string): { blocks: Block[]; trailer: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "" || line.startsWith("#")) {
      preamble.push(line);
      i++;
      continue;
    }
    assert.equal(lines[i + 1], "----", `expected ---- after "${line}" (line ${i + 2})`);
    const output: string[] = [];
    i += 2;
    while (i < lines.length && lines[i] !== "") output.push(lines[i++]);
    blocks.push({ preamble, command: line, expected: output.join("\n") });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

for (const file of readdirSync(dataDir).filter((f) => f.endsWith(".txt")).sort()) {
  test(`scenario ${file}`, () => {
    const path = join(dataDir, file);
    const { blocks, trailer } = parse(readFileSync(path, "utf8"));
    const env = new InteractionEnv();
    const written: string[] = [];
    for (const block of blocks) {
      const actual = env.run(block.command);
      written.push(...block.preamble, block.command, "----", actual);
      if (!rewrite) assert.equal(actual, block.expected, `${file}: output of "${block.command}" differs`);
    }
    if (rewrite) writeFileSync(path, [...written, ...trailer].join("\n"));
  });
}
