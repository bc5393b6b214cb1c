// Typed errors of the TypeScript ZooKeeper client. Every failure a caller can see is a
// ZooKeeperError carrying the protocol's code (`KeeperException.Code`), so callers can branch with
// `instanceof NoNodeError` or on `error.code`. The codes callers and the recipes handle most have
// their own classes; the rest arrive as a plain ZooKeeperError with the right code and name.
//
// Two client-side failures have no server code of their own and borrow ZooKeeper's: a request
// that outlived its per-request timeout is RequestTimeout (-122, what the Java client's
// `zookeeper.request.timeout` raises), and a request refused because the bounded outgoing queue
// is full is Throttled (-127, the server's own word for "too many requests").
import { ErrorCode, errorName } from "../protocol/errors.js";

export class ZooKeeperError extends Error {
  override name = "ZooKeeperError";
  /** The ZooKeeper error code (negative; see ErrorCode). */
  readonly code: number;
  /** The path the request was about, when it had one (without any chroot). */
  readonly path: string | undefined;

  constructor(code: number, path?: string, detail?: string) {
    super(`${errorName(code)} (${code})${path !== undefined ? ` for ${path}` : ""}${detail ? `: ${detail}` : ""}`);
    this.code = code;
    this.path = path;
  }

  /** The code's display name, as the Java client prints it ("NoNode"). */
  get codeName(): string {
    return errorName(this.code);
  }
}

export class NoNodeError extends ZooKeeperError {
  override name = "NoNodeError";
}
export class NodeExistsError extends ZooKeeperError {
  override name = "NodeExistsError";
}
export class BadVersionError extends ZooKeeperError {
  override name = "BadVersionError";
}
export class NotEmptyError extends ZooKeeperError {
  override name = "NotEmptyError";
}
export class NoAuthError extends ZooKeeperError {
  override name = "NoAuthError";
}
export class NoChildrenForEphemeralsError extends ZooKeeperError {
  override name = "NoChildrenForEphemeralsError";
}
export class InvalidACLError extends ZooKeeperError {
  override name = "InvalidACLError";
}
export class BadArgumentsError extends ZooKeeperError {
  override name = "BadArgumentsError";
}
export class UnimplementedError extends ZooKeeperError {
  override name = "UnimplementedError";
}
export class NoWatcherError extends ZooKeeperError {
  override name = "NoWatcherError";
}
export class AuthFailedError extends ZooKeeperError {
  override name = "AuthFailedError";
}

/**
 * The connection broke while the request was in flight (or before it could be sent and the
 * client gave up). The outcome of an in-flight write is UNKNOWN: it may have been applied.
 * Recipes retry idempotently; a caller of raw writes must check before retrying.
 */
export class ConnectionLossError extends ZooKeeperError {
  override name = "ConnectionLossError";
}

/**
 * The session is gone: the server answered a reconnect with timeOut 0, or (`local`) the client
 * was disconnected for longer than the negotiated session timeout, after which every server must
 * have expired it. The session's ephemeral nodes are (or will shortly be) deleted. Terminal: the
 * client object is finished and a new client must be created.
 */
export class SessionExpiredError extends ZooKeeperError {
  override name = "SessionExpiredError";
  constructor(
    /** True when the client concluded expiry itself (disconnected past the session timeout). */
    readonly local: boolean,
    path?: string,
  ) {
    super(ErrorCode.sessionExpired, path, local ? "disconnected longer than the session timeout" : "the server expired the session");
  }
}

/** The request outlived its `timeoutMs`. If it had been sent, its outcome is UNKNOWN. */
export class RequestTimeoutError extends ZooKeeperError {
  override name = "RequestTimeoutError";
}

/** The bounded outgoing queue is full (backpressure): retry later or slow down. */
export class QueueFullError extends ZooKeeperError {
  override name = "QueueFullError";
}

/** The client was closed by its owner; nothing more will be sent. */
export class ClientClosedError extends ZooKeeperError {
  override name = "ClientClosedError";
  constructor(path?: string) {
    super(ErrorCode.connectionLoss, path, "the client is closed");
  }
}

/** One op of a multi failed: nothing was applied. `results` has the per-op outcome. */
export class MultiError extends ZooKeeperError {
  override name = "MultiError";
  constructor(
    code: number,
    /** Index of the op that failed. */
    readonly failedIndex: number,
    /** The typed error of the failed op. */
    readonly failure: ZooKeeperError,
  ) {
    super(code, failure.path, `multi op ${failedIndex} failed`);
  }
}

type ErrorClass = new (code: number, path?: string, detail?: string) => ZooKeeperError;

const CLASSES = new Map<number, ErrorClass>([
  [ErrorCode.noNode, NoNodeError],
  [ErrorCode.nodeExists, NodeExistsError],
  [ErrorCode.badVersion, BadVersionError],
  [ErrorCode.notEmpty, NotEmptyError],
  [ErrorCode.noAuth, NoAuthError],
  [ErrorCode.noChildrenForEphemerals, NoChildrenForEphemeralsError],
  [ErrorCode.invalidACL, InvalidACLError],
  [ErrorCode.badArguments, BadArgumentsError],
  [ErrorCode.unimplemented, UnimplementedError],
  [ErrorCode.noWatcher, NoWatcherError],
  [ErrorCode.authFailed, AuthFailedError],
  [ErrorCode.connectionLoss, ConnectionLossError],
  [ErrorCode.requestTimeout, RequestTimeoutError],
  [ErrorCode.throttledOp, QueueFullError],
]);

/** The typed error for a server reply's code (never called with 0). */
export function errorFromCode(code: number, path?: string): ZooKeeperError {
  if (code === ErrorCode.sessionExpired) return new SessionExpiredError(false, path);
  const Class = CLASSES.get(code) ?? ZooKeeperError;
  return new Class(code, path);
}
