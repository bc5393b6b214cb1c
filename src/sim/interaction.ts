// The interpreter behind the scenario scripts in test/paxos/testdata/*.txt (after etcd-io/raft's
// rafttest.InteractionEnv and cockroachdb/datadriven). Every step is explicit: nothing happens
// unless a command makes it happen, so a script reads like a transcript of the protocol.
//
// Commands (ids are replica ids; "all" where noted):
//   add-nodes <n> [voters=1,2,3] [learners=4] [prevote=true] [checkquorum=true] [election=10]
//             [heartbeat=2] [msgmax=1048576] [batchmax=262144] [timeouts=0,3,6]
//                                    creates n nodes with the next ids; node i's election timeout
//                                    is election + timeouts[i] ticks (fixed, so scripts are exact)
//   campaign <id>                    start an election now (pre-vote first if enabled)
//   propose <id> <text>              propose one command (printed result)
//   process-ready <id...|all> [sync=false]   handle one Ready: persist, (fsync,) advance
//   deliver-msgs [from=<id>] [to=<id>] [type=<t>] [drop=true]   deliver (or drop) queued messages
//   stabilize [quiet]                process readies and deliver messages until nothing moves
//   tick <id...|all> [n=1]           advance abstract time
//   partition <a,b> <c,d,...>        cut every link between the groups; heal removes all cuts
//   heal
//   crash <id> [keep=0] [torn=false] power loss: keep the first `keep` unsynced writes
//   corrupt <id> slot=<s>            a latent read error on a durable entry
//   restart <id>                     rebuild the replica from its disk
//   log <id>                         the in-memory log, commit and applied state
//   status <id...|all>
//   read-index <id> <req>  /  lease-read <id> <req>
//   membership <id> add-learner|promote|remove <target>
//   add-node <id>                    a fresh node with no membership (to join as a learner)
//   transfer <id> <target>
//   snapshot <id> [trailing=0]       take a snapshot at the applied slot and compact the log
//   install-snapshot from=<id> to=<id>   stream from's latest snapshot to `to`, report to the leader
//   inject-promise from=<id> to=<id> commit=<c> entries=<slot>@<round>.<replica>:<text>,...
//                                    deliver a hand-made Promise for the candidate's ballot (to
//                                    build shapes our dense acceptors never produce, e.g. holes)
import { assert } from "../util/assert.js";
import type { Random } from "../util/random.js";
import { decodeMessage, encodeMessage } from "../paxos/codec.js";
import { decodeBatch, encodeBatch } from "../paxos/command.js";
import { ExactlyOnceStateMachine } from "../paxos/exactly-once.js";
import { EMPTY_MEMBERSHIP, decodeMembership, formatMembership, membership, type Membership } from "../paxos/membership.js";
import type { Message } from "../paxos/messages.js";
import type { Ready } from "../paxos/ready.js";
import { Replica, type ReplicaStatus } from "../paxos/replica.js";
import { EntryKind, formatBallot, replicaId, type LogEntry, type ReplicaId } from "../paxos/types.js";
import type { LogPosition, StateMachine } from "../util/state-machine.js";
import type { ReplicaOptions } from "../paxos/config.js";
import { SimDisk, readDurableState } from "./disk.js";
import { describeMessage } from "./trace.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The scenario state machine: the list of applied command texts. */
class ListStateMachine implements StateMachine<Uint8Array> {
  items: string[] = [];
  apply(command: Uint8Array, _position: LogPosition): Uint8Array {
    this.items.push(decoder.decode(command));
    return encoder.encode(String(this.items.length));
  }
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.items));
  }
  restore(bytes: Uint8Array): void {
    this.items = JSON.parse(decoder.decode(bytes)) as string[];
  }
}

/**
 * Scenario "randomness": a fixed election-timeout offset per node, so a script can say exactly
 * when each node's timer fires (node timeouts are electionTicks + offset).
 */
class FixedRandom implements Random {
  constructor(private readonly offset: number) {}
  float(): number {
    return 0;
  }
  int(bound: number): number {
    return Math.min(this.offset, bound - 1);
  }
}

interface EnvNode {
  readonly id: ReplicaId;
  readonly disk: SimDisk;
  readonly bootstrap: Membership;
  readonly options: Omit<ReplicaOptions, "id" | "random">;
  readonly timeoutOffset: number;
  replica: Replica | undefined;
  list: ListStateMachine;
  sm: ExactlyOnceStateMachine;
  applied: number;
  pending: Ready | undefined;
  snapshotImage: Uint8Array | undefined;
}

type Args = { positional: string[]; named: Map<string, string> };

function parseArgs(words: string[]): Args {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq > 0) named.set(word.slice(0, eq), word.slice(eq + 1));
    else positional.push(word);
  }
  return { positional, named };
}

export function formatEntry(entry: LogEntry): string {
  const head = `${entry.slot}@${formatBallot(entry.ballot)}`;
  if (entry.kind === EntryKind.noop) return `${head}:noop`;
  if (entry.kind === EntryKind.config) return `${head}:config(${formatMembership(decodeMembership(entry.data))})`;
  return `${head}:[${decodeBatch(entry.data).map((c) => decoder.decode(c.data)).join(",")}]`;
}

export class InteractionEnv {
  private readonly nodes = new Map<number, EnvNode>();
  private queue: Message[] = [];
  private readonly cuts = new Set<string>();
  private out: string[] = [];

  /** Runs one command line and returns its output (never empty: "ok" when there is nothing to say). */
  run(line: string): string {
    this.out = [];
    const [command, ...words] = line.trim().split(/\s+/);
    const args = parseArgs(words);
    this.dispatch(command, args);
    return this.out.length > 0 ? this.out.join("\n") : "ok";
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private ids(spec: string[]): number[] {
    if (spec.length === 1 && spec[0] === "all") return [...this.nodes.keys()];
    return spec.map(Number);
  }

  private node(id: number): EnvNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  private dispatch(command: string, args: Args): void {
    const p = args.positional;
    switch (command) {
      case "add-nodes":
        return this.addNodes(Number(p[0]), args.named);
      case "add-node":
        return this.createNode(Number(p[0]), EMPTY_MEMBERSHIP, new Map());
      case "campaign":
        this.node(Number(p[0])).replica!.campaignNow();
        return;
      case "propose":
        return this.propose(Number(p[0]), p.slice(1).join(" "));
      case "process-ready":
        for (const id of this.ids(p)) this.processReady(id, args.named.get("sync") !== "false");
        return;
      case "deliver-msgs":
        return this.deliver(args.named);
      case "stabilize":
        return this.stabilize(p.includes("quiet"));
      case "tick":
        return this.tick(this.ids(p), Number(args.named.get("n") ?? 1));
      case "partition":
        return this.partition(p.map((g) => g.split(",").map(Number)));
      case "heal":
        this.cuts.clear();
        return;
      case "crash":
        return this.crash(Number(p[0]), Number(args.named.get("keep") ?? 0), args.named.get("torn") === "true");
      case "corrupt":
        this.node(Number(p[0])).disk.corruptSlot(Number(args.named.get("slot")));
        return;
      case "restart":
        return this.restart(Number(p[0]));
      case "log":
        return this.printLog(Number(p[0]));
      case "status":
        for (const id of this.ids(p)) this.print(this.statusLine(id));
        return;
      case "read-index":
      case "lease-read":
        return this.read(command, Number(p[0]), Number(p[1]));
      case "membership":
        return this.membershipChange(Number(p[0]), p[1], Number(p[2]));
      case "transfer":
        this.print(JSON.stringify(this.node(Number(p[0])).replica!.transferLeadership(replicaId(Number(p[1])))));
        return;
      case "snapshot":
        return this.snapshot(Number(p[0]), Number(args.named.get("trailing") ?? 0));
      case "inject-promise":
        return this.injectPromise(args.named);
      case "install-snapshot":
        this.print(this.installSnapshotFrom(Number(args.named.get("from")), Number(args.named.get("to"))));
        return;
      default:
        throw new Error(`unknown command ${command}`);
    }
  }

  private addNodes(count: number, named: Map<string, string>): void {
    const first = this.nodes.size + 1;
    const ids = Array.from({ length: count }, (_, i) => first + i);
    const voters = named.has("voters") ? named.get("voters")!.split(",").map(Number) : ids;
    const learners = named.has("learners") ? named.get("learners")!.split(",").map(Number) : [];
    const group = membership(voters, learners);
    const offsets = named.has("timeouts") ? named.get("timeouts")!.split(",").map(Number) : ids.map((_, i) => 3 * i);
    ids.forEach((id, i) => this.createNode(id, group, named, offsets[i]));
  }

  private createNode(id: number, bootstrap: Membership, named: Map<string, string>, timeoutOffset = 0): void {
    assert(!this.nodes.has(id), `node ${id} exists`);
    const options: Omit<ReplicaOptions, "id" | "random"> = {
      preVote: (named.get("prevote") ?? "true") === "true",
      checkQuorum: (named.get("checkquorum") ?? "true") === "true",
      electionTicks: Number(named.get("election") ?? 10),
      heartbeatTicks: Number(named.get("heartbeat") ?? 2),
      messageBytesMax: Number(named.get("msgmax") ?? 1024 * 1024),
      batchBytesMax: Number(named.get("batchmax") ?? 256 * 1024),
      uncommittedBytesMax: 16 * 1024 * 1024,
    };
    const list = new ListStateMachine();
    const node: EnvNode = { id: replicaId(id), disk: new SimDisk(), bootstrap, options, timeoutOffset, replica: undefined, list, sm: new ExactlyOnceStateMachine(list), applied: 0, pending: undefined, snapshotImage: undefined };
    this.nodes.set(id, node);
    this.boot(node);
  }

  private boot(node: EnvNode): void {
    const durable = readDurableState(node.disk, node.bootstrap, (line) => this.print(`${node.id}: ${line}`));
    node.list = new ListStateMachine();
    node.sm = new ExactlyOnceStateMachine(node.list);
    if (node.disk.snapshot !== undefined) node.sm.restore(node.disk.snapshot.image);
    node.applied = durable.appliedSlot;
    node.pending = undefined;
    node.replica = new Replica({ ...node.options, id: node.id, random: new FixedRandom(node.timeoutOffset) }, durable);
  }

  /** Ticks each node, printing any role change a timeout caused (a campaign, a step-down). */
  private tick(ids: number[], count: number): void {
    for (const id of ids) {
      const replica = this.node(id).replica;
      if (replica === undefined) continue;
      for (let i = 1; i <= count; i++) {
        const before = replica.status().role;
        replica.tick();
        const after = replica.status().role;
        if (after !== before) this.print(`${id}: tick ${i}: ${before} -> ${after}`);
      }
    }
  }

  private propose(id: number, text: string): void {
    const result = this.node(id).replica!.propose({ data: encoder.encode(text) });
    this.print(JSON.stringify(result));
  }

  private processReady(id: number, sync: boolean): void {
    const node = this.node(id);
    const replica = node.replica;
    if (replica === undefined || node.pending !== undefined) return;
    const ready = replica.ready();
    if (ready === undefined) return;
    this.print(`> ${id} handling Ready`);
    this.describeReady(ready);
    for (const m of ready.messages) this.queue.push(m);
    this.apply(node, ready.committed);
    const persist = ready.persist;
    if (persist.hardState !== undefined) node.disk.writeHardState(persist.hardState);
    if (persist.truncateFromSlot !== undefined) {
      if (persist.hardState !== undefined) node.disk.sync();
      node.disk.truncate(persist.truncateFromSlot);
    }
    for (const e of persist.entries) node.disk.append(e);
    if (!sync) {
      node.pending = ready;
      this.print("  (written, not synced: replies held until an fsync and advance)");
      return;
    }
    node.disk.sync();
    const after = replica.advance(ready);
    if (after.length > 0) this.print(`  after fsync: ${after.map(describeMessage).join("; ")}`);
    for (const m of after) this.queue.push(m);
  }

  private describeReady(ready: Ready): void {
    if (ready.softState !== undefined) this.print(`  state: ${ready.softState.role} leader=${ready.softState.leaderId ?? "-"} ballot=${formatBallot(ready.softState.ballot)}`);
    const p = ready.persist;
    if (p.hardState !== undefined) {
      const steps = p.hardState.steps.map((s) => `${s.throughSlot}@${formatBallot(s.ballot)}`).join(",");
      const recovering = p.hardState.recoveringThroughSlot > 0 ? ` recovering-through=${p.hardState.recoveringThroughSlot}` : "";
      this.print(`  hard state: promised=${formatBallot(p.hardState.promisedBallot)} steps=[${steps}] commit-hint=${p.hardState.commitSlot}${recovering}`);
    }
    if (p.truncateFromSlot !== undefined) this.print(`  truncate from ${p.truncateFromSlot}`);
    if (p.entries.length > 0) this.print(`  append: ${p.entries.map(formatEntry).join(" ")}`);
    if (ready.committed.length > 0) this.print(`  apply: ${ready.committed.map(formatEntry).join(" ")}`);
    for (const r of ready.reads) this.print(`  read ${r.requestId}: ${r.outcome}${r.outcome === "ok" ? ` at slot ${r.slot}` : ""}`);
    for (const l of ready.loads) this.print(`  load ${l.fromSlot}..${l.toSlot}`);
    for (const s of ready.snapshotSends) this.print(`  send snapshot@${s.slot} to ${s.to}`);
    if (ready.messages.length > 0) this.print(`  send: ${ready.messages.map(describeMessage).join("; ")}`);
  }

  private apply(node: EnvNode, entries: readonly LogEntry[]): void {
    for (const e of entries) {
      node.sm.applyEntry(e);
      node.applied = e.slot;
    }
  }

  private deliver(named: Map<string, string>): void {
    const from = named.has("from") ? Number(named.get("from")) : undefined;
    const to = named.has("to") ? Number(named.get("to")) : undefined;
    const type = named.get("type");
    const drop = named.get("drop") === "true";
    const keep: Message[] = [];
    const matched: Message[] = [];
    for (const m of this.queue) {
      const hit = (from === undefined || m.from === from) && (to === undefined || m.to === to) && (type === undefined || m.type === type);
      (hit ? matched : keep).push(m);
    }
    this.queue = keep;
    for (const m of matched) this.deliverOne(m, drop);
  }

  private deliverOne(m: Message, drop: boolean): void {
    const target = this.nodes.get(m.to)?.replica;
    if (drop || target === undefined || this.cuts.has(`${m.from}-${m.to}`)) {
      this.print(`dropped ${describeMessage(m)}`);
      return;
    }
    this.print(describeMessage(m));
    target.step(decodeMessage(encodeMessage(m)));
  }

  private stabilize(quiet: boolean): void {
    for (let round = 0; round < 1000; round++) {
      const before = this.out.length;
      const queued = this.queue.length;
      for (const id of this.nodes.keys()) this.processReady(id, true);
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliverOne(m, false);
      if (this.out.length === before && queued === 0 && batch.length === 0) break;
    }
    if (quiet) this.out = [];
  }

  private partition(groups: number[][]): void {
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.cuts.add(`${x}-${y}`);
  }

  private crash(id: number, keep: number, torn: boolean): void {
    const node = this.node(id);
    const pendingWrites = node.disk.pendingWriteCount;
    node.disk.crashKeeping(Math.min(keep, pendingWrites), torn);
    node.replica = undefined;
    node.pending = undefined;
    this.queue = this.queue.filter((m) => m.from !== id);
    this.print(`${id} crashed: ${pendingWrites} unsynced writes, ${Math.min(keep, pendingWrites)} survived${torn ? " (last one torn)" : ""}`);
  }

  private restart(id: number): void {
    const node = this.node(id);
    assert(node.replica === undefined, "restart a crashed node");
    this.boot(node);
    this.print(this.statusLine(id));
  }

  private statusLine(id: number): string {
    const node = this.node(id);
    const s: ReplicaStatus | undefined = node.replica?.status();
    if (s === undefined) return `${id}: down`;
    const recovering = s.recoveringThroughSlot > 0 ? ` recovering-through=${s.recoveringThroughSlot}` : "";
    const lease = s.role === "leader" ? ` lease=${s.leaseValid ? "valid" : "none"}` : "";
    return `${id}: ${s.role} ballot=${formatBallot(s.promisedBallot)} leader=${s.leaderId ?? "-"} commit=${s.commitSlot} applied=${node.applied} last=${s.lastSlot} snapshot=${s.snapshotSlot} ${formatMembership(s.membership)}${recovering}${lease}`;
  }

  private printLog(id: number): void {
    const node = this.node(id);
    const replica = node.replica;
    if (replica === undefined) {
      this.print(`${id}: down`);
      return;
    }
    const s = replica.status();
    const entries: string[] = [];
    for (let slot = Math.max(replica.memFirstSlot, s.snapshotSlot + 1); slot <= s.lastSlot; slot++) {
      const entry = replica.entryAt(slot);
      if (entry !== undefined) entries.push(formatEntry(entry));
    }
    this.print(`${id}: ${entries.length > 0 ? entries.join(" ") : "(empty)"}`);
    this.print(`   commit=${s.commitSlot} applied=[${node.list.items.join(",")}]`);
  }

  private read(command: string, id: number, requestId: number): void {
    const replica = this.node(id).replica!;
    const result = command === "lease-read" ? replica.leaseRead(requestId) : replica.readIndex(requestId);
    this.print(JSON.stringify(result));
  }

  private membershipChange(id: number, kind: string, target: number): void {
    const kinds: Record<string, "addLearner" | "promote" | "remove"> = { "add-learner": "addLearner", promote: "promote", remove: "remove" };
    assert(kinds[kind] !== undefined, `unknown membership change ${kind}`);
    this.print(JSON.stringify(this.node(id).replica!.proposeMembership({ kind: kinds[kind], replicaId: replicaId(target) })));
  }

  private snapshot(id: number, trailing: number): void {
    const node = this.node(id);
    const replica = node.replica!;
    const slot = replica.status().appliedSlot;
    const meta = replica.snapshotTaken(slot);
    node.disk.saveSnapshot(meta, node.sm.snapshot());
    const first = Math.max(node.disk.firstSlot, slot + 1 - trailing);
    node.disk.compactPrefix(first);
    replica.logCompacted(first);
    this.print(`${id}: snapshot at ${slot} (${formatMembership(meta.membership)}), log compacted below ${first}`);
  }

  /** Streams `from`'s latest snapshot to `to` (the driver's out-of-band transfer) and reports back. */
  private installSnapshotFrom(from: number, to: number): string {
    const source = this.node(from);
    const target = this.node(to);
    const snapshot = source.disk.snapshot;
    assert(snapshot !== undefined, `node ${from} has a snapshot`);
    target.disk.saveSnapshot(snapshot.meta, snapshot.image);
    target.disk.compactPrefix(snapshot.meta.slot + 1);
    const installed = target.replica!.installSnapshot(snapshot.meta);
    if (installed) {
      target.sm.restore(snapshot.image);
      target.applied = snapshot.meta.slot;
    }
    source.replica!.reportSnapshot(target.id, installed);
    return `${to}: ${installed ? "installed" : "refused"} snapshot@${snapshot.meta.slot} from ${from}`;
  }

  private injectPromise(named: Map<string, string>): void {
    const from = replicaId(Number(named.get("from")));
    const to = replicaId(Number(named.get("to")));
    const ballot = this.node(to).replica!.status().promisedBallot;
    const entries: LogEntry[] = (named.get("entries") ?? "")
      .split(",")
      .filter((e) => e.length > 0)
      .map((spec) => {
        const match = /^(\d+)@(\d+)\.(\d+):(.*)$/.exec(spec);
        assert(match !== null, `bad entry spec ${spec}`);
        const data = match[4] === "noop" ? new Uint8Array(0) : encodeBatchText(match[4]);
        return { slot: Number(match[1]), ballot: { round: Number(match[2]), replicaId: Number(match[3]) }, kind: match[4] === "noop" ? EntryKind.noop : EntryKind.commands, data };
      });
    const message: Message = { type: "promise", from, to, ballot, commitSlot: Number(named.get("commit") ?? 0), truncated: false, entries };
    this.deliverOne(message, false);
  }
}

/** A one-command batch in the real format, so an injected value looks like any proposal. */
function encodeBatchText(text: string): Uint8Array {
  return encodeBatch([{ data: encoder.encode(text) }]);
}
