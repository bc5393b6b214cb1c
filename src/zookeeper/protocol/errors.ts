// ZooKeeper's error codes (`KeeperException.Code`, 3.8), the one table the front-end maps every
// failure through. The coordination state machine uses the same numbers for its results
// (src/coord/errors.ts holds the subset it can produce; test/zookeeper/errors.test.ts checks that
// the two agree).

export const ErrorCode = {
  ok: 0,
  // System errors: below -1 and above APIError.
  systemError: -1,
  runtimeInconsistency: -2,
  dataInconsistency: -3,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  unknownSession: -12,
  newConfigNoQuorum: -13,
  reconfigInProgress: -14,
  // API errors: APIError and below.
  apiError: -100,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  invalidCallback: -113,
  invalidACL: -114,
  authFailed: -115,
  sessionMoved: -118,
  notReadOnly: -119,
  ephemeralOnLocalSession: -120,
  noWatcher: -121,
  requestTimeout: -122,
  reconfigDisabled: -123,
  sessionClosedRequireSaslAuth: -124,
  quotaExceeded: -125,
  throttledOp: -127,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** Display names as the Java client prints them (`KeeperException.Code` constant names, camel-cased). */
const DISPLAY_NAMES: Record<ErrorCodeName, string> = {
  ok: "OK",
  systemError: "SystemError",
  runtimeInconsistency: "RuntimeInconsistency",
  dataInconsistency: "DataInconsistency",
  connectionLoss: "ConnectionLoss",
  marshallingError: "MarshallingError",
  unimplemented: "Unimplemented",
  operationTimeout: "OperationTimeout",
  badArguments: "BadArguments",
  unknownSession: "UnknownSession",
  newConfigNoQuorum: "NewConfigNoQuorum",
  reconfigInProgress: "ReconfigInProgress",
  apiError: "APIError",
  noNode: "NoNode",
  noAuth: "NoAuth",
  badVersion: "BadVersion",
  noChildrenForEphemerals: "NoChildrenForEphemerals",
  nodeExists: "NodeExists",
  notEmpty: "NotEmpty",
  sessionExpired: "SessionExpired",
  invalidCallback: "InvalidCallback",
  invalidACL: "InvalidACL",
  authFailed: "AuthFailed",
  sessionMoved: "SessionMoved",
  notReadOnly: "NotReadOnly",
  ephemeralOnLocalSession: "EphemeralOnLocalSession",
  noWatcher: "NoWatcher",
  requestTimeout: "RequestTimeout",
  reconfigDisabled: "ReconfigDisabled",
  sessionClosedRequireSaslAuth: "SessionClosedRequireSaslAuth",
  quotaExceeded: "QuotaExceeded",
  throttledOp: "ThrottledOp",
};

const BY_VALUE = new Map<number, ErrorCodeName>(Object.entries(ErrorCode).map(([name, value]) => [value, name as ErrorCodeName]));

export function isKnownErrorCode(code: number): code is ErrorCodeValue {
  return BY_VALUE.has(code);
}

/** "NoNode" for -101; `Error<N>` for a code ZooKeeper does not define. */
export function errorName(code: number): string {
  const name = BY_VALUE.get(code);
  return name ? DISPLAY_NAMES[name] : `Error${code}`;
}

/** System errors (-1 … -99) are about the server or connection; API errors (≤ -100) about the request. */
export function isApiError(code: number): boolean {
  return code <= ErrorCode.apiError;
}
