// The session engine of the TypeScript ZooKeeper client: one ZooKeeper session carried over a
// sequence of TCP connections. It owns everything that depends on time and on the connection:
//
//  - connecting: servers are tried in a shuffled rotation; each attempt has a deadline
//    (connectTimeoutMs, default sessionTimeout / servers as in the Java client); after a whole
//    rotation fails the client sleeps a random 0..reconnectDelayMsMax before the next.
//  - the handshake: ConnectRequest with lastZxidSeen (a server behind us closes without a reply
//    and we move on) and, on a reconnect, the session id and password; a reply with timeOut 0
//    means the session expired: terminal.
//  - liveness: a ping after timeout/3 without sending; the connection is declared dead after
//    2/3 of the negotiated timeout without hearing anything (the Java client's readTimeout), so a
//    client notices a dead server before the server expires the session.
//  - local expiry: disconnected for the whole negotiated timeout since we last heard from the
//    server means every server has expired (or will expire) the session; the client says so
//    itself (SessionExpiredError{local: true}) instead of waiting for a server to tell it,
//    which under a partition may never happen. The holder of a lock learns it lost it in time.
//  - requests: pipelined, matched to replies by xid in FIFO order (ZooKeeper answers a session's
//    requests in order; a mismatch is a protocol error and drops the connection). A request not
//    yet sent when the connection breaks stays queued for the next connection (it cannot have been
//    applied); one already sent fails with ConnectionLoss (its outcome is unknown). The number of
//    requests queued plus in flight is bounded in number and bytes (pendingRequestsMax,
//    pendingBytesMax): beyond either, QueueFullError. A request is encoded once, when submitted,
//    so one larger than the server's packet limit (requestBytesMax, jute.maxbuffer) fails at once
//    with BadArguments instead of making the server drop the connection on every retry.
//  - after a reconnect: auth packets first, then SetWatches/SetWatches2 (relativeZxid = lastZxid,
//    at most 128 KiB of paths per packet, like Java), then the queued requests.
//
// The public, typed operations live in client.ts on top of `submit()`.
import { JuteReader, JuteWriter } from "../jute/runtime.js";
import * as jute from "../generated/jute.js";
import { decodeConnectResponse, encodeConnectRequest } from "../protocol/connect.js";
import { OpCode, PACKET_BYTES_MAX_DEFAULT, Xid } from "../protocol/constants.js";
import { ErrorCode } from "../protocol/errors.js";
import { beginFrame, endFrame } from "../protocol/frame.js";
import { assert } from "../../util/assert.js";
import type { Clock } from "../../util/clock.js";
import type { Random } from "../../util/random.js";
import { silentLogger, type Logger } from "../../util/logger.js";
import { systemClock } from "../../node/system-clock.js";
import { Connection } from "./connection.js";
import { Deque } from "../../util/deque.js";
import {
  AuthFailedError,
  BadArgumentsError,
  ClientClosedError,
  ConnectionLossError,
  QueueFullError,
  RequestTimeoutError,
  SessionExpiredError,
  ZooKeeperError,
  errorFromCode,
} from "./errors.js";
import { parseConnectString, toClientPath, toServerPath, type ServerAddress } from "./paths.js";
import { WatchRegistry, eventStateName, eventTypeName, type WatchEvent, type WatchEventState, type Watcher } from "./watches.js";

export interface ZooKeeperClientOptions {
  /** "host1:2181,host2:2181/optional/chroot". */
  connectString: string;
  /** Requested session timeout; the server clamps it (default 2×–20× its tickTime). Default 30,000. */
  sessionTimeoutMs?: number;
  /** Deadline of one connection attempt including the handshake. Default sessionTimeoutMs / servers, at least 1,000. */
  connectTimeoutMs?: number;
  /** Default per-request deadline (0 = none: in-flight requests still fail on disconnect). Default sessionTimeoutMs. */
  requestTimeoutMs?: number;
  /** Requests queued plus in flight at most; beyond it requests fail with QueueFullError. Default 4,096. */
  pendingRequestsMax?: number;
  /** Bytes of requests queued plus in flight at most; beyond it QueueFullError. Default 64 MiB. */
  pendingBytesMax?: number;
  /** Largest request frame (the server's jute.maxbuffer; ZooKeeper closes the connection beyond it). Default 0xfffff. */
  requestBytesMax?: number;
  /** Largest reply frame accepted (a larger length prefix drops the connection). Default 4 MiB. */
  frameBytesMax?: number;
  /** Upper bound of the random pause after a whole rotation of servers failed (and at most a tenth of the session timeout). Default 1,000. */
  reconnectDelayMsMax?: number;
  /**
   * Declare the session expired once disconnected for the whole negotiated timeout, without
   * waiting for a server to say so (Curator's behaviour). Default true: under a partition that
   * never heals the owner of ephemeral nodes learns in bounded time that they are gone.
   */
  expireLocally?: boolean;
  /** Resume an existing session (id and password from another client) instead of creating one. */
  session?: { id: bigint; password: Uint8Array };
  /** Auth packets sent on every connection, before any request (like addAuth before connect). */
  auth?: Array<{ scheme: string; auth: Uint8Array | string }>;
  /** Visit servers in the given order instead of shuffling (tests). Default false. */
  preserveServerOrder?: boolean;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/**
 * connecting: no session yet. connected: the session is usable. disconnected: the session exists
 * but no connection carries it (requests wait; ephemerals survive until the server expires it).
 * expired, authFailed, closed: terminal.
 */
export type SessionState = "connecting" | "connected" | "disconnected" | "expired" | "authFailed" | "closed";

export interface StateChange {
  state: SessionState;
  previous: SessionState;
  sessionId: bigint;
  /** The terminal error for expired/authFailed/closed. */
  error?: ZooKeeperError;
}

/** One request in the pipeline. `handle` turns the reply into the caller's value or throws. */
interface PendingRequest<T = unknown> {
  readonly opCode: number;
  /** The client path, for error messages. */
  readonly path: string | undefined;
  /** The whole frame, length prefix included; the xid (bytes 4..8) is patched when it is sent. */
  readonly frame: Buffer;
  readonly handle: (err: number, r: JuteReader) => T;
  readonly resolve: (value: T) => void;
  readonly reject: (error: ZooKeeperError) => void;
  xid: number;
  /** queued → sent → done; a timed-out sent request is `done` but keeps its place in the FIFO. */
  phase: "queued" | "sent" | "done";
  timer: NodeJS.Timeout | undefined;
  /** Whether its bytes still count against pendingBytesMax (until it leaves the queues). */
  counted: boolean;
}

interface AuthEntry {
  readonly scheme: string;
  readonly auth: Uint8Array;
  acknowledged: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: ZooKeeperError) => void }>;
}

/** Longest list of auth packets replayed on each connection. */
export const AUTH_ENTRIES_MAX = 64;
/** SetWatches packets carry at most this many bytes of paths each (Java's SET_WATCHES_MAX_LENGTH). */
export const SET_WATCHES_BYTES_MAX = 128 * 1024;
const PASSWORD_BYTES = 16;
const TERMINAL: ReadonlySet<SessionState> = new Set(["expired", "authFailed", "closed"]);

export class Session {
  readonly servers: readonly ServerAddress[];
  readonly chroot: string;
  readonly watches = new WatchRegistry();
  protected readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: Random | undefined;
  private readonly requestedTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  private readonly pendingRequestsMax: number;
  private readonly pendingBytesMax: number;
  private readonly requestBytesMax: number;
  private pendingBytes = 0;
  private readonly frameBytesMax: number;
  private readonly reconnectDelayMsMax: number;
  private readonly expireLocally: boolean;

  private stateValue: SessionState = "connecting";
  private sessionIdValue = 0n;
  private password: Uint8Array = new Uint8Array(PASSWORD_BYTES);
  private negotiatedTimeoutMsValue = 0;
  private lastZxidValue = 0n;
  private nextXid = 1;
  private serverIndex = 0;
  private connection: Connection | undefined;
  private handshake: { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;
  private connectionClosed: (() => void) | undefined;
  private readonly queued = new Deque<PendingRequest>();
  private readonly inflight = new Deque<PendingRequest>();
  private readonly authEntries: AuthEntry[] = [];
  private readonly authSent = new Deque<AuthEntry>();
  private readonly writer = new JuteWriter(1024);
  private lastHeardMs = 0;
  private lastSentMs = 0;
  private livenessTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private sleepTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly stateListeners = new Set<(change: StateChange) => void>();
  private readonly abort = new AbortController();
  private closeRequested = false;
  private closing: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: ZooKeeperClientOptions) {
    const parsed = parseConnectString(options.connectString);
    this.chroot = parsed.chroot;
    this.clock = options.clock ?? systemClock;
    this.random = options.random;
    this.logger = options.logger ?? silentLogger();
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    assert(Number.isSafeInteger(this.requestedTimeoutMs) && this.requestedTimeoutMs > 0, "sessionTimeoutMs must be a positive integer");
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.max(1000, Math.floor(this.requestedTimeoutMs / parsed.servers.length));
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.requestedTimeoutMs;
    this.pendingRequestsMax = options.pendingRequestsMax ?? 4096;
    this.pendingBytesMax = options.pendingBytesMax ?? 64 * 1024 * 1024;
    this.requestBytesMax = options.requestBytesMax ?? PACKET_BYTES_MAX_DEFAULT;
    this.frameBytesMax = options.frameBytesMax ?? 4 * 1024 * 1024;
    this.reconnectDelayMsMax = options.reconnectDelayMsMax ?? 1000;
    this.expireLocally = options.expireLocally ?? true;
    assert(this.connectTimeoutMs > 0 && this.requestTimeoutMs >= 0, "timeouts must be positive");
    assert(this.pendingRequestsMax >= 1 && this.frameBytesMax >= 1024, "limits too small");
    assert(this.requestBytesMax >= 1024 && this.pendingBytesMax >= this.requestBytesMax, "request byte limits too small");
    this.servers = options.preserveServerOrder ? parsed.servers : this.shuffle(parsed.servers);
    if (options.session) {
      assert(options.session.id !== 0n && options.session.password.length === PASSWORD_BYTES, "a resumed session needs its id and 16-byte password");
      this.sessionIdValue = options.session.id;
      this.password = Uint8Array.from(options.session.password);
      this.negotiatedTimeoutMsValue = this.requestedTimeoutMs;
    }
    for (const { scheme, auth } of options.auth ?? []) this.addAuthEntry(scheme, auth);
  }

  // ---- public state ----------------------------------------------------------------------

  get state(): SessionState {
    return this.stateValue;
  }
  /** 0n until the first handshake completes. */
  get sessionId(): bigint {
    return this.sessionIdValue;
  }
  /** The 16-byte session password (a copy), for resuming the session from another client. */
  get sessionPassword(): Uint8Array {
    return Uint8Array.from(this.password);
  }
  /** The timeout the server granted (0 before the first handshake). */
  get negotiatedTimeoutMs(): number {
    return this.negotiatedTimeoutMsValue;
  }
  /** The highest zxid seen in a reply (sent as lastZxidSeen and SetWatches' relativeZxid). */
  get lastZxid(): bigint {
    return this.lastZxidValue;
  }
  /** "host:port" of the server the session is on, when connected. */
  get connectedServer(): string | undefined {
    return this.connection && this.stateValue === "connected" ? `${this.connection.server.host}:${this.connection.server.port}` : undefined;
  }
  /** Aborted (with the terminal ZooKeeperError as reason) when the session ends for any reason. */
  get sessionSignal(): AbortSignal {
    return this.abort.signal;
  }
  /** Requests queued or in flight. */
  get pendingRequests(): number {
    return this.queued.length + this.inflight.length;
  }
  /** Bytes of the requests queued or in flight. */
  get pendingRequestBytes(): number {
    return this.pendingBytes;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Starts the connection loop (idempotent). */
  start(): void {
    this.loop ??= this.run().catch((error: unknown) => {
      this.logger.error({ err: error }, "zookeeper client loop failed");
      this.finish("closed", new ClientClosedError());
    });
  }

  /** Resolves once connected; rejects on a terminal state or after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.stateValue === "connected") return Promise.resolve();
    if (TERMINAL.has(this.stateValue)) return Promise.reject(this.terminalError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new ConnectionLossError(ErrorCode.connectionLoss, undefined, `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onStateChange((change) => {
        if (change.state === "connected") {
          clearTimeout(timer);
          unsubscribe();
          resolve();
        } else if (TERMINAL.has(change.state)) {
          clearTimeout(timer);
          unsubscribe();
          reject(change.error ?? this.terminalError());
        }
      });
    });
  }

  /**
   * Closes the session: sends closeSession (the server deletes our ephemerals at once) when
   * connected, then releases the socket and every timer. Pending requests fail with
   * ClientClosedError. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!TERMINAL.has(this.stateValue)) {
        this.closeRequested = true;
        if (this.stateValue === "connected") {
          const timeoutMs = Math.min(this.requestTimeoutMs || 2000, 2000);
          await this.enqueue({ opCode: OpCode.closeSession, path: undefined, writeBody: null, handle: () => undefined, timeoutMs }, true).catch(() => undefined);
        }
        this.finish("closed", new ClientClosedError());
      }
      await this.loop;
    })();
    return this.closing;
  }

  // ---- requests --------------------------------------------------------------------------

  /** Queues one request; `handle` maps (err, reply body) to the result or throws. */
  protected submit<T>(request: {
    opCode: number;
    path: string | undefined;
    writeBody: ((w: JuteWriter) => void) | null;
    handle: (err: number, r: JuteReader) => T;
    timeoutMs?: number;
  }): Promise<T> {
    return this.enqueue(request, false);
  }

  private enqueue<T>(
    request: { opCode: number; path: string | undefined; writeBody: ((w: JuteWriter) => void) | null; handle: (err: number, r: JuteReader) => T; timeoutMs?: number },
    closing: boolean,
  ): Promise<T> {
    if (TERMINAL.has(this.stateValue)) return Promise.reject(this.terminalError(request.path));
    if (this.closeRequested && !closing) return Promise.reject(new ClientClosedError(request.path));
    if (this.queued.length + this.inflight.length >= this.pendingRequestsMax) {
      return Promise.reject(new QueueFullError(ErrorCode.throttledOp, request.path, `${this.pendingRequestsMax} requests already pending`));
    }
    const frame = this.encodeFrame(0, request.opCode, request.writeBody);
    if (frame.length - 4 > this.requestBytesMax) {
      return Promise.reject(new BadArgumentsError(ErrorCode.badArguments, request.path, `request of ${frame.length - 4} bytes exceeds requestBytesMax ${this.requestBytesMax}`));
    }
    if (this.pendingBytes + frame.length > this.pendingBytesMax) {
      return Promise.reject(new QueueFullError(ErrorCode.throttledOp, request.path, `${this.pendingBytes} request bytes already pending`));
    }
    return new Promise<T>((resolve, reject) => {
      const pending: PendingRequest<T> = { opCode: request.opCode, path: request.path, frame, handle: request.handle, resolve, reject, xid: 0, phase: "queued", timer: undefined, counted: true };
      this.pendingBytes += frame.length;
      const timeoutMs = request.timeoutMs ?? this.requestTimeoutMs;
      if (timeoutMs > 0) pending.timer = setTimeout(() => this.onRequestTimeout(pending as PendingRequest, timeoutMs), timeoutMs);
      this.queued.push(pending as PendingRequest);
      if (this.stateValue === "connected") this.flushQueued();
    });
  }

  /** Gives back a request's bytes once it left both queues (idempotent). */
  private uncount(pending: PendingRequest): void {
    if (!pending.counted) return;
    pending.counted = false;
    this.pendingBytes -= pending.frame.length;
    assert(this.pendingBytes >= 0, "pending request bytes went negative");
  }

  private onRequestTimeout(pending: PendingRequest, timeoutMs: number): void {
    pending.timer = undefined;
    if (pending.phase === "done") return;
    // A queued request is simply dropped; a sent one keeps its FIFO slot so the reply still
    // matches by xid when it comes, but nobody waits for it any more.
    if (pending.phase === "queued") {
      this.queued.remove(pending);
      this.uncount(pending);
    }
    const what = pending.phase === "sent" ? "sent; its outcome is unknown" : "never sent";
    this.settle(pending, new RequestTimeoutError(ErrorCode.requestTimeout, pending.path, `no reply within ${timeoutMs} ms (${what})`));
  }

  private settle(pending: PendingRequest, error: ZooKeeperError | undefined, value?: unknown): void {
    if (pending.phase === "done") return;
    pending.phase = "done";
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = undefined;
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  private flushQueued(): void {
    const connection = this.connection;
    if (!connection || this.stateValue !== "connected") return;
    for (let pending = this.queued.shift(); pending; pending = this.queued.shift()) {
      pending.xid = this.allocateXid();
      pending.phase = "sent";
      this.inflight.push(pending);
      pending.frame.writeInt32BE(pending.xid, 4);
      this.lastSentMs = this.clock.monotonicMs();
      connection.send(pending.frame);
    }
  }

  private allocateXid(): number {
    const xid = this.nextXid;
    this.nextXid = xid >= 0x7fffffff ? 1 : xid + 1;
    return xid;
  }

  /** One request frame: length prefix, RequestHeader{xid, opCode}, body. */
  private encodeFrame(xid: number, opCode: number, writeBody: ((w: JuteWriter) => void) | null): Buffer {
    const w = this.writer;
    w.reset();
    const at = beginFrame(w);
    jute.encodeRequestHeader(w, { xid, type: opCode });
    if (writeBody) writeBody(w);
    endFrame(w, at);
    return w.toBytes();
  }

  /** Sends a frame outside the request pipeline (pings, auth, SetWatches: special xids). */
  private sendFrame(connection: Connection, xid: number, opCode: number, writeBody: ((w: JuteWriter) => void) | null): void {
    this.lastSentMs = this.clock.monotonicMs();
    connection.send(this.encodeFrame(xid, opCode, writeBody));
  }

  // ---- auth --------------------------------------------------------------------------------

  private addAuthEntry(scheme: string, auth: Uint8Array | string): { entry: AuthEntry; created: boolean } {
    const bytes = typeof auth === "string" ? Buffer.from(auth, "utf8") : Uint8Array.from(auth);
    const existing = this.authEntries.find((e) => e.scheme === scheme && Buffer.compare(Buffer.from(e.auth), Buffer.from(bytes)) === 0);
    if (existing) return { entry: existing, created: false };
    if (this.authEntries.length >= AUTH_ENTRIES_MAX) throw new TypeError(`more than ${AUTH_ENTRIES_MAX} auth entries`);
    const entry: AuthEntry = { scheme, auth: bytes, acknowledged: false, waiters: [] };
    this.authEntries.push(entry);
    return { entry, created: true };
  }

  /**
   * Adds credentials to the session (`addauth digest user:pw`). They are replayed on every
   * reconnect. Resolves when the server accepted them; AuthFailedError is terminal (the server
   * closes the connection, as ZooKeeper does).
   */
  addAuth(scheme: string, auth: Uint8Array | string): Promise<void> {
    if (TERMINAL.has(this.stateValue)) return Promise.reject(this.terminalError());
    const { entry, created } = this.addAuthEntry(scheme, auth);
    if (entry.acknowledged) return Promise.resolve();
    return new Promise((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
      // An entry that existed before was already sent on this connection (every handshake sends
      // them all) or will be on the next one.
      if (created && this.stateValue === "connected" && this.connection) this.sendAuth(this.connection, entry);
    });
  }

  private sendAuth(connection: Connection, entry: AuthEntry): void {
    this.authSent.push(entry);
    this.sendFrame(connection, Xid.auth, OpCode.auth, (w) => jute.encodeAuthPacket(w, { type: 0, scheme: entry.scheme, auth: entry.auth }));
  }

  private onAuthReply(err: number): void {
    const entry = this.authSent.shift();
    if (!entry) {
      this.logger.warn({ err }, "zookeeper: auth reply without an auth request");
      return;
    }
    if (err === 0) {
      entry.acknowledged = true;
      for (const waiter of entry.waiters.splice(0)) waiter.resolve();
      return;
    }
    this.finish("authFailed", new AuthFailedError(err === ErrorCode.authFailed ? err : ErrorCode.authFailed, undefined, `scheme ${entry.scheme}`));
  }

  // ---- the connection loop -----------------------------------------------------------------

  private shuffle(servers: readonly ServerAddress[]): ServerAddress[] {
    const out = [...servers];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.random ? this.random.int(i + 1) : Math.floor(Math.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!TERMINAL.has(this.stateValue) && !this.closeRequested) {
      const server = this.servers[this.serverIndex];
      this.serverIndex = (this.serverIndex + 1) % this.servers.length;
      try {
        const closed = await this.establish(server);
        failures = 0;
        await closed;
      } catch (error) {
        if (TERMINAL.has(this.stateValue)) return;
        this.logger.debug({ err: error, server }, "zookeeper: connection attempt failed");
        failures++;
        if (failures % this.servers.length === 0) {
          // A pause spreads reconnecting clients out, but must stay small next to the session
          // timeout: a 2 s session cannot afford 1 s pauses between attempts.
          const timeoutMs = this.negotiatedTimeoutMsValue || this.requestedTimeoutMs;
          const boundMs = Math.max(1, Math.min(this.reconnectDelayMsMax, Math.floor(timeoutMs / 10)));
          await this.sleep(this.random ? this.random.int(boundMs + 1) : Math.floor(Math.random() * (boundMs + 1)));
        }
      }
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer.timer);
        this.sleepTimer = undefined;
        resolve();
      };
      this.sleepTimer = { timer: setTimeout(wake, delayMs), wake };
    });
  }

  /** Dials and handshakes; resolves with a promise that settles when this connection closes. */
  private async establish(server: ServerAddress): Promise<Promise<void>> {
    // The callbacks exist before the Connection does; they only fire once it is assigned.
    const ref: { connection?: Connection } = {};
    const connection = await Connection.open(server, {
      timeoutMs: this.connectTimeoutMs,
      frameBytesMax: this.frameBytesMax,
      callbacks: {
        onFrame: (frame) => this.onFrame(ref.connection, frame),
        onClose: (error) => this.onConnectionClosed(ref.connection, error),
      },
    });
    ref.connection = connection;
    if (connection.isClosed) throw new Error(`connection to ${server.host}:${server.port} closed at once`);
    if (TERMINAL.has(this.stateValue)) {
      connection.close();
      throw this.terminalError();
    }
    this.connection = connection;
    const closed = new Promise<void>((resolve) => (this.connectionClosed = resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => connection.close(new Error(`handshake with ${server.host}:${server.port} timed out`)), this.connectTimeoutMs);
      this.handshake = { resolve, reject, timer };
      this.sendConnectRequest(connection);
    });
    return closed;
  }

  private sendConnectRequest(connection: Connection): void {
    const w = this.writer;
    w.reset();
    const at = beginFrame(w);
    encodeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxidValue,
      timeOut: this.requestedTimeoutMs,
      sessionId: this.sessionIdValue,
      passwd: this.password,
      readOnly: false,
    });
    endFrame(w, at);
    this.lastSentMs = this.clock.monotonicMs();
    connection.send(w.toBytes());
  }

  private onHandshakeReply(connection: Connection, frame: Buffer): void {
    const handshake = this.handshake!;
    this.handshake = undefined;
    clearTimeout(handshake.timer);
    let reply;
    try {
      reply = decodeConnectResponse(new JuteReader(frame));
    } catch (error) {
      connection.close(error as Error);
      return;
    }
    const resuming = this.sessionIdValue !== 0n;
    if (reply.timeOut <= 0 || (resuming && reply.sessionId !== this.sessionIdValue)) {
      handshake.reject(new SessionExpiredError(false));
      if (resuming) this.finish("expired", new SessionExpiredError(false));
      else connection.close(new Error("the server refused to create a session"));
      return;
    }
    this.sessionIdValue = reply.sessionId;
    if (reply.passwd && reply.passwd.length > 0) this.password = Uint8Array.from(reply.passwd);
    this.negotiatedTimeoutMsValue = reply.timeOut;
    this.lastHeardMs = this.clock.monotonicMs();
    this.clearExpiryTimer();
    this.startLivenessTimer(connection);
    for (const entry of this.authEntries) this.sendAuth(connection, entry);
    if (resuming && !this.watches.isEmpty) this.sendSetWatches(connection);
    const previous = this.stateValue;
    this.setState("connected");
    this.flushQueued();
    handshake.resolve();
    if (previous === "disconnected") this.deliverSessionEvent("syncConnected", false);
  }

  private sendSetWatches(connection: Connection): void {
    const kinds = ["data", "exist", "child", "persistent", "persistentRecursive"] as const;
    const lists = kinds.map((kind) => this.watches.paths(kind).map((p) => toServerPath(this.chroot, p)));
    const persistent = lists[3].length + lists[4].length > 0;
    let batch: string[][] = kinds.map(() => []);
    let bytes = 0;
    const flush = (): void => {
      const [data, exist, child, persistentWatches, recursive] = batch;
      if (persistent) {
        const body: jute.SetWatches2 = { relativeZxid: this.lastZxidValue, dataWatches: data, existWatches: exist, childWatches: child, persistentWatches, persistentRecursiveWatches: recursive };
        this.sendFrame(connection, Xid.setWatches, OpCode.setWatches2, (w) => jute.encodeSetWatches2(w, body));
      } else {
        const body: jute.SetWatches = { relativeZxid: this.lastZxidValue, dataWatches: data, existWatches: exist, childWatches: child };
        this.sendFrame(connection, Xid.setWatches, OpCode.setWatches, (w) => jute.encodeSetWatches(w, body));
      }
      batch = kinds.map(() => []);
      bytes = 0;
    };
    for (let k = 0; k < kinds.length; k++) {
      for (const path of lists[k]) {
        const size = Buffer.byteLength(path) + 4;
        if (bytes > 0 && bytes + size > SET_WATCHES_BYTES_MAX) flush();
        batch[k].push(path);
        bytes += size;
      }
    }
    if (bytes > 0) flush();
  }

  private startLivenessTimer(connection: Connection): void {
    this.stopLivenessTimer();
    const timeoutMs = this.negotiatedTimeoutMsValue;
    const pingIntervalMs = Math.max(1, Math.floor(timeoutMs / 3));
    const readTimeoutMs = Math.max(1, Math.floor((timeoutMs * 2) / 3));
    const tickMs = Math.max(10, Math.floor(timeoutMs / 15));
    this.livenessTimer = setInterval(() => {
      if (connection.isClosed) return;
      const now = this.clock.monotonicMs();
      if (now - this.lastHeardMs >= readTimeoutMs) {
        connection.close(new Error(`nothing heard from the server for ${Math.round(now - this.lastHeardMs)} ms`));
        return;
      }
      if (now - this.lastSentMs >= pingIntervalMs) this.sendFrame(connection, Xid.ping, OpCode.ping, null);
    }, tickMs);
  }

  private stopLivenessTimer(): void {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  // ---- inbound frames ----------------------------------------------------------------------

  private onFrame(connection: Connection | undefined, frame: Buffer): void {
    if (connection === undefined || connection !== this.connection) return;
    this.lastHeardMs = this.clock.monotonicMs();
    if (this.handshake) {
      this.onHandshakeReply(connection, frame);
      return;
    }
    const r = new JuteReader(frame);
    let header: jute.ReplyHeader;
    try {
      header = jute.decodeReplyHeader(r);
    } catch (error) {
      connection.close(error as Error);
      return;
    }
    switch (header.xid) {
      case Xid.notification:
        this.onNotification(connection, r);
        return;
      case Xid.ping:
        return;
      case Xid.auth:
        this.onAuthReply(header.err);
        return;
      case Xid.setWatches:
        if (header.err !== 0) this.logger.warn({ err: header.err }, "zookeeper: SetWatches failed");
        return;
    }
    this.onReply(connection, header, r);
  }

  private onReply(connection: Connection, header: jute.ReplyHeader, r: JuteReader): void {
    const pending = this.inflight.shift();
    if (pending) this.uncount(pending);
    if (!pending || pending.xid !== header.xid) {
      connection.close(new Error(`reply xid ${header.xid} does not match the oldest request (${pending?.xid ?? "none"})`));
      if (pending) this.settle(pending, new ConnectionLossError(ErrorCode.connectionLoss, pending.path, "protocol error: xid mismatch"));
      return;
    }
    if (header.zxid > 0n && header.zxid > this.lastZxidValue) this.lastZxidValue = header.zxid;
    if (pending.phase === "done") return;
    let value: unknown;
    try {
      value = pending.handle(header.err, r);
    } catch (error) {
      if (error instanceof ZooKeeperError) {
        this.settle(pending, error);
        return;
      }
      // A reply we cannot decode: the stream can no longer be trusted.
      this.settle(pending, new ZooKeeperError(ErrorCode.marshallingError, pending.path, (error as Error).message));
      connection.close(error as Error);
      return;
    }
    this.settle(pending, undefined, value);
  }

  private onNotification(connection: Connection, r: JuteReader): void {
    let event: jute.WatcherEvent;
    try {
      event = jute.decodeWatcherEvent(r);
    } catch (error) {
      connection.close(error as Error);
      return;
    }
    const type = eventTypeName(event.type);
    const state = eventStateName(event.state) ?? "syncConnected";
    if (type === undefined || event.path === null) {
      this.logger.warn({ event }, "zookeeper: notification of an unknown type");
      return;
    }
    const path = toClientPath(this.chroot, event.path);
    this.deliver(this.watches.materialize(type, path), { type, state, path });
  }

  protected deliver(watchers: Iterable<Watcher>, event: WatchEvent): void {
    for (const watcher of watchers) {
      try {
        watcher(event);
      } catch (error) {
        this.logger.warn({ err: error, event }, "zookeeper: a watcher threw");
      }
    }
  }

  private deliverSessionEvent(state: WatchEventState, clear: boolean): void {
    this.deliver(this.watches.all(clear), { type: "none", state, path: "" });
  }

  // ---- connection loss, expiry, termination ------------------------------------------------

  private onConnectionClosed(connection: Connection | undefined, error: Error | undefined): void {
    if (connection === undefined || connection !== this.connection) return;
    this.connection = undefined;
    this.stopLivenessTimer();
    if (this.handshake) {
      clearTimeout(this.handshake.timer);
      this.handshake.reject(error ?? new Error("connection closed during the handshake"));
      this.handshake = undefined;
    }
    this.authSent.drain();
    const loss = (path: string | undefined): ConnectionLossError =>
      new ConnectionLossError(ErrorCode.connectionLoss, path, error ? error.message : "the connection closed");
    for (const pending of this.inflight.drain()) {
      this.uncount(pending);
      this.settle(pending, loss(pending.path));
    }
    // The server closes the connection after answering closeSession: that is no disconnect.
    if (this.stateValue === "connected" && !this.closeRequested) {
      this.logger.info({ err: error, sessionId: this.sessionIdValue.toString(16) }, "zookeeper: disconnected");
      this.setState("disconnected");
      this.deliverSessionEvent("disconnected", false);
      this.armExpiryTimer();
    }
    const closed = this.connectionClosed;
    this.connectionClosed = undefined;
    closed?.();
  }

  private armExpiryTimer(): void {
    if (!this.expireLocally || this.sessionIdValue === 0n) return;
    this.clearExpiryTimer();
    const dueMs = this.lastHeardMs + this.negotiatedTimeoutMsValue - this.clock.monotonicMs();
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (this.stateValue === "disconnected") this.finish("expired", new SessionExpiredError(true));
    }, Math.max(0, dueMs));
  }

  private terminalError(path?: string): ZooKeeperError {
    const reason = this.abort.signal.reason as unknown;
    if (reason instanceof SessionExpiredError) return new SessionExpiredError(reason.local, path);
    if (reason instanceof AuthFailedError) return new AuthFailedError(reason.code, path);
    return new ClientClosedError(path);
  }

  /** Enters a terminal state once: stops timers and the socket, fails every waiter, wakes every watcher. */
  private finish(state: "expired" | "authFailed" | "closed", error: ZooKeeperError): void {
    if (TERMINAL.has(this.stateValue)) return;
    this.stopLivenessTimer();
    this.clearExpiryTimer();
    this.sleepTimer?.wake();
    this.abort.abort(error);
    // Detach the connection first so its close callback does not treat this as a disconnect.
    const connection = this.connection;
    this.connection = undefined;
    this.setState(state, error);
    if (this.handshake) {
      clearTimeout(this.handshake.timer);
      this.handshake.reject(error);
      this.handshake = undefined;
    }
    connection?.close();
    this.authSent.drain();
    for (const pending of [...this.inflight.drain(), ...this.queued.drain()]) {
      this.uncount(pending);
      this.settle(pending, this.terminalError(pending.path));
    }
    for (const entry of this.authEntries) for (const waiter of entry.waiters.splice(0)) waiter.reject(this.terminalError());
    this.deliverSessionEvent(state === "closed" ? "closed" : state === "expired" ? "expired" : "authFailed", true);
    const closed = this.connectionClosed;
    this.connectionClosed = undefined;
    closed?.();
  }

  private setState(state: SessionState, error?: ZooKeeperError): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    const change: StateChange = { state, previous, sessionId: this.sessionIdValue, ...(error ? { error } : {}) };
    for (const listener of [...this.stateListeners]) {
      try {
        listener(change);
      } catch (thrown) {
        this.logger.warn({ err: thrown }, "zookeeper: a state listener threw");
      }
    }
  }

  /** The typed error for a non-zero reply code (protected for the operations layer). */
  protected errorFor(code: number, path: string | undefined): ZooKeeperError {
    return errorFromCode(code, path);
  }
}
