// placeholder, replaced below
export function runFlp(_options: { seed: number; durationMs: number; print: (line: string) => void }): number {
  return 0;
}
