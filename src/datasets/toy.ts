/**
 * Small synthetic sets for decision boundaries and regression, generated from a seed. Classification
 * sets return points x [n, 2] (float32) and class indices y [n] (int32).
 */
import { RandomGenerator } from '../engine/random.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ToyOptions {
  /** Number of points. */
  n?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate. */
  noise?: number;
  seed?: number;
}
export interface PointSet {
  x: Tensor;
  y: Tensor;
}

function pointSet(
  n: number,
  noise: number,
  seed: number,
  point: (i: number, random: RandomGenerator) => [number, number, number],
): PointSet {
  const random = new RandomGenerator(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b, label] = point(i, random);
    x[2 * i] = a + noise * random.nextNormal();
    x[2 * i + 1] = b + noise * random.nextNormal();
    y[i] = label;
  }
  return { x: tensor(x, { shape: [n, 2] }), y: tensor(y) };
}

/** Points around the four corners of the unit square; class = x₁ XOR x₂. */
export function xor({ n = 200, noise = 0.15, seed = 0 }: ToyOptions = {}): PointSet {
  return pointSet(n, noise, seed, (i) => {
    const [a, b] = [i & 1, (i >> 1) & 1];
    return [a, b, a ^ b];
  });
}

/** Two interleaving half circles, as scikit-learn's make_moons. */
export function moons({ n = 200, noise = 0.1, seed = 0 }: ToyOptions = {}): PointSet {
  return pointSet(n, noise, seed, (i, random) => {
    const t = Math.PI * random.nextUniform();
    return i % 2 === 0 ? [Math.cos(t), Math.sin(t), 0] : [1 - Math.cos(t), 0.5 - Math.sin(t), 1];
  });
}

/** A small circle (class 1) inside a large one (class 0); `factor` is the ratio of their radii. */
export function circles({
  n = 200,
  noise = 0.05,
  seed = 0,
  factor = 0.5,
}: ToyOptions & { factor?: number } = {}): PointSet {
  return pointSet(n, noise, seed, (i, random) => {
    const t = 2 * Math.PI * random.nextUniform();
    const r = i % 2 === 0 ? 1 : factor;
    return [r * Math.cos(t), r * Math.sin(t), i % 2];
  });
}

/** `classes` interleaved spiral arms, as in CS231n. */
export function spirals({
  n = 300,
  noise = 0.1,
  seed = 0,
  classes = 3,
}: ToyOptions & { classes?: number } = {}): PointSet {
  return pointSet(n, 0, seed, (i, random) => {
    const arm = i % classes;
    const r = (Math.floor(i / classes) + 1) / Math.ceil(n / classes);
    const t = (arm * 2 * Math.PI) / classes + 4 * r + noise * random.nextNormal() * 2;
    return [r * Math.sin(t), r * Math.cos(t), arm];
  });
}

export interface RegressionSet {
  /** Inputs [n, 3]: weight (kg), age (years), sex (0 or 1). */
  x: Tensor;
  /** Targets [n, 2]: total cholesterol and fasting blood sugar (mg/dL). */
  y: Tensor;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

/**
 * The lecture's multi-output regression: patients (weight, age, sex) → cholesterol and blood sugar.
 * Synthetic: both targets grow with weight and age (cholesterol non-linearly with age, and differently
 * by sex), plus Gaussian noise. Use it to practise MSE averaged over several outputs.
 */
export function patients({ n = 500, noise = 1, seed = 0 }: ToyOptions = {}): RegressionSet {
  const random = new RandomGenerator(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const weight = 50 + 50 * random.nextUniform();
    const age = 20 + 60 * random.nextUniform();
    const sex = random.nextUniform() < 0.5 ? 0 : 1;
    x.set([weight, age, sex], 3 * i);
    const cholesterol =
      120 +
      0.6 * weight +
      1.8 * age -
      0.012 * age * age +
      12 * sex +
      10 * noise * random.nextNormal();
    const sugar = 60 + 0.35 * weight + 0.3 * age + 5 * noise * random.nextNormal();
    y.set([cholesterol, sugar], 2 * i);
  }
  return {
    x: tensor(x, { shape: [n, 3] }),
    y: tensor(y, { shape: [n, 2] }),
    inputNames: ['weight', 'age', 'sex'],
    outputNames: ['cholesterol', 'bloodSugar'],
  };
}
