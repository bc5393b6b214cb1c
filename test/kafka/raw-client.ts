// A minimal Kafka protocol client for tests that need to send exactly the bytes they mean:
// malformed frames, precise versions, duplicate batches. It speaks through our own codec.
import { createConnection, type Socket } from "node:net";
import { LengthPrefixedReader } from "../../src/util/frame-reader.js";
import { decodeResponse, encodeRequest } from "../../src/kafka/protocol/request.js";

export class RawKafkaClient {
  private readonly reader = new LengthPrefixedReader(256 * 2 ** 20);
  private readonly frames: Buffer[] = [];
  private waiting: Array<(frame: Buffer | undefined) => void> = [];
  private correlationId = 1;
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        const waiter = this.waiting.shift();
        if (waiter) waiter(frame);
        else this.frames.push(frame);
      }
    });
    socket.on("error", () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on("close", () => {
        this.closed = true;
        for (const w of this.waiting.splice(0)) w(undefined);
        resolve();
      }),
    );
  }

  static async connect(bootstrap: string): Promise<RawKafkaClient> {
    const [host, port] = bootstrap.split(":");
    const socket = createConnection({ host, port: Number(port) });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawKafkaClient(socket);
  }

  /** Sends raw bytes (a whole frame, size prefix included, or garbage). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response frame, or undefined when the connection closes first. */
  nextFrame(timeoutMs = 5000): Promise<Buffer | undefined> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no response")), timeoutMs);
      this.waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Sends a request through our codec and decodes the response body. */
  async request<T = unknown>(apiKey: number, apiVersion: number, body: unknown): Promise<T> {
    const correlationId = this.correlationId++;
    this.write(encodeRequest(apiKey, apiVersion, correlationId, "raw-test", body));
    const frame = await this.nextFrame();
    if (!frame) throw new Error("connection closed instead of a response");
    const decoded = decodeResponse(apiKey, apiVersion, frame);
    if (decoded.correlationId !== correlationId) throw new Error(`correlation ${decoded.correlationId} != ${correlationId}`);
    return decoded.body as T;
  }

  close(): void {
    this.socket.destroy();
  }
}
