// Node-to-node control traffic beside the Paxos messages, on the same transport under a reserved
// group id: forwarding a proposal to a group's leader (a follower that must write to the metadata
// group, e.g. to register itself or to create a topic a client asked it for), and leadership
// announcements (each node tells its peers which groups it leads, so a node that does not host a
// partition can still tell clients where its leader is).
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

type Frame =
  | { t: "req"; id: number; op: "propose"; group: string; data: string }
  | { t: "res"; id: number; ok: true; result: string }
  | { t: "res"; id: number; ok: false; error: string; leaderId?: number }
  | { t: "leaders"; groups: Array<[string, number]> };

export type ForwardedOutcome = { ok: true; result: Uint8Array } | { ok: false; error: string; leaderId?: number };

export interface RpcOptions {
  nodeId: number;
  transport: Transport;
  logger: Logger;
  /** Serves a forwarded proposal on this node (as the group's leader). */
  onPropose(groupId: string, data: Uint8Array): Promise<ForwardedOutcome>;
  /** A peer announced the groups it leads. */
  onLeaders(from: number, groups: LeaderAnnouncement[]): void;
  /** Requests outstanding at most (default 10,000). */
  pendingMax?: number;
  /** A forwarded request fails after this long (default 10 s). */
  timeoutMs?: number;
}

export class PeerRpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(outcome: ForwardedOutcome): void; timer: NodeJS.Timeout }>();

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
    }
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
      this.pending.set(id, { resolve, timer });
      if (!this.send(leaderId, { t: "req", id, op: "propose", group: groupId, data: Buffer.from(data).toString("base64") })) {
        this.pending.delete(id);
        clearTimeout(timer);
        resolve({ ok: false, error: "unreachable" });
      }
    });
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
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, error: "closed" });
      this.pending.delete(id);
    }
  }
}
