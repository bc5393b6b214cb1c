// The production Clock: performance.now() for monotonic time (never steps, unlike Date.now(),
// which NTP may move), Date.now() for wall time.
import { performance } from "node:perf_hooks";
import type { Clock } from "../util/clock.js";

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};
