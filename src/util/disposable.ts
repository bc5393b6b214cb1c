// Explicit resource lifetimes (STYLE.md §17): everything that holds a socket, a file handle or a
// timer is owned by something that closes it, in reverse order of acquisition.

export interface AsyncDisposable {
  close(): Promise<void>;
}

/** Owns resources and closes them in reverse order; close() is idempotent and waits for all. */
export class DisposableStack {
  private readonly items: Array<() => Promise<void> | void> = [];
  private closing: Promise<void> | undefined;

  add<T extends AsyncDisposable>(resource: T): T {
    this.defer(() => resource.close());
    return resource;
  }

  defer(fn: () => Promise<void> | void): void {
    if (this.closing) throw new Error("DisposableStack already closed");
    this.items.push(fn);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = [];
      while (this.items.length > 0) {
        const fn = this.items.pop()!;
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, "errors while closing");
    })();
    return this.closing;
  }
}
