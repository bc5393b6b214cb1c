// A TCP relay between a client and a server, for fault tests that need to break ONE client's
// connection without touching the server or the other clients: real sockets both ways, and three
// faults an operator sees in production:
//   - cut():    reset every relayed connection (a server restart or a load balancer drop, as the
//               client sees it); new connections are relayed as before;
//   - freeze(): a partition: bytes stop flowing both ways and closes are not passed on, so the
//               server hears nothing from the client (and its session expires) while the client
//               hears nothing from the server; new connections are accepted but go nowhere;
//   - thaw():   heals a freeze; what was held back flows again (TCP would retransmit it).
// Needs no root and no iptables, so it runs anywhere the tests run.
import { connect, createServer, type Server, type Socket } from "node:net";

interface Pair {
  client: Socket;
  server: Socket | undefined;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  private portValue = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = proxy.server.address();
    proxy.portValue = typeof address === "object" && address ? address.port : 0;
    return proxy;
  }

  get port(): number {
    return this.portValue;
  }

  get connectString(): string {
    return `127.0.0.1:${this.portValue}`;
  }

  /** Connections currently relayed (or held, when frozen). */
  get connections(): number {
    return this.pairs.size;
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, server: undefined };
    this.pairs.add(pair);
    client.on("error", () => undefined);
    client.on("close", () => {
      if (!this.frozen) this.drop(pair);
    });
    if (this.frozen) {
      client.pause();
      return;
    }
    this.dial(pair);
  }

  private dial(pair: Pair): void {
    const server = connect({ host: this.targetHost, port: this.targetPort });
    pair.server = server;
    server.on("error", () => undefined);
    server.on("close", () => {
      if (!this.frozen) this.drop(pair);
    });
    pair.client.on("data", (chunk: Buffer) => {
      if (!server.destroyed) server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (!pair.client.destroyed) pair.client.write(chunk);
    });
    pair.client.resume();
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.server?.destroy();
  }

  /** Resets every relayed connection. */
  cut(): void {
    for (const pair of [...this.pairs]) this.drop(pair);
  }

  /** Stops all traffic both ways, holding connections open (a network partition). */
  freeze(): void {
    this.frozen = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.server?.pause();
    }
  }

  /**
   * Heals a freeze. Connections whose client side closed meanwhile are dropped now (the server
   * then sees the close, as after a partition heals); held new connections are relayed.
   */
  thaw(): void {
    this.frozen = false;
    for (const pair of [...this.pairs]) {
      if (pair.client.destroyed || pair.server?.destroyed) {
        this.drop(pair);
        continue;
      }
      if (pair.server === undefined) this.dial(pair);
      else {
        pair.client.resume();
        pair.server.resume();
      }
    }
  }

  async close(): Promise<void> {
    this.frozen = false;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
