// A minimal ZooKeeper protocol client for tests that need to see the wire: the order of frames
// (notifications vs replies), handshake fields (timeOut, password), raw and malformed bytes,
// session resume. Built on our codecs over a real TCP socket. Not a general client.
import { connect as netConnect, type Socket } from "node:net";
import { once } from "node:events";
import { JuteReader, JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { decodeConnectResponse, encodeConnectRequest, type ConnectResponse } from "../../src/zookeeper/protocol/connect.js";
import { OpCode, Xid } from "../../src/zookeeper/protocol/constants.js";
import { createFrameReader, lengthPrefixed } from "../../src/zookeeper/protocol/frame.js";
import { decodeReply, encodeRequest, type ClientOpCode, type RequestBodies, type ResponseBodies } from "../../src/zookeeper/protocol/requests.js";
import { decodeReplyHeader, decodeWatcherEvent, type ReplyHeader, type WatcherEvent } from "../../src/zookeeper/generated/jute.js";

export type Frame = { kind: "notification"; event: WatcherEvent } | { kind: "reply"; header: ReplyHeader; op: number; body: unknown };

export interface RawConnectOptions {
  sessionId?: bigint;
  passwd?: Uint8Array;
  timeoutMs?: number;
  lastZxidSeen?: bigint;
  readOnly?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
}

export class RawZk {
  /** Every frame received after the handshake, in arrival order. */
  readonly frames: Frame[] = [];
  private readonly pendingOps = new Map<number, number>();
  private readonly waiters: Array<() => void> = [];
  private nextXid = 1;
  closed = false;

  private constructor(
    readonly socket: Socket,
    readonly connectResponse: ConnectResponse,
  ) {}

  get sessionId(): bigint {
    return this.connectResponse.sessionId;
  }

  get passwd(): Uint8Array {
    return this.connectResponse.passwd ?? new Uint8Array(16);
  }

  /** Connects and handshakes; resolves with the response (timeOut 0 = session invalid) or undefined if the server closed without one. */
  static async connect(port: number, options: RawConnectOptions = {}): Promise<RawZk | undefined> {
    const socket = netConnect(port, options.host ?? "127.0.0.1");
    await once(socket, "connect");
    const w = new JuteWriter();
    encodeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: options.lastZxidSeen ?? 0n,
      timeOut: options.timeoutMs ?? 30_000,
      sessionId: options.sessionId ?? 0n,
      passwd: options.passwd ?? new Uint8Array(16),
      readOnly: options.readOnly,
    });
    socket.write(lengthPrefixed(w.view()));
    const reader = createFrameReader(16 * 1024 * 1024);
    let client: RawZk | undefined;
    return new Promise((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        for (const frame of reader.push(chunk)) {
          if (!client) {
            client = new RawZk(socket, decodeConnectResponse(new JuteReader(frame)));
            resolve(client);
          } else {
            client.onFrame(frame);
          }
        }
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        if (client) {
          client.closed = true;
          client.wake();
        } else resolve(undefined);
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onFrame(frame: Buffer): void {
    const header = decodeReplyHeader(new JuteReader(frame));
    if (header.xid === Xid.notification) {
      const r = new JuteReader(frame);
      decodeReplyHeader(r);
      this.frames.push({ kind: "notification", event: decodeWatcherEvent(r) });
    } else {
      const op = this.pendingOps.get(header.xid) ?? -1;
      this.pendingOps.delete(header.xid);
      const body = op >= 0 || op === OpCode.closeSession ? decodeReply(frame, op as ClientOpCode).body : null;
      this.frames.push({ kind: "reply", header, op, body });
    }
    this.wake();
  }

  /** Sends a request without waiting; returns its xid. */
  send<K extends ClientOpCode>(op: K, body: RequestBodies[K], xid?: number): number {
    const id = xid ?? this.nextXid++;
    const w = new JuteWriter();
    encodeRequest(w, id, op, body);
    this.pendingOps.set(id, op);
    this.socket.write(lengthPrefixed(w.view()));
    return id;
  }

  /** Writes raw bytes (already framed or not): for malformed input tests. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits for the reply with this xid (or the connection's close: undefined). */
  async reply(xid: number, timeoutMs = 10_000): Promise<{ header: ReplyHeader; body: unknown } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.kind === "reply" && f.header.xid === xid);
      if (found && found.kind === "reply") return { header: found.header, body: found.body };
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error(`no reply for xid ${xid} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async call<K extends ClientOpCode>(op: K, body: RequestBodies[K]): Promise<{ err: number; zxid: bigint; body: ResponseBodies[K] | null }> {
    const xid = this.send(op, body);
    const reply = await this.reply(xid);
    if (!reply) throw new Error(`connection closed before the reply to op ${op}`);
    return { err: reply.header.err, zxid: reply.header.zxid, body: reply.body as ResponseBodies[K] | null };
  }

  /** Resolves once the server closed the connection (or rejects after timeoutMs). */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  notifications(): WatcherEvent[] {
    return this.frames.flatMap((f) => (f.kind === "notification" ? [f.event] : []));
  }

  /** Drops the TCP connection without closing the session (a client crash or network loss). */
  drop(): void {
    this.socket.destroy();
  }
}

export const OPEN_ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
