// A TCP server for request/response protocols with length-prefixed frames (Kafka, ZooKeeper).
// It owns what both front-ends need and must get right once:
//   - responses leave in request order per connection, even when later requests finish first
//     (clients pipeline; kafka-python and librdkafka rely on order, node-zookeeper-client kills
//     the socket on an xid mismatch);
//   - bounded work per connection: at most `inflightRequestsMax` requests or `inflightBytesMax`
//     request bytes outstanding; beyond that the server stops reading the socket (TCP
//     backpressure) instead of queueing without limit; same when the socket's write buffer is full;
//   - frame limits enforced before allocating; a violation logs once and closes the connection;
//   - a protocol may also push unsolicited frames (ZooKeeper watch notifications).
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "./logger.js";
import { FrameTooLargeError, LengthPrefixedReader } from "./frame-reader.js";

export interface FramedServerOptions {
  name: string;
  host: string;
  port: number;
  logger: Logger;
  frameBytesMax: number;
  /** Smallest acceptable frame (e.g. a request header's size). Default 0. */
  frameBytesMin?: number;
  /** Outstanding requests per connection before reading pauses (default 1000). */
  inflightRequestsMax?: number;
  /** Outstanding request bytes per connection before reading pauses (default 64 MiB). */
  inflightBytesMax?: number;
  /** Connections at most; beyond it new connections are closed at once (default 10,000). */
  connectionsMax?: number;
  /**
   * Coalesce a connection's writes within one tick into one writev (cork now, uncork on the next
   * tick). For protocols that answer many small requests in bursts (ZooKeeper replies resolved
   * inside one apply batch). Default false.
   */
  coalesceWrites?: boolean;
  /** Called per connection; returns the protocol's handler for it. */
  accept(connection: FramedConnection): ConnectionHandler;
  /**
   * Optional look at a connection's first bytes before framing starts (ZooKeeper's four-letter
   * words arrive where the first frame's length would be). The server waits for `bytes` bytes
   * (or fewer if the peer half-closes), then calls `decide`: "frames" feeds them to the frame
   * reader as usual; "handled" means the protocol took the connection over (it answers on
   * `connection.socket` and closes it), and the server reads nothing more from it.
   */
  sniff?: { bytes: number; decide(firstBytes: Buffer, connection: FramedConnection): "frames" | "handled" };
}

export interface ConnectionHandler {
  /** A complete request frame (without the length prefix). Must reserve its reply slot synchronously. */
  onFrame(frame: Buffer, slot: ReplySlot): void;
  onClose?(): void;
}

/** The place of one request's response in the connection's response order. */
export interface ReplySlot {
  /** Sends the response (the length prefix is added here) or nothing (null: e.g. Kafka acks=0). */
  resolve(response: Buffer | readonly Buffer[] | null): void;
}

interface PendingSlot extends ReplySlot {
  done: boolean;
  response: readonly Buffer[] | null;
  requestBytes: number;
}

export class FramedConnection {
  private readonly pending: PendingSlot[] = [];
  private inflightBytes = 0;
  private closed = false;
  private paused = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly id: number;
  /** Free-form per-connection state for the protocol (session, auth, client id...). */
  context: Record<string, unknown> = {};
  /** Set by the server: dispatches backlogged frames when capacity frees up. */
  onProgress: () => void = () => undefined;
  private corked = false;

  constructor(
    readonly socket: Socket,
    id: number,
    private readonly limits: { inflightRequestsMax: number; inflightBytesMax: number; coalesceWrites?: boolean },
    private readonly onBackpressureChange: () => void,
  ) {
    this.id = id;
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.remotePort = socket.remotePort ?? 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Reserves the next response position. */
  reserve(requestBytes: number): ReplySlot {
    const slot: PendingSlot = {
      done: false,
      response: null,
      requestBytes,
      resolve: (response) => {
        if (slot.done) return;
        slot.done = true;
        slot.response = response === null ? null : Buffer.isBuffer(response) ? [response] : (response as readonly Buffer[]);
        this.drain();
      },
    };
    this.pending.push(slot);
    this.inflightBytes += requestBytes;
    return slot;
  }

  /** Writes an unsolicited frame now (ahead of responses still being computed). */
  push(frame: Buffer | readonly Buffer[]): void {
    if (this.closed) return;
    this.writeFrame(Buffer.isBuffer(frame) ? [frame] : (frame as readonly Buffer[]));
  }

  private writeFrame(parts: readonly Buffer[]): void {
    let length = 0;
    for (const p of parts) length += p.byteLength;
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(length, 0);
    if (this.limits.coalesceWrites) {
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(prefix);
      for (const p of parts) this.socket.write(p);
      return;
    }
    if (parts.length === 1 && parts[0].byteLength < 16 * 1024) {
      this.socket.write(Buffer.concat([prefix, parts[0]]));
      return;
    }
    this.socket.cork();
    this.socket.write(prefix);
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  }

  private drain(): void {
    while (this.pending.length > 0 && this.pending[0].done) {
      const slot = this.pending.shift()!;
      this.inflightBytes -= slot.requestBytes;
      if (!this.closed && slot.response !== null) this.writeFrame(slot.response);
    }
    this.onBackpressureChange();
  }

  /** True when the connection should stop reading (too much outstanding work or output). */
  get overloaded(): boolean {
    return this.pending.length >= this.limits.inflightRequestsMax || this.inflightBytes >= this.limits.inflightBytesMax || this.socket.writableNeedDrain;
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused || this.closed) return;
    this.paused = paused;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  /** Closes after flushing what is already written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  markClosed(): void {
    this.closed = true;
  }
}

export interface FramedServer {
  readonly port: number;
  readonly connections: ReadonlySet<FramedConnection>;
  close(): Promise<void>;
}

export async function startFramedServer(options: FramedServerOptions): Promise<FramedServer> {
  const limits = {
    inflightRequestsMax: options.inflightRequestsMax ?? 1000,
    inflightBytesMax: options.inflightBytesMax ?? 64 * 2 ** 20,
    coalesceWrites: options.coalesceWrites ?? false,
  };
  const connectionsMax = options.connectionsMax ?? 10_000;
  const connections = new Set<FramedConnection>();
  let nextId = 1;
  const server: Server = createServer((socket) => {
    if (connections.size >= connectionsMax) {
      options.logger.warn({ protocol: options.name, remote: socket.remoteAddress, connectionsMax }, "too many connections; refusing");
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const reader = new LengthPrefixedReader(options.frameBytesMax, options.frameBytesMin ?? 0);
    const connection: FramedConnection = new FramedConnection(socket, nextId++, limits, () => connection.onProgress());
    connections.add(connection);
    let handler: ConnectionHandler;
    try {
      handler = options.accept(connection);
    } catch (error) {
      options.logger.error({ protocol: options.name, err: error }, "connection setup failed");
      socket.destroy();
      connections.delete(connection);
      return;
    }
    // Frames already read but not yet dispatched because the connection is at its limit (at most
    // one socket read's worth: reading is paused meanwhile).
    const backlog: Buffer[] = [];
    const dispatch = (): void => {
      while (backlog.length > 0 && !connection.isClosed && !connection.overloaded) {
        const frame = backlog.shift()!;
        const slot = connection.reserve(frame.byteLength);
        try {
          handler.onFrame(frame, slot);
        } catch (error) {
          options.logger.error({ protocol: options.name, remote: connection.remoteAddress, err: error }, "request handler threw; closing connection");
          connection.markClosed();
          socket.destroy();
          return;
        }
      }
      connection.setPaused(connection.overloaded || backlog.length > 0);
    };
    connection.onProgress = dispatch;
    const sniff = options.sniff;
    // Bytes held until the sniff decides (at most sniff.bytes plus one read's worth).
    let sniffed: Buffer[] | undefined = sniff ? [] : undefined;
    let sniffedBytes = 0;
    const decideSniff = (): "frames" | "handled" => {
      const first = Buffer.concat(sniffed!);
      sniffed = undefined;
      let decision: "frames" | "handled";
      try {
        decision = sniff!.decide(first.subarray(0, sniff!.bytes), connection);
      } catch (error) {
        options.logger.error({ protocol: options.name, remote: connection.remoteAddress, err: error }, "sniff handler threw; closing connection");
        decision = "handled";
        socket.destroy();
      }
      if (decision === "handled") {
        socket.removeAllListeners("data");
        socket.resume();
        return decision;
      }
      onData(first);
      return decision;
    };
    const onData = (chunk: Buffer): void => {
      if (sniffed !== undefined) {
        sniffed.push(chunk);
        sniffedBytes += chunk.byteLength;
        if (sniffedBytes >= sniff!.bytes) decideSniff();
        return;
      }
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (error) {
        const detail = error instanceof FrameTooLargeError ? { frameBytes: error.frameBytes, frameBytesMax: error.frameBytesMax } : { err: error };
        options.logger.warn({ protocol: options.name, remote: connection.remoteAddress, ...detail }, "invalid frame size; closing connection");
        connection.markClosed();
        socket.destroy();
        return;
      }
      backlog.push(...frames);
      dispatch();
    };
    socket.on("data", onData);
    // A peer that sends fewer bytes than the sniff needs and half-closes (e.g. `echo -n ruok | nc`
    // with a short word) still gets a decision.
    socket.on("end", () => {
      if (sniffed !== undefined && sniffedBytes > 0) decideSniff();
    });
    socket.on("drain", () => connection.onProgress());
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNRESET" && error.code !== "EPIPE") options.logger.debug({ protocol: options.name, err: error }, "socket error");
    });
    socket.on("close", () => {
      connection.markClosed();
      connections.delete(connection);
      try {
        handler.onClose?.();
      } catch (error) {
        options.logger.error({ protocol: options.name, err: error }, "close handler threw");
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  options.logger.info({ protocol: options.name, host: options.host, port }, `${options.name} listening`);
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
