// Goal: a process killed with SIGKILL at any moment never loses an entry it reported durable, and
// recovery never hands out a corrupt entry.
// Method: a real child process (crash-child.ts) appends entries whose payload, key and timestamp
// are functions of their index, syncs (several syncs in flight: group commit), sometimes
// compacts, and prints each durable milestone. The test kills it with SIGKILL after a random
// delay (seeded; the seed is printed), reopens the log in this process (real recovery on the real
// files) and reads every entry back, comparing it with the function. Repeated ≥ 50 times on one
// directory, so later rounds recover logs shaped by earlier crashes (rolls, compactions, cuts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SegmentedLog } from "../../src/storage/segmented-log.js";
import { SeededRandom } from "../../src/util/random.js";
import { silentLogger } from "../../src/util/logger.js";
import { systemClock } from "../../src/node/system-clock.js";
import { tempDir } from "../helpers/tmp.js";
import { keyFor, payloadFor, timestampFor } from "./helpers.js";

const childPath = fileURLToPath(new URL("./crash-child.js", import.meta.url));
const KILLS = Number(process.env.SYNOD_CRASH_KILLS ?? 60);

interface ChildRun {
  maxSynced: number;
  floor: number;
  syncedLines: number;
}

async function runAndKill(dir: string, seed: number, delayMs: number, killBeforeOpen: boolean): Promise<ChildRun> {
  const child = spawn(process.execPath, [childPath, dir, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
  const run: ChildRun = { maxSynced: -1, floor: -1, syncedLines: 0 };
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let opened!: () => void;
  const openedPromise = new Promise<void>((resolve) => (opened = resolve));
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const [word, value] = line.split(" ");
    if (word === "opened") opened();
    if (word === "synced") {
      run.maxSynced = Math.max(run.maxSynced, Number(value));
      run.syncedLines++;
    }
    if (word === "compacted") run.floor = Math.max(run.floor, Number(value));
  });
  if (!killBeforeOpen) await Promise.race([openedPromise, exited]);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill("SIGKILL");
  const { code, signal } = await exited;
  // Drain the pipe: lines the child wrote before dying still count as reported.
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.on("end", () => resolve())));
  assert.ok(signal === "SIGKILL" || code === 0, `child died on its own (code ${code}): ${stderr}`);
  return run;
}

test("crash: SIGKILL at random moments never loses a synced entry nor returns a corrupt one", { timeout: 120_000 }, async (t) => {
  const seed = Number(process.env.SYNOD_TEST_SEED ?? 0x5eed5);
  t.diagnostic(`seed ${seed} (SYNOD_TEST_SEED), kills ${KILLS} (SYNOD_CRASH_KILLS)`);
  const random = new SeededRandom(seed);
  const dir = tempDir(t, "synod-crash-");
  let maxSynced = -1;
  let floor = 0;
  let syncedLines = 0;
  let cuts = 0;
  let cutBytes = 0;
  let verifiedEntries = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const killBeforeOpen = random.chance(0.1);
    const delayMs = killBeforeOpen ? random.range(0, 120) : random.range(0, 60);
    const run = await runAndKill(dir, random.nextUint32(), delayMs, killBeforeOpen);
    maxSynced = Math.max(maxSynced, run.maxSynced);
    floor = Math.max(floor, run.floor);
    syncedLines += run.syncedLines;

    const log = await SegmentedLog.open({ dir, clock: systemClock, logger: silentLogger(), segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 });
    try {
      const context = `after kill ${kill} (seed ${seed})`;
      assert.deepEqual(log.recovery.corruptEntries, [], `${context}: SIGKILL cannot corrupt the page cache`);
      if (log.recovery.truncation) {
        cuts++;
        cutBytes += log.recovery.truncation.bytes;
        assert.ok(log.recovery.truncation.index > maxSynced, `${context}: recovery cut synced entry ${log.recovery.truncation.index} (synced up to ${maxSynced})`);
      }
      assert.ok(log.lastIndex >= maxSynced, `${context}: last index ${log.lastIndex} < reported synced ${maxSynced}`);
      assert.ok(log.firstIndex >= floor, `${context}: first index ${log.firstIndex} below reported compaction ${floor}`);
      let expected = log.firstIndex;
      while (expected <= log.lastIndex) {
        const entries = await log.read(expected, { maxBytes: 256 * 1024 });
        assert.ok(entries.length > 0, `${context}: empty read at ${expected}`);
        for (const entry of entries) {
          assert.equal(entry.index, expected);
          assert.equal(entry.key, keyFor(expected), `${context}: key of ${expected}`);
          assert.equal(entry.timestamp, timestampFor(expected), `${context}: timestamp of ${expected}`);
          assert.ok(entry.payload.equals(payloadFor(expected)), `${context}: payload of ${expected}`);
          expected++;
        }
      }
      verifiedEntries += expected - log.firstIndex;
    } finally {
      await log.close();
    }
  }
  t.diagnostic(`kills ${KILLS}, synced reports ${syncedLines}, highest synced ${maxSynced}, tails cut ${cuts} (${cutBytes} bytes), entries verified ${verifiedEntries}`);
  assert.ok(syncedLines > KILLS, "the children made progress between kills");
});
