// Renders a checker result as plain text for a failing test or a simulator seed: the verdict, and
// for each illegal partition the longest linearizable prefix the search found, the state after
// it, the operation that could not be placed after it, and what the model says about each
// operation that was a candidate at that point.
import type { LinearizabilityResult, PartitionResult } from "./checker.js";
import { ILLEGAL, type Model, type Operation } from "./model.js";

export interface ReportOptions {
  /** Most prefix operations listed per illegal partition (the latest ones); default 20. */
  prefixShownMax?: number;
  /** Most candidate operations listed per illegal partition; default 20. */
  candidatesShownMax?: number;
}

export function formatReport<S, I, O>(
  model: Model<S, I, O>,
  result: LinearizabilityResult<S, I, O>,
  options: ReportOptions = {},
): string {
  const counts = { ok: 0, illegal: 0, unknown: 0 };
  for (const partition of result.partitions) counts[partition.verdict]++;
  const lines = [
    `linearizability: ${result.verdict.toUpperCase()} — ${result.operationCount} operations in ` +
      `${result.partitions.length} partition(s) (${counts.ok} ok, ${counts.illegal} illegal, ${counts.unknown} unknown); ` +
      `${result.steps} steps, ${result.elapsedMs.toFixed(1)} ms`,
  ];
  if (result.verdict === "unknown") {
    lines.push(`  budget exhausted (${result.unknownReason}): budgetSteps=${result.budget.steps}, ` +
      `budgetMs=${result.budget.ms}, cacheBytesMax=${result.budget.cacheBytesMax}; this is NOT an ok`);
  }
  for (const partition of result.partitions) {
    if (partition.verdict === "unknown") {
      lines.push(`partition ${partition.index} (${partition.operations.length} operations): unknown (${partition.unknownReason}) after ${partition.steps} steps`);
    }
    if (partition.verdict === "illegal") lines.push(...describeIllegal(model, partition, options));
  }
  return lines.join("\n");
}

function describeIllegal<S, I, O>(model: Model<S, I, O>, partition: PartitionResult<S, I, O>, options: ReportOptions): string[] {
  const prefixShownMax = options.prefixShownMax ?? 20;
  const candidatesShownMax = options.candidatesShownMax ?? 20;
  const { operations } = partition;
  const diagnostic = partition.illegal!;
  const { longestPrefix, stateAfterPrefix, stuck } = diagnostic;
  const lines = [`partition ${partition.index} (${operations.length} operations): ILLEGAL`];
  lines.push(`  longest linearizable prefix found: ${longestPrefix.length} of ${operations.length} operations`);
  const hidden = Math.max(0, longestPrefix.length - prefixShownMax);
  if (hidden > 0) lines.push(`    … ${hidden} earlier operations`);
  for (let i = hidden; i < longestPrefix.length; i++) {
    lines.push(`    ${i + 1}. ${describeOperation(model, operations[longestPrefix[i]])}`);
  }
  lines.push(`  state after the prefix: ${describeState(model, stateAfterPrefix)}`);
  const stuckOperation = operations[stuck];
  lines.push(`  cannot linearize: ${describeOperation(model, stuckOperation)}`);
  lines.push(`    it returned at ${stuckOperation.return}, so it must come before anything called later; from the state`);
  lines.push(`    above, the operations that were candidates to come next:`);
  const inPrefix = new Set(longestPrefix);
  const candidates = operations
    .map((operation, index) => ({ operation, index }))
    .filter(({ operation, index }) => !inPrefix.has(index) && operation.call <= stuckOperation.return);
  for (const { operation } of candidates.slice(0, candidatesShownMax)) {
    const legal = model.step(stateAfterPrefix, operation.input, operation.output) !== ILLEGAL;
    lines.push(`    ${legal ? "legal next, but a dead end:" : "illegal next:           "} ${describeOperation(model, operation)}`);
  }
  if (candidates.length > candidatesShownMax) lines.push(`    … ${candidates.length - candidatesShownMax} more candidates`);
  return lines;
}

function describeOperation<S, I, O>(model: Model<S, I, O>, operation: Operation<I, O>): string {
  const text = model.describeOperation
    ? model.describeOperation(operation.input, operation.output)
    : `${JSON.stringify(operation.input)} → ${operation.output === undefined ? "?" : JSON.stringify(operation.output)}`;
  const returned = operation.return === Infinity ? "∞" : String(operation.return);
  return `[client ${operation.clientId} @ ${operation.call}..${returned}] ${text}`;
}

function describeState<S, I, O>(model: Model<S, I, O>, state: S): string {
  return model.describeState ? model.describeState(state) : JSON.stringify(state);
}
