// Coordination state machine throughput: what one replica's apply loop and local reads sustain
// (encode + decode + apply per command, as the runtime would do), and snapshot/restore speed.
// The ZooKeeper front-end's targets (issue 7: ≥ 1.5× ZooKeeper's ops/s) need this far above the
// network and fsync path; this shows how far. Prints one JSON line.
//   npm run bench -- coord-sm [--nodes 100000]
import { performance } from "node:perf_hooks";
import { note, parseArgs, report } from "./harness.js";
import { CoordOp, encodeCommand, type Command, type CommandBody } from "../src/coord/commands.js";
import { CoordStateMachine } from "../src/coord/state-machine.js";
import { OPEN_ACL_UNSAFE, type Identity } from "../src/coord/types.js";

const IDENTITIES: Identity[] = [{ scheme: "ip", id: "127.0.0.1" }];
const ACL = [...OPEN_ACL_UNSAFE];
const VALUE = new Uint8Array(100).fill(0x61);

function main(): void {
  const args = parseArgs();
  const nodes = Number(args.get("nodes") ?? 100_000);
  const sm = new CoordStateMachine();
  let slot = 1;
  let nowMs = 1_700_000_000_000;
  const apply = (body: CommandBody): void => {
    const command: Command = { wallTimeMs: nowMs++, sessionId: 0n, identities: IDENTITIES, body };
    // Buffer.allocUnsafe as the front-end would pass: commands are short-lived.
    const result = sm.apply(encodeCommand(command, Buffer.allocUnsafe), { slot: slot++, index: 0 });
    if (result.err !== 0) throw new Error(`command failed: ${result.err}`);
  };
  const timed = (label: string, count: number, run: (i: number) => void): number => {
    const started = performance.now();
    for (let i = 0; i < count; i++) run(i);
    const opsPerSec = Math.round(count / ((performance.now() - started) / 1000));
    note(`${label}: ${opsPerSec} ops/s`);
    return opsPerSec;
  };
  for (let p = 0; p < 8; p++) apply({ kind: "op", op: { type: CoordOp.create, path: `/p${p}`, data: null, acl: ACL, flags: 0, ttl: -1n } });
  const createOpsPerSec = timed("create (100 B)", nodes, (i) => apply({ kind: "op", op: { type: CoordOp.create, path: `/p${i % 8}/n${i}`, data: VALUE, acl: ACL, flags: 0, ttl: -1n } }));
  const setDataOpsPerSec = timed("setData (100 B)", nodes, (i) => apply({ kind: "op", op: { type: CoordOp.setData, path: `/p${i % 8}/n${i}`, data: VALUE, version: -1 } }));
  const multiOpsPerSec = timed("multi of 10 setData", nodes / 10, (i) =>
    apply({ kind: "multi", ops: Array.from({ length: 10 }, (_, k) => ({ type: CoordOp.setData, path: `/p${(i * 10 + k) % 8}/n${i * 10 + k}`, data: VALUE, version: -1 })) }),
  );
  const getDataOpsPerSec = timed("getData", nodes * 5, (i) => {
    const read = sm.getData(`/p${i % 8}/n${i % nodes}`, IDENTITIES);
    if (!read.ok) throw new Error("read failed");
  });
  const getChildrenOpsPerSec = timed(`getChildren of ${nodes / 8} children`, 200, (i) => {
    const read = sm.getChildren(`/p${i % 8}`, IDENTITIES);
    if (!read.ok) throw new Error("read failed");
  });
  let started = performance.now();
  const image = sm.snapshot();
  const snapshotMs = performance.now() - started;
  started = performance.now();
  new CoordStateMachine().restore(image);
  const restoreMs = performance.now() - started;
  note(`snapshot ${image.length} bytes in ${snapshotMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms`);
  report("coord-sm", {
    nodes,
    valueBytes: VALUE.length,
    createOpsPerSec,
    setDataOpsPerSec,
    multi10OpsPerSec: multiOpsPerSec,
    getDataOpsPerSec,
    getChildrenOpsPerSec,
    snapshotBytes: image.length,
    snapshotMBPerSec: Math.round(image.length / 1e6 / (snapshotMs / 1000)),
    restoreMBPerSec: Math.round(image.length / 1e6 / (restoreMs / 1000)),
  });
}

main();
