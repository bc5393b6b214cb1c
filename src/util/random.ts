// The one source of randomness that deterministic code (paxos/, the state machines, sim/) may use.
// It is always passed in explicitly, never global, so a seed replays a run bit for bit.

/** Injected randomness: integers and floats drawn from a seeded or a real source. */
export interface Random {
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, bound), bound a positive safe integer. */
  int(bound: number): number;
}

/**
 * A small, fast, seeded PRNG (sfc32: Chris Doty-Humphrey's Small Fast Counter, 128-bit state),
 * seeded through splitmix32 so neighbouring seeds give unrelated streams. Not cryptographic.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.nextUint32() / 4294967296;
  }

  int(bound: number): number {
    if (!(bound > 0) || !Number.isSafeInteger(bound)) throw new RangeError(`bad bound ${bound}`);
    if (bound <= 4294967296) return Math.floor(this.float() * bound);
    return Math.floor((this.nextUint32() * 4294967296 + this.nextUint32()) / 18446744073709551616 * bound);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** An integer in [min, max], both inclusive. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** A new independent generator derived from this one (for sub-components of a simulation). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}
