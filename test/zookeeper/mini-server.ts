// A deliberately small ZooKeeper endpoint for tests: real TCP, the real codecs, the real
// coordination state machine and watch manager, but no Paxos (commands are applied directly at
// increasing positions), no session expiry and no 4lw. It exists to check that the codecs and
// the state machine serve a real third-party client unchanged, to capture that client's frames
// as fixtures, and to show the connection handler the pieces are meant to compose into. It is
// NOT the server (src/zookeeper/ will host that, on the framed server and the runtime).
import { createServer, type Server, type Socket } from "node:net";
import { aclPermits } from "../../src/coord/acl.js";
import { encodeCommand, type CommandBody } from "../../src/coord/commands.js";
import { CoordStateMachine, type CoordApplyResult } from "../../src/coord/state-machine.js";
import { Perm, type Identity } from "../../src/coord/types.js";
import { WatchManager, type ConnectionId } from "../../src/coord/watches.js";
import { authenticateDigest } from "../../src/zookeeper/digest.js";
import { JuteReader, JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { decodeConnectRequest, encodeConnectResponse } from "../../src/zookeeper/protocol/connect.js";
import { KeeperState, OpCode, Xid } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { createFrameReader, lengthPrefixed } from "../../src/zookeeper/protocol/frame.js";
import type { MultiResult } from "../../src/zookeeper/protocol/multi.js";
import { RequestDecodeError, decodeRequest, encodeHeaderOnlyReply, encodeNotification, encodePingReply, encodeReply, type DecodedRequest } from "../../src/zookeeper/protocol/requests.js";
import { multiWriteOpOf, writeOpOf } from "../../src/zookeeper/protocol/to-command.js";

export interface CapturedFrame {
  op: number;
  hex: string;
}

interface Connection {
  id: ConnectionId;
  socket: Socket;
  sessionId: bigint;
  identities: Identity[];
}

export class MiniServer {
  readonly sm = new CoordStateMachine();
  readonly watches = new WatchManager();
  /** Every request frame received (after the handshake), for fixtures. */
  readonly captured: CapturedFrame[] = [];
  readonly connectRequests: string[] = [];
  private readonly server: Server;
  private readonly connections = new Map<ConnectionId, Connection>();
  private slot = 1;
  private nextConnection = 1;
  private nextSession = 1n;
  private readonly writer = new JuteWriter();

  constructor(private readonly superDigest?: string) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private apply(body: CommandBody, connection: Connection): CoordApplyResult {
    const command = { wallTimeMs: 1_700_000_000_000 + this.slot, sessionId: connection.sessionId, identities: connection.identities, body };
    const result = this.sm.apply(encodeCommand(command), { slot: this.slot++, index: 0 });
    // Watch notifications go out before the reply that shows the change (ZooKeeper's ordering guarantee).
    const canRead = (id: ConnectionId, acl: Parameters<typeof aclPermits>[0]): boolean => aclPermits(acl, Perm.read, this.connections.get(id)?.identities ?? []);
    for (const n of this.watches.trigger(result.events, canRead)) {
      const target = this.connections.get(n.connection);
      if (target) this.send(target, (w) => encodeNotification(w, { type: n.type, state: KeeperState.syncConnected, path: n.path }));
    }
    return result;
  }

  private send(connection: Connection, write: (w: JuteWriter) => void): void {
    this.writer.reset();
    write(this.writer);
    connection.socket.write(lengthPrefixed(this.writer.view()));
  }

  private accept(socket: Socket): void {
    const reader = createFrameReader();
    let connection: Connection | undefined;
    socket.on("data", (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (!connection) connection = this.handshake(socket, frame);
        else this.request(connection, frame);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      if (connection) {
        this.watches.removeConnection(connection.id);
        this.connections.delete(connection.id);
      }
    });
  }

  private handshake(socket: Socket, frame: Buffer): Connection {
    this.connectRequests.push(frame.toString("hex"));
    const request = decodeConnectRequest(new JuteReader(frame));
    const connection: Connection = { id: this.nextConnection++, socket, sessionId: 0n, identities: [{ scheme: "ip", id: socket.remoteAddress ?? "" }] };
    connection.sessionId = request.sessionId !== 0n ? request.sessionId : (1n << 56n) | this.nextSession++;
    if (request.sessionId === 0n) this.apply({ kind: "createSession", timeoutMs: request.timeOut }, connection);
    this.connections.set(connection.id, connection);
    const passwd = new Uint8Array(16).fill(7);
    this.send(connection, (w) => encodeConnectResponse(w, { protocolVersion: 0, timeOut: request.timeOut, sessionId: connection.sessionId, passwd, readOnly: request.readOnly === undefined ? undefined : false }));
    return connection;
  }

  private request(connection: Connection, frame: Buffer): void {
    let request: DecodedRequest;
    try {
      request = decodeRequest(frame);
    } catch (error) {
      if (!(error instanceof RequestDecodeError)) throw error;
      if (error.header && error.replyError !== undefined) this.send(connection, (w) => encodeHeaderOnlyReply(w, { xid: error.header!.xid, zxid: this.sm.lastZxid, err: error.replyError! }));
      connection.socket.end();
      return;
    }
    this.captured.push({ op: request.opCode, hex: frame.toString("hex") });
    this.serve(connection, request);
  }

  private reply(connection: Connection, request: DecodedRequest, err: number, body: unknown): void {
    this.send(connection, (w) => encodeReply(w, request.opCode, { xid: request.xid, zxid: this.sm.lastZxid, err }, body as never));
  }

  private serve(connection: Connection, request: DecodedRequest): void {
    const ids = connection.identities;
    switch (request.opCode) {
      case OpCode.ping:
        this.send(connection, (w) => encodePingReply(w, this.sm.lastZxid));
        return;
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.setACL:
      case OpCode.check: {
        const result = this.apply({ kind: "op", op: writeOpOf(request)! }, connection);
        const op = result.op;
        const body = op === undefined || op.type === 2 || op.type === 13 ? null : op.type === 1 ? { path: op.path } : op.type === 15 ? { path: op.path, stat: op.stat } : { stat: op.stat };
        this.reply(connection, request, result.err, body);
        return;
      }
      case OpCode.multi: {
        const result = this.apply({ kind: "multi", ops: request.body.ops.map(multiWriteOpOf) }, connection);
        this.reply(connection, request, 0, { results: result.multi as MultiResult[] });
        return;
      }
      case OpCode.sync:
        this.apply({ kind: "sync" }, connection);
        this.reply(connection, request, 0, { path: request.body.path });
        return;
      case OpCode.getData: {
        const read = this.sm.getData(request.body.path ?? "", ids);
        if (read.ok && request.body.watch) this.watches.addDataWatch(connection.id, request.body.path ?? "");
        this.reply(connection, request, read.ok ? 0 : read.err, read.ok ? read.value : null);
        return;
      }
      case OpCode.exists: {
        const read = this.sm.exists(request.body.path ?? "", ids);
        if ((read.ok || read.err === ErrorCode.noNode) && request.body.watch) this.watches.addDataWatch(connection.id, request.body.path ?? "");
        this.reply(connection, request, read.ok ? 0 : read.err, read.ok ? { stat: read.value } : null);
        return;
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const read = this.sm.getChildren(request.body.path ?? "", ids);
        if (read.ok && request.body.watch) this.watches.addChildWatch(connection.id, request.body.path ?? "");
        this.reply(connection, request, read.ok ? 0 : read.err, read.ok ? { children: [...read.value.children], stat: read.value.stat } : null);
        return;
      }
      case OpCode.getACL: {
        const read = this.sm.getACL(request.body.path ?? "", ids);
        this.reply(connection, request, read.ok ? 0 : read.err, read.ok ? { acl: [...read.value.acl], stat: read.value.stat } : null);
        return;
      }
      case OpCode.auth:
        if (request.body.scheme !== "digest" || request.body.auth === null) {
          this.send(connection, (w) => encodeHeaderOnlyReply(w, { xid: Xid.auth, zxid: 0n, err: ErrorCode.authFailed }));
          connection.socket.end();
          return;
        }
        connection.identities.push(...authenticateDigest(request.body.auth, this.superDigest));
        this.send(connection, (w) => encodeHeaderOnlyReply(w, { xid: Xid.auth, zxid: 0n, err: 0 }));
        return;
      case OpCode.setWatches: {
        const body = request.body;
        const replay = this.watches.setWatches(
          connection.id,
          body.relativeZxid,
          { dataWatches: (body.dataWatches ?? []) as string[], existWatches: (body.existWatches ?? []) as string[], childWatches: (body.childWatches ?? []) as string[] },
          (path) => this.sm.peekStat(path),
        );
        for (const n of replay) this.send(connection, (w) => encodeNotification(w, { type: n.type, state: KeeperState.syncConnected, path: n.path }));
        this.send(connection, (w) => encodeHeaderOnlyReply(w, { xid: Xid.setWatches, zxid: this.sm.lastZxid, err: 0 }));
        return;
      }
      case OpCode.closeSession:
        this.apply({ kind: "closeSession" }, connection);
        this.reply(connection, request, 0, null);
        connection.socket.end();
        return;
      default:
        this.reply(connection, request, ErrorCode.unimplemented, null);
        connection.socket.end();
    }
  }
}
