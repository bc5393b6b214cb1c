// Throughput of the consensus core alone: 3 in-process replicas, an in-memory network, no I/O.
// Each round the leader takes `perRound` new 100-byte commands (batched into slots of up to
// batchBytes), then every message in flight is delivered one hop. Three modes: messages passed
// as objects (the core's own cost; wire bytes counted by the codec's exact size function), every
// message encoded and decoded by the real codec, and commands applied on all three replicas
// through the exactly-once layer. Proposals pipeline: a new round does not wait for
// the previous one to commit. Reports committed commands per second at the leader, with and
// without applying them through the exactly-once layer on all three replicas, wire bytes per
// command, and the p50 number of message hops from propose to commit (known at the leader and at
// a follower).
//   npm run bench -- paxos-core [--seconds 5] [--commandBytes 100] [--perRound 20000] [--batchBytes 1048576] [--apply true]
import { report, note, parseArgs, percentile } from "./harness.js";
import { Replica, bootstrapState, membership, replicaId, batchCommandCount, decodeMessage, encodeMessage, encodedMessageBytes, EntryKind } from "../src/paxos/index.js";
import { ExactlyOnceStateMachine } from "../src/paxos/exactly-once.js";
import type { Message } from "../src/paxos/messages.js";
import type { LogEntry } from "../src/paxos/types.js";
import type { StateMachine } from "../src/util/state-machine.js";
import { SeededRandom } from "../src/util/random.js";

const args = parseArgs();
const seconds = Number(args.get("seconds") ?? 5);
const commandBytes = Number(args.get("commandBytes") ?? 100);
const perRound = Number(args.get("perRound") ?? 20_000);
const batchBytes = Number(args.get("batchBytes") ?? 1024 * 1024);
const apply = (args.get("apply") ?? "true") === "true";

class CountingStateMachine implements StateMachine<Uint8Array> {
  applied = 0;
  private static readonly RESULT = new Uint8Array(0);
  apply(): Uint8Array {
    this.applied++;
    return CountingStateMachine.RESULT;
  }
  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }
  restore(): void {}
}

interface Node {
  replica: Replica;
  sm: ExactlyOnceStateMachine;
  counter: CountingStateMachine;
}

function run(withApply: boolean, withCodec: boolean, durationS: number): Record<string, number> {
  const group = membership([1, 2, 3]);
  const options = {
    batchBytesMax: batchBytes,
    messageBytesMax: 4 * batchBytes,
    uncommittedBytesMax: 64 * batchBytes,
    promiseBytesMax: 128 * batchBytes,
    inflightMessagesMax: 256,
    inflightBytesMax: 256 * batchBytes,
    retainedCommittedBytesMax: 4 * batchBytes,
    committedBytesPerReadyMax: 64 * batchBytes,
  };
  const nodes: Node[] = [1, 2, 3].map((id) => {
    const counter = new CountingStateMachine();
    return { replica: new Replica({ id: replicaId(id), random: new SeededRandom(id), ...options }, bootstrapState(group)), sm: new ExactlyOnceStateMachine(counter), counter };
  });
  let inFlight: Message[] = [];
  let wireBytes = 0;
  const drive = (node: Node): void => {
    const ready = node.replica.ready();
    if (ready === undefined) return;
    inFlight.push(...ready.messages);
    if (withApply) for (const e of ready.committed) node.sm.applyEntry(e);
    onCommitted(node, ready.committed);
    inFlight.push(...node.replica.advance(ready));
  };
  // Per-slot bookkeeping for the hop figures: the round each slot was proposed in.
  const proposedRound = new Map<number, number>();
  const leaderHops: number[] = [];
  const followerHops: number[] = [];
  let round = 0;
  let committedCommands = 0;
  const onCommitted = (node: Node, entries: readonly LogEntry[]): void => {
    for (const e of entries) {
      if (e.kind !== EntryKind.commands) continue;
      const started = proposedRound.get(e.slot);
      if (node === nodes[0]) {
        committedCommands += batchCommandCount(e.data);
        if (started !== undefined) leaderHops.push(round - started);
      } else if (node === nodes[1] && started !== undefined) followerHops.push(round - started);
    }
  };
  const deliverAll = (): void => {
    const batch = inFlight;
    inFlight = [];
    for (const m of batch) {
      if (withCodec) {
        const bytes = encodeMessage(m);
        wireBytes += bytes.length;
        nodes[m.to - 1].replica.step(decodeMessage(bytes));
      } else {
        wireBytes += encodedMessageBytes(m);
        nodes[m.to - 1].replica.step(m);
      }
    }
    round++;
  };
  nodes[0].replica.campaignNow();
  for (let i = 0; i < 20; i++) {
    for (const n of nodes) drive(n);
    deliverAll();
  }
  if (nodes[0].replica.status().role !== "leader") throw new Error("no leader elected");
  const command = new Uint8Array(commandBytes).fill(7);
  let sequence = 0;
  const started = performance.now();
  const startCommitted = committedCommands;
  const startWire = wireBytes;
  while (performance.now() - started < durationS * 1000) {
    for (let i = 0; i < perRound; i++) {
      const result = nodes[0].replica.propose({ data: command, clientId: 1 + (i % 64), sequence: sequence++ });
      if (result.kind !== "ok") break;
      if (!proposedRound.has(result.slot)) proposedRound.set(result.slot, round);
    }
    for (const n of nodes) drive(n);
    deliverAll();
  }
  const elapsedS = (performance.now() - started) / 1000;
  const committed = committedCommands - startCommitted;
  return {
    commandsPerSecond: Math.round(committed / elapsedS),
    committedCommands: committed,
    elapsedSeconds: Number(elapsedS.toFixed(2)),
    wireBytesPerCommand: Number(((wireBytes - startWire) / Math.max(1, committed)).toFixed(1)),
    p50HopsToLeaderCommit: percentile(leaderHops, 50),
    p50HopsToFollowerCommit: percentile(followerHops, 50),
    appliedOnEachReplica: withApply ? Math.min(...nodes.map((n) => n.counter.applied)) : 0,
  };
}

note(`paxos-core: ${seconds}s per mode, ${commandBytes}-byte commands, ${perRound} per round, batches of ${batchBytes} bytes`);
const core = run(false, false, seconds);
note(`  core (messages as objects):   ${JSON.stringify(core)}`);
const codec = run(false, true, seconds);
note(`  + codec (encode/decode each): ${JSON.stringify(codec)}`);
const withApply = apply ? run(true, false, seconds) : undefined;
if (withApply !== undefined) note(`  + apply on all 3 replicas:    ${JSON.stringify(withApply)}`);
report("paxos-core", {
  replicas: 3,
  commandBytes,
  batchBytes,
  commandsPerSecond: core.commandsPerSecond,
  commandsPerSecondWithCodec: codec.commandsPerSecond,
  commandsPerSecondWithApply: withApply?.commandsPerSecond ?? null,
  wireBytesPerCommand: core.wireBytesPerCommand,
  p50HopsToLeaderCommit: core.p50HopsToLeaderCommit,
  p50HopsToFollowerCommit: core.p50HopsToFollowerCommit,
  committedCommands: core.committedCommands,
  elapsedSeconds: core.elapsedSeconds,
});
