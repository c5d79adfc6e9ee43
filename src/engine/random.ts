import { NablaError } from '../core/errors.js';
/**
 * Seeded random numbers: xoshiro128** (fast, small state, good statistical quality), seeded through
 * splitmix32 so that any integer seed gives a good state. One global generator serves
 * rand/randn/randint and init (seeded by manualSeed); DataLoaders with a `seed` own one.
 */
function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export interface GeneratorState {
  words: number[];
  spareNormal: number | null;
}

export class RandomGenerator {
  private state = new Uint32Array(4);
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.seed(seed);
  }

  seed(seed: number): void {
    const next = splitmix32(seed);
    this.state = new Uint32Array([next(), next(), next(), next()]);
    this.spareNormal = null;
  }

  /** Everything the next draws depend on, as plain JSON (checkpoints save it). */
  getState(): GeneratorState {
    return { words: Array.from(this.state), spareNormal: this.spareNormal };
  }

  /** Continues from a state getState() returned: the same draws follow. */
  setState({ words, spareNormal }: GeneratorState): void {
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => w >>> 0 === w))
      throw new NablaError(
        `random generator state: expected four 32-bit words, got ${JSON.stringify(words)}`,
      );
    this.state = Uint32Array.from(words);
    this.spareNormal = spareNormal;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextUniform(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** A standard normal sample (Box–Muller, both values used). */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.nextUniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * this.nextUniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** A uniform integer in [low, high). */
  nextInt(low: number, high: number): number {
    return low + Math.floor(this.nextUniform() * (high - low));
  }

  /** A random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }
}

export const globalGenerator = new RandomGenerator(Date.now() ^ (Math.random() * 2 ** 32));

/**
 * Seeds every random function of nabla, like `torch.manual_seed`. Seeds are 32-bit: an integer
 * from -2147483648 to 4294967295 (a larger one would silently act as another seed).
 */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -2147483648 || seed > 4294967295)
    throw new NablaError(
      `manualSeed: the seed must be an integer from -2147483648 to 4294967295, got ${seed}`,
      'manualSeed',
    );
  globalGenerator.seed(seed);
}
