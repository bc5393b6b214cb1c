// Child process of crash.test.ts (not a test itself): appends entries whose payload, key and
// timestamp derive from their index, syncs, and prints one line per durable milestone:
//   "synced <lastIndex>"     after sync() resolved: every entry <= lastIndex is durable
//   "compacted <firstIndex>" after compactPrefix() resolved
// The parent SIGKILLs it at a random moment and checks the log against these lines.
// argv: <dir> <seed>
import { SegmentedLog } from "../../src/storage/segmented-log.js";
import { SeededRandom } from "../../src/util/random.js";
import { silentLogger } from "../../src/util/logger.js";
import { systemClock } from "../../src/node/system-clock.js";
import { keyFor, payloadFor, timestampFor } from "./helpers.js";

const [dir, seedText] = process.argv.slice(2);
const random = new SeededRandom(Number(seedText));
const log = await SegmentedLog.open({
  dir,
  clock: systemClock,
  logger: silentLogger(),
  fsync: "always",
  segmentBytesMax: 16 * 1024,
  indexIntervalBytes: 512,
  writeBufferBytesMax: 256 * 1024,
  writeChunkBytes: 16 * 1024,
});
process.stdout.write(`opened ${log.firstIndex} ${log.lastIndex}\n`);
for (;;) {
  const batch = random.range(1, 40);
  const syncs: Array<Promise<void>> = [];
  for (let i = 0; i < batch; i++) {
    const index = log.lastIndex + 1;
    log.append({ timestamp: timestampFor(index), key: keyFor(index), payload: payloadFor(index) });
    // Several syncs in flight at once: group commit under crash.
    if (random.chance(0.3)) syncs.push(log.sync());
  }
  const last = log.lastIndex;
  await Promise.all([...syncs, log.sync()]);
  process.stdout.write(`synced ${last}\n`);
  if (random.chance(0.05) && log.lastIndex - log.firstIndex > 1500) {
    const floor = log.lastIndex - random.range(200, 1000);
    await log.compactPrefix(floor);
    process.stdout.write(`compacted ${floor}\n`);
  }
}
