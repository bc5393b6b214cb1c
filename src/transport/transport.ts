// Node-to-node transport: one outbound TCP connection per peer for sending, inbound connections
// for receiving (each direction is independent, so there is no dial race to break). Messages of
// many Paxos groups are batched into one frame per flush, so the heartbeats of all groups between
// two nodes cost one write per tick, not one per group.
//
// Consensus tolerates loss, so backpressure is dropping: when a peer's send queue is over its byte
// limit, send() returns false and the message is gone (the protocol retransmits). Nothing here
// buffers without a bound.
//
// Wire: frames of [u32 length][u8 type][payload] (frame.ts).
//   HELLO     (1): u16 version, u16 len + clusterId, u32 fromNodeId, u32 toNodeId, u16 len + the
//                  sender's own listen address "host:port" (so a node that joins by dialing the
//                  existing members is dialed back without being configured on them)
//   HELLO_ACK (2): u8 ok, u16 len + reason
//   BATCH     (3): repeated [u16 len + groupId][u32 len + message]
//   PONG      (4): empty; sent back on an inbound connection (at most every pongIntervalMs) while
//                  batches arrive, so the sender can tell a silently dead path (a partition that
//                  drops packets leaves TCP retransmitting for minutes) and reconnect quickly.
import { createServer, createConnection, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { Logger } from "../util/logger.js";
import { FrameError, FrameReader, encodeFrame, type Frame } from "./frame.js";

export const PROTOCOL_VERSION = 1;
const HELLO = 1;
const HELLO_ACK = 2;
const BATCH = 3;
const PONG = 4;

export interface PeerAddress {
  host: string;
  port: number;
}

export interface TransportOptions {
  nodeId: number;
  clusterId: string;
  host: string;
  /** 0 picks a free port (see `port` after start). */
  port: number;
  peers: ReadonlyMap<number, PeerAddress>;
  logger: Logger;
  /** Largest frame accepted from a peer (default 64 MiB). */
  frameBytesMax?: number;
  /** Bytes queued for one peer before send() starts dropping (default 64 MiB). */
  sendQueueBytesMax?: number;
  /** Reconnect backoff bounds (default 50 ms .. 2 s, doubling, with jitter). */
  backoffMsMin?: number;
  backoffMsMax?: number;
  /** Handshake must complete within this (default 5 s). */
  handshakeTimeoutMs?: number;
  /** A connection whose writes get no PONG back within this is presumed dead (default 3 s). */
  peerSilenceMsMax?: number;
}

export interface PeerStats {
  connected: boolean;
  bytesOut: number;
  bytesIn: number;
  messagesOut: number;
  messagesIn: number;
  dropped: number;
  queuedBytes: number;
}

export type MessageHandler = (from: number, groupId: string, message: Buffer) => void;

class OutboundPeer {
  socket: Socket | undefined;
  ready = false;
  queue: Buffer[] = [];
  queuedBytes = 0;
  flushScheduled = false;
  backoffMs: number;
  reconnectTimer: NodeJS.Timeout | undefined;
  /** When the oldest write not yet followed by a PONG went out (0: none pending). */
  unansweredSinceMs = 0;
  readonly stats: PeerStats = { connected: false, bytesOut: 0, bytesIn: 0, messagesOut: 0, messagesIn: 0, dropped: 0, queuedBytes: 0 };

  constructor(
    readonly nodeId: number,
    public address: PeerAddress,
    backoffMsMin: number,
  ) {
    this.backoffMs = backoffMsMin;
  }
}

export class Transport {
  private server: Server | undefined;
  private readonly outbound = new Map<number, OutboundPeer>();
  private readonly inbound = new Set<Socket>();
  private closed = false;
  private readonly frameBytesMax: number;
  private readonly sendQueueBytesMax: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;
  private readonly handshakeTimeoutMs: number;
  private boundPort = 0;
  private readonly peerSilenceMsMax: number;
  private livenessTimer: NodeJS.Timeout | undefined;
  onMessage: MessageHandler = () => undefined;
  onPeerConnected: (peer: number, connected: boolean) => void = () => undefined;
  /** A node this transport had no address for connected to it; it is now dialed back. */
  onPeerDiscovered: (peer: number, address: PeerAddress) => void = () => undefined;

  constructor(private readonly options: TransportOptions) {
    this.frameBytesMax = options.frameBytesMax ?? 64 * 2 ** 20;
    this.sendQueueBytesMax = options.sendQueueBytesMax ?? 64 * 2 ** 20;
    this.backoffMsMin = options.backoffMsMin ?? 50;
    this.backoffMsMax = options.backoffMsMax ?? 2_000;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
    this.peerSilenceMsMax = options.peerSilenceMsMax ?? 3_000;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.acceptInbound(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as { port: number }).port;
    this.setPeers(this.options.peers);
    this.livenessTimer = setInterval(() => this.checkLiveness(), Math.max(100, this.peerSilenceMsMax / 3));
    this.livenessTimer.unref();
  }

  private checkLiveness(): void {
    const now = performance.now();
    for (const peer of this.outbound.values()) {
      if (peer.ready && peer.socket && peer.unansweredSinceMs > 0 && now - peer.unansweredSinceMs > this.peerSilenceMsMax) {
        this.options.logger.warn({ peer: peer.nodeId, silentMs: Math.round(now - peer.unansweredSinceMs) }, "peer stopped answering; reconnecting");
        peer.socket.destroy();
      }
    }
  }

  /** Replaces the peer set (membership change); connections to removed peers are closed. */
  setPeers(peers: ReadonlyMap<number, PeerAddress>): void {
    for (const [id, peer] of this.outbound) {
      if (!peers.has(id)) {
        this.closePeer(peer);
        this.outbound.delete(id);
      }
    }
    for (const [id, address] of peers) {
      if (id === this.options.nodeId) continue;
      const existing = this.outbound.get(id);
      if (existing && existing.address.host === address.host && existing.address.port === address.port) continue;
      if (existing) this.closePeer(existing);
      const peer = new OutboundPeer(id, address, this.backoffMsMin);
      this.outbound.set(id, peer);
      this.connect(peer);
    }
  }

  /** Queues a message for a peer; false when it was dropped (unknown peer or queue full). */
  send(to: number, groupId: string, message: Uint8Array): boolean {
    const peer = this.outbound.get(to);
    if (!peer || this.closed) return false;
    const group = Buffer.from(groupId, "utf8");
    const size = 2 + group.byteLength + 4 + message.byteLength;
    if (peer.queuedBytes + size > this.sendQueueBytesMax) {
      peer.stats.dropped++;
      return false;
    }
    const header = Buffer.allocUnsafe(2 + group.byteLength + 4);
    header.writeUInt16BE(group.byteLength, 0);
    group.copy(header, 2);
    header.writeUInt32BE(message.byteLength, 2 + group.byteLength);
    peer.queue.push(header, Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    peer.queuedBytes += size;
    peer.stats.messagesOut++;
    peer.stats.queuedBytes = peer.queuedBytes;
    if (!peer.flushScheduled) {
      peer.flushScheduled = true;
      setImmediate(() => this.flush(peer));
    }
    return true;
  }

  isConnected(peer: number): boolean {
    return this.outbound.get(peer)?.ready ?? false;
  }

  stats(): Map<number, PeerStats> {
    return new Map([...this.outbound].map(([id, peer]) => [id, { ...peer.stats }]));
  }

  private flush(peer: OutboundPeer): void {
    peer.flushScheduled = false;
    const socket = peer.socket;
    if (!peer.ready || !socket || peer.queue.length === 0) return;
    if (socket.writableNeedDrain) return; // resumed on 'drain'
    // One frame per flush, split only so that no frame exceeds the receiver's limit; stop when the
    // socket's own buffer is full (resumed on 'drain'), so the kernel-side backlog stays bounded too.
    while (peer.queue.length > 0) {
      const parts: Buffer[] = [];
      let bytes = 0;
      while (peer.queue.length > 0) {
        const size = peer.queue[0].byteLength + peer.queue[1].byteLength;
        if (parts.length > 0 && bytes + size > this.frameBytesMax - 1) break;
        parts.push(peer.queue.shift()!, peer.queue.shift()!);
        bytes += size;
      }
      peer.queuedBytes -= bytes;
      peer.stats.bytesOut += bytes + 5;
      let writable = true;
      for (const part of encodeFrame(BATCH, parts)) writable = socket.write(part);
      if (peer.unansweredSinceMs === 0) peer.unansweredSinceMs = performance.now();
      if (!writable) break;
    }
    peer.stats.queuedBytes = peer.queuedBytes;
  }

  private connect(peer: OutboundPeer): void {
    if (this.closed || this.outbound.get(peer.nodeId) !== peer) return;
    // Dial from our own listen address (when it is a specific one) so that the source address
    // identifies this node: operators' firewall rules and the partition tests rely on it.
    const localAddress = this.options.host !== "0.0.0.0" && this.options.host !== "::" ? this.options.host : undefined;
    const socket = createConnection({ host: peer.address.host, port: peer.address.port, localAddress });
    peer.socket = socket;
    peer.ready = false;
    socket.setNoDelay(true);
    const reader = new FrameReader(this.frameBytesMax);
    const handshakeTimer = setTimeout(() => socket.destroy(new Error("handshake timed out")), this.handshakeTimeoutMs);
    socket.on("connect", () => {
      const cluster = Buffer.from(this.options.clusterId, "utf8");
      const listen = Buffer.from(`${this.options.host}:${this.boundPort}`, "utf8");
      const hello = Buffer.allocUnsafe(2 + 2 + cluster.byteLength + 8 + 2 + listen.byteLength);
      hello.writeUInt16BE(PROTOCOL_VERSION, 0);
      hello.writeUInt16BE(cluster.byteLength, 2);
      cluster.copy(hello, 4);
      hello.writeUInt32BE(this.options.nodeId, 4 + cluster.byteLength);
      hello.writeUInt32BE(peer.nodeId, 8 + cluster.byteLength);
      hello.writeUInt16BE(listen.byteLength, 12 + cluster.byteLength);
      listen.copy(hello, 14 + cluster.byteLength);
      for (const part of encodeFrame(HELLO, hello)) socket.write(part);
    });
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (error) {
        this.options.logger.warn({ peer: peer.nodeId, err: error }, "bad frame from peer; closing");
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.type === PONG) {
          peer.unansweredSinceMs = 0;
          continue;
        }
        if (frame.type !== HELLO_ACK || peer.ready) continue;
        const ok = frame.payload.byteLength >= 1 && frame.payload.readUInt8(0) === 1;
        if (!ok) {
          const reason = frame.payload.byteLength >= 3 ? frame.payload.subarray(3, 3 + frame.payload.readUInt16BE(1)).toString("utf8") : "refused";
          this.options.logger.error({ peer: peer.nodeId, reason }, "peer refused our handshake");
          socket.destroy();
          return;
        }
        clearTimeout(handshakeTimer);
        peer.ready = true;
        peer.backoffMs = this.backoffMsMin;
        peer.stats.connected = true;
        this.options.logger.info({ peer: peer.nodeId, address: peer.address }, "connected to peer");
        this.onPeerConnected(peer.nodeId, true);
        this.flush(peer);
      }
    });
    socket.on("drain", () => this.flush(peer));
    socket.on("error", () => undefined); // 'close' follows; logged there at debug level
    socket.on("close", () => {
      clearTimeout(handshakeTimer);
      const wasReady = peer.ready;
      peer.ready = false;
      peer.unansweredSinceMs = 0;
      peer.stats.connected = false;
      if (peer.socket === socket) peer.socket = undefined;
      // What was queued for a dead connection is stale for consensus; drop it.
      peer.stats.dropped += peer.queue.length / 2;
      peer.queue = [];
      peer.queuedBytes = 0;
      peer.stats.queuedBytes = 0;
      if (wasReady) {
        this.options.logger.info({ peer: peer.nodeId }, "lost connection to peer");
        this.onPeerConnected(peer.nodeId, false);
      }
      if (this.closed || this.outbound.get(peer.nodeId) !== peer) return;
      const delay = peer.backoffMs * (0.5 + Math.random() / 2);
      peer.backoffMs = Math.min(this.backoffMsMax, peer.backoffMs * 2);
      peer.reconnectTimer = setTimeout(() => this.connect(peer), delay);
    });
  }

  private acceptInbound(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader(this.frameBytesMax);
    let from: number | undefined;
    let lastPongMs = 0;
    const handshakeTimer = setTimeout(() => socket.destroy(), this.handshakeTimeoutMs);
    const refuse = (reason: string): void => {
      this.options.logger.warn({ remote: socket.remoteAddress, reason }, "refused a peer connection");
      const text = Buffer.from(reason, "utf8");
      const payload = Buffer.allocUnsafe(3 + text.byteLength);
      payload.writeUInt8(0, 0);
      payload.writeUInt16BE(text.byteLength, 1);
      text.copy(payload, 3);
      for (const part of encodeFrame(HELLO_ACK, payload)) socket.write(part);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (error) {
        this.options.logger.warn({ remote: socket.remoteAddress, err: error instanceof FrameError ? error.message : error }, "bad frame from peer; closing");
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (from === undefined) {
          if (frame.type !== HELLO) return refuse("expected HELLO");
          const hello = this.parseHello(frame.payload);
          if (typeof hello === "string") return refuse(hello);
          from = hello.from;
          // A node we have no address for (it joined by dialing us): dial it back.
          if (!this.outbound.has(hello.from) && hello.listen && !this.closed) {
            const peer = new OutboundPeer(hello.from, hello.listen, this.backoffMsMin);
            this.outbound.set(hello.from, peer);
            this.connect(peer);
            this.onPeerDiscovered(hello.from, hello.listen);
          }
          clearTimeout(handshakeTimer);
          for (const part of encodeFrame(HELLO_ACK, Buffer.from([1, 0, 0]))) socket.write(part);
          continue;
        }
        if (frame.type !== BATCH) continue;
        if (!this.deliverBatch(from, frame.payload)) {
          this.options.logger.warn({ peer: from }, "malformed batch from peer; closing");
          socket.destroy();
          return;
        }
        const now = performance.now();
        if (now - lastPongMs >= this.peerSilenceMsMax / 6) {
          lastPongMs = now;
          for (const part of encodeFrame(PONG, Buffer.alloc(0))) socket.write(part);
        }
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(handshakeTimer);
      this.inbound.delete(socket);
    });
  }

  private parseHello(payload: Buffer): { from: number; listen: PeerAddress | undefined } | string {
    if (payload.byteLength < 4) return "malformed HELLO";
    const version = payload.readUInt16BE(0);
    if (version !== PROTOCOL_VERSION) return `unsupported protocol version ${version}`;
    const clusterLength = payload.readUInt16BE(2);
    if (payload.byteLength < 4 + clusterLength + 10) return "malformed HELLO";
    const listenLength = payload.readUInt16BE(12 + clusterLength);
    if (payload.byteLength !== 14 + clusterLength + listenLength) return "malformed HELLO";
    const listenText = payload.subarray(14 + clusterLength).toString("utf8");
    const match = /^(.+):(\d+)$/.exec(listenText);
    const listen = match && Number(match[2]) > 0 && Number(match[2]) < 65536 && !["0.0.0.0", "::"].includes(match[1]) ? { host: match[1], port: Number(match[2]) } : undefined;
    const clusterId = payload.subarray(4, 4 + clusterLength).toString("utf8");
    const from = payload.readUInt32BE(4 + clusterLength);
    const to = payload.readUInt32BE(8 + clusterLength);
    if (clusterId !== this.options.clusterId) return `cluster id ${clusterId} is not ours (${this.options.clusterId})`;
    if (to !== this.options.nodeId) return `this is node ${this.options.nodeId}, not node ${to}`;
    if (from === this.options.nodeId) return "a node cannot connect to itself";
    return { from, listen };
  }

  private deliverBatch(from: number, payload: Buffer): boolean {
    const stats = this.outbound.get(from)?.stats;
    if (stats) stats.bytesIn += payload.byteLength + 5;
    let position = 0;
    while (position < payload.byteLength) {
      if (position + 2 > payload.byteLength) return false;
      const groupLength = payload.readUInt16BE(position);
      position += 2;
      if (position + groupLength + 4 > payload.byteLength) return false;
      const groupId = payload.subarray(position, position + groupLength).toString("utf8");
      position += groupLength;
      const length = payload.readUInt32BE(position);
      position += 4;
      if (position + length > payload.byteLength) return false;
      const message = payload.subarray(position, position + length);
      position += length;
      if (stats) stats.messagesIn++;
      try {
        this.onMessage(from, groupId, message);
      } catch (error) {
        this.options.logger.error({ peer: from, groupId, err: error }, "message handler failed");
      }
    }
    return true;
  }

  private closePeer(peer: OutboundPeer): void {
    clearTimeout(peer.reconnectTimer);
    peer.socket?.destroy();
    peer.socket = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.livenessTimer);
    for (const peer of this.outbound.values()) this.closePeer(peer);
    for (const socket of this.inbound) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
