// Znode paths: validation exactly as ZooKeeper's `PathUtils.validatePath` (3.8), and the small
// helpers the tree uses. Paths are JavaScript strings compared by UTF-16 code unit, as Java does.

/** Why a path is invalid, or undefined when it is valid. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return "path length must be > 0";
  if (path.charCodeAt(0) !== 0x2f) return "path must start with / character";
  if (path.length === 1) return undefined;
  if (path.charCodeAt(path.length - 1) === 0x2f) return "path must not end with / character";
  let last = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && last === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) return `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) return `relative paths not allowed @${i}`;
    } else if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`;
    }
    last = c;
  }
  return undefined;
}

export function isValidPath(path: string): boolean {
  return pathProblem(path) === undefined;
}

/** The parent of a valid non-root path ("/" for top-level nodes). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** The last segment of a valid non-root path. */
export function childName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/**
 * The sequential-node suffix: Java's `String.format("%010d", cversion)` of a signed int32, so
 * negative counters (after the int32 wrap) format as "-000000005" and "-2147483648".
 */
export function sequenceSuffix(counter: number): string {
  if (counter >= 0) return String(counter).padStart(10, "0");
  return "-" + String(-counter).padStart(9, "0");
}

/** The paths the server creates itself, which clients can never delete (`DataTree.isSpecialPath`). */
export const SPECIAL_PATHS: ReadonlySet<string> = new Set(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]);
