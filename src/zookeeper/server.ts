// The ZooKeeper front-end: a listener speaking the ZooKeeper client protocol, backed by the
// coordination group ("coord") on the node runtime. Every node of the group serves clients, the
// leader and followers alike (as every ZooKeeper server does). Writes are proposed to the group —
// a follower forwards them to the leader — and answered once applied on THIS node; reads are
// served from the local state machine; watches live on this server, per connection; session
// expiry is decided by the group's leader, which followers keep informed of their sessions' pings.
//
// Followers (sequential consistency, ZooKeeper's guarantee): a follower may trail the leader, so
// a connection remembers the highest zxid its session has been told (replies, and lastZxidSeen
// when it connects) and a read waits until this node has applied at least that — a session's
// reads never go back in time, even after it moved here from another node. sync() is a round trip
// through the leader: a no-op `sync` command this node then waits to apply, so the next read sees
// everything committed before the sync.
//
// Ordering, the part everything else rests on:
//   - Per connection, requests START in arrival order and replies leave in arrival order (the
//     framed server's reply slots). A write starts by being proposed, so the writes of one
//     connection are pipelined and apply in arrival order; a read (or anything that is not a
//     write) starts only when every earlier request of its connection has finished. So a session
//     reads its own writes, and requests finish in the order they arrived.
//   - Watch notifications are pushed from inside apply (the state-machine wrapper below), in apply
//     order, before the promise of any write resolves. Since requests finish in order, every reply
//     already released is for a request that finished before the change, and every later reply
//     (including a read that would show the change) is released after the notification: the
//     client sees the event before it sees the new data (ZooKeeper's watch guarantee).
//   - A write's reply carries the write's own zxid; a read's the last applied zxid when it ran.
//
// Failure policy: a proposal that fails (not leader, backpressure, leadership lost) closes the
// connection. The client sees ConnectionLoss, reconnects with the same session and retries —
// exactly what ZooKeeper clients do when a server goes away — and nothing is answered that is not
// known to be true. A node that has had no coordination leader for NO_LEADER_CLOSE_MS closes all
// its connections (a ZooKeeper server that lost its quorum does the same), so the clients of a
// cut-off node move to one that can keep their sessions alive. Bad input gets ZooKeeper's error
// or a closed connection, logged once per connection; other connections never notice.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { hostname } from "node:os";
import { Gauge, type Registry } from "prom-client";
import { LabeledCounter, LabeledHistogram, type CounterChild, type HistogramChild } from "../util/metrics.js";
import { CoordError } from "../coord/errors.js";
import { aclPermits } from "../coord/acl.js";
import { WALL_TIME_OFFSET, encodeCommand, peekCommand, withWallTime, type CommandBody } from "../coord/commands.js";
import { CoordStateMachine, type CoordApplyResult, type MultiReadOp as CoordMultiReadOp } from "../coord/state-machine.js";
import { Perm, type Acl, type Identity } from "../coord/types.js";
import { WatchManager, type Notification } from "../coord/watches.js";
import type { ReplicatedGroup } from "../node/group.js";
import type { NodeRuntime } from "../node/runtime.js";
import type { Clock } from "../util/clock.js";
import { startFramedServer, type FramedConnection, type FramedServer, type ReplySlot } from "../util/framed-server.js";
import type { Logger } from "../util/logger.js";
import type { LogPosition, SnapshotChunks, StateMachine } from "../util/state-machine.js";
import { authenticateDigest } from "./digest.js";
import { fourLetterWordReply, parseWhitelist, type ConnectionView, type ServerView } from "./four-letter-words.js";
import type * as jute from "./generated/jute.js";
import { JuteDecodeError, JuteReader, JuteWriter } from "./jute/runtime.js";
import { decodeConnectRequest, encodeConnectResponse, type ConnectRequest } from "./protocol/connect.js";
import { AddWatchMode, KeeperState, OpCode, Xid, opName } from "./protocol/constants.js";
import { ErrorCode } from "./protocol/errors.js";
import { fourLetterWordOf } from "./protocol/frame.js";
import type { MultiResult } from "./protocol/multi.js";
import { RequestDecodeError, decodeRequest, encodeHeaderOnlyReply, encodeNotification, encodePingReply, encodeReply, type ClientOpCode, type DecodedRequest } from "./protocol/requests.js";
import { multiWriteOpOf, writeOpOf } from "./protocol/to-command.js";
import { SessionTracker } from "./session-tracker.js";

export const COORD_GROUP_ID = "coord";

/** Session deadlines are rounded up to this (ZooKeeper's tickTime plays the same role). */
const SESSION_BUCKET_MS = 250;
/** How often the leader looks for expired sessions and untracked ones. */
const SESSION_CHECK_MS = 100;
/** The leader re-reads live sessions from the state machine this often (sessions created elsewhere). */
const SESSION_RECONCILE_MS = 1000;
/** Most paths one container/TTL cleanup command deletes (ZooKeeper's maxPerMinute default). */
const CONTAINER_BATCH_MAX = 10_000;
/** Requests one connection may have outstanding before the server stops reading it. */
const INFLIGHT_REQUESTS_MAX = 1000;
/** Connections at most (ZooKeeper's maxClientCnxns is per IP; this is the whole listener). */
const CONNECTIONS_MAX = 10_000;
/** Session passwords are 16 bytes, as ZooKeeper's. */
const PASSWORD_BYTES = 16;
/** Sessions a follower remembers as touched between two reports to the leader (it touches only its own connections' sessions). */
const TOUCHED_SESSIONS_MAX = CONNECTIONS_MAX;
/** A follower waits this long to apply a command the leader reported applied (a forwarded write or sync) before closing the connection. */
const APPLY_WAIT_MS = 10_000;
/** A follower waits this long, at most, to catch up with a connecting client's lastZxidSeen (else: closed without a reply, as ZooKeeper refuses). */
const CATCH_UP_WAIT_MS = 2_000;
/** A read waits this long, at most, for this node to reach the session's zxid (then the connection closes: the client goes elsewhere). */
const READ_CATCH_UP_WAIT_MS = 5_000;
/** Reads of one connection waiting for this node to catch up (reads run in order, so one at a time). */
const READS_WAITING_MAX = 1;
/** Callers waiting, node-wide, for this node to apply a zxid (forwarded writes, syncs, catching-up reads and handshakes). */
const ZXID_WAITERS_MAX = 200_000;
/**
 * A node that has had no coordination leader for this long closes its client connections, as a
 * ZooKeeper server that lost its quorum does: otherwise it would go on answering the pings of
 * sessions the leader (on the other side of a partition) is expiring, and their clients would
 * believe they still hold their ephemerals. Longer than an ordinary leader change.
 */
const NO_LEADER_CLOSE_MS = 1_500;

export interface ZooKeeperServerOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  /** The node's metrics registry (optional: tests may omit it). */
  registry?: Registry;
  host: string;
  port: number;
  /** Voters of the coordination group (the metadata group's voters). */
  voters: readonly number[];
  sessionTimeoutMsMin: number;
  sessionTimeoutMsMax: number;
  /** 4lw.commands.whitelist ("srvr", "ruok,envi", "*"). */
  fourLetterWordWhitelist: string;
  packetBytesMax: number;
  extendedTypesEnabled: boolean;
  /** "super:base64sha1", or empty/undefined for none. */
  superDigest?: string;
  containerCheckMs: number;
  /** Data directory, reported by `conf`. */
  dataDir?: string;
}

/**
 * How a request is scheduled on its connection (see the header comment):
 * - write: started (proposed) as soon as no barrier before it is unfinished, even while earlier
 *   reads wait; it is "executed" at the moment it applies.
 * - read: executed when every earlier request of the connection has been executed — for a read
 *   queued behind a write, that is synchronously inside the write's apply, before the next
 *   command applies, so it sees exactly the state its position in the session implies.
 * - barrier: like a read, and nothing after it starts until it finishes (the handshake, auth —
 *   later writes must carry its identities —, sync and closeSession).
 */
type TaskKind = "write" | "read" | "barrier";

interface Task {
  readonly kind: TaskKind;
  state: "waiting" | "started" | "executed";
  run(task: Task): void;
}

/** A write proposed by this node whose apply has not been seen yet. */
interface PendingWrite {
  readonly bytes: Buffer;
  readonly connection: Connection;
  readonly task: Task;
  readonly answer: (result: CoordApplyResult) => void;
  handled: boolean;
}

interface Connection {
  readonly framed: FramedConnection;
  state: "handshake" | "open" | "closing";
  sessionId: bigint;
  timeoutMs: number;
  identities: Identity[];
  /** Another connection resumed this session: every request now gets SessionMoved. */
  stale: boolean;
  /** The highest zxid this session was told (lastZxidSeen, replies): a read waits until this node applied it. */
  seenZxid: bigint;
  /** Reads waiting for this node to reach seenZxid (at most READS_WAITING_MAX). */
  readsWaiting: number;
  /** Requests not yet executed, in arrival order (bounded by the framed server's inflight limit). */
  readonly tasks: Task[];
  advancing: boolean;
  advanceAgain: boolean;
  /** Logged one bad-input line already. */
  complained: boolean;
  /** The first frame (the ConnectRequest) arrived; later frames are requests even before it is answered. */
  connectSeen: boolean;
  received: number;
  sent: number;
  lastOp: string;
  lastZxid: bigint;
  latency: { minMs: number; maxMs: number; totalMs: number; count: number };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** "::ffff:127.0.0.1" → "127.0.0.1": ZooKeeper's ip scheme compares IPv4 text. */
function ipOf(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * The result of a coordination command as it travels back to a follower that forwarded it: only
 * its zxid and error code. The follower answers its client from its own apply of the command
 * (full result, watch events), which it waits for; this only tells it which zxid to wait for.
 */
const forwardedResultCodec = {
  encode(result: CoordApplyResult): Uint8Array {
    const bytes = Buffer.allocUnsafe(12);
    bytes.writeBigInt64BE(result.zxid, 0);
    bytes.writeInt32BE(result.err, 8);
    return bytes;
  },
  decode(bytes: Uint8Array): CoordApplyResult {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.length !== 12) throw new Error(`forwarded coordination result of ${view.length} bytes, expected 12`);
    return { zxid: view.readBigInt64BE(0), err: view.readInt32BE(8), events: [] };
  },
};

/**
 * Whether an applied command is a pending one: the same bytes but for the wall time, which the
 * leader re-stamps on a command a follower forwarded.
 */
function sameCommandButTime(pending: Buffer, applied: Uint8Array): boolean {
  const length = pending.length;
  if (length !== applied.length || length < WALL_TIME_OFFSET + 8) return false;
  // Range compares allocate nothing (views of both sides had been 2 % of a write's allocation).
  return pending.compare(applied, 0, WALL_TIME_OFFSET, 0, WALL_TIME_OFFSET) === 0 && pending.compare(applied, WALL_TIME_OFFSET + 8, length, WALL_TIME_OFFSET + 8, length) === 0;
}

/** A command submitted to the group: applied on this node (full result when proposed here as leader). */
type Submitted = { ok: true; result: CoordApplyResult; local: boolean } | { ok: false; reason: string };

/**
 * The coordination state machine, wrapped so every applied command is seen in apply order.
 * Required<>: a wrapper that dropped snapshotStream would silently bring back snapshots that stop
 * the node.
 */
class ObservedStateMachine implements Required<StateMachine<CoordApplyResult>> {
  constructor(
    readonly inner: CoordStateMachine,
    private readonly observe: (command: Uint8Array, result: CoordApplyResult) => void,
  ) {}

  apply(command: Uint8Array, position: LogPosition): CoordApplyResult {
    const result = this.inner.apply(command, position);
    this.observe(command, result);
    return result;
  }

  snapshot(): Uint8Array {
    return this.inner.snapshot();
  }

  snapshotStream(): SnapshotChunks {
    return this.inner.snapshotStream();
  }

  restore(snapshot: Uint8Array): void {
    this.inner.restore(snapshot);
  }
}

export class ZooKeeperServer {
  readonly sm: CoordStateMachine;
  readonly watches = new WatchManager();
  private group!: ReplicatedGroup<CoordApplyResult>;
  private listener: FramedServer | undefined;
  private readonly connections = new Map<number, Connection>();
  /** Which local connection currently owns each session. */
  private readonly owners = new Map<bigint, Connection>();
  /** Client writes proposed here and not yet applied, per session, in proposal order. */
  private readonly pendingWrites = new Map<bigint, PendingWrite[]>();
  private readonly writer = new JuteWriter(1024);
  private readonly logger: Logger;
  private readonly whitelist: ReadonlySet<string> | "all";
  private tracker: SessionTracker | undefined;
  private leading = false;
  private lastReconcileMs = 0;
  private lastContainerCheckMs = 0;
  private secretProposed = false;
  private nextSessionId: bigint;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** When this node (once serving) last lost its coordination leader; undefined while it has one. */
  private leaderLostAtMs: number | undefined;
  /** A follower's sessions touched since its last report to the leader (bounded by TOUCHED_SESSIONS_MAX). */
  private readonly touched = new Set<bigint>();
  /** Callers waiting for this node to apply a zxid (bounded by ZXID_WAITERS_MAX). */
  private readonly zxidWaiters = new Set<{ zxid: bigint; resolve(applied: boolean): void; timer: NodeJS.Timeout }>();
  private readonly stats = { received: 0, sent: 0, latencyMinMs: Infinity, latencyMaxMs: 0, latencyTotalMs: 0, latencyCount: 0 };
  private readonly metrics: {
    requests: LabeledCounter;
    latency: LabeledHistogram;
    /** Children by op code, resolved once per op. */
    byOp: Map<number, { requests: CounterChild; latency: HistogramChild }>;
  } | undefined;

  constructor(private readonly options: ZooKeeperServerOptions) {
    if (!(options.sessionTimeoutMsMin > 0 && options.sessionTimeoutMsMin <= options.sessionTimeoutMsMax)) {
      throw new Error(`session timeout bounds are inverted: min ${options.sessionTimeoutMsMin} > max ${options.sessionTimeoutMsMax}`);
    }
    const nodeId = options.runtime.nodeId;
    if (!(Number.isInteger(nodeId) && nodeId >= 1 && nodeId <= 254)) throw new Error(`the ZooKeeper front-end needs a node id in 1..254 (session ids carry it in their top byte), got ${nodeId}`);
    this.logger = options.logger.child({ component: "zookeeper" });
    this.whitelist = parseWhitelist(options.fourLetterWordWhitelist);
    this.sm = new CoordStateMachine({ extendedTypesEnabled: options.extendedTypesEnabled });
    // ZooKeeper's initial session id: the node id in the top byte, the start time below it
    // (`SessionTrackerImpl.initializeNextSessionId`), so ids from a restarted node do not repeat.
    const low = (BigInt(Math.floor(options.clock.wallMs())) << 16n) & ((1n << 56n) - 1n);
    this.nextSessionId = (BigInt(nodeId) << 56n) | low;
    if (options.registry) {
      const registers = [options.registry];
      this.metrics = {
        requests: new LabeledCounter({ name: "synod_zookeeper_requests_total", help: "ZooKeeper requests by op", labelName: "op", registry: options.registry }),
        latency: new LabeledHistogram({
          name: "synod_zookeeper_request_duration_seconds",
          help: "ZooKeeper request time from arrival to reply, by op",
          labelName: "op",
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
          registry: options.registry,
        }),
        byOp: new Map(),
      };
      const sm = this.sm;
      const gauges: Array<[string, string, () => number]> = [
        ["synod_zookeeper_sessions", "Live ZooKeeper sessions (replicated state)", () => sm.sessions().length],
        ["synod_zookeeper_connections", "Open ZooKeeper client connections on this node", () => this.connections.size],
        ["synod_zookeeper_watches", "Watch entries held by this node's connections", () => this.watches.summary().watches],
        ["synod_zookeeper_znodes", "Znodes in the coordination tree", () => sm.nodeCount],
      ];
      for (const [name, help, read] of gauges) {
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read());
          },
        });
      }
    }
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** The coordination group (for tests and the admin side). */
  get coordGroup(): ReplicatedGroup<CoordApplyResult> {
    return this.group;
  }

  /**
   * Serving: the session secret is applied here and the coordination group has a leader — this
   * node (ready to lead) or one this node can reach to forward writes to.
   */
  get serving(): boolean {
    if (this.closed || this.group === undefined || this.sm.sessionSecret === null) return false;
    return this.group.isLeaderReady || this.options.runtime.leaderOf(COORD_GROUP_ID) !== undefined;
  }

  /** This node's replica takes proposals itself (it leads, ready or not yet); otherwise they are forwarded. */
  private get proposesLocally(): boolean {
    return this.isLeader || this.group.role === "leader";
  }

  /** This node leads the coordination group (ready): proposals go straight to its replica. */
  private get isLeader(): boolean {
    return this.group.isLeaderReady;
  }

  async start(): Promise<void> {
    this.group = await this.options.runtime.openGroup<CoordApplyResult>({
      groupId: COORD_GROUP_ID,
      initialVoters: this.options.voters,
      stateMachine: new ObservedStateMachine(this.sm, (command, result) => this.onApplied(command, result)),
      snapshotEveryBytes: 16 * 2 ** 20,
      compactBehindSnapshots: true,
      resultCodec: forwardedResultCodec,
      // As the leader, commands forwarded by followers get this node's time, as ZooKeeper's leader
      // stamps every txn: ctime, mtime and TTL decisions come from one clock.
      prepareForwarded: (data) => withWallTime(data, Math.floor(this.options.clock.wallMs())) ?? data,
    });
    this.group.onApplied(() => this.releaseZxidWaiters());
    // As the leader, followers' reports of their sessions' pings keep those sessions alive here.
    this.options.runtime.onTouches(COORD_GROUP_ID, (_from, keys) => this.onTouchReport(keys));
    this.listener = await startFramedServer({
      name: "zookeeper",
      host: this.options.host,
      port: this.options.port,
      logger: this.logger,
      frameBytesMax: this.options.packetBytesMax,
      inflightRequestsMax: INFLIGHT_REQUESTS_MAX,
      inflightBytesMax: Math.max(4 * this.options.packetBytesMax, 16 * 2 ** 20),
      connectionsMax: CONNECTIONS_MAX,
      coalesceWrites: true,
      sniff: { bytes: 4, decide: (first, framed) => this.sniff(first, framed) },
      accept: (framed) => this.accept(framed),
    });
    this.timer = setInterval(() => this.leaderDuties(), SESSION_CHECK_MS);
    this.leaderDuties();
  }

  /** Resolves true once this node serves ZooKeeper clients (leader ready, secret set). */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = this.options.clock.monotonicMs() + timeoutMs;
    while (!this.serving) {
      if (this.options.clock.monotonicMs() > deadline || this.closed) return false;
      this.leaderDuties();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.options.runtime.onTouches(COORD_GROUP_ID, undefined);
    for (const waiter of this.zxidWaiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.zxidWaiters.clear();
    await this.listener?.close();
  }

  // ---- leader duties: the session secret, session expiry, container/TTL cleanup

  /**
   * Every other node of the cluster follows the coordination group as a learner (one at a time,
   * as the metadata group adds them): it holds the tree and serves clients like a follower, as
   * ZooKeeper's observers do, without counting toward any quorum.
   */
  private addLearners(): void {
    const membership = this.group.status().membership;
    const members = new Set<number>([...membership.voters, ...membership.learners]);
    const missing = this.options.runtime.peerIds().find((id) => !members.has(id));
    if (missing === undefined) return;
    if (this.group.proposeMembership({ kind: "addLearner", replicaId: missing }) === "ok") {
      this.logger.info({ learner: missing }, "adding a node to the coordination group as a learner (it serves ZooKeeper clients)");
    }
  }

  private leaderDuties(): void {
    if (this.closed || this.group === undefined) return;
    const now = this.options.clock.monotonicMs();
    this.dropClientsWithoutLeader(now);
    if (!this.group.isLeaderReady) {
      if (this.leading) this.logger.info("no longer the coordination leader: session expiry stops here");
      this.leading = false;
      this.tracker = undefined;
      this.secretProposed = false;
      this.reportTouches();
      return;
    }
    this.touched.clear();
    if (!this.leading || this.tracker === undefined) {
      // A new leader cannot know when clients last spoke to other nodes: every live session gets a
      // fresh full timeout from now.
      this.leading = true;
      this.tracker = new SessionTracker(SESSION_BUCKET_MS, now);
      for (const { sessionId, timeoutMs } of this.sm.sessions()) this.tracker.track(sessionId, timeoutMs, now);
      this.lastReconcileMs = now;
      this.lastContainerCheckMs = now;
      this.logger.info({ sessions: this.tracker.size }, "coordination leader: tracking sessions");
    }
    this.addLearners();
    if (this.sm.sessionSecret === null && !this.secretProposed) {
      this.secretProposed = true;
      void this.propose({ kind: "setSecret", secret: randomBytes(32) }, 0n, []).then((outcome) => {
        if (outcome === undefined) this.secretProposed = false;
      });
    }
    const tracker = this.tracker;
    if (now - this.lastReconcileMs >= SESSION_RECONCILE_MS) {
      this.lastReconcileMs = now;
      for (const { sessionId, timeoutMs } of this.sm.sessions()) if (!tracker.has(sessionId)) tracker.track(sessionId, timeoutMs, now);
      for (const sessionId of [...tracker.sessionIds()]) if (!this.sm.hasSession(sessionId)) tracker.untrack(sessionId);
    }
    // Sessions whose connection is open here are alive by definition only while they talk; a
    // connected but silent client expires like ZooKeeper's (its pings touch it).
    for (const sessionId of tracker.expired(now)) {
      if (!this.sm.hasSession(sessionId)) {
        tracker.untrack(sessionId);
        continue;
      }
      this.logger.info({ sessionId: `0x${BigInt.asUintN(64, sessionId).toString(16)}` }, "session expired");
      void this.propose({ kind: "closeSession" }, sessionId, []).then((outcome) => {
        // Not applied (leadership moved): the next leader re-tracks it with a fresh timeout.
        if (outcome === undefined) this.tracker?.untrack(sessionId);
      });
    }
    if (now - this.lastContainerCheckMs >= this.options.containerCheckMs) {
      this.lastContainerCheckMs = now;
      const paths = this.sm.expiredNodes(this.options.clock.wallMs(), { containerMaxPerBatch: CONTAINER_BATCH_MAX });
      if (paths.length > 0) void this.propose({ kind: "expire", paths, containerNeverUsedMsMax: 0 }, 0n, []);
    }
  }

  /** Closes every client connection once this node has had no coordination leader for NO_LEADER_CLOSE_MS. */
  private dropClientsWithoutLeader(now: number): void {
    if (this.serving || this.sm.sessionSecret === null) {
      this.leaderLostAtMs = undefined;
      return;
    }
    this.leaderLostAtMs ??= now;
    if (now - this.leaderLostAtMs < NO_LEADER_CLOSE_MS) return;
    let closed = 0;
    for (const connection of this.connections.values()) {
      if (connection.state === "closing") continue;
      this.closeConnection(connection);
      closed++;
    }
    if (closed > 0) this.logger.warn({ connections: closed, withoutLeaderMs: Math.round(now - this.leaderLostAtMs) }, "no coordination leader: closed the client connections (they reconnect to a node that has one)");
  }

  /** A command stamped with this node's wall time (ctime/mtime and TTL decisions come from it). */
  private encode(body: CommandBody, sessionId: bigint, identities: readonly Identity[]): Buffer {
    return encodeCommand(
      { wallTimeMs: Math.floor(this.options.clock.wallMs()), sessionId, owner: this.options.runtime.nodeId, identities: identities as Identity[], body },
      (size) => Buffer.allocUnsafe(size),
    ) as Buffer;
  }

  /**
   * Proposes a command through the group's leader and resolves once it is applied HERE;
   * undefined when it was not applied (refused, or this node cannot know the outcome). On a
   * follower the result carries only the zxid and error code (see forwardedResultCodec).
   */
  private async propose(body: CommandBody, sessionId: bigint, identities: readonly Identity[]): Promise<CoordApplyResult | undefined> {
    const outcome = await this.submit(this.encode(body, sessionId, identities));
    if (outcome.ok) return outcome.result;
    this.logger.debug({ reason: outcome.reason, kind: body.kind }, "coordination proposal not applied");
    return undefined;
  }

  /**
   * The one way commands reach the group. As the leader: proposed to the local replica (resolves
   * after the local apply, with the full result). As a follower: forwarded to the leader ONCE (a
   * retry could apply a client's write twice, or after a later one of its writes), then this node
   * waits until it has applied the command's zxid itself, so the session's next read here sees it
   * (unless `waitHere` is false: then the leader's apply is enough).
   */
  private async submit(bytes: Buffer, waitHere = true): Promise<Submitted> {
    if (this.proposesLocally) {
      const outcome = await this.group.propose(bytes);
      return outcome.ok ? { ok: true, result: outcome.result, local: true } : { ok: false, reason: outcome.reason };
    }
    const forwarded = await this.options.runtime.proposeToLeader<CoordApplyResult>(COORD_GROUP_ID, bytes, { once: true });
    if (!forwarded.ok) return { ok: false, reason: forwarded.reason };
    if (waitHere && !(await this.appliedThrough(forwarded.result.zxid, APPLY_WAIT_MS))) return { ok: false, reason: "notAppliedHere" };
    return { ok: true, result: forwarded.result, local: false };
  }

  /** Resolves true once this node has applied `zxid` (at once if it has), false after `timeoutMs` or on close. */
  private appliedThrough(zxid: bigint, timeoutMs: number): Promise<boolean> {
    if (this.sm.lastZxid >= zxid) return Promise.resolve(true);
    if (this.closed || this.zxidWaiters.size >= ZXID_WAITERS_MAX) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        zxid,
        resolve,
        timer: setTimeout(() => {
          this.zxidWaiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.zxidWaiters.add(waiter);
    });
  }

  /** After each batch of applied entries (or an installed snapshot): wakes whoever waited for them. */
  private releaseZxidWaiters(): void {
    if (this.zxidWaiters.size === 0) return;
    const applied = this.sm.lastZxid;
    for (const waiter of this.zxidWaiters) {
      if (waiter.zxid > applied) continue;
      this.zxidWaiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }

  // ---- session liveness: touches go to the leader's tracker

  /** A sign of life from a session on this node: the tracker's, or reported to the leader by the next reportTouches. */
  private touch(sessionId: bigint): void {
    if (this.tracker !== undefined) {
      this.tracker.touch(sessionId, this.options.clock.monotonicMs());
      return;
    }
    if (this.touched.size < TOUCHED_SESSIONS_MAX || this.touched.has(sessionId)) this.touched.add(sessionId);
  }

  /** A follower's periodic report (every SESSION_CHECK_MS) of its touched sessions to the coordination leader. */
  private reportTouches(): void {
    if (this.touched.size === 0) return;
    const keys = [...this.touched].map((id) => id.toString());
    // Without a reachable leader the touches are kept for the next report (a new leader gives
    // every live session a fresh timeout anyway).
    if (this.options.runtime.sendTouches(COORD_GROUP_ID, keys)) this.touched.clear();
  }

  /** As the leader: a follower's report of the sessions its connections touched. */
  private onTouchReport(keys: readonly string[]): void {
    const tracker = this.tracker;
    if (tracker === undefined) return;
    const now = this.options.clock.monotonicMs();
    for (const key of keys) {
      if (!/^-?[0-9]{1,20}$/.test(key)) continue;
      const id = BigInt(key);
      if (id === BigInt.asIntN(64, id)) tracker.touch(id, now);
    }
  }

  // ---- apply observer: watch delivery and session bookkeeping, in apply order

  private onApplied(command: Uint8Array, result: CoordApplyResult): void {
    if (result.events.length > 0 && this.connections.size > 0) {
      const notifications = this.watches.trigger(result.events, (id, acl) => this.canRead(id, acl));
      for (const n of notifications) this.notify(n);
    }
    const header = peekCommand(command);
    if (header === undefined) return;
    if ((header.kind === "op" || header.kind === "multi") && this.pendingWrites.size > 0) {
      const pending = this.takePending(header.sessionId, command);
      if (pending && !pending.handled) {
        pending.handled = true;
        pending.answer(result);
      }
      return;
    }
    if (result.err !== 0) return;
    if (header.kind === "moveSession") {
      // The session's connection moved to another node: this node's connection of it is stale.
      const previous = this.owners.get(header.sessionId);
      if (previous && header.owner !== this.options.runtime.nodeId) {
        previous.stale = true;
        this.watches.removeConnection(previous.framed.id);
        this.owners.delete(header.sessionId);
      }
      return;
    }
    if (header.kind === "createSession") {
      const timeoutMs = this.sm.sessionTimeoutMs(header.sessionId);
      if (this.tracker && timeoutMs !== undefined) this.tracker.track(header.sessionId, timeoutMs, this.options.clock.monotonicMs());
    } else if (header.kind === "closeSession") {
      this.tracker?.untrack(header.sessionId);
      const owner = this.owners.get(header.sessionId);
      // An expired (or elsewhere closed) session's connection is closed after the notifications
      // above; the client learns "expired" when it reconnects. A connection closing its own
      // session answers first, then closes itself.
      if (owner && owner.state === "open") {
        this.owners.delete(header.sessionId);
        this.closeConnection(owner);
      }
    }
  }

  private canRead(connectionId: number, acl: readonly Acl[]): boolean {
    const connection = this.connections.get(connectionId);
    return connection !== undefined && aclPermits(acl, Perm.read, connection.identities);
  }

  private notify(n: Notification): void {
    const connection = this.connections.get(n.connection);
    if (!connection || connection.state === "handshake") return;
    this.writer.reset();
    encodeNotification(this.writer, { type: n.type, state: KeeperState.syncConnected, path: n.path });
    connection.framed.push(this.writer.toBytes());
    connection.sent++;
    this.stats.sent++;
  }

  // ---- connections

  private sniff(first: Buffer, framed: FramedConnection): "frames" | "handled" {
    const word = fourLetterWordOf(first);
    if (word === undefined) return "frames";
    const reply = fourLetterWordReply(word, this.whitelist, () => this.view());
    this.logger.debug({ word, remote: framed.remoteAddress }, "four-letter word");
    framed.socket.end(reply);
    return "handled";
  }

  private accept(framed: FramedConnection): { onFrame(frame: Buffer, slot: ReplySlot): void; onClose(): void } {
    const connection: Connection = {
      framed,
      state: "handshake",
      sessionId: 0n,
      timeoutMs: 0,
      identities: [{ scheme: "ip", id: ipOf(framed.remoteAddress) }],
      stale: false,
      seenZxid: 0n,
      readsWaiting: 0,
      tasks: [],
      advancing: false,
      advanceAgain: false,
      complained: false,
      connectSeen: false,
      received: 0,
      sent: 0,
      lastOp: "NA",
      lastZxid: 0n,
      latency: { minMs: Infinity, maxMs: 0, totalMs: 0, count: 0 },
    };
    this.connections.set(framed.id, connection);
    return {
      onFrame: (frame, slot) => this.onFrame(connection, frame, slot),
      onClose: () => this.onClose(connection),
    };
  }

  private onClose(connection: Connection): void {
    this.connections.delete(connection.framed.id);
    this.watches.removeConnection(connection.framed.id);
    if (this.owners.get(connection.sessionId) === connection) this.owners.delete(connection.sessionId);
    connection.state = "closing";
  }

  private closeConnection(connection: Connection): void {
    if (connection.state === "closing" && connection.framed.isClosed) return;
    connection.state = "closing";
    connection.framed.close();
  }

  /** Logs bad input once per connection (a hostile client must not flood the log). */
  private complain(connection: Connection, detail: Record<string, unknown>, message: string): void {
    if (connection.complained) return;
    connection.complained = true;
    this.logger.warn({ remote: connection.framed.remoteAddress, ...detail }, message);
  }

  private onFrame(connection: Connection, frame: Buffer, slot: ReplySlot): void {
    if (connection.state === "closing") {
      slot.resolve(null);
      return;
    }
    connection.received++;
    this.stats.received++;
    if (!connection.connectSeen) {
      connection.connectSeen = true;
      this.enqueue(connection, "barrier", (task) => this.handshake(connection, frame, slot, () => this.executed(connection, task)));
      return;
    }
    let request: DecodedRequest;
    try {
      request = decodeRequest(frame);
    } catch (error) {
      if (!(error instanceof RequestDecodeError)) throw error;
      this.badRequest(connection, error, slot);
      return;
    }
    const startedMs = this.options.clock.monotonicMs();
    this.enqueue(connection, this.kindOf(request.opCode), (task) => {
      const finish = (): void => {
        this.observeLatency(connection, request.opCode, startedMs);
        this.executed(connection, task);
      };
      this.serveGuarded(connection, request, slot, finish, task);
    });
  }

  /** serve(), with a handler failure closing only this connection. */
  private serveGuarded(connection: Connection, request: DecodedRequest, slot: ReplySlot, finish: () => void, task: Task): void {
    try {
      this.serve(connection, request, slot, finish, task);
    } catch (error) {
      this.logger.error({ err: error, op: opName(request.opCode) }, "ZooKeeper request handler failed; closing the connection");
      slot.resolve(null);
      this.closeConnection(connection);
      finish();
    }
  }

  private kindOf(op: ClientOpCode): TaskKind {
    switch (op) {
      case OpCode.sync:
      case OpCode.closeSession:
      case OpCode.auth:
        return "barrier";
      default:
        return this.isWrite(op) ? "write" : "read";
    }
  }

  private isWrite(op: ClientOpCode): boolean {
    switch (op) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.setACL:
      case OpCode.check:
      case OpCode.multi:
        return true;
      default:
        return false;
    }
  }

  private badRequest(connection: Connection, error: RequestDecodeError, slot: ReplySlot): void {
    const reply = error.replyError;
    const header = error.header;
    this.complain(connection, { reason: error.reason, err: error.message }, "bad ZooKeeper request");
    if (header === undefined || reply === undefined) {
      slot.resolve(null);
      this.closeConnection(connection);
      return;
    }
    // Unknown op: Unimplemented, and the connection goes on (frames are length-delimited, so the
    // stream is still in step). Malformed body: MarshallingError, then close, as ZooKeeper does.
    this.enqueue(connection, "read", (task) => {
      this.replyHeader(connection, slot, header.xid, this.sm.lastZxid, reply);
      if (error.reason === "body") this.closeConnection(connection);
      this.executed(connection, task);
    });
  }

  private enqueue(connection: Connection, kind: TaskKind, run: (task: Task) => void): void {
    connection.tasks.push({ kind, state: "waiting", run });
    this.advance(connection);
  }

  private executed(connection: Connection, task: Task): void {
    if (task.state === "executed") return;
    task.state = "executed";
    this.advance(connection);
  }

  /** Starts whatever may start now (TaskKind's rules); re-entrant calls fold into the running one. */
  private advance(connection: Connection): void {
    if (connection.advancing) {
      connection.advanceAgain = true;
      return;
    }
    connection.advancing = true;
    try {
      do {
        connection.advanceAgain = false;
        const tasks = connection.tasks;
        let executedPrefix = 0;
        while (executedPrefix < tasks.length && tasks[executedPrefix].state === "executed") executedPrefix++;
        if (executedPrefix > 0) tasks.splice(0, executedPrefix);
        let allBeforeExecuted = true;
        for (let i = 0; i < tasks.length; i++) {
          const task = tasks[i];
          if (task.state === "waiting" && (task.kind === "write" || allBeforeExecuted)) {
            task.state = "started";
            task.run(task);
          }
          if (task.state !== "executed") {
            allBeforeExecuted = false;
            if (task.kind === "barrier") break;
          }
        }
      } while (connection.advanceAgain);
    } finally {
      connection.advancing = false;
    }
  }

  private observeLatency(connection: Connection, op: ClientOpCode, startedMs: number): void {
    const ms = this.options.clock.monotonicMs() - startedMs;
    const l = connection.latency;
    l.count++;
    l.totalMs += ms;
    if (ms < l.minMs) l.minMs = ms;
    if (ms > l.maxMs) l.maxMs = ms;
    const s = this.stats;
    s.latencyCount++;
    s.latencyTotalMs += ms;
    if (ms < s.latencyMinMs) s.latencyMinMs = ms;
    if (ms > s.latencyMaxMs) s.latencyMaxMs = ms;
    if (this.metrics && op !== OpCode.ping) {
      let children = this.metrics.byOp.get(op);
      if (children === undefined) {
        const name = opName(op);
        children = { requests: this.metrics.requests.labels(name), latency: this.metrics.latency.labels(name) };
        this.metrics.byOp.set(op, children);
      }
      children.requests.inc();
      children.latency.observe(ms / 1000);
    }
  }

  // ---- handshake

  private password(sessionId: bigint): Buffer {
    const secret = this.sm.sessionSecret;
    if (secret === null) throw new Error("no session secret yet");
    const id = Buffer.allocUnsafe(8);
    id.writeBigInt64BE(sessionId);
    return createHmac("sha256", secret).update(id).digest().subarray(0, PASSWORD_BYTES);
  }

  private sendConnectResponse(connection: Connection, slot: ReplySlot, request: ConnectRequest, timeOut: number, sessionId: bigint, passwd: Uint8Array): void {
    this.writer.reset();
    encodeConnectResponse(this.writer, { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: request.readOnly === undefined ? undefined : false });
    slot.resolve(this.writer.toBytes());
    connection.sent++;
    this.stats.sent++;
  }

  private handshake(connection: Connection, frame: Buffer, slot: ReplySlot, done: () => void): void {
    let request: ConnectRequest;
    try {
      request = decodeConnectRequest(new JuteReader(frame));
    } catch (error) {
      if (!(error instanceof JuteDecodeError)) throw error;
      this.complain(connection, { err: error.message }, "malformed ConnectRequest; closing");
      slot.resolve(null);
      this.closeConnection(connection);
      done();
      return;
    }
    if (!this.serving) {
      // ZooKeeper closes connections while it is not serving ("ZooKeeperServer not running"); the
      // client tries again or another server.
      this.logger.debug({ remote: connection.framed.remoteAddress }, "not serving ZooKeeper clients yet; closing");
      slot.resolve(null);
      this.closeConnection(connection);
      done();
      return;
    }
    if (request.lastZxidSeen > this.sm.lastZxid) {
      // The client has seen a newer state than ours. The leader has applied everything committed,
      // so such a client is confused. A follower may just trail the leader (the client moved here
      // from a node further ahead): a session it knows is taken at once, its reads wait until this
      // node has caught up (serve); any other one waits here, briefly — it may be a session this
      // node has not applied yet. Otherwise the client must go to a server at least as current.
      const refuse = (): void => {
        this.logger.info(
          { remote: connection.framed.remoteAddress, clientZxid: `0x${request.lastZxidSeen.toString(16)}`, ourZxid: `0x${this.sm.lastZxid.toString(16)}` },
          "client has seen a newer zxid than this server; closing without a reply",
        );
        slot.resolve(null);
        this.closeConnection(connection);
        done();
      };
      if (this.isLeader) {
        refuse();
        return;
      }
      if (request.sessionId !== 0n && this.sm.hasSession(request.sessionId)) {
        this.handshakeCurrent(connection, request, slot, done);
        return;
      }
      void this.appliedThrough(request.lastZxidSeen, CATCH_UP_WAIT_MS).then((caughtUp) => {
        if (connection.state === "closing") {
          slot.resolve(null);
          done();
        } else if (!caughtUp || !this.serving) refuse();
        else this.handshakeCurrent(connection, request, slot, done);
      });
      return;
    }
    this.handshakeCurrent(connection, request, slot, done);
  }

  /** The handshake once this node knows the session, or a new one is to be created (reads wait for lastZxidSeen in serve). */
  private handshakeCurrent(connection: Connection, request: ConnectRequest, slot: ReplySlot, done: () => void): void {
    connection.seenZxid = request.lastZxidSeen;
    const timeoutMs = clamp(request.timeOut, this.options.sessionTimeoutMsMin, this.options.sessionTimeoutMsMax);
    if (request.sessionId === 0n) {
      const sessionId = this.allocateSessionId();
      void this.propose({ kind: "createSession", timeoutMs }, sessionId, []).then((result) => {
        if (result === undefined || result.err !== 0 || connection.state === "closing") {
          slot.resolve(null);
          this.closeConnection(connection);
        } else {
          this.establish(connection, sessionId, timeoutMs);
          this.sendConnectResponse(connection, slot, request, timeoutMs, sessionId, this.password(sessionId));
        }
        done();
      });
      return;
    }
    const sessionId = request.sessionId;
    const expected = this.password(sessionId);
    const given = request.passwd;
    const passwordOk = given !== null && given.length === PASSWORD_BYTES && timingSafeEqual(Buffer.from(given.buffer, given.byteOffset, given.byteLength), expected);
    const liveTimeoutMs = this.sm.sessionTimeoutMs(sessionId);
    if (!passwordOk || liveTimeoutMs === undefined) {
      // Invalid or expired: timeOut 0 tells the client its session is gone (Expired).
      if (!passwordOk) this.complain(connection, { sessionId: `0x${BigInt.asUintN(64, sessionId).toString(16)}` }, "wrong session password");
      this.sendConnectResponse(connection, slot, request, 0, 0n, new Uint8Array(PASSWORD_BYTES));
      this.closeConnection(connection);
      done();
      return;
    }
    this.touch(sessionId);
    if (this.sm.sessionOwner(sessionId) === this.options.runtime.nodeId) {
      this.establish(connection, sessionId, liveTimeoutMs);
      this.sendConnectResponse(connection, slot, request, liveTimeoutMs, sessionId, expected);
      done();
      return;
    }
    // The session moves here from another node (ZooKeeper revalidates it with the leader): once
    // the move is applied, writes from its old connection there fail with SessionMoved. Only the
    // leader's apply is awaited, not this node's: a node that trails still takes the session at
    // once (its reads wait for lastZxidSeen in serve), and every write of the new connection is
    // proposed after the move.
    void this.submit(this.encode({ kind: "moveSession" }, sessionId, []), false).then((outcome) => {
      const result = outcome.ok ? outcome.result : undefined;
      if (connection.state === "closing") {
        slot.resolve(null);
      } else if (result === undefined || result.err !== 0) {
        // Expired meanwhile, or the move could not be applied: the client tries again or elsewhere.
        if (result?.err === CoordError.sessionExpired) this.sendConnectResponse(connection, slot, request, 0, 0n, new Uint8Array(PASSWORD_BYTES));
        else slot.resolve(null);
        this.closeConnection(connection);
      } else {
        this.establish(connection, sessionId, liveTimeoutMs);
        this.sendConnectResponse(connection, slot, request, liveTimeoutMs, sessionId, expected);
      }
      done();
    });
  }

  private allocateSessionId(): bigint {
    for (;;) {
      const id = BigInt.asIntN(64, this.nextSessionId);
      this.nextSessionId = (this.nextSessionId & ~((1n << 56n) - 1n)) | ((this.nextSessionId + 1n) & ((1n << 56n) - 1n));
      if (id !== 0n && !this.sm.hasSession(id)) return id;
    }
  }

  private establish(connection: Connection, sessionId: bigint, timeoutMs: number): void {
    connection.sessionId = sessionId;
    connection.timeoutMs = timeoutMs;
    connection.state = "open";
    const previous = this.owners.get(sessionId);
    if (previous && previous !== connection) {
      // The session moved to this connection: the old one is stale (SessionMoved on its requests)
      // and its watches are gone (the client re-registers them with SetWatches on the new one).
      previous.stale = true;
      this.watches.removeConnection(previous.framed.id);
    }
    this.owners.set(sessionId, connection);
  }

  // ---- requests

  private replyHeader(connection: Connection, slot: ReplySlot, xid: number, zxid: bigint, err: number): void {
    this.writer.reset();
    encodeHeaderOnlyReply(this.writer, { xid, zxid, err });
    this.release(connection, slot, zxid);
  }

  private reply(connection: Connection, slot: ReplySlot, request: DecodedRequest, zxid: bigint, err: number, body: unknown): void {
    this.writer.reset();
    encodeReply(this.writer, request.opCode, { xid: request.xid, zxid, err }, body as never);
    this.release(connection, slot, zxid);
  }

  private release(connection: Connection, slot: ReplySlot, zxid: bigint): void {
    slot.resolve(this.writer.toBytes());
    connection.sent++;
    connection.lastZxid = zxid;
    if (zxid > connection.seenZxid) connection.seenZxid = zxid;
    this.stats.sent++;
  }

  private serve(connection: Connection, request: DecodedRequest, slot: ReplySlot, done: () => void, task: Task): void {
    connection.lastOp = opName(request.opCode);
    if (connection.state !== "open") {
      slot.resolve(null);
      done();
      return;
    }
    if (connection.stale) {
      this.replyHeader(connection, slot, request.xid, this.sm.lastZxid, ErrorCode.sessionMoved);
      done();
      return;
    }
    this.touch(connection.sessionId);
    if (this.sm.lastZxid < connection.seenZxid && !this.isWrite(request.opCode) && request.opCode !== OpCode.ping && request.opCode !== OpCode.closeSession) {
      // This node is behind what the session has already seen (it moved here from a node further
      // ahead): the read waits until this node catches up, so it never goes back in time.
      this.awaitCatchUp(connection, request, slot, done, task);
      return;
    }
    const ids = connection.identities;
    switch (request.opCode) {
      case OpCode.ping:
        this.writer.reset();
        encodePingReply(this.writer, this.sm.lastZxid);
        this.release(connection, slot, this.sm.lastZxid);
        done();
        return;
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.setACL:
      case OpCode.check: {
        const op = writeOpOf(request)!;
        this.write(connection, task, { kind: "op", op }, slot, done, (result) => {
          const r = result.op;
          let body: unknown = null;
          if (r !== undefined) {
            if (r.type === OpCode.create) body = { path: r.path };
            else if (r.type === OpCode.create2) body = { path: r.path, stat: r.stat };
            else if (r.type === OpCode.setData || r.type === OpCode.setACL) body = { stat: r.stat };
          }
          this.reply(connection, slot, request, result.zxid, result.err, body);
        });
        return;
      }
      case OpCode.multi: {
        const ops = request.body.ops.map(multiWriteOpOf);
        this.write(connection, task, { kind: "multi", ops }, slot, done, (result) => {
          if (result.multi === undefined) this.replyHeader(connection, slot, request.xid, result.zxid, result.err);
          else this.reply(connection, slot, request, result.zxid, 0, { results: result.multi as MultiResult[] });
        });
        return;
      }
      case OpCode.sync: {
        const path = request.body.path;
        // The leader: a read barrier (read index). A follower: a no-op through the leader's log,
        // which this node then applies — everything committed before the sync is applied here.
        const barrier = this.isLeader ? this.group.readBarrier() : this.submit(this.encode({ kind: "sync" }, connection.sessionId, ids)).then((outcome) => outcome.ok);
        void barrier.then((ok) => {
          if (!ok) {
            slot.resolve(null);
            this.closeConnection(connection);
          } else {
            this.reply(connection, slot, request, this.sm.lastZxid, 0, { path });
          }
          done();
        });
        return;
      }
      case OpCode.closeSession: {
        connection.state = "closing";
        void this.propose({ kind: "closeSession" }, connection.sessionId, ids).then((result) => {
          if (result !== undefined) this.replyHeader(connection, slot, request.xid, result.zxid, 0);
          else slot.resolve(null);
          if (this.owners.get(connection.sessionId) === connection) this.owners.delete(connection.sessionId);
          connection.framed.close();
          done();
        });
        return;
      }
      default:
        this.serveLocal(connection, request, slot, ids);
        done();
    }
  }

  /** Runs a read once this node has applied the session's seenZxid; closes the connection if it does not catch up in time. */
  private awaitCatchUp(connection: Connection, request: DecodedRequest, slot: ReplySlot, done: () => void, task: Task): void {
    if (connection.readsWaiting >= READS_WAITING_MAX) {
      slot.resolve(null);
      this.closeConnection(connection);
      done();
      return;
    }
    connection.readsWaiting++;
    void this.appliedThrough(connection.seenZxid, READ_CATCH_UP_WAIT_MS).then((caughtUp) => {
      connection.readsWaiting--;
      if (caughtUp) {
        this.serveGuarded(connection, request, slot, done, task);
        return;
      }
      this.logger.info({ seenZxid: `0x${connection.seenZxid.toString(16)}`, ourZxid: `0x${this.sm.lastZxid.toString(16)}` }, "this node did not catch up with the session's zxid in time; closing the connection");
      slot.resolve(null);
      this.closeConnection(connection);
      done();
    });
  }

  /**
   * Proposes a client write. Its reply is normally sent from inside apply (onApplied matches the
   * applied bytes to this pending write), so the reads queued behind it run before the next
   * command applies; the proposal's promise is the fallback, and reports refusals.
   */
  private write(connection: Connection, task: Task, body: CommandBody, slot: ReplySlot, done: () => void, answer: (result: CoordApplyResult) => void): void {
    const bytes = this.encode(body, connection.sessionId, connection.identities);
    const pending: PendingWrite = {
      bytes,
      connection,
      task,
      handled: false,
      answer: (result) => {
        if (connection.state !== "closing") answer(result);
        else slot.resolve(null);
        done();
      },
    };
    let queue = this.pendingWrites.get(connection.sessionId);
    if (!queue) this.pendingWrites.set(connection.sessionId, (queue = []));
    queue.push(pending);
    const settle = (outcome: Submitted): void => {
      if (pending.handled) return;
      pending.handled = true;
      this.forgetPending(pending);
      if (outcome.ok && outcome.local) {
        pending.answer(outcome.result);
      } else {
        // Not applied, or not known to be: the client must see ConnectionLoss, never a guess. (A
        // follower that applied the zxid without seeing the command — it installed a snapshot
        // past it — has no result to give either.)
        this.logger.debug({ reason: outcome.ok ? "appliedUnseen" : outcome.reason }, "write not applied; closing the connection");
        slot.resolve(null);
        this.closeConnection(connection);
        done();
      }
    };
    if (this.proposesLocally) {
      // The write is answered from inside its apply (onApplied); the callback only matters when
      // the proposal is refused or lost. No promise per write.
      this.group.proposeWith(bytes, (outcome) => {
        if (pending.handled) return;
        settle(outcome.ok ? { ok: true, result: outcome.result, local: true } : { ok: false, reason: outcome.reason });
      });
    } else {
      void this.submit(bytes).then(settle);
    }
  }

  private forgetPending(pending: PendingWrite): void {
    const queue = this.pendingWrites.get(pending.connection.sessionId);
    if (!queue) return;
    const at = queue.indexOf(pending);
    if (at !== -1) queue.splice(at, 1);
    if (queue.length === 0) this.pendingWrites.delete(pending.connection.sessionId);
  }

  /** The pending write of `sessionId` whose bytes are `command`, if this node proposed it. */
  private takePending(sessionId: bigint, command: Uint8Array): PendingWrite | undefined {
    const queue = this.pendingWrites.get(sessionId);
    if (!queue) return undefined;
    for (let i = 0; i < queue.length; i++) {
      const pending = queue[i];
      if (sameCommandButTime(pending.bytes, command)) {
        queue.splice(i, 1);
        if (queue.length === 0) this.pendingWrites.delete(sessionId);
        return pending;
      }
    }
    return undefined;
  }

  /** Reads and connection-local ops, answered at once from this node's state. */
  private serveLocal(connection: Connection, request: DecodedRequest, slot: ReplySlot, ids: readonly Identity[]): void {
    const zxid = this.sm.lastZxid;
    const id = connection.framed.id;
    const answer = (err: number, body: unknown): void => this.reply(connection, slot, request, zxid, err, body);
    switch (request.opCode) {
      case OpCode.exists: {
        const path = request.body.path ?? "";
        const read = this.sm.exists(path, ids);
        if (request.body.watch && (read.ok || read.err === ErrorCode.noNode)) this.watches.addDataWatch(id, path);
        answer(read.ok ? 0 : read.err, read.ok ? { stat: read.value } : null);
        return;
      }
      case OpCode.getData: {
        const path = request.body.path ?? "";
        const read = this.sm.getData(path, ids);
        if (request.body.watch && read.ok) this.watches.addDataWatch(id, path);
        answer(read.ok ? 0 : read.err, read.ok ? read.value : null);
        return;
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const path = request.body.path ?? "";
        const read = this.sm.getChildren(path, ids);
        if (request.body.watch && read.ok) this.watches.addChildWatch(id, path);
        answer(read.ok ? 0 : read.err, read.ok ? { children: read.value.children, stat: read.value.stat } : null);
        return;
      }
      case OpCode.getACL: {
        const read = this.sm.getACL(request.body.path ?? "", ids);
        answer(read.ok ? 0 : read.err, read.ok ? { acl: read.value.acl, stat: read.value.stat } : null);
        return;
      }
      case OpCode.getAllChildrenNumber: {
        const read = this.sm.getAllChildrenNumber(request.body.path ?? "", ids);
        answer(read.ok ? 0 : read.err, read.ok ? { totalNumber: read.value } : null);
        return;
      }
      case OpCode.getEphemerals:
        answer(0, { ephemerals: this.sm.getEphemerals(connection.sessionId, request.body.prefixPath) });
        return;
      case OpCode.multiRead: {
        const ops: CoordMultiReadOp[] = request.body.ops.map((op) => ({ type: op.type, path: op.request.path ?? "" }));
        answer(0, { results: this.sm.multiRead(ops, ids) as MultiResult[] });
        return;
      }
      case OpCode.whoAmI:
        answer(0, { clientInfo: ids.map((i): jute.ClientInfo => ({ authScheme: i.scheme, user: i.scheme === "digest" ? i.id.slice(0, Math.max(0, i.id.indexOf(":"))) : i.id })) });
        return;
      case OpCode.checkWatches:
      case OpCode.removeWatches: {
        const path = request.body.path;
        if (path === null) {
          answer(ErrorCode.badArguments, null);
          return;
        }
        const found = request.opCode === OpCode.checkWatches ? this.watches.checkWatches(id, path, request.body.type) : this.watches.removeWatches(id, path, request.body.type);
        answer(found ? 0 : ErrorCode.noWatcher, null);
        return;
      }
      case OpCode.addWatch: {
        const path = request.body.path;
        const mode = request.body.mode;
        if (path === null || (mode !== AddWatchMode.persistent && mode !== AddWatchMode.persistentRecursive)) {
          answer(ErrorCode.badArguments, null);
          return;
        }
        this.watches.addPersistentWatch(id, path, mode === AddWatchMode.persistentRecursive);
        answer(0, { err: 0 });
        return;
      }
      case OpCode.setWatches:
      case OpCode.setWatches2: {
        const body = request.body;
        const strings = (list: Array<string | null> | null): string[] => (list ?? []).filter((p): p is string => p !== null);
        const lists = {
          dataWatches: strings(body.dataWatches),
          existWatches: strings(body.existWatches),
          childWatches: strings(body.childWatches),
          ...("persistentWatches" in body ? { persistentWatches: strings(body.persistentWatches), persistentRecursiveWatches: strings(body.persistentRecursiveWatches) } : {}),
        };
        const fired = this.watches.setWatches(id, body.relativeZxid, lists, (path) => this.sm.peekStat(path));
        for (const n of fired) this.notify(n);
        // The request's own xid (FinalRequestProcessor): Java sends -8, node-zookeeper-client a counter.
        this.replyHeader(connection, slot, request.xid, zxid, 0);
        return;
      }
      case OpCode.auth: {
        const { scheme, auth } = request.body;
        if (scheme === "digest" && auth !== null) {
          for (const identity of authenticateDigest(auth, this.options.superDigest || undefined)) {
            if (!connection.identities.some((i) => i.scheme === identity.scheme && i.id === identity.id)) connection.identities.push(identity);
          }
          this.replyHeader(connection, slot, Xid.auth, 0n, 0);
          return;
        }
        // An unknown scheme: AuthFailed, then the connection closes (ZooKeeper's behaviour).
        this.complain(connection, { scheme }, "unsupported auth scheme");
        this.replyHeader(connection, slot, Xid.auth, 0n, ErrorCode.authFailed);
        this.closeConnection(connection);
        return;
      }
      case OpCode.reconfig:
        answer(ErrorCode.reconfigDisabled, null);
        return;
      case OpCode.sasl:
        answer(ErrorCode.unimplemented, null);
        return;
      default:
        answer(ErrorCode.unimplemented, null);
    }
  }

  // ---- four-letter-word view

  private view(): ServerView {
    const connections: ConnectionView[] = [];
    for (const c of this.connections.values()) {
      if (c.state === "handshake" && c.received === 0) continue;
      connections.push({
        remote: ipOf(c.framed.remoteAddress),
        remotePort: c.framed.remotePort,
        sessionId: c.sessionId,
        timeoutMs: c.timeoutMs,
        queued: c.tasks.length,
        received: c.received,
        sent: c.sent,
        lastOp: c.lastOp,
        lastZxid: c.lastZxid,
        established: c.state === "open",
        latencyMinMs: c.latency.count > 0 ? c.latency.minMs : 0,
        latencyAvgMs: c.latency.count > 0 ? c.latency.totalMs / c.latency.count : 0,
        latencyMaxMs: c.latency.maxMs,
      });
    }
    const sessions = this.sm.sessions();
    const s = this.stats;
    let outstanding = 0;
    for (const c of this.connections.values()) outstanding += c.tasks.length;
    const status = this.group?.status();
    const voter = status === undefined || (status.membership.voters as readonly number[]).includes(this.options.runtime.nodeId);
    const mode = this.options.voters.length === 1 ? "standalone" : status?.role === "leader" ? "leader" : voter ? "follower" : "observer";
    return {
      mode,
      serving: this.serving,
      zxid: this.sm.lastZxid,
      nodeCount: this.sm.nodeCount,
      received: s.received,
      sent: s.sent,
      outstanding,
      latencyMinMs: s.latencyCount > 0 ? s.latencyMinMs : 0,
      latencyAvgMs: s.latencyCount > 0 ? s.latencyTotalMs / s.latencyCount : 0,
      latencyMaxMs: s.latencyMaxMs,
      connections,
      watches: this.watches.summary(),
      ephemerals: sessions.map((x) => ({ sessionId: x.sessionId, paths: this.sm.ephemeralsOf(x.sessionId) })),
      sessions,
      approximateDataBytes: 0,
      config: {
        clientPort: this.port,
        dataDir: this.options.dataDir ?? "",
        tickTime: SESSION_BUCKET_MS,
        maxClientCnxns: CONNECTIONS_MAX,
        minSessionTimeout: this.options.sessionTimeoutMsMin,
        maxSessionTimeout: this.options.sessionTimeoutMsMax,
        serverId: this.options.runtime.nodeId,
        "jute.maxbuffer": this.options.packetBytesMax,
        "zookeeper.extendedTypesEnabled": String(this.options.extendedTypesEnabled),
      },
      environment: {
        "host.name": hostname(),
        "java.version": `node ${process.version}`,
        "java.vendor": "synod",
        "os.name": process.platform,
        "os.arch": process.arch,
        "user.dir": process.cwd(),
      },
    };
  }
}

export async function startZooKeeperServer(options: ZooKeeperServerOptions): Promise<ZooKeeperServer> {
  const server = new ZooKeeperServer(options);
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
