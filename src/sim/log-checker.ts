// A Jepsen-style checker for Kafka-like logs (after jepsen-io/jepsen tests/kafka.clj): given what
// producers sent (and which sends were acknowledged, at which offsets), what the partitions finally
// hold, and what consumers polled, it counts every anomaly class separately so a test can assert
// each is zero and print examples when one is not. It records only observable history.
//
//   lost              an acknowledged value is missing from the final log
//   duplicated        a value appears at more than one offset in the final log
//   inconsistentOffset an acknowledged value was reported at offset o but the log has it elsewhere,
//                     or two different values were observed at one offset
//   reordered         two values acknowledged in order by one producer on one partition appear in
//                     the log in the opposite order
//   gap               the final log's offsets are not dense (o, o+1, ...)
//   unknownValue      the log or a poll holds a value nobody sent (an aborted or invented read)
//   skipped           a consumer group consumed offset o+k after o while o+1..o+k-1 exist and no
//                     member of the group ever consumed them
//   nonMonotonicPoll  one consumer, on one partition, saw offsets go backwards without a rebalance
//   reconsumed        an offset a group had committed was delivered to the group again (at-least-
//                     once redelivery; allowed in general, asserted zero where commits are synchronous)

export interface SendRecord {
  producer: string;
  partition: number;
  value: string;
  /** True when the broker acknowledged the send. Unacknowledged sends may or may not be present. */
  acknowledged: boolean;
  /** Offset the broker reported, when acknowledged. */
  offset?: number;
}

export interface LogRecord {
  offset: number;
  value: string;
}

export interface PollRecord {
  consumer: string;
  partition: number;
  offset: number;
  value: string;
  /** Increments when the consumer's assignment changes (a rebalance); resets monotonicity. */
  generation?: number;
}

export interface LogHistory {
  sends: SendRecord[];
  /** partition → the complete final contents, read from the log start. */
  finalLog: Map<number, LogRecord[]>;
  /** group → polls by its members, in the order each member saw them. */
  polls?: Map<string, PollRecord[]>;
  /** group → partition → the last offset the group committed (exclusive, Kafka style). */
  committed?: Map<string, Map<number, number>>;
}

export type AnomalyKind =
  | "lost"
  | "duplicated"
  | "inconsistentOffset"
  | "reordered"
  | "gap"
  | "unknownValue"
  | "skipped"
  | "nonMonotonicPoll"
  | "reconsumed";

export interface LogCheckResult {
  counts: Record<AnomalyKind, number>;
  /** Up to 5 examples per kind, human-readable. */
  examples: Record<AnomalyKind, string[]>;
  acknowledged: number;
  presentInLog: number;
  ok: boolean;
}

const KINDS: AnomalyKind[] = ["lost", "duplicated", "inconsistentOffset", "reordered", "gap", "unknownValue", "skipped", "nonMonotonicPoll", "reconsumed"];

export function checkLogHistory(history: LogHistory, options: { allowReconsumed?: boolean } = {}): LogCheckResult {
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  const examples = Object.fromEntries(KINDS.map((k) => [k, [] as string[]])) as Record<AnomalyKind, string[]>;
  const note = (kind: AnomalyKind, text: string): void => {
    counts[kind]++;
    if (examples[kind].length < 5) examples[kind].push(text);
  };

  const sent = new Map<string, SendRecord>();
  for (const s of history.sends) sent.set(`${s.partition}/${s.value}`, s);

  // Where each value sits in the final log, per partition; density and duplicates.
  const position = new Map<string, number>();
  let presentInLog = 0;
  for (const [partition, records] of history.finalLog) {
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (i > 0 && r.offset !== records[i - 1].offset + 1) note("gap", `partition ${partition}: offset ${records[i - 1].offset} then ${r.offset}`);
      const key = `${partition}/${r.value}`;
      if (!sent.has(key)) note("unknownValue", `partition ${partition} offset ${r.offset}: ${r.value}`);
      if (position.has(key)) note("duplicated", `partition ${partition}: ${r.value} at ${position.get(key)} and ${r.offset}`);
      else position.set(key, r.offset);
      presentInLog++;
    }
  }

  let acknowledged = 0;
  const byProducer = new Map<string, SendRecord[]>();
  for (const s of history.sends) {
    if (!s.acknowledged) continue;
    acknowledged++;
    const key = `${s.partition}/${s.value}`;
    const at = position.get(key);
    if (at === undefined) {
      note("lost", `partition ${s.partition}: ${s.value} (acknowledged at ${s.offset ?? "?"})`);
      continue;
    }
    if (s.offset !== undefined && s.offset !== at) note("inconsistentOffset", `partition ${s.partition}: ${s.value} acknowledged at ${s.offset}, found at ${at}`);
    const list = byProducer.get(`${s.producer}/${s.partition}`) ?? [];
    list.push(s);
    byProducer.set(`${s.producer}/${s.partition}`, list);
  }
  for (const [key, list] of byProducer) {
    let previous = -1;
    let previousValue = "";
    for (const s of list) {
      const at = position.get(`${s.partition}/${s.value}`)!;
      if (at < previous) note("reordered", `${key}: ${previousValue}@${previous} acknowledged before ${s.value}@${at}`);
      previous = Math.max(previous, at);
      previousValue = s.value;
    }
  }

  checkPolls(history, position, note, options);
  return { counts, examples, acknowledged, presentInLog, ok: KINDS.every((k) => counts[k] === 0 || (k === "reconsumed" && options.allowReconsumed)) };
}

function checkPolls(
  history: LogHistory,
  position: Map<string, number>,
  note: (kind: AnomalyKind, text: string) => void,
  options: { allowReconsumed?: boolean },
): void {
  const valueAt = new Map<string, string>();
  for (const [partition, records] of history.finalLog) for (const r of records) valueAt.set(`${partition}@${r.offset}`, r.value);
  for (const [group, polls] of history.polls ?? []) {
    const consumedOffsets = new Map<number, Set<number>>();
    const lastSeen = new Map<string, { offset: number; generation: number }>();
    const committed = history.committed?.get(group);
    const seenCount = new Map<string, number>();
    for (const p of polls) {
      const logValue = valueAt.get(`${p.partition}@${p.offset}`);
      if (logValue !== undefined && logValue !== p.value) note("inconsistentOffset", `group ${group}: ${p.consumer} polled ${p.value} at ${p.partition}@${p.offset}, log has ${logValue}`);
      if (logValue === undefined && !position.has(`${p.partition}/${p.value}`)) note("unknownValue", `group ${group}: ${p.consumer} polled ${p.value} at ${p.partition}@${p.offset}`);
      const key = `${p.consumer}/${p.partition}`;
      const last = lastSeen.get(key);
      const generation = p.generation ?? 0;
      if (last && last.generation === generation && p.offset <= last.offset) note("nonMonotonicPoll", `${p.consumer} on ${p.partition}: ${last.offset} then ${p.offset}`);
      lastSeen.set(key, { offset: p.offset, generation });
      const set = consumedOffsets.get(p.partition) ?? new Set<number>();
      set.add(p.offset);
      consumedOffsets.set(p.partition, set);
      const seenKey = `${p.partition}@${p.offset}`;
      seenCount.set(seenKey, (seenCount.get(seenKey) ?? 0) + 1);
      if (!options.allowReconsumed && (seenCount.get(seenKey) ?? 0) > 1 && committed !== undefined && p.offset < (committed.get(p.partition) ?? -1)) {
        note("reconsumed", `group ${group}: ${p.partition}@${p.offset} delivered again below committed ${committed.get(p.partition)}`);
      }
    }
    for (const [partition, offsets] of consumedOffsets) {
      const records = history.finalLog.get(partition) ?? [];
      const max = Math.max(...offsets);
      for (const r of records) {
        if (r.offset > max) break;
        if (!offsets.has(r.offset) && r.offset >= Math.min(...offsets)) note("skipped", `group ${group}: partition ${partition} offset ${r.offset} never consumed (max consumed ${max})`);
      }
    }
  }
}

export function formatLogCheck(result: LogCheckResult): string {
  const lines = [`acknowledged ${result.acknowledged}, records in final log ${result.presentInLog}`];
  for (const kind of KINDS) {
    lines.push(`${kind}: ${result.counts[kind]}${result.examples[kind].length ? ` — e.g. ${result.examples[kind].join("; ")}` : ""}`);
  }
  return lines.join("\n");
}
