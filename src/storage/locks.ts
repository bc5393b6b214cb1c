// Two tiny async locks for the storage engine's I/O shell.
//  - Mutex: serializes disk-mutating work (writes, fsyncs, rolls, truncation, compaction), so the
//    file state changes in one order and no two writers race on a file position.
//  - ReadWriteLock: reads share it; truncateSuffix, a reset and close take it alone, so no read
//    sees a file cut under its feet. Writers are preferred (a steady stream of reads cannot
//    starve a truncation that a new Paxos leader is waiting for).

export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class ReadWriteLock {
  private readers = 0;
  private writer = false;
  private readonly waitingWriters: Array<() => void> = [];
  private waitingReaders: Array<() => void> = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.waitingWriters.length > 0) await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    else this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0) await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
    else this.writer = true;
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.wake();
    }
  }

  // Hands the lock over: a waiting writer first, else every waiting reader. The handed-over
  // state (writer = true / readers += n) is set here, so no newcomer can slip in between.
  private wake(): void {
    if (this.writer || this.readers > 0) return;
    const nextWriter = this.waitingWriters.shift();
    if (nextWriter) {
      this.writer = true;
      nextWriter();
      return;
    }
    const readers = this.waitingReaders;
    this.waitingReaders = [];
    this.readers += readers.length;
    for (const resume of readers) resume();
  }
}
