// The result codes the coordination state machine produces. They are ZooKeeper's own numbers
// (`KeeperException.Code`), so the front-end forwards them to clients unchanged; the full table
// with names lives in src/zookeeper/protocol/errors.ts, and a test checks the two agree.
export const CoordError = {
  ok: 0,
  runtimeInconsistency: -2,
  marshallingError: -5,
  unimplemented: -6,
  badArguments: -8,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  sessionMoved: -118,
  invalidACL: -114,
} as const;
export type CoordErrorName = keyof typeof CoordError;
export type CoordErrorCode = (typeof CoordError)[CoordErrorName];
