/**
 * The global seeded generator behind rand/randn/randint/shuffles: xoshiro128** (fast, small state,
 * good statistical quality), seeded through splitmix32 so that any integer seed gives a good state.
 */
let state = new Uint32Array(4);
let spareNormal: number | null = null;

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

/** Seeds every random function of nabla, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  const next = splitmix32(seed);
  state = new Uint32Array([next(), next(), next(), next()]);
  spareNormal = null;
}
manualSeed(Date.now() ^ (Math.random() * 2 ** 32));

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** A uniform 32-bit unsigned integer. */
export function nextUint32(): number {
  const s = state;
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
export function nextUniform(): number {
  return ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
}

/** A standard normal sample (Box–Muller, both values used). */
export function nextNormal(): number {
  if (spareNormal !== null) {
    const value = spareNormal;
    spareNormal = null;
    return value;
  }
  let u = 0;
  while (u === 0) u = nextUniform();
  const radius = Math.sqrt(-2 * Math.log(u));
  const angle = 2 * Math.PI * nextUniform();
  spareNormal = radius * Math.sin(angle);
  return radius * Math.cos(angle);
}

/** A uniform integer in [low, high). */
export function nextInt(low: number, high: number): number {
  return low + Math.floor(nextUniform() * (high - low));
}
