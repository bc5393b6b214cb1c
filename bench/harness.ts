// The benchmark convention: a benchmark is a script under bench/ that prints exactly ONE JSON line
// of figures on stdout (progress goes to stderr), so results can be collected and compared by
// machine. `npm run bench -- <name>` runs dist/bench/<name>.js. Results worth keeping are recorded
// in docs/benchmarks.md with the machine and the exact command.
import { cpus, totalmem, platform, release } from "node:os";

export interface BenchFigures {
  [figure: string]: number | string | boolean | null | BenchFigures | Array<number | string>;
}

/** Prints the one JSON line: the bench name, the machine, and the figures. */
export function report(bench: string, figures: BenchFigures): void {
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
  process.stdout.write(JSON.stringify({ bench, at: new Date().toISOString(), machine, ...figures }) + "\n");
}

/** Progress and notes for humans, on stderr so stdout stays one JSON line. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Parses `--name value` and `--flag` arguments into a map. */
export function parseArgs(argv: string[] = process.argv.slice(2)): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      args.set(arg.slice(2), next);
      i++;
    } else {
      args.set(arg.slice(2), "true");
    }
  }
  return args;
}

/** Percentile of a sorted-in-place numeric array (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank];
}
