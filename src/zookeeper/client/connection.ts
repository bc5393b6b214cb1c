// One TCP connection of the client to one server: dial with a deadline, split the byte stream
// into frames (ZooKeeper's int32 length prefix, bounded by frameBytesMax BEFORE any allocation),
// and coalesce the frames written in one turn of the event loop into one writev (a pipelining
// caller that issues 100 requests in a loop costs one syscall, not 100). It knows nothing of
// sessions or xids: the client above it owns those. close() is idempotent and the onClose
// callback runs exactly once, whoever closed first.
import { connect, type Socket } from "node:net";
import { FrameTooLargeError, LengthPrefixedReader } from "../../util/frame-reader.js";
import { assert } from "../../util/assert.js";
import type { ServerAddress } from "./paths.js";

export interface ConnectionCallbacks {
  onFrame(frame: Buffer): void;
  /** Called once, after the socket is gone; `error` says why when it was not a clean close. */
  onClose(error: Error | undefined): void;
}

export class Connection {
  private readonly reader: LengthPrefixedReader;
  private closed = false;
  private corked = false;
  /** Bytes written since the last check (the client's ping timer reads and resets it). */
  bytesSentSinceMark = 0;

  private constructor(
    private readonly socket: Socket,
    readonly server: ServerAddress,
    frameBytesMax: number,
    private readonly callbacks: ConnectionCallbacks,
  ) {
    this.reader = new LengthPrefixedReader(frameBytesMax, 0);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.close(error));
    socket.on("close", () => this.close(undefined));
  }

  /** Dials `server`; rejects after `timeoutMs` or on a socket error. */
  static open(server: ServerAddress, options: { timeoutMs: number; frameBytesMax: number; callbacks: ConnectionCallbacks }): Promise<Connection> {
    assert(options.timeoutMs > 0, "connect timeout must be positive");
    return new Promise((resolve, reject) => {
      const socket = connect({ host: server.host, port: server.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${server.host}:${server.port} timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        resolve(new Connection(socket, server, options.frameBytesMax, options.callbacks));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued in the socket not yet handed to the kernel (backpressure signal). */
  get writableBytes(): number {
    return this.socket.writableLength;
  }

  /** Queues one frame (already length-prefixed); frames of the same tick leave in one writev. */
  send(frame: Buffer): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        if (!this.closed) this.socket.uncork();
      });
    }
    this.bytesSentSinceMark += frame.length;
    this.socket.write(frame);
  }

  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.callbacks.onClose(error);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        this.close(error);
        return;
      }
      throw error;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this.callbacks.onFrame(frame);
    }
  }
}
