// The shape of a parsed jute DDL file (zookeeper.jute). tools/jute-generate.ts parses the DDL into
// this model and writes it, as data, into the generated module next to the codecs, so tests can
// derive arbitraries and a table-driven reference codec from the same definitions the code came
// from, without the spec file being present.

export type JuteType =
  | { readonly kind: "int" }
  | { readonly kind: "long" }
  | { readonly kind: "boolean" }
  | { readonly kind: "byte" }
  | { readonly kind: "ustring" }
  | { readonly kind: "buffer" }
  | { readonly kind: "vector"; readonly element: JuteType }
  /** A nested record, by its (unqualified, project-unique) class name. */
  | { readonly kind: "record"; readonly name: string };

export interface JuteField {
  readonly name: string;
  readonly type: JuteType;
}

export interface JuteClass {
  readonly name: string;
  /** The jute module (Java package) the class is declared in. */
  readonly module: string;
  readonly fields: readonly JuteField[];
}

export interface JuteSchema {
  readonly classes: readonly JuteClass[];
}

/** The fewest bytes one value of the type can take on the wire (a null vector/string takes 4). */
export function juteBytesMin(type: JuteType, classes: ReadonlyMap<string, JuteClass>): number {
  // Iterative over an explicit work list: records nest, but the DDL has no cycles (the generator
  // rejects them), so this terminates.
  let total = 0;
  const pending: JuteType[] = [type];
  while (pending.length > 0) {
    const next = pending.pop()!;
    switch (next.kind) {
      case "int":
        total += 4;
        break;
      case "long":
        total += 8;
        break;
      case "boolean":
      case "byte":
        total += 1;
        break;
      case "ustring":
      case "buffer":
      case "vector":
        total += 4;
        break;
      case "record": {
        const cls = classes.get(next.name);
        if (!cls) throw new Error(`unknown jute record ${next.name}`);
        for (const field of cls.fields) pending.push(field.type);
        break;
      }
    }
  }
  return total;
}
