// Readable one-line descriptions of messages and the trace line format (`npm run sim -- --trace`).
import type { Message } from "../paxos/messages.js";
import { formatBallot } from "../paxos/types.js";

const REASONS = ["ballot", "sticky", "mismatch", "recovering", "behind"];

export function describeMessage(m: Message): string {
  const head = `n${m.from}→n${m.to} ${m.type} b=${formatBallot(m.ballot)}`;
  switch (m.type) {
    case "preVote":
      return `${head} commit=${m.commitSlot} last=${m.lastSlot}`;
    case "preVoteReply":
      return `${head} ${m.granted ? "granted" : "refused"}`;
    case "prepare":
      return `${head} from=${m.fromSlot}${m.force ? " force" : ""}`;
    case "promise":
      return `${head} commit=${m.commitSlot} entries=${m.entries.length > 0 ? `${m.entries[0].slot}..${m.entries[m.entries.length - 1].slot}` : "none"}${m.truncated ? " truncated" : ""}`;
    case "accept":
      return `${head} prev=${m.prevSlot} entries=${m.entries.length > 0 ? `${m.prevSlot + 1}..${m.prevSlot + m.entries.length}` : "none"} commit=${m.leaderCommit}`;
    case "accepted":
      return `${head} matched=${m.matchedSlot} commit=${m.commitSlot}`;
    case "reject":
      return `${head} ${m.rejected}:${REASONS[m.reason]} promised=${formatBallot(m.promisedBallot)} commit=${m.commitSlot} matched=${m.matchedSlot}`;
    case "heartbeat":
      return `${head} commit=${m.leaderCommit} round=${m.round}`;
    case "heartbeatAck":
      return `${head} round=${m.round} matched=${m.matchedSlot}`;
    case "timeoutNow":
      return head;
  }
}

export function traceLine(timeMs: number, text: string): string {
  return `${timeMs.toFixed(1).padStart(9)}ms  ${text}`;
}
