// One simulated run of one seed: a group of SimNodes (the real Replica), clients, a simulated
// network and disks, a swarm-drawn fault profile, then two phases (Paxos Made Live's safety and
// liveness modes; TigerBeetle's VOPR):
//   safety   - faults on: crashes with lost unsynced writes and torn writes, latent read errors,
//              partitions (symmetric and one-way), loss, duplication, delay, clock drift,
//              membership changes; checkers watch continuously;
//   liveness - heal everything and restart everyone; every client must complete an operation
//              and the voters must converge within a bounded virtual time.
// Then: agreement, convergence, durability and linearizability of the client history.
import { assert, ProgrammerError } from "../util/assert.js";
import { SeededRandom } from "../util/random.js";
import type { PlantedBug } from "../paxos/config.js";
import { decodeMessage } from "../paxos/codec.js";
import { membership, type Membership, type MembershipChange } from "../paxos/membership.js";
import { replicaId, type ReplicaId, type Slot } from "../paxos/types.js";
import { AgreementChecker, ConvergenceChecker, checkDurability, type AckedCommand, type Violation } from "./checkers.js";
import { HistoryRecorder, checkLinearizability, formatReport, kvModel, type KvInput, type KvOutput } from "./linearizability/mod.js";
import { SimNetwork } from "./network.js";
import { SimNode, type ClientRequest, type ClientResponse, type NodeEnvironment } from "./node.js";
import { drawProfile, formatProfile, type FaultProfile } from "./profile.js";
import { EventQueue } from "./scheduler.js";
import { describeMessage, traceLine } from "./trace.js";
import { SimClient, type ClientEnvironment } from "./workload.js";

export interface SimulationOptions {
  readonly seed: number;
  /** Receives readable trace lines (`--trace`); tracing costs time, so it is off by default. */
  readonly trace?: (line: string) => void;
  readonly plantedBug?: PlantedBug;
  readonly profile?: Partial<FaultProfile>;
  /** Virtual ms the liveness phase may take before a stall is a violation. Default 15,000. */
  readonly livenessBudgetMs?: number;
  /** Step budget for the linearizability check. Default 2,000,000. */
  readonly lincheckBudgetSteps?: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly profile: FaultProfile;
  readonly violations: readonly Violation[];
  readonly stats: {
    virtualMs: number;
    events: number;
    messages: number;
    operations: number;
    okOperations: number;
    chosenSlots: number;
    crashes: number;
    leaderChanges: number;
    membershipChanges: number;
    lincheck: string;
    marks: Record<string, number>;
  };
  readonly replay: string;
}

const CLIENT_ENDPOINT_BASE = 1000;
const EVENTS_MAX = 5_000_000;

export function replayCommand(seed: number, plantedBug?: PlantedBug): string {
  return `npm run sim -- --seed ${seed}${plantedBug !== undefined ? ` --bug ${plantedBug}` : ""}`;
}

export function runSimulation(options: SimulationOptions): SimulationResult {
  return new Simulation(options).run();
}

class Simulation {
  readonly queue = new EventQueue();
  readonly random: SeededRandom;
  readonly profile: FaultProfile;
  readonly network: SimNetwork;
  readonly nodes = new Map<number, SimNode>();
  readonly clients: SimClient[] = [];
  readonly history = new HistoryRecorder<KvInput, KvOutput>();
  readonly agreement = new AgreementChecker();
  readonly convergence = new ConvergenceChecker();
  readonly violations: Violation[] = [];
  readonly acked: AckedCommand[] = [];
  private faultsOn = true;
  private crashes = 0;
  private leaderChanges = 0;
  private membershipChanges = 0;
  private nextNodeId: number;
  private membershipTask: { phase: "promote" | "remove"; newId: ReplicaId; removeId: ReplicaId } | undefined;
  private readonly tracing: boolean;

  constructor(private readonly options: SimulationOptions) {
    this.random = new SeededRandom(options.seed);
    this.profile = { ...drawProfile(this.random.fork()), ...options.profile };
    this.tracing = options.trace !== undefined;
    this.network = new SimNetwork(this.queue, this.random.fork(), {
      lossRate: this.profile.lossRate,
      duplicateRate: this.profile.duplicateRate,
      delayMinMs: this.profile.delayMinMs,
      delayMeanMs: this.profile.delayMeanMs,
      spikeRate: this.profile.spikeRate,
      spikeMaxMs: this.profile.spikeMaxMs,
    });
    this.nextNodeId = this.profile.replicaCount + 1;
  }

  trace(text: string): void {
    if (this.tracing) this.options.trace!(traceLine(this.queue.nowMs, text));
  }

  private nodeEnvironment(): NodeEnvironment {
    return {
      queue: this.queue,
      network: this.network,
      random: this.random,
      profile: this.profile,
      agreement: this.agreement,
      convergence: this.convergence,
      plantedBug: this.options.plantedBug,
      trace: (line) => this.trace(line),
      node: (id) => this.nodes.get(id),
      respond: (from, to, response) => this.respond(from, to, response),
      fail: (error, node) => this.assertionFailed(error, node),
      violation: (checker, message) => {
        if (!this.violations.some((v) => v.checker === checker)) this.violations.push({ checker, timeMs: this.queue.nowMs, message });
      },
      crashDuringPersist: (node) => this.crashDuringPersist(node),
      crashAfterCommit: (node) => this.crashAfterCommit(node),
      crashNow: (node, why) => {
        this.trace(`FAULT crash n${node.id} ${why}`);
        this.crashNode(node);
      },
    };
  }

  private assertionFailed(error: unknown, node: number): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack?.split("\n").slice(1, 4).join("\n") ?? ""}` : String(error);
    this.violations.push({ checker: "assertion", timeMs: this.queue.nowMs, message: `node ${node}: ${text}` });
    if (!(error instanceof ProgrammerError)) throw error;
  }

  private addNode(id: ReplicaId, bootstrap: Membership): SimNode {
    const node = new SimNode(id, this.nodeEnvironment(), bootstrap);
    this.nodes.set(id, node);
    if (this.tracing) {
      const deliver = node.deliver.bind(node);
      node.deliver = (bytes) => {
        if (node.up) this.trace(describeMessage(decodeMessage(bytes)));
        deliver(bytes);
      };
    }
    return node;
  }

  run(): SimulationResult {
    this.trace(`seed ${this.options.seed}: ${formatProfile(this.profile)}`);
    const initial = membership(Array.from({ length: this.profile.replicaCount }, (_, i) => i + 1));
    for (const id of initial.voters) this.addNode(id, initial).start();
    this.startClients();
    if (this.profile.faultIntervalMs > 0) this.scheduleFault();
    this.watchLeaders();
    this.queue.runUntil(this.profile.safetyPhaseMs, { stop: () => this.failed(), eventsMax: EVENTS_MAX });
    if (!this.failed()) this.livenessPhase();
    if (!this.failed()) this.finalChecks();
    return this.result();
  }

  /** Any violation so far (the continuous checkers included): the run stops at the first. */
  private failed(): boolean {
    return this.violations.length > 0 || this.agreement.violation !== undefined || this.convergence.violation !== undefined;
  }

  private startClients(): void {
    const env: ClientEnvironment = {
      queue: this.queue,
      random: this.random,
      history: this.history,
      keyCount: this.profile.keyCount,
      readModes: this.profile.readModes,
      thinkMs: this.profile.clientThinkMs,
      attemptTimeoutMs: this.profile.attemptTimeoutMs,
      nodeIds: () => [...this.nodes.keys()],
      send: (request, to) => this.sendRequest(request, to),
      trace: (line) => this.trace(line),
      acked: (clientId, sequence, timeMs) => this.acked.push({ clientId, sequence, timeMs }),
    };
    for (let i = 0; i < this.profile.clientCount; i++) {
      const client = new SimClient(CLIENT_ENDPOINT_BASE + i, i + 1, env);
      this.clients.push(client);
      client.start();
    }
  }

  private sendRequest(request: ClientRequest, to: number): void {
    this.network.send(request.replyTo, to, request, (r) => this.nodes.get(to)?.onRequest(r));
  }

  private respond(from: number, to: number, response: ClientResponse): void {
    const client = this.clients[to - CLIENT_ENDPOINT_BASE];
    assert(client !== undefined, `response for unknown client endpoint ${to}`);
    this.network.send(from, to, response, (r) => client.onResponse(r));
  }

  private watchLeaders(): void {
    let last = "";
    const check = (): void => {
      const leaders = [...this.nodes.values()].filter((n) => n.role === "leader").map((n) => `${n.id}@${n.replica!.status().promisedBallot.round}`);
      const key = leaders.join(",");
      if (key !== last && leaders.length > 0) this.leaderChanges++;
      last = key;
      if (this.violations.length === 0) this.queue.after(50, check);
    };
    this.queue.after(50, check);
  }

  // ---- Faults ----------------------------------------------------------------------------------

  private scheduleFault(): void {
    const delay = -Math.log(1 - this.random.float()) * this.profile.faultIntervalMs;
    this.queue.after(delay, () => {
      if (!this.faultsOn) return;
      this.injectFault();
      this.scheduleFault();
    });
  }

  private injectFault(): void {
    const actions: Array<() => void> = [];
    if (this.profile.crashes) actions.push(() => this.crashSomeNode());
    if (this.profile.partitions) actions.push(() => this.partitionSomehow(), () => this.heal());
    if (this.profile.membershipChanges) actions.push(() => this.membershipStep(), () => this.membershipStep());
    if (this.profile.transfers) actions.push(() => this.transferLeadership());
    if (actions.length === 0) return;
    actions[this.random.int(actions.length)]();
  }

  /** The current leader (with probability leaderFocus) or a random node. */
  private target(candidates: readonly SimNode[]): SimNode | undefined {
    if (candidates.length === 0) return undefined;
    const leader = this.leaderNode();
    if (leader !== undefined && candidates.includes(leader) && this.random.chance(this.profile.leaderFocus)) return leader;
    return candidates[this.random.int(candidates.length)];
  }

  /** Called as a node starts an fsync: sometimes crash it before the fsync completes. */
  private crashDuringPersist(node: SimNode): void {
    if (!this.faultsOn || !this.profile.crashes || !this.random.chance(this.profile.crashDuringPersistRate)) return;
    this.queue.after(this.random.float() * this.profile.fsyncLatencyMs, () => {
      if (!this.faultsOn || !node.up) return;
      this.trace(`FAULT crash n${node.id} during fsync`);
      this.crashNode(node);
    });
  }

  /** Decides whether a leader about to apply new commits crashes right after (before telling anyone). */
  private crashAfterCommit(_node: SimNode): boolean {
    return this.faultsOn && this.profile.crashes && this.random.chance(this.profile.crashAfterCommitRate);
  }

  private crashNode(node: SimNode): void {
    node.crash();
    this.crashes++;
    const incarnation = node.incarnation;
    this.queue.after(this.random.float() * this.profile.restartDelayMs, () => {
      if (node.incarnation !== incarnation || node.up) return;
      this.restart(node);
    });
  }

  private crashSomeNode(): void {
    const node = this.target([...this.nodes.values()].filter((n) => n.up));
    if (node === undefined) return;
    this.trace(`FAULT crash n${node.id}`);
    this.crashNode(node);
  }

  private restart(node: SimNode): void {
    if (this.faultsOn && this.random.chance(this.profile.latentErrorRestartRate) && this.mayImpair(node)) {
      const injected = node.disk.injectLatentErrors(this.random, this.profile.latentErrorRate);
      if (injected > 0) this.trace(`FAULT n${node.id} disk: ${injected} latent read errors`);
    }
    this.trace(`restart n${node.id}`);
    node.start();
  }

  /**
   * A replica with a corrupt log rejoins as non-voting until caught up; if a majority were in
   * that state no leader could ever be elected again (correctly: they may have forgotten chosen
   * values). We only inject faults the protocol claims to survive: impaired voters stay a
   * minority of EVERY configuration a quorum may need (the committed one and the newest one).
   */
  private mayImpair(node: SimNode): boolean {
    const configs = this.quorumConfigs();
    if (configs.length === 0) return false; // nobody is up to say what the configuration is
    for (const voters of configs) {
      let impaired = voters.includes(node.id) ? 1 : 0;
      for (const id of voters) {
        const other = this.nodes.get(id);
        if (other === undefined || other === node) continue;
        const status = other.replica?.status();
        if (status === undefined || status.recoveringThroughSlot !== 0) impaired++;
      }
      if (impaired > Math.floor((voters.length - 1) / 2)) return false;
    }
    return true;
  }

  /** Voter sets of the committed and the newest membership, seen by the most advanced replica. */
  private quorumConfigs(): Array<readonly ReplicaId[]> {
    let best: { commit: Slot; configs: Array<readonly ReplicaId[]> } | undefined;
    for (const node of this.nodes.values()) {
      const status = node.replica?.status();
      if (status === undefined || (best !== undefined && status.commitSlot <= best.commit)) continue;
      best = { commit: status.commitSlot, configs: [status.committedMembership.voters, status.membership.voters] };
    }
    return best?.configs.filter((v) => v.length > 0) ?? [];
  }

  private partitionSomehow(): void {
    this.network.heal();
    const ids = [...this.nodes.keys()];
    const shuffled = ids.map((id) => ({ id, key: this.random.float() })).sort((a, b) => a.key - b.key).map((x) => x.id);
    const focus = this.target([...this.nodes.values()]);
    if (focus !== undefined) {
      shuffled.splice(shuffled.indexOf(focus.id), 1);
      shuffled.unshift(focus.id);
    }
    if (this.profile.oneWayPartitions && this.random.chance(0.5)) {
      const from = shuffled[0];
      const targets = shuffled.slice(1, 1 + this.random.range(1, shuffled.length - 1));
      for (const to of targets) this.network.blockOneWay(from, to);
      this.trace(`FAULT one-way cut n${from} -> ${targets.map((t) => `n${t}`).join(",")}`);
      return;
    }
    const cut = this.random.range(1, shuffled.length - 1);
    const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
    this.network.partition(groups);
    this.trace(`FAULT partition ${groups.map((g) => g.map((id) => `n${id}`).join(",")).join(" | ")}`);
  }

  private heal(): void {
    if (!this.network.partitioned) return;
    this.network.heal();
    this.trace("heal network");
  }

  private leaderNode(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      if (node.role !== "leader") continue;
      const ballot = node.replica!.status().promisedBallot;
      if (best === undefined || ballot.round > best.replica!.status().promisedBallot.round) best = node;
    }
    return best;
  }

  private currentVoters(): readonly ReplicaId[] {
    const leader = this.leaderNode();
    if (leader !== undefined) return leader.replica!.status().membership.voters;
    let best: Membership | undefined;
    let bestCommit = -1;
    for (const node of this.nodes.values()) {
      const status = node.replica?.status();
      if (status !== undefined && status.commitSlot > bestCommit && status.membership.voters.length > 0) {
        bestCommit = status.commitSlot;
        best = status.membership;
      }
    }
    return best?.voters ?? [];
  }

  /** Replace one voter: add a fresh learner, promote it once caught up, remove an old voter. */
  private membershipStep(): void {
    const leader = this.leaderNode();
    if (leader === undefined) return;
    const replica = leader.replica!;
    const task = this.membershipTask;
    if (task === undefined) {
      const voters = replica.status().membership.voters;
      const newId = replicaId(this.nextNodeId);
      const change: MembershipChange = { kind: "addLearner", replicaId: newId };
      if (replica.proposeMembership(change).kind !== "ok") return;
      this.nextNodeId++;
      this.addNode(newId, membership([])).start();
      const removeId = voters[this.random.int(voters.length)];
      this.membershipTask = { phase: "promote", newId, removeId };
      this.trace(`MEMBERSHIP add learner n${newId} via leader n${leader.id}`);
      this.membershipChanges++;
    } else if (task.phase === "promote") {
      const result = replica.proposeMembership({ kind: "promote", replicaId: task.newId });
      if (result.kind === "invalid") this.membershipTask = undefined;
      if (result.kind !== "ok") return;
      this.trace(`MEMBERSHIP promote n${task.newId} via leader n${leader.id}`);
      this.membershipTask = { ...task, phase: "remove" };
      this.membershipChanges++;
    } else {
      const result = replica.proposeMembership({ kind: "remove", replicaId: task.removeId });
      if (result.kind === "invalid") this.membershipTask = undefined;
      if (result.kind !== "ok") return;
      this.trace(`MEMBERSHIP remove n${task.removeId} via leader n${leader.id}`);
      this.membershipTask = undefined;
      this.membershipChanges++;
    }
  }

  /** An operator moves leadership to another voter (rolling restarts, preferred leaders). */
  private transferLeadership(): void {
    const leader = this.leaderNode();
    if (leader === undefined) return;
    const voters = leader.replica!.status().membership.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const target = voters[this.random.int(voters.length)];
    const result = leader.replica!.transferLeadership(target);
    this.trace(`TRANSFER leadership n${leader.id} -> n${target}: ${result.kind}`);
    leader.processReady();
  }

  // ---- Liveness and final checks -------------------------------------------------------------

  private livenessPhase(): void {
    this.faultsOn = false;
    this.network.heal();
    this.network.profile.lossRate = 0;
    this.network.profile.duplicateRate = 0;
    for (const node of this.nodes.values()) if (!node.up) this.restart(node);
    const healedAt = this.queue.nowMs;
    this.trace("LIVENESS: network healed, every node restarted, faults off");
    for (const client of this.clients) client.healedAtMs = healedAt;
    const budget = this.options.livenessBudgetMs ?? 15_000;
    const stop = (): boolean => this.failed() || this.clients.every((c) => c.okAfterHeal > 0);
    this.queue.runUntil(healedAt + budget, { stop, eventsMax: EVENTS_MAX });
    if (this.failed()) return;
    const stuck = this.clients.filter((c) => c.okAfterHeal === 0);
    if (stuck.length > 0) {
      this.livenessViolation(`clients ${stuck.map((c) => c.clientId).join(",")} completed nothing within ${budget}ms of healing`);
      return;
    }
    for (const client of this.clients) client.stop();
    const converged = (): boolean => this.failed() || (this.clients.every((c) => !c.busy) && this.convergedVoters() !== undefined);
    this.queue.runUntil(this.queue.nowMs + budget, { stop: converged, eventsMax: EVENTS_MAX });
    if (!this.failed() && this.convergedVoters() === undefined) this.livenessViolation(`voters did not converge within ${budget}ms`);
  }

  private livenessViolation(message: string): void {
    const states = [...this.nodes.values()].map((n) => {
      const s = n.replica?.status();
      return s === undefined ? `n${n.id}:down` : `n${n.id}:${s.role}@${s.promisedBallot.round}.${s.promisedBallot.replicaId} commit=${s.commitSlot} last=${s.lastSlot} applied=${n.appliedSlot} recovering=${s.recoveringThroughSlot}`;
    });
    this.violations.push({ checker: "liveness", timeMs: this.queue.nowMs, message: `${message}; ${states.join("; ")}` });
  }

  /** The common applied slot when every voter is up and applied the leader's commit, else undefined. */
  private convergedVoters(): Slot | undefined {
    const leader = this.leaderNode();
    if (leader === undefined) return undefined;
    const commit = leader.replica!.status().commitSlot;
    for (const id of this.currentVoters()) {
      const node = this.nodes.get(id);
      if (node === undefined || !node.up || node.appliedSlot !== commit || node.replica!.status().commitSlot !== commit) return undefined;
    }
    return commit;
  }

  private finalChecks(): void {
    const now = this.queue.nowMs;
    const finalSlot = this.convergedVoters();
    assert(finalSlot !== undefined, "final checks run on a converged group");
    for (const id of this.currentVoters()) {
      const image = this.nodes.get(id)!.stateImage();
      if (image !== undefined) this.convergence.onState(id, image.slot, image.image, now);
    }
    const durability = checkDurability(this.acked, this.agreement, finalSlot, now);
    if (durability !== undefined) this.violations.push(durability);
    this.checkHistory();
  }

  private lincheckSummary = "not run";

  private checkHistory(): void {
    const model = kvModel();
    const result = checkLinearizability(model, this.history.operations(), { budgetSteps: this.options.lincheckBudgetSteps ?? 2_000_000 });
    this.lincheckSummary = `${result.verdict} (${result.operationCount} ops, ${result.steps} steps)`;
    if (result.verdict === "illegal") {
      this.violations.push({ checker: "linearizability", timeMs: this.queue.nowMs, message: formatReport(model, result) });
    }
  }

  private allMarks(): Record<string, number> {
    const total: Record<string, number> = {};
    for (const node of this.nodes.values()) for (const [name, count] of node.currentMarks()) total[name] = (total[name] ?? 0) + count;
    return total;
  }

  private result(): SimulationResult {
    // Violations found while running (agreement/convergence) are reported even if the run stopped early.
    for (const v of [this.agreement.violation, this.convergence.violation]) if (v !== undefined && !this.violations.includes(v)) this.violations.push(v);
    const operations = this.history.operations();
    return {
      seed: this.options.seed,
      profile: this.profile,
      violations: this.violations,
      stats: {
        virtualMs: Math.round(this.queue.nowMs),
        events: this.queue.executedCount,
        messages: this.network.stats.sent,
        operations: operations.length,
        okOperations: operations.filter((o) => o.return !== Infinity).length,
        chosenSlots: this.agreement.chosenCount,
        crashes: this.crashes,
        leaderChanges: this.leaderChanges,
        membershipChanges: this.membershipChanges,
        lincheck: this.lincheckSummary,
        marks: this.allMarks(),
      },
      replay: replayCommand(this.options.seed, this.options.plantedBug),
    };
  }
}
