// The linearizability checker's public API: models, the history recorder, the checker and its
// report. Callers (the simulator, the ZooKeeper and Kafka tests) import from this module only.
export { ILLEGAL, partitionByKey, hashString, hashValue, mix32, describeValue } from "./model.js";
export type { Illegal, Model, Operation, Value } from "./model.js";
export { HistoryRecorder, RECORDER_OPERATIONS_MAX_DEFAULT } from "./history.js";
export type { OpId, HistoryRecorderOptions } from "./history.js";
export {
  checkLinearizability,
  HistoryError,
  BUDGET_STEPS_DEFAULT,
  BUDGET_MS_DEFAULT,
  CACHE_BYTES_MAX_DEFAULT,
} from "./checker.js";
export type {
  CheckOptions,
  IllegalDiagnostic,
  LinearizabilityResult,
  PartitionResult,
  UnknownReason,
  Verdict,
} from "./checker.js";
export { formatReport } from "./report.js";
export type { ReportOptions } from "./report.js";
export { registerModel, casRegisterModel } from "./models/register.js";
export type { RegisterInput, RegisterOutput, CasRegisterInput, CasRegisterOutput, RegisterOptions } from "./models/register.js";
export { kvModel } from "./models/kv.js";
export type { KvInput, KvOutput } from "./models/kv.js";
export { versionedRegisterModel, ANY_VERSION } from "./models/versioned-register.js";
export type {
  VersionedRegisterInput,
  VersionedRegisterOutput,
  VersionedRegisterOptions,
  VersionedState,
} from "./models/versioned-register.js";
export { logModel } from "./models/log.js";
export type { LogInput, LogOutput, LogEntry, LogState, LogModelOptions } from "./models/log.js";
