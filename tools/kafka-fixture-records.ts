export function checkFixtureRecords(_relPath: string, _bytes: Buffer): string {
  return "";
}
