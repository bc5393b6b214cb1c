// Node-to-node control traffic beside the Paxos messages, on the same transport under a reserved
// group id: forwarding a proposal to a group's leader (a follower that must write to the metadata
// group, e.g. to register itself or to create a topic a client asked it for), and leadership
// announcements (each node tells its peers which groups it leads, so a node that does not host a
// partition can still tell clients where its leader is), and touches (a follower tells a group's
// leader which keys were active on it lately — the ZooKeeper front-end's sessions, as ZooKeeper's
// learners report session touches with their pings).
//
// Frames are small JSON objects; payload bytes travel base64. Everything is bounded: pending
// requests (backpressure: refused beyond the limit), request timeouts, announcement size.
import type { Logger } from "../util/logger.js";
import type { Transport } from "../transport/transport.js";

export const RPC_GROUP_ID = "_rpc";

export interface LeaderAnnouncement {
  groupId: string;
  /** The ballot round of the leader's term (Kafka's leader epoch). */
  epoch: number;
}

/** Snapshot images travel in chunks of this many bytes (before base64). */
export const SNAPSHOT_CHUNK_BYTES = 512 * 1024;
/** The largest snapshot a follower accepts from a peer (bounds its memory while receiving). */
export const SNAPSHOT_RECEIVE_BYTES_MAX = 1 << 30;
/** Keys one touch frame carries at most (more are split across frames; a received frame is cut to this). */
export const TOUCH_KEYS_PER_MESSAGE = 1024;
/** The longest key a touch frame may carry (a decimal int64 needs 20 characters). */
export const TOUCH_KEY_CHARS_MAX = 64;

type Frame =
  | { t: "req"; id: number; op: "propose"; group: string; data: string }
  | { t: "snap"; group: string; transfer: number; seq: number; last: boolean; slot: number; meta: string; data: string }
  | { t: "snapack"; group: string; transfer: number; ok: boolean }
  | { t: "res"; id: number; ok: true; result: string }
  | { t: "res"; id: number; ok: false; error: string; leaderId?: number }
  | { t: "leaders"; groups: Array<[string, number]> }
  | { t: "touch"; group: string; keys: string[] };

export type ForwardedOutcome = { ok: true; result: Uint8Array } | { ok: false; error: string; leaderId?: number };

export interface RpcOptions {
  nodeId: number;
  transport: Transport;
  logger: Logger;
  /** Serves a forwarded proposal on this node (as the group's leader). */
  onPropose(groupId: string, data: Uint8Array): Promise<ForwardedOutcome>;
  /** A peer announced the groups it leads. */
  onLeaders(from: number, groups: LeaderAnnouncement[]): void;
  /** A peer reports keys of a group that were active on it (at most TOUCH_KEYS_PER_MESSAGE per call). */
  onTouch?(from: number, groupId: string, keys: string[]): void;
  /** A complete snapshot image arrived from a group's leader; resolve true once installed. */
  onSnapshot(from: number, groupId: string, slot: number, meta: Uint8Array, data: Uint8Array): Promise<boolean>;
  /** Requests outstanding at most (default 10,000). */
  pendingMax?: number;
  /** A forwarded request fails after this long (default 10 s). */
  timeoutMs?: number;
}

export class PeerRpc {
  private nextId = 1;
  private readonly pending = new Map<number, { to: number; resolve(outcome: ForwardedOutcome): void; timer: NodeJS.Timeout }>();
  /** Snapshot transfers being received: (peer, group, transfer) → chunks so far. */
  private readonly receiving = new Map<string, { chunks: Buffer[]; bytes: number; nextSeq: number }>();
  /** Snapshot transfers being sent, waiting for the follower's ack. */
  private readonly sending = new Map<string, { resolve(ok: boolean): void; timer: NodeJS.Timeout }>();

  constructor(private readonly options: RpcOptions) {}

  /** Delivers an RPC frame received from a peer (the runtime routes RPC_GROUP_ID here). */
  receive(from: number, bytes: Uint8Array): void {
    let frame: Frame;
    try {
      frame = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as Frame;
    } catch {
      this.options.logger.warn({ peer: from }, "undecodable RPC frame dropped");
      return;
    }
    switch (frame.t) {
      case "req":
        void this.serve(from, frame);
        return;
      case "res": {
        const waiter = this.pending.get(frame.id);
        if (!waiter) return;
        this.pending.delete(frame.id);
        clearTimeout(waiter.timer);
        waiter.resolve(frame.ok ? { ok: true, result: Buffer.from(frame.result, "base64") } : { ok: false, error: frame.error, leaderId: frame.leaderId });
        return;
      }
      case "leaders":
        if (Array.isArray(frame.groups)) this.options.onLeaders(from, frame.groups.map(([groupId, epoch]) => ({ groupId, epoch })));
        return;
      case "touch": {
        if (typeof frame.group !== "string" || !Array.isArray(frame.keys)) return;
        const keys = frame.keys.slice(0, TOUCH_KEYS_PER_MESSAGE).filter((k): k is string => typeof k === "string" && k.length <= TOUCH_KEY_CHARS_MAX);
        if (keys.length > 0) this.options.onTouch?.(from, frame.group, keys);
        return;
      }
      case "snap":
        this.receiveChunk(from, frame);
        return;
      case "snapack": {
        const key = `${from}/${frame.group}/${frame.transfer}`;
        const waiter = this.sending.get(key);
        if (!waiter) return;
        this.sending.delete(key);
        clearTimeout(waiter.timer);
        waiter.resolve(frame.ok);
        return;
      }
    }
  }

  private receiveChunk(from: number, frame: Extract<Frame, { t: "snap" }>): void {
    const key = `${from}/${frame.group}/${frame.transfer}`;
    let transfer = this.receiving.get(key);
    if (frame.seq === 0) {
      // A new transfer from this peer for this group replaces any unfinished older one.
      for (const k of [...this.receiving.keys()]) if (k.startsWith(`${from}/${frame.group}/`)) this.receiving.delete(k);
      transfer = { chunks: [], bytes: 0, nextSeq: 0 };
      this.receiving.set(key, transfer);
    }
    const nack = (): void => {
      this.receiving.delete(key);
      this.send(from, { t: "snapack", group: frame.group, transfer: frame.transfer, ok: false });
    };
    if (!transfer || frame.seq !== transfer.nextSeq) return nack();
    const chunk = Buffer.from(frame.data, "base64");
    transfer.bytes += chunk.byteLength;
    if (transfer.bytes > SNAPSHOT_RECEIVE_BYTES_MAX) return nack();
    transfer.chunks.push(chunk);
    transfer.nextSeq++;
    if (!frame.last) return;
    this.receiving.delete(key);
    const data = Buffer.concat(transfer.chunks, transfer.bytes);
    void this.options.onSnapshot(from, frame.group, frame.slot, Buffer.from(frame.meta, "base64"), data).then(
      (ok) => this.send(from, { t: "snapack", group: frame.group, transfer: frame.transfer, ok }),
      () => this.send(from, { t: "snapack", group: frame.group, transfer: frame.transfer, ok: false }),
    );
  }

  /**
   * Streams a snapshot image to a follower in chunks; resolves with the follower's verdict (false
   * on refusal, unreachable peer or timeout).
   */
  async sendSnapshot(to: number, groupId: string, slot: number, meta: Uint8Array, data: Uint8Array, timeoutMs = 120_000): Promise<boolean> {
    const transfer = this.nextId++;
    const key = `${to}/${groupId}/${transfer}`;
    const acked = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.sending.delete(key);
        resolve(false);
      }, timeoutMs);
      this.sending.set(key, { resolve, timer });
    });
    const metaText = Buffer.from(meta).toString("base64");
    const chunks = Math.max(1, Math.ceil(data.byteLength / SNAPSHOT_CHUNK_BYTES));
    for (let seq = 0; seq < chunks; seq++) {
      const chunk = data.subarray(seq * SNAPSHOT_CHUNK_BYTES, Math.min(data.byteLength, (seq + 1) * SNAPSHOT_CHUNK_BYTES));
      const frame: Frame = { t: "snap", group: groupId, transfer, seq, last: seq === chunks - 1, slot, meta: seq === 0 ? metaText : "", data: Buffer.from(chunk).toString("base64") };
      // The transport drops when its queue is full; wait a little and retry rather than fail fast.
      let sent = this.send(to, frame);
      for (let attempt = 0; !sent && attempt < 50; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        sent = this.send(to, frame);
      }
      if (!sent) {
        const waiter = this.sending.get(key);
        if (waiter) {
          clearTimeout(waiter.timer);
          this.sending.delete(key);
        }
        return false;
      }
    }
    return acked;
  }

  private async serve(from: number, frame: Extract<Frame, { t: "req" }>): Promise<void> {
    let reply: Frame;
    try {
      const outcome = await this.options.onPropose(frame.group, Buffer.from(frame.data, "base64"));
      reply = outcome.ok
        ? { t: "res", id: frame.id, ok: true, result: Buffer.from(outcome.result).toString("base64") }
        : { t: "res", id: frame.id, ok: false, error: outcome.error, leaderId: outcome.leaderId };
    } catch (error) {
      reply = { t: "res", id: frame.id, ok: false, error: (error as Error).message };
    }
    this.send(from, reply);
  }

  /** Forwards a proposal to `leaderId`; resolves with the encoded result or an error. */
  forward(leaderId: number, groupId: string, data: Uint8Array): Promise<ForwardedOutcome> {
    if (this.pending.size >= (this.options.pendingMax ?? 10_000)) return Promise.resolve({ ok: false, error: "backpressure" });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: "timeout" });
      }, this.options.timeoutMs ?? 10_000);
      this.pending.set(id, { to: leaderId, resolve, timer });
      if (!this.send(leaderId, { t: "req", id, op: "propose", group: groupId, data: Buffer.from(data).toString("base64") })) {
        this.pending.delete(id);
        clearTimeout(timer);
        resolve({ ok: false, error: "unreachable" });
      }
    });
  }

  /**
   * Reports active keys of a group to a peer (its leader), TOUCH_KEYS_PER_MESSAGE per frame. False
   * if a frame could not be queued (the caller keeps the keys for its next report).
   */
  touch(to: number, groupId: string, keys: readonly string[]): boolean {
    for (let at = 0; at < keys.length; at += TOUCH_KEYS_PER_MESSAGE) {
      if (!this.send(to, { t: "touch", group: groupId, keys: keys.slice(at, at + TOUCH_KEYS_PER_MESSAGE) })) return false;
    }
    return true;
  }

  /**
   * The connection to `peer` was lost: what was forwarded to it fails now ("unreachable", outcome
   * unknown) instead of at its timeout — a leader that died mid-request otherwise held its
   * forwarders (and their clients) for the whole timeout.
   */
  peerLost(peer: number): void {
    for (const [id, waiter] of this.pending) {
      if (waiter.to !== peer) continue;
      this.pending.delete(id);
      clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, error: "unreachable" });
    }
  }

  /** Tells every peer which groups this node leads. */
  announce(peers: Iterable<number>, groups: LeaderAnnouncement[]): void {
    const frame: Frame = { t: "leaders", groups: groups.map((g) => [g.groupId, g.epoch]) };
    for (const peer of peers) if (peer !== this.options.nodeId) this.send(peer, frame);
  }

  private send(to: number, frame: Frame): boolean {
    return this.options.transport.send(to, RPC_GROUP_ID, Buffer.from(JSON.stringify(frame), "utf8"));
  }

  close(): void {
    for (const waiter of this.sending.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.sending.clear();
    this.receiving.clear();
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, error: "closed" });
      this.pending.delete(id);
    }
  }
}
